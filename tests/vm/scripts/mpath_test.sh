#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# mpath_test.sh - multi-controller (dual-port) subsystems under Linux's native
# multipath, in the test VM (busybox sh). TAP.
#   mpath_test.sh topology N        N head nodes, each with two paths
#                                   (controllers); per-path disks hidden,
#                                   no per-path ng nodes
#   mpath_test.sh passthru I        fdpkv_passthru's head-node refusal on
#                                   the I-th head (module loaded)
#   mpath_test.sh attach I          fdpkvctl attach refuses the I-th head
#                                   and prints the remedy (module loaded)
#   mpath_test.sh churn I [CONFIG]  lib_churn on the I-th head's ng node
#                                   (ng:/dev/ngXnY), admin through one of
#                                   its controllers
#   mpath_test.sh drop-path I       remove one path's controller of the I-th
#                                   head (PCI remove): it stays, one path left
# Heads are counted from 1 in name order: the kernel names a subsystem after
# whichever of its controllers registered first, so names are not fixed.
T=/test
n=0 failed=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi; }
done_tap() { echo "1..$n"; [ $failed = 0 ]; }
# the controllers (paths) of head node $1: the subsystem links them by name
paths() { ls "/sys/block/$1/device/" 2>/dev/null | grep -E '^nvme[0-9]+$' | tr '\n' ' ' | sed 's/ $//'; }

# the I-th head node (nvmeXnY) in name order
nth_head() { ls /sys/block | grep -E "^nvme[0-9]+n[0-9]+$" | sed -n "${1}p"; }
[ "$1" = topology ] || [ -n "$(nth_head "${2:-0}")" ] || { echo "not ok 1 - no head node number ${2:-?}"; exit 1; }

case $1 in
topology)
	want=$2
	heads=$(ls /sys/block | grep -cE '^nvme[0-9]+n[0-9]+$')
	[ "$heads" -eq "$want" ]
	ok $? "$want head nodes: $(ls /sys/block | grep -E '^nvme[0-9]+n' | tr '\n' ' ')"
	for d in $(ls /sys/block | grep -E '^nvme[0-9]+n[0-9]+$'); do
		sub=$(basename "$(readlink "/sys/block/$d/device")")
		p=$(paths "$d")
		case $sub in nvme-subsys*) r=0 ;; *) r=1 ;; esac
		[ $r = 0 ] && [ "$(echo "$p" | wc -w)" -eq 2 ]
		ok $? "$d is the head of $sub with two paths: $p"
	done
	# the per-path disks nvmeXcYnZ exist (hidden: sysfs only, no device node)
	hidden=$(ls /sys/class/block | grep -cE '^nvme[0-9]+c[0-9]+n[0-9]+$')
	nodes=$(ls /dev | grep -cE '^nvme[0-9]+c[0-9]+n[0-9]+$')
	[ "$hidden" -eq $((want * 2)) ] && [ "$nodes" -eq 0 ]
	ok $? "$hidden hidden per-path disks, $nodes device nodes for them"
	# the generic char devices are the heads' only: ngXnY per head
	ngs=$(ls /dev | grep -cE '^ng[0-9]+n[0-9]+$')
	[ "$ngs" -eq "$want" ]
	ok $? "one ng node per head, none per path: $(ls /dev | grep -E '^ng' | tr '\n' ' ')"
	;;
passthru)
	echo "=== fdpkv_passthru /dev/$(nth_head "$2") mpath"
	exec $T/fdpkv_passthru "/dev/$(nth_head "$2")" mpath
	;;
attach)
	d=$(nth_head "$2")
	p=$(paths "$d")
	$T/fdpkvctl attach "/dev/$d" >/tmp/out 2>/tmp/err
	rc=$?
	echo "# fdpkvctl attach /dev/$d (exit $rc): $(cat /tmp/err)"
	[ $rc -ne 0 ] && ! [ -s /tmp/out ]
	ok $? "fdpkvctl attach /dev/$d fails"
	r=0
	grep -q "$d is the native-multipath head of nvme-subsys[0-9]* (paths: " /tmp/err || r=1
	for c in $p; do	# in the order sysfs lists them
		grep -qE "\(paths: ([a-z0-9]+ )*$c[ )]" /tmp/err || r=1
	done
	ok $r "it names the head, its subsystem and its paths ($p)"
	grep -q "devices \[\"ng:/dev/ng${d#nvme}\"\]" /tmp/err
	ok $? "it gives the library's remedy: ng:/dev/ng${d#nvme}"
	grep -q "nvme_core.multipath=N on the kernel command line" /tmp/err
	ok $? "it gives the module's remedy: boot with nvme_core.multipath=N"
	$T/fdpkvctl attach "/dev/$d" -o json >/tmp/out 2>&1
	[ $? -ne 0 ] && grep -q "ng:/dev/ng${d#nvme}" /tmp/out
	ok $? "the JSON error carries the remedy too"
	$T/fdpkvctl grants >/tmp/out 2>&1
	grep -q "no namespace attached" /tmp/out
	ok $? "nothing was attached"
	;;
churn)
	d=$(nth_head "$2")
	ctl=$(paths "$d" | cut -d' ' -f1)
	[ -n "$ctl" ]
	ok $? "$d has a live path for admin commands: $ctl"
	$T/fdpkvctl events "/dev/ng${d#nvme}" --enable >/dev/null
	ok $? "FDP events enabled through the head's ng node"
	done_tap
	echo "=== lib_churn ng:/dev/ng${d#nvme} /dev/ng${d#nvme} /dev/$ctl $3"
	exec $T/lib_churn "ng:/dev/ng${d#nvme}" "/dev/ng${d#nvme}" "/dev/$ctl" $3
	;;
drop-path)
	d=$(nth_head "$2")
	before=$(paths "$d")
	gone=$(echo "$before" | cut -d' ' -f1)
	echo 1 >"/sys/class/nvme/$gone/device/remove"
	ok $? "PCI remove of $gone (a path of $d)"
	after=$(paths "$d")
	[ -e "/sys/block/$d" ] && [ -e "/dev/ng${d#nvme}" ] && [ "$(echo "$after" | wc -w)" -eq 1 ] &&
		[ "$after" != "$gone" ]
	ok $? "$d and ng${d#nvme} remain with one path: $before -> $after"
	;;
*)
	echo "usage: $0 topology N | passthru I | attach I | churn I [CONFIG] | drop-path I" >&2
	exit 2
	;;
esac
done_tap
