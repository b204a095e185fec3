#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# callgrind.sh - instructions (Ir) per SET and per GET of libfdpkv on the sim
# backend, excluding I/O: bench_ops runs open-only, N SETs, and N SETs + N
# GETs under callgrind (all threads summed); per-op cost is the difference
# divided by N. The sim's own work (sim_exec: the memcpy that stands in for
# the device) is subtracted and shown apart.
#
#   bench/callgrind.sh [N] [VALUE_BYTES]	(defaults 20000 4096; make bench-build first)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
bin=$top/build/bench/bench_ops
n=${1:-20000}
len=${2:-4096}
[ -x "$bin" ] || { echo "callgrind.sh: run make bench-build first" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# total Ir and sim_exec's inclusive Ir of one run
measure() {
	local mode=$1 out=$tmp/cg.$1
	valgrind --tool=callgrind --callgrind-out-file="$out" "$bin" "$mode" "$n" "$len" \
		>/dev/null 2>"$tmp/vg.$mode"
	total=$(callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ && !t {gsub(",", "", $1); t = $1} END {print t + 0}')
	sim=$(callgrind_annotate --inclusive=yes "$out" 2>/dev/null |
		awk '/sim_exec/ && !s {gsub(",", "", $1); s = $1} END {print s + 0}')
	echo "${total:-0} ${sim:-0}"
}

read -r o_tot o_sim < <(measure open)
read -r s_tot s_sim < <(measure set)
read -r g_tot g_sim < <(measure setget)
awk -v n="$n" -v len="$len" -v ot="$o_tot" -v os="$o_sim" -v st="$s_tot" -v ss="$s_sim" \
    -v gt="$g_tot" -v gs="$g_sim" 'BEGIN {
	printf "callgrind: %d ops, %d-byte values, sim backend (Ir summed over all threads)\n", n, len
	printf "  SET: %8.0f Ir/op excluding I/O  (%8.0f incl. the sim device, %.0f of it sim)\n",
		((st - ss) - (ot - os)) / n, (st - ot) / n, (ss - os) / n
	printf "  GET: %8.0f Ir/op excluding I/O  (%8.0f incl. the sim device, %.0f of it sim)\n",
		((gt - gs) - (st - ss)) / n, (gt - st) / n, (gs - ss) / n
}'
