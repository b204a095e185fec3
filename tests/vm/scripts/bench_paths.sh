#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# bench_paths.sh - libfdpkv's workload generator (fdpkvctl bench) through
# each FDP path to the same namespace, in one VM run: ng: (passthrough),
# fdpkv: (the module; the namespace attached first) and bdev: (block write
# streams, only on kernels that have them). A benchmark: prints numbers
# (throughput, latency, WAF from log 0x22 read through the generic node
# around each mixed run) and a one-line summary per path;
# fails only when a run fails.
# usage: bench_paths.sh BLKDEV NGDEV
BLK=${1:-/dev/nvme0n1}
NG=${2:-/dev/ng0n1}
CTL=/test/fdpkvctl
ARGS="-n 150 -b 4 -q 4 -s 64K-256K --set capacity=48M"  # ~2x the 48 MiB: eviction runs
rc=0
bench() { # URI
	echo "# --- $1"
	for w in fill mixed; do
		f=always
		[ $w = fill ] || f=never
		# log 0x22 through the generic node, whichever path writes
		[ $w = fill ] || $CTL stats "$NG" --save /tmp/stats0 >/dev/null 2>&1
		if ! $CTL bench "$1" -F $f -w $w $ARGS >/tmp/$w.out 2>&1; then
			sed 's/^/#   /' /tmp/$w.out
			rc=1
			return
		fi
		sed 's/^/#   /' /tmp/$w.out
	done
	$CTL stats "$NG" --since /tmp/stats0 >/tmp/stats.out 2>&1
	printf '# bench %-24s mixed: %s; WAF (log 0x22 over the mixed run) %s\n' "$1" \
		"$(sed -n 's/^throughput *: //p' /tmp/mixed.out)" "$(sed -n 's/^delta waf *: //p' /tmp/stats.out)"
}
bench "ng:$NG"
$CTL attach "$BLK" >/tmp/attach.out 2>&1 || { cat /tmp/attach.out; rc=1; }
bench "fdpkv:/dev/fdpkv?ns=0"
$CTL detach 0 >/dev/null 2>&1
if [ -e "/sys/block/${BLK#/dev/}/queue/max_write_streams" ]; then
	bench "bdev:$BLK"
else
	echo "# bdev: not on $(uname -r): no block write streams"
fi
exit $rc
