#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run-vm.sh - boot a kernel and a test initramfs under QEMU TCG with emulated
# FDP NVMe SSDs, print the console, and exit 0 only if the guest reported
# "=== RESULT rc=0".
#
# usage: run-vm.sh KERNEL INITRD LOG
# Environment:
#   VM_CTRLS    NVMe subsystems with FDP (default 1)
#   VM_PATHS    controllers in each subsystem (default 1). With 2 or more the
#               namespaces are shared by all of them: a multi-controller
#               (dual-port) subsystem, whose namespaces Linux's native
#               multipath shows as one head node (/dev/nvmeXnY, /dev/ngXnY)
#   VM_NS       namespaces per subsystem (default 1)
#   VM_NS_SIZE  size of each namespace (default 1G, sparse)
#   VM_RUNS     reclaim unit size (default 1M)
#   VM_NRUH     reclaim unit handles per subsystem (default 8)
#   VM_MDTS     controller max data transfer size, as 2^n pages (default 7)
#   VM_LBS      logical block size of every namespace (default 4096)
#   VM_NS_OPTS  extra nvme-ns properties of every namespace, e.g. metadata
#               and protection information: "ms=8,mset=1,pi=1"
#   VM_DRIVE_OPTS extra -drive properties of every namespace's image, e.g. a
#               slow device: "throttling.bps-total=8388608"
#   VM_SHARED   1: one FDP subsystem whose namespaces every controller sees
#               (VM_CTRLS paths to the same namespaces), instead of one
#               subsystem per controller
#   VM_TIMEOUT  seconds before the VM is killed (default 240)
#   VM_MEM      guest memory (default 1G)
#   VM_APPEND   extra kernel command line
#   VM_DISKS    raw images attached as virtio disks (/dev/vda, /dev/vdb, ...),
#               e.g. a root file system; each may carry -drive properties:
#               "root.img,snapshot=on" (the guest's writes go to a temporary
#               overlay, the image stays as it was)
#
# The guests have no network (-nic none): the tests need none, and the
# package test's guest must show that it installs from local files only.
#
# /dev/kvm on these machines cannot run real guests, so QEMU always uses TCG,
# and always under timeout: a hung guest must not hang the test run. A TCG
# guest on a loaded host gets its CPU time late: no_timer_check keeps the
# boot-time IO-APIC timer check (which then panics 7.x) from misjudging that,
# and watchdog_thresh=60 (the maximum) keeps the soft-lockup detector for
# real lockups rather than for a starved vCPU.
set -uo pipefail
K=$1 I=$2 LOG=$3
ctrls=${VM_CTRLS:-1} paths=${VM_PATHS:-1} nns=${VM_NS:-1}
work=$(mktemp -d /tmp/fdpkv-vm.XXXXXX)
trap 'rm -rf "$work"' EXIT
devs=()
nsdev() { # $1 = drive id, $2 = nsid, $3 = bus property ("" for the subsystem)
	local img=$work/$1.img
	truncate -s "${VM_NS_SIZE:-1G}" "$img"
	devs+=(-drive "id=$1,file=$img,format=raw,if=none${VM_DRIVE_OPTS:+,$VM_DRIVE_OPTS}")
	devs+=(-device "nvme-ns,drive=$1,$3nsid=$2,logical_block_size=${VM_LBS:-4096},physical_block_size=${VM_LBS:-4096},fdp.ruhs=0-$((${VM_NRUH:-8} - 1))${VM_NS_OPTS:+,$VM_NS_OPTS}")
}
subsys() { # $1 = subsystem number
	devs+=(-device "nvme-subsys,id=subsys$1,nqn=fdpkv-subsys$1,fdp=on,fdp.runs=${VM_RUNS:-1M},fdp.nrg=1,fdp.nruh=${VM_NRUH:-8}")
}
[ "${VM_SHARED:-0}" = 1 ] && subsys 0
for c in $(seq 0 $((ctrls - 1))); do
	if [ "${VM_SHARED:-0}" = 1 ]; then
		# controllers of one subsystem share its serial number
		devs+=(-device "nvme,id=ctrl$c,serial=fdpkv,subsys=subsys0,mdts=${VM_MDTS:-7}")
		continue
	fi
	subsys "$c"
	if [ "$paths" = 1 ]; then
		devs+=(-device "nvme,id=ctrl$c,serial=fdpkv$c,subsys=subsys$c,mdts=${VM_MDTS:-7}")
		bus=bus=ctrl$c,
	else
		for p in $(seq 0 $((paths - 1))); do
			devs+=(-device "nvme,id=ctrl$c-$p,serial=fdpkv$c,subsys=subsys$c,mdts=${VM_MDTS:-7}")
		done
		bus=shared=on,	# no bus: attached to every controller of the subsystem
	fi
	for n in $(seq 1 "$nns"); do
		nsdev "nvm$c-$n" "$n" "$bus"
	done
done
# shared namespaces hang off the subsystem: every controller attaches them
if [ "${VM_SHARED:-0}" = 1 ]; then
	for n in $(seq 1 "$nns"); do
		nsdev "nvm-$n" "$n" ""
	done
fi
for d in ${VM_DISKS:-}; do
	devs+=(-drive "file=$d,format=raw,if=virtio,cache=unsafe")
done
start=$(date +%s.%N)
# no_timer_check: under TCG on a loaded host the guest's IO-APIC timer check
# can miss its window and panic ("IO-APIC + timer doesn't work"); the check
# guards against broken chipsets, not anything QEMU emulates.
timeout "${VM_TIMEOUT:-240}" qemu-system-x86_64 -accel tcg -cpu max -smp 2 -m "${VM_MEM:-1G}" \
	-nographic -no-reboot -serial mon:stdio -display none -nic none \
	-kernel "$K" -initrd "$I" \
	-append "console=ttyS0 quiet loglevel=4 panic=-1 oops=panic no_timer_check watchdog_thresh=60 fdpkvtest.ns=$((ctrls * nns)) ${VM_APPEND:-}" \
	"${devs[@]}" </dev/null 2>&1 | tr -d '\r' >"$LOG"
qrc=${PIPESTATUS[0]}
end=$(date +%s.%N)
printf '=== qemu rc=%s wall=%.2fs\n' "$qrc" "$(echo "$end - $start" | bc)" >>"$LOG"
grep -q '^=== RESULT rc=0' "$LOG"
