#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of the initramfs that boots test-deb-vm.sh's guest: load the modules
# the Debian kernel needs to reach its root (virtio-blk, ext4; they are
# modules in Debian's config), mount the ext4 root /dev/vda, the test's own
# files (/dev/vdb) at /opt/fdpkv-test in it, and hand over to the test
# script named by fdpkvtest.init= on the command line.
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in /mod/*.ko; do
	[ -e "$m" ] && { insmod "$m" || echo "=== insmod $m FAILED"; }
done
# Up to 5 minutes for the disks: a TCG guest on a loaded host has taken 38 s
# to reach this point, and its virtio probes come as late.
i=0
while { [ ! -b /dev/vda ] || [ ! -b /dev/vdb ]; } && [ $i -lt 1500 ]; do
	sleep 0.2
	i=$((i + 1))
done
init=$(tr ' ' '\n' </proc/cmdline | sed -n 's/^fdpkvtest\.init=//p')
mkdir -p /newroot
if mount -t ext4 /dev/vda /newroot && mount -t ext4 /dev/vdb /newroot/opt/fdpkv-test &&
	[ -x "/newroot$init" ]; then
	umount /proc /sys /dev
	exec busybox switch_root /newroot "$init"
fi
echo "=== no root on /dev/vda or test on /dev/vdb with ${init:-(no fdpkvtest.init=)} (block devices: $(ls /sys/block | tr '\n' ' '))"
echo "=== RESULT rc=1"
reboot -f
