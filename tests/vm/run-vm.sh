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
#   VM_TIMEOUT  seconds before the VM is killed (default 240)
#   VM_MEM      guest memory (default 1G)
#   VM_APPEND   extra kernel command line
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
for c in $(seq 0 $((ctrls - 1))); do
	devs+=(-device "nvme-subsys,id=subsys$c,nqn=fdpkv-subsys$c,fdp=on,fdp.runs=${VM_RUNS:-1M},fdp.nrg=1,fdp.nruh=${VM_NRUH:-8}")
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
		img=$work/nvm$c-$n.img
		truncate -s "${VM_NS_SIZE:-1G}" "$img"
		devs+=(-drive "id=nvm$c-$n,file=$img,format=raw,if=none")
		devs+=(-device "nvme-ns,drive=nvm$c-$n,${bus}nsid=$n,logical_block_size=4096,physical_block_size=4096,fdp.ruhs=0-$((${VM_NRUH:-8} - 1))")
	done
done
start=$(date +%s.%N)
timeout "${VM_TIMEOUT:-240}" qemu-system-x86_64 -accel tcg -cpu max -smp 2 -m "${VM_MEM:-1G}" \
	-nographic -no-reboot -serial mon:stdio -display none \
	-kernel "$K" -initrd "$I" \
	-append "console=ttyS0 quiet loglevel=4 panic=-1 oops=panic no_timer_check watchdog_thresh=60 fdpkvtest.ns=$((ctrls * nns)) ${VM_APPEND:-}" \
	"${devs[@]}" </dev/null 2>&1 | tr -d '\r' >"$LOG"
qrc=${PIPESTATUS[0]}
end=$(date +%s.%N)
printf '=== qemu rc=%s wall=%.2fs\n' "$qrc" "$(echo "$end - $start" | bc)" >>"$LOG"
grep -q '^=== RESULT rc=0' "$LOG"
