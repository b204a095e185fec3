#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# vm-test.sh - run fdpkv's in-VM tests.
#
# Every plan in tests/vm/plans/*.plan except kunit.plan runs on the oldest
# and the newest cached Debian kernel (6.1 and trixie-backports' newest);
# plans with a "# vm-kernels: all" line -- the smoke set -- run on the two
# 6.12 kernels (bookworm-backports, trixie) as well; "# vm-kernels: 61 612"
# names the kernels (suffixes of kernels.env's KVER_*) a plan runs on.
# kunit.plan runs on the
# KUnit kernel. "KASAN" in a plan's vm-kernels line (or in FDPKV_VM_KERNELS)
# is that same kernel, built from Debian's 6.12 source with KASAN on
# (scripts/build-kunit-kernel.sh), booted with the NVMe driver. A plan may
# start with "# vm: VAR=value ..." lines to set run-vm.sh's device topology
# (e.g. "# vm: VM_CTRLS=2").
#
# usage: vm-test.sh [plan-name...]   (default: all plans)
# FDPKV_VM_KERNELS="612 TRIXIE" runs every given plan on exactly those
# kernels (the suffixes of the KVER_* variables in kernels.env, or KASAN).
# FDPKV_VM_ALL=1 (`make vm-all`) runs every plan on all four Debian kernels
# (61 612 TRIXIE TRIXIE_BPO, or those FDPKV_VM_KERNELS names); a plan that can run on one kernel only (its
# vm-kernels line names only KASAN, as fdpkv_attach_race, which needs the
# module's test build; kunit.plan) runs there and is listed as skipped,
# with that reason, on the others. It ends with a plans x kernels table.
# FDPKV_VM_JOBS=N runs up to N VMs at once (default 1); a number in the
# file build/vm/jobs, re-read before each VM starts, overrides it (to
# throttle a long run on a shared machine without stopping it).
# Prints one "vm/<plan>@<kernel>: N passed, N failed" line per VM and exits
# non-zero if any VM failed. Logs stay in build/vm/logs/.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
CACHE=${FDPKV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/fdpkv}
# shellcheck disable=SC1091
. "$CACHE/kernels.env" || { echo "vm-test: run scripts/setup.sh first" >&2; exit 1; }
B=$top/build/vm
mkdir -p "$B/progs" "$B/logs" "$B/initrd"

# Guest files: the module, the static programs built from tests/vm/progs,
# whatever is in build/bin (fdpkvctl; dynamic, its libraries come along) and
# the scripts in tests/vm/scripts.
#
# Static guest programs: every tests/vm/progs/*.c, linked with the common
# helpers, liburing and (if it uses it) libfdpkv.
build_progs() {
	local src name
	for src in tests/vm/progs/*.c; do
		name=$(basename "$src" .c)
		gcc -std=gnu11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -static -pthread \
			-Iinclude -Ilib/include -Itests/vm/progs/common \
			-o "$B/progs/$name" "$src" tests/vm/progs/common/*.c \
			$( [ -f build/lib/libfdpkv.a ] && echo build/lib/libfdpkv.a ) \
			/usr/lib/x86_64-linux-gnu/liburing.a || return 1
	done
}

# Every result line ("vm/<plan>@<kernel>: ...") also goes to $results: the
# totals and the table are made from it, as VMs may run in parallel jobs.
# Per run (two runs in one tree must not mix their results); the last run's
# is kept as build/vm/results.txt.
run=$B/run.$$
rm -rf "$run" && mkdir -p "$run"
results=$run/results.txt
: >"$results"
report() { echo "$1"; echo "$1" >>"$results"; }
# Count TAP/KTAP results and failure signs in a console log.
summarize() { # $1 = log, $2 = label, $3 = run-vm exit code
	local log=$1 label=$2 vmrc=$3 pass fail wall uptime
	# TAP of the test programs, and KTAP test cases (indented) in the kernel log
	pass=$(grep -cE '^(\[dmesg\] \[ *[0-9.]+\]    +)?ok [0-9]+' "$log")
	fail=$(grep -cE '^(\[dmesg\] \[ *[0-9.]+\] +)?not ok [0-9]+' "$log")
	# pytest's closing line ("N passed, N failed in Ts") in the guest
	pass=$((pass + $(sed -n 's/^=* *\([0-9][0-9]*\) passed.*/\1/p' "$log" | awk '{s += $1} END {print s + 0}')))
	fail=$((fail + $(sed -n 's/.* \([0-9][0-9]*\) failed.*/\1/p' "$log" | awk '{s += $1} END {print s + 0}')))
	fail=$((fail + $(sed -n 's/.* \([0-9][0-9]*\) errors\{0,1\} in .*/\1/p' "$log" | awk '{s += $1} END {print s + 0}')))
	# Every other failure sign counts once: a failed step, a kernel splat, no result.
	grep -qE '^=== .*(FAILED|exit=[1-9])' "$log" && fail=$((fail + 1))
	grep -qE '^\[dmesg\].*(BUG:|WARNING:|Oops|Call Trace|general protection)' "$log" && fail=$((fail + 1))
	grep -q '^=== RESULT rc=' "$log" || fail=$((fail + 1))
	[ "$vmrc" = 0 ] || [ "$fail" -gt 0 ] || fail=1
	wall=$(sed -n 's/^=== qemu rc=.* wall=\(.*\)s/\1/p' "$log")
	uptime=$(sed -n 's/^=== RESULT rc=[0-9]* uptime \(.*\)/\1/p' "$log")
	printf 'vm/%s: %d passed, %d failed (qemu wall %ss, guest uptime at result %ss)\n' \
		"$label" "$pass" "$fail" "${wall:-?}" "${uptime:-?}"
	[ "$fail" -eq 0 ] || { grep -E 'not ok|FAILED|exit=[1-9]|BUG:|WARNING:|Oops|Call Trace|^E  ' "$log" | head -n 30 | sed 's/^/    /'; echo "    log: $log"; }
}

# The KUnit/KASAN kernel (built once, cached) and fdpkv built against its
# build tree into $kobj (fdpkv.ko, and fdpkv_kunit.ko as it has KUnit), once
# a run. Sets kdir, krel and kobj; returns 1 if the kernel, 2 if the module
# failed to build. The module is a test build: FDPKV_TEST_RACE_DELAY (see
# Kbuild) holds NS_ATTACH's race window open for fdpkv_attach_race.
kunit_kernel() {
	[ -n "${kobj:-}" ] && return 0
	kdir=$(scripts/build-kunit-kernel.sh) || return 1
	krel=$(cat "$kdir/kernelrelease")
	mkdir -p "$top/build/kmod/kunit-$krel" &&
		cp --parents Kbuild kmod/*.[ch] kmod/tests/*.c include/uapi/fdpkv.h "$top/build/kmod/kunit-$krel/"
	make -s -C "$kdir/build" M="$top/build/kmod/kunit-$krel" FDPKV_TEST_RACE_DELAY=20 modules \
		>"$B/kunit-kmod.log" 2>&1 || { cat "$B/kunit-kmod.log"; return 2; }
	kobj=$top/build/kmod/kunit-$krel
}

# The VMs to run, queued once their module is built: one line each,
# "plan|label|vmlinux|module root|kver|ko dir|in-tree modules".
queue=()

# Queue plan $1 on that kernel as vm/<plan>@$2, with the in-tree modules $3.
queue_kunit_kernel() {
	local label
	label=$(basename "$1" .plan)@$2
	kunit_kernel
	case $? in
	0) queue+=("$1|$2|$kdir/build/arch/x86/boot/bzImage|$kdir/modroot|$krel|$kobj|$3") ;;
	1) report "vm/$label: 0 passed, 1 failed (kernel build)" ;;
	*) report "vm/$label: 0 passed, 1 failed (module build)" ;;
	esac
}

# Queue plan $1 on the Debian kernel KVER_$2.
queue_debian_kernel() {
	local plan=$1 var=KVER_$2 kver
	kver=${!var:-}
	[ -n "$kver" ] || { report "vm/$(basename "$plan" .plan)@$2: 0 passed, 1 failed (no KVER_$2 in kernels.env: run scripts/setup.sh)"; return; }
	make -s "build/kmod/$kver/fdpkv.ko" >/dev/null ||
		{ report "vm/$(basename "$plan" .plan)@$kver: 0 passed, 1 failed (module build)"; return; }
	queue+=("$plan|$kver|$CACHE/kernels/$kver/vmlinux|$CACHE/kernels/$kver/root|$kver|build/kmod/$kver|")
}

run_job() { # $1 = a queue line
	local plan label vmlinux modroot kver kodir mods
	IFS='|' read -r plan label vmlinux modroot kver kodir mods <<<"$1"
	if [ -n "$mods" ]; then
		MODS=$mods run_plan "$plan" "$label" "$vmlinux" "$modroot" "$kver" "$kodir"
	else
		run_plan "$plan" "$label" "$vmlinux" "$modroot" "$kver" "$kodir"
	fi
}

run_plan() { # $1 = plan file, $2 = kernel label, $3 = vmlinux, $4 = module root, $5 = kver, $6 = ko dir
	local plan=$1 label name initrd log vmenv rc
	name=$(basename "$plan" .plan)
	label=$name@$2
	initrd=$B/initrd/$label.cpio.gz
	log=$B/logs/$label.log
	vmenv=$(sed -n 's/^# vm: //p' "$plan" | tr '\n' ' ')
	env $vmenv tests/vm/mkinitramfs.sh "$4" "$5" "$plan" "$initrd" "$6"/*.ko "$B"/progs/* \
		$(ls build/bin/* tests/vm/scripts/* 2>/dev/null) >"$B/initrd/$label.log" 2>&1 ||
		{ echo "vm/$label: 0 passed, 1 failed (initramfs)"; return; }
	env $vmenv tests/vm/run-vm.sh "$3" "$initrd" "$log"
	rc=$?
	# A guest kernel that dies in its own boot, before our /init runs (TCG
	# has crashed 7.3's early static-key patching once in a few hundred
	# boots), has tested nothing: boot it once more. Nothing of fdpkv runs
	# before "=== init:", so this cannot hide a failure of ours.
	if ! grep -q '=== init: ' "$log"; then
		echo "   vm/$label: the guest kernel died before /init; booting again"
		mv "$log" "$log.boot1"
		env $vmenv tests/vm/run-vm.sh "$3" "$initrd" "$log"
		rc=$?
	fi
	summarize "$log" "$label" "$rc"
}

plans=()
if [ $# -gt 0 ]; then
	for p in "$@"; do plans+=("tests/vm/plans/$p.plan"); done
else
	plans=(tests/vm/plans/*.plan)
fi

if ! build_progs >"$B/progs.log" 2>&1; then
	cat "$B/progs.log"
	echo "vm/build: 0 passed, 1 failed"
	exit 1
fi

debian_tags="61 612 TRIXIE TRIXIE_BPO"
[ -n "${FDPKV_VM_ALL:-}" ] && debian_tags=${FDPKV_VM_KERNELS:-$debian_tags}
t0=$SECONDS
for plan in "${plans[@]}"; do
	[ -f "$plan" ] || { report "vm/$(basename "$plan" .plan)@-: 0 passed, 1 failed (no plan $plan)"; continue; }
	if [ "$(basename "$plan")" = kunit.plan ]; then
		queue_kunit_kernel "$plan" kunit "nvme kunit"
		[ -z "${FDPKV_VM_ALL:-}" ] || for tag in $debian_tags; do
			var=KVER_$tag
			report "vm/kunit@${!var:-$tag}: skipped (the KUnit suites run in the KUnit kernel only)"
		done
		continue
	fi
	kernels=$(sed -n 's/^# vm-kernels: //p' "$plan" | head -n 1)
	if [ -n "${FDPKV_VM_ALL:-}" ]; then
		if [ "$kernels" = KASAN ]; then
			tags=KASAN
			for tag in $debian_tags; do
				var=KVER_$tag
				report "vm/$(basename "$plan" .plan)@${!var:-$tag}: skipped ($(sed -n 's/^# vm-only: //p' "$plan" | head -n 1))"
			done
		else
			tags="$debian_tags$(echo " $kernels " | grep -q ' KASAN ' && echo ' KASAN')"
		fi
	elif [ -n "${FDPKV_VM_KERNELS:-}" ]; then
		tags=$FDPKV_VM_KERNELS
	elif [ "$kernels" = all ]; then
		tags=$debian_tags
	elif [ -n "$kernels" ]; then
		tags=$kernels
	else
		tags="61 TRIXIE_BPO"
	fi
	for tag in $tags; do
		if [ "$tag" = KASAN ]; then
			queue_kunit_kernel "$plan" kasan nvme
		else
			queue_debian_kernel "$plan" "$tag"
		fi
	done
done

# Run the queue, up to FDPKV_VM_JOBS VMs at once; each VM's lines are
# printed when it ends.
jobs_max=${FDPKV_VM_JOBS:-1}
i=0
for job in "${queue[@]}"; do
	out=$run/$(printf %03d $i).txt
	i=$((i + 1))
	[ -s "$B/jobs" ] && jobs_max=$(cat "$B/jobs")
	while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do wait -n; done
	(run_job "$job" >"$out" 2>&1; cat "$out") &
done
wait
cat "$run"/[0-9]*.txt 2>/dev/null | grep -E '^vm/' >>"$results"

read -r total_pass total_fail <<<"$(sed -n 's|^vm/[^ ]*: \([0-9]*\) passed, \([0-9]*\) failed.*|\1 \2|p' "$results" |
	awk '{p += $1; f += $2} END {print p + 0, f + 0}')"
nskip=$(grep -c '^vm/[^ ]*: skipped' "$results")

# FDPKV_VM_ALL: the plans x kernels table (Markdown), each cell "N ok" (N
# checks passed), "FAIL F/N" (F failed, N passed), "skip" (cannot run
# there) or "-" (not run there); the KUnit kernel's column is both its
# labels (kunit, kasan).
if [ -n "${FDPKV_VM_ALL:-}" ]; then
	cols=
	for tag in $debian_tags; do var=KVER_$tag; cols="$cols ${!var:-$tag}"; done
	echo
	awk -v cols="$cols kasan" '
	match($0, /^vm\/[^ ]*: /) {
		id = substr($0, 4, RLENGTH - 5); at = index(id, "@")
		plan = substr(id, 1, at - 1); k = substr(id, at + 1)
		if (k == "kunit") k = "kasan"
		if (!(plan in seen)) { seen[plan] = 1; order[++np] = plan }
		if ($2 == "skipped") cell[plan, k] = "skip"
		else if ($4 + 0 > 0) cell[plan, k] = "FAIL " $4 "/" $2
		else cell[plan, k] = $2 " ok"
	}
	END {
		for (i = 2; i <= np; i++)	# plans by name
			for (j = i; j > 1 && order[j - 1] > order[j]; j--) { t = order[j]; order[j] = order[j - 1]; order[j - 1] = t }
		nc = split(cols, c, " ")
		line = "| plan |"; sep = "|---|"
		for (j = 1; j <= nc; j++) { line = line " " (c[j] == "kasan" ? "KUnit/KASAN" : c[j]) " |"; sep = sep "---|" }
		print line; print sep
		for (i = 1; i <= np; i++) {
			line = "| " order[i] " |"
			for (j = 1; j <= nc; j++) line = line " " ((order[i], c[j]) in cell ? cell[order[i], c[j]] : "-") " |"
			print line
		}
	}' "$results"
	echo
fi
cp "$results" "$B/results.txt" && rm -rf "$run"
echo "vm: $total_pass passed, $total_fail failed ($i VMs, $nskip skipped, $((SECONDS - t0)) s)"
[ "$total_fail" -eq 0 ]
