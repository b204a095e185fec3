#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# median.sh - bench_lib REPS times per value size, thread count and library
# configuration, one file system, and the median of every ratio to the raw
# io_uring loop of the same bench_lib run (and of the raw loop's MB/s). On a
# shared machine one run's ratio swings; the median of several says more.
# Configurations of one repetition run back to back, so load drift hits
# them alike.
#
# A tmpfs file's first writes allocate its pages, and the raw loop and the
# library each write a fresh file: one run's set ratio can swing by 2x on
# that alone. BENCH_ROUNDS=N makes each bench_lib run keep the best of N
# rounds of each phase.
#
#   bench/median.sh [OUTDIR]       (default build/bench; make bench-build first)
#
# Environment: BENCH_SIZES (bytes, default 4 and 32 MiB), BENCH_THREADS
# (default "1 2"), BENCH_REPS (default 3), BENCH_DIR (default /dev/shm),
# BENCH_CONFIGS (space-separated bench_lib -o arguments, "-" for none;
# default "- copy_threads=0": the copy workers against the copy path without
# them), BENCH_MIB (MiB per phase, default 256 at <= 4 MiB, else 512),
# BENCH_ROUNDS (bench_lib -r, default 1).
#
# Writes OUTDIR/median.csv (every row: config,rep, then bench_lib's CSV
# columns, bench/run.sh) and prints the median table.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$top/build/bench}
bin=$top/build/bench/bench_lib
[ -x "$bin" ] || { echo "median.sh: build/bench/bench_lib missing: run make bench-build" >&2; exit 1; }
sizes=${BENCH_SIZES:-4194304 33554432}
threads=${BENCH_THREADS:-1 2}
reps=${BENCH_REPS:-3}
dir=${BENCH_DIR:-/dev/shm}
configs=${BENCH_CONFIGS:-- copy_threads=0}
rounds=${BENCH_ROUNDS:-1}
mkdir -p "$out"
csv=$out/median.csv
file=$dir/fdpkv-median.$$.img
echo "config,rep,fs,value_bytes,threads,depth,phase,MB_s,ops_s,p50_us,p99_us,tput_ratio,p50_ratio,p99_ratio" >"$csv"
uptime
# the depths of bench/run.sh: fewer in flight for bigger values
depth_for() { if [ "$1" -le 262144 ]; then echo 32; elif [ "$1" -le 4194304 ]; then echo 16;
	      elif [ "$1" -le 33554432 ]; then echo 8; else echo 4; fi; }
for rep in $(seq 1 "$reps"); do
	for size in $sizes; do
		qd=$(depth_for "$size")
		mib=${BENCH_MIB:-$([ "$size" -le 4194304 ] && echo 256 || echo 512)}
		for t in $threads; do
			for cfg in $configs; do
				opt=()
				[ "$cfg" = - ] || opt=(-o "$cfg")
				echo "== rep $rep, $size B, depth $qd, $t thread(s), config $cfg ($(cut -d' ' -f1-3 /proc/loadavg))" >&2
				"$bin" -s "$size" -b "$mib" -q "$qd" -t "$t" -r "$rounds" -l tmpfs "${opt[@]}" "$file" |
					sed -n "s/^csv,/$cfg,$rep,/p" >>"$csv"
			done
		done
	done
done
uptime
/usr/bin/python3 - "$csv" <<'EOF'
import csv, statistics, sys
from collections import defaultdict
rows = list(csv.DictReader(open(sys.argv[1])))
cell = defaultdict(list)
for r in rows:
    cell[(r["config"], int(r["value_bytes"]), int(r["threads"]), r["phase"])].append(r)
keys = sorted({k[:3] for k in cell}, key=lambda k: (k[1], k[2], k[0]))
med = lambda rs, f: statistics.median(float(r[f]) for r in rs)
print("config | MiB | thr | raw w MB/s | raw r MB/s | copy set | copy get | align set | align get | arena set | arena get   (median lib/raw tput [p99 ratio], n=%d)"
      % max(len(v) for v in cell.values()))
for cfg, size, t in keys:
    def c(ph):
        rs = cell.get((cfg, size, t, ph))
        return "%.2f [%.2f]" % (med(rs, "tput_ratio"), med(rs, "p99_ratio")) if rs else "-"
    print("%s | %d | %d | %.0f | %.0f | %s | %s | %s | %s | %s | %s" % (
        cfg, size >> 20, t, med(cell[(cfg, size, t, "raw write")], "MB_s"),
        med(cell[(cfg, size, t, "raw read")], "MB_s"), c("lib set"), c("lib get"),
        c("align set"), c("align get"), c("arena set"), c("arena get")))
EOF
