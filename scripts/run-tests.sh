#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run-tests.sh - every test layer of fdpkv, one summary line per layer and a
# final "N passed, N failed" line. `make test` runs scripts/setup.sh first.
#
# Layers: build (everything, plus sanitizer builds), unit (cmocka, ASan+UBSan),
# tsan (the concurrency tests under ThreadSanitizer), python (the plugin's
# contract tests, file backend), lint (checkpatch --strict on the module,
# cppcheck on userspace), crash (the power-cut checker, built optimized, on
# fixed seeds: 1,000 crash points per durability mode on sim, and the kill
# -9 test on the file backend; fails on any violation), install (make
# install into a scratch root is usable through pkg-config), dkms (dkms.conf builds and installs the module
# against each cached kernel's headers), deb (make deb; the packages installed
# into a clean bookworm root, DKMS build, purge leaves nothing; fdpkv-dkms in
# the trixie root, DKMS build for Debian 13's kernels), fuzz (the
# module's command predicate under libFuzzer for ~60 s from a fixed corpus,
# and the oracle's self-test), vm (QEMU with emulated FDP SSDs on Debian 6.1
# and the newest 7.x, a smoke set also on both 6.12s; and the KUnit kernel).
#
# FDPKV_LAYERS="unit python" runs a subset.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
PY=${PYTHON:-/usr/bin/python3}
layers=${FDPKV_LAYERS:-build unit tsan crash python lint install dkms deb fuzz vm}
logdir=$top/build/test-logs
mkdir -p "$logdir"
total_pass=0 total_fail=0
summary=()

record() { # layer pass fail seconds [note]
	summary+=("$(printf '%-7s %d passed, %d failed  (%ds)%s' "$1:" "$2" "$3" "$4" "${5:+  $5}")")
	total_pass=$((total_pass + $2))
	total_fail=$((total_fail + $3))
	printf '== %s: %d passed, %d failed (%ds)\n' "$1" "$2" "$3" "$4"
}

# cmocka prints "[  PASSED  ] N test(s)." and "[  FAILED  ] N test(s)"; a
# binary that dies before its summary (sanitizer report, crash) counts as one
# failure.
run_cmocka_dir() { # layer dir [timeout per binary, s]
	local layer=$1 dir=$2 limit=${3:-600} t0 p=0 f=0 bin log n rc
	t0=$SECONDS
	for bin in "$dir"/test_*; do
		[ -x "$bin" ] || continue
		log=$logdir/$layer-$(basename "$bin").log
		(cd "$top" && timeout "$limit" "$bin") >"$log" 2>&1
		rc=$?
		n=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | awk '{s += $1} END {print s + 0}')
		p=$((p + n))
		n=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | awk '{s += $1} END {print s + 0}')
		if [ "$rc" -ne 0 ] && [ "$n" -eq 0 ]; then n=1; fi
		if [ "$n" -gt 0 ]; then
			echo "   $(basename "$bin"): exit $rc, $n failed; log $log"
			grep -E 'FAILED|ERROR|Sanitizer|runtime error' "$log" | head -n 10 | sed 's/^/      /'
		fi
		f=$((f + n))
	done
	record "$layer" "$p" "$f" $((SECONDS - t0))
}

# A command that prints TAP: count "ok" and "not ok"; a non-zero exit with no
# "not ok" counts as one failure.
run_tap() { # layer command...
	local layer=$1 t0=$SECONDS log=$logdir/$1.log p f rc
	shift
	"$@" >"$log" 2>&1
	rc=$?
	p=$(grep -c '^ok ' "$log")
	f=$(grep -c '^not ok ' "$log")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	[ "$f" -eq 0 ] || grep -E '^not ok|^#' "$log" | head -n 20 | sed 's/^/   /'
	record "$layer" "$p" "$f" $((SECONDS - t0))
}

# The package tests: test-deb.sh builds the packages, the trixie test
# installs the same ones.
deb_tests() {
	local rc=0
	tests/deb/test-deb.sh || rc=1
	FDPKV_DEB_NOBUILD=1 tests/deb/test-deb-trixie.sh || rc=1
	return $rc
}

for layer in $layers; do
	case $layer in
	build)
		t0=$SECONDS f=0
		make -s -j"$(nproc)" all unit-build tsan-build crash-build >"$logdir/build.log" 2>&1 || { f=1; tail -n 30 "$logdir/build.log"; }
		record build $((1 - f)) "$f" $((SECONDS - t0))
		;;
	unit) run_cmocka_dir unit build/tests/asan ;;
	tsan) TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" run_cmocka_dir tsan build/tests/tsan ;;
	crash)
		# fixed seeds, bounded: the long run is `make crashtest` (README)
		if make -s -j"$(nproc)" crash-build >"$logdir/crash-build.log" 2>&1; then
			FDPKV_CRASH_POINTS=${FDPKV_CRASH_POINTS:-1000} FDPKV_CRASH_SEED=${FDPKV_CRASH_SEED:-1} \
				run_cmocka_dir crash build/crash 1500	# 3,000 points: ~4 min idle, 10 at load 8
			grep -h -E '^(crashcheck|kill -9)' "$logdir"/crash-test_*.log | sed 's/^/   /'
		else
			tail -n 30 "$logdir/crash-build.log"
			record crash 0 1 0
		fi
		;;
	python)
		t0=$SECONDS
		if [ -d tests/python ]; then
			$PY -m pytest -q -p no:cacheprovider tests/python >"$logdir/python.log" 2>&1
			rc=$?
			line=$(grep -E '^(=+ )?[0-9]+ (passed|failed)' "$logdir/python.log" | tail -n 1)
			p=$(echo "$line" | sed -n 's/.*\b\([0-9]\+\) passed.*/\1/p')
			f=$(echo "$line" | sed -n 's/.*\b\([0-9]\+\) failed.*/\1/p')
			e=$(echo "$line" | sed -n 's/.*\b\([0-9]\+\) error.*/\1/p')
			p=${p:-0} f=$((${f:-0} + ${e:-0}))
			if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
			[ "$f" -eq 0 ] || tail -n 30 "$logdir/python.log"
			record python "$p" "$f" $((SECONDS - t0))
		else
			record python 0 0 0 "no tests/python yet"
		fi
		;;
	dkms) run_tap dkms tests/dkms/test-dkms.sh ;;
	fuzz) run_tap fuzz tests/fuzz/run-fuzz.sh ;;
	install) run_tap install tests/install/test-install.sh ;;
	deb) run_tap deb deb_tests ;;
	lint)
		t0=$SECONDS
		if scripts/lint.sh >"$logdir/lint.log" 2>&1; then
			record lint 1 0 $((SECONDS - t0))
		else
			tail -n 30 "$logdir/lint.log"
			record lint 0 1 $((SECONDS - t0))
		fi
		;;
	vm)
		t0=$SECONDS
		tests/vm/vm-test.sh >"$logdir/vm.log" 2>&1
		rc=$?
		grep '^vm/' "$logdir/vm.log" | sed 's/^/   /'
		grep -E '^    ' "$logdir/vm.log" | head -n 40
		line=$(grep '^vm: ' "$logdir/vm.log" | tail -n 1)
		p=$(echo "$line" | sed -n 's/^vm: \([0-9]*\) passed.*/\1/p')
		f=$(echo "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
		p=${p:-0} f=${f:-1}
		if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
		record vm "$p" "$f" $((SECONDS - t0))
		;;
	*)
		echo "run-tests: unknown layer $layer" >&2
		record "$layer" 0 1 0
		;;
	esac
done

echo
echo "== summary"
printf '   %s\n' "${summary[@]}"
echo "${total_pass} passed, ${total_fail} failed"
[ "$total_fail" -eq 0 ]
