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
i=0
while { [ ! -b /dev/vda ] || [ ! -b /dev/vdb ]; } && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
init=$(tr ' ' '\n' </proc/cmdline | sed -n 's/^fdpkvtest\.init=//p')
mkdir -p /newroot
if mount -t ext4 /dev/vda /newroot && mount -t ext4 /dev/vdb /newroot/opt/fdpkv-test &&
	[ -x "/newroot$init" ]; then
	umount /proc /sys /dev
	exec busybox switch_root /newroot "$init"
fi
echo "=== no root on /dev/vda or test on /dev/vdb with ${init:-(no fdpkvtest.init=)}"
echo "=== RESULT rc=1"
reboot -f
