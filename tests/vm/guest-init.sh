#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of fdpkv's test VMs. Loads the NVMe modules, waits for the devices,
# then runs /test/plan, one step a line:
#   insmod FILE.ko [params]   load a module from /test (failure fails the run)
#   rmmod NAME                unload it (failure fails the run)
#   run PROG [args]           run /test/PROG; non-zero exit fails the run
#   sh CMD...                 run a shell command; non-zero exit fails the run
#   py ARGS...                run /usr/bin/python3 ARGS in /test (VM_PYTHON=1
#                             images), with the plugin on PYTHONPATH
# Test programs print TAP; the host counts it. Afterwards the kernel log is
# printed with a [dmesg] prefix (KUnit's KTAP is in there) and the run ends
# with "=== RESULT rc=N".
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t debugfs debugfs /sys/kernel/debug
echo "=== init: $(uname -r) uptime $(cut -d' ' -f1 /proc/uptime)"
# busybox insmod does not read module options from the kernel command line
# (modprobe would): pass "<module>.<param>=<value>" words on by hand.
for m in /mod/*.ko; do
	[ -e "$m" ] || continue
	name=$(basename "$m" .ko | sed 's/^[0-9]*-//; s/-/_/g')
	opts=$(tr ' ' '\n' </proc/cmdline | sed -n "s/^$name\.//p" | tr '\n' ' ')
	insmod "$m" $opts || echo "=== insmod $m FAILED"
done
want=$(sed -n 's/.*fdpkvtest.ns=\([0-9]*\).*/\1/p' /proc/cmdline)
i=0
while [ "$(ls /dev/ng*n* 2>/dev/null | wc -l)" -lt "${want:-1}" ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
ls /dev/ng* /dev/nvme* 2>/dev/null | tr '\n' ' '; echo
dmesg -c >/dev/null
rc=0
while read -r verb arg rest; do
	case $verb in
	''|'#'*) continue ;;
	insmod)
		if insmod "/test/$arg" $rest; then echo "=== insmod $arg ok"; else echo "=== insmod $arg FAILED"; rc=1; fi ;;
	rmmod)
		if rmmod "$arg"; then echo "=== rmmod $arg ok"; else echo "=== rmmod $arg FAILED"; rc=1; fi ;;
	run)
		echo "=== run $arg $rest"
		(cd /test && "/test/$arg" $rest)
		r=$?
		echo "=== $arg exit=$r"
		[ $r -eq 0 ] || rc=1 ;;
	sh)
		echo "=== sh $arg $rest"
		sh -c "$arg $rest"
		r=$?
		echo "=== sh exit=$r"
		[ $r -eq 0 ] || rc=1 ;;
	py)
		echo "=== py $arg $rest"
		(cd /test && HOME=/tmp PYTHONPATH=/test/plugin PYTHONDONTWRITEBYTECODE=1 \
			/usr/bin/python3 $arg $rest)
		r=$?
		echo "=== py exit=$r"
		[ $r -eq 0 ] || rc=1 ;;
	*)
		echo "=== unknown plan step: $verb"; rc=1 ;;
	esac
done </test/plan
dmesg >/tmp/test.dmesg
sed 's/^/[dmesg] /' /tmp/test.dmesg
echo "=== RESULT rc=$rc uptime $(cut -d' ' -f1 /proc/uptime)"
sync
# QEMU runs with -no-reboot, so this ends it.
reboot -f
