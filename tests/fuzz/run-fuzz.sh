#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run-fuzz.sh - the bounded fuzz run of `make test` (layer fuzz), as TAP:
#  1. build/fuzz/fuzz_check for FDPKV_FUZZ_SECONDS (default 60) from the
#     fixed seed corpus tests/fuzz/corpus with a fixed -seed: no oracle
#     violation, no sanitizer report;
#  2. the self-test: the same harness over a predicate whose coverage
#     accepts one block too many (-DFDPKV_FUZZ_BROKEN_COVERAGE) must be
#     caught by the oracle within the same time.
# Prints libFuzzer's executions and coverage (cov: edges, ft: features).
# FDPKV_FUZZ_RUNS=N runs N executions instead of a time bound (long runs).
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
secs=${FDPKV_FUZZ_SECONDS:-60}
out=build/fuzz
make -s fuzz-build || { echo "not ok 1 - fuzz-build"; exit 1; }
echo "1..2"

bound=(-max_total_time="$secs")
[ -n "${FDPKV_FUZZ_RUNS:-}" ] && bound=(-runs="$FDPKV_FUZZ_RUNS")

rm -rf "$out/corpus-run" "$out/artifacts"
mkdir -p "$out/corpus-run" "$out/artifacts"
"$out/fuzz_check" "${bound[@]}" -seed=1 -print_final_stats=1 \
	-artifact_prefix="$out/artifacts/" "$out/corpus-run" tests/fuzz/corpus \
	>"$out/fuzz.log" 2>&1
rc=$?
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/fuzz.log")
cov=$(grep -E '^#[0-9]+.*cov: ' "$out/fuzz.log" | tail -n 1 | grep -oE 'cov: [0-9]+ ft: [0-9]+')
viol=$(grep -c 'oracle violation' "$out/fuzz.log")
if [ "$rc" -eq 0 ] && [ "$viol" -eq 0 ]; then
	echo "ok 1 - fuzz_check: ${runs:-?} executions, ${cov:-?}, 0 oracle violations"
else
	echo "not ok 1 - fuzz_check: exit $rc, $viol oracle violations; log $out/fuzz.log"
	grep -E 'oracle violation|ERROR|runtime error' "$out/fuzz.log" | head -n 5 | sed 's/^/# /'
fi

rm -rf "$out/corpus-broken"
mkdir -p "$out/corpus-broken"
"$out/fuzz_check_broken" -max_total_time="$secs" -seed=1 -print_final_stats=1 \
	-artifact_prefix="$out/artifacts/broken-" "$out/corpus-broken" tests/fuzz/corpus \
	>"$out/fuzz-broken.log" 2>&1
runs=$(grep -oE '^#[0-9]+' "$out/fuzz-broken.log" | tail -n 1)
if grep -q 'oracle violation in fdpkv_cmd_check: blocks outside' "$out/fuzz-broken.log"; then
	echo "ok 2 - self-test: an off-by-one in coverage is caught (${runs:+after $runs executions}${runs:-on the seed corpus})"
else
	echo "not ok 2 - self-test: the broken predicate was not caught; log $out/fuzz-broken.log"
fi
