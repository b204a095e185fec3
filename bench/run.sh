#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# run.sh - the benchmark set behind `make bench`: bench_lib (raw io_uring
# loop, lib copy path, lib arena path, in the same run) and fio with
# ioengine=io_uring on the same file, at LMCache's chunk sizes, on tmpfs and
# on a disk file, with 1..4 submitting threads. Writes one CSV and a PNG plot
# of throughput vs value size (1 thread, tmpfs and disk). With the plugin
# built (make plugin), also plugin/bench_overhead.py (Python cost per key at
# batch 1/16/256), plugin/bench_plugin_tput.py (FdpKvConnector / lib at
# 32 MiB) and plugin/bench_submit_latency.py (submit_latency.csv).
#
#   bench/run.sh [OUTDIR]          (default build/bench; make bench first)
#
# Environment: BENCH_SIZES (bytes, default 256 KiB, 4, 32, 80 MiB),
# BENCH_THREADS (default "1 2 3 4"), BENCH_ROUNDS (best of N, default 2),
# BENCH_TMPFS / BENCH_DISK (directories, default /dev/shm and /var/tmp; set
# one empty to skip it).
#
# CSV columns: fs,value_bytes,threads,depth,phase,MB_s,ops_s,p50_us,p99_us,
# tput_ratio,p50_ratio,p99_ratio. Ratios are against the raw io_uring loop of
# the same bench_lib run for lib/arena phases, and fio / that raw loop for the
# fio phases (raw = 1).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$top/build/bench}
bin=$top/build/bench/bench_lib
[ -x "$bin" ] || { echo "run.sh: build/bench/bench_lib missing: run make bench-build" >&2; exit 1; }
command -v fio >/dev/null || { echo "run.sh: fio missing: run scripts/setup.sh" >&2; exit 1; }
sizes=${BENCH_SIZES:-262144 4194304 33554432 83886080}
threads=${BENCH_THREADS:-1 2 3 4}
rounds=${BENCH_ROUNDS:-2}
tmpfs=${BENCH_TMPFS-/dev/shm}
disk=${BENCH_DISK-/var/tmp}
mkdir -p "$out"
csv=$out/results.csv
log=$out/results.log
echo "fs,value_bytes,threads,depth,phase,MB_s,ops_s,p50_us,p99_us,tput_ratio,p50_ratio,p99_ratio" >"$csv"
: >"$log"
uptime | tee -a "$log"

# depth and MiB per phase for a value size: big values, fewer in flight, so
# buffers + file stay well under 2 GiB of tmpfs/RAM
depth_for() { if [ "$1" -le 262144 ]; then echo 32; elif [ "$1" -le 4194304 ]; then echo 16;
	      elif [ "$1" -le 33554432 ]; then echo 8; else echo 4; fi; }
mib_for() { if [ "$1" -le 4194304 ]; then echo 512; elif [ "$1" -le 33554432 ]; then echo 1024;
	    else echo 1280; fi; }

# fio PHASE(write|read) FS SIZE THREADS DEPTH MIB FILE RAW_MBS: one fio job per
# thread, each at DEPTH/THREADS over its own slice of FILE, as bench_lib's raw loop
fio_row() {
	local rw=$1 fs=$2 size=$3 t=$4 qd=$5 mib=$6 file=$7 raw=$8 direct=1 slice
	slice=$(( (mib << 20) / t / size * size ))
	[ "$slice" -ge "$size" ] || slice=$size
	[ "$rw" = read ] || rm -f "$file"
	fio --name=b --filename="$file" --ioengine=io_uring --rw="$rw" --bs="$size" \
		--iodepth=$(( qd / t )) --numjobs="$t" --size="$slice" --offset_increment="$slice" \
		--direct=$direct --group_reporting --output-format=json 2>>"$log" |
	/usr/bin/python3 -c '
import json, sys
fs, size, t, qd, rw, raw = sys.argv[1:]
j = json.load(sys.stdin)["jobs"][0][rw]
mbs = j["bw_bytes"] / 1e6
pct = j["clat_ns"]["percentile"]
p50, p99 = pct["50.000000"] / 1e3, pct["99.000000"] / 1e3
print("%s,%s,%s,%s,fio %s,%.1f,%.1f,%.0f,%.0f,%.3f,," % (fs, size, t, qd, rw, mbs,
      j["iops"], p50, p99, mbs / float(raw)))' "$fs" "$size" "$t" "$qd" "$rw" "$raw"
}

for fsdir in $tmpfs $disk; do
	fs=$([ "$fsdir" = "$tmpfs" ] && echo tmpfs || echo disk)
	file=$fsdir/fdpkv-bench.$$.img
	for size in $sizes; do
		qd=$(depth_for "$size")
		mib=$(mib_for "$size")
		[ "$fs" = tmpfs ] || mib=$(( mib / 2 ))
		for t in $threads; do
			echo "== $fs $size B, depth $qd, $t thread(s)" | tee -a "$log"
			res=$("$bin" -s "$size" -b "$mib" -q "$qd" -t "$t" -r "$rounds" -l "$fs" "$file")
			grep -v '^csv,' <<<"$res" | tee -a "$log"
			grep '^csv,' <<<"$res" | cut -d, -f2- >>"$csv"
			rawr=$(grep '^csv,.*,raw read,' <<<"$res" | cut -d, -f7)
			raww=$(grep '^csv,.*,raw write,' <<<"$res" | cut -d, -f7)
			fio_row write "$fs" "$size" "$t" "$qd" "$mib" "$file" "$raww" | tee -a "$log" >>"$csv"
			fio_row read "$fs" "$size" "$t" "$qd" "$mib" "$file" "$rawr" | tee -a "$log" >>"$csv"
			rm -f "$file"
		done
	done
done

# the plugin (make plugin): Python overhead per key, and submit latency on an
# aged device; BENCH_PLUGIN=0 skips them
if [ "${BENCH_PLUGIN:-1}" != 0 ] && ls "$top"/plugin/fdpkv_lmcache/_native*.so >/dev/null 2>&1; then
	echo "== plugin overhead per key" | tee -a "$log"
	/usr/bin/python3 "$top/plugin/bench_overhead.py" --dir "${tmpfs:-/tmp}" | tee -a "$log"
	echo "== plugin vs lib throughput, 32 MiB, aligned buffers" | tee -a "$log"
	/usr/bin/python3 "$top/plugin/bench_plugin_tput.py" --dir "${tmpfs:-/tmp}" | tee -a "$log"
	echo "== submit latency, aged device" | tee -a "$log"
	rm -f "$out/submit_latency.csv"
	/usr/bin/python3 "$top/plugin/bench_submit_latency.py" --dir "${disk:-/var/tmp}" \
		--csv "$out/submit_latency.csv" | tee -a "$log"
fi

if command -v gnuplot >/dev/null; then
	gnuplot -e "csv='$csv'; png='$out/throughput.png'" "$top/bench/throughput.gp"
	echo "plot: $out/throughput.png"
fi
echo "csv: $csv"
