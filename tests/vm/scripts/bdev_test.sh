#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# bdev_test.sh - the bdev: backend (block write streams) in the test VM,
# TAP output. On a kernel that exposes the FDP namespace's placement
# handles as write streams (Linux >= 6.16): the streams and their
# granularity match the emulated SSD (8 RUHs, 1 MiB RUs), auto: and
# `fdpkvctl list` pick bdev:, and the library's churn runs through bdev:
# with per-class placement checked on the device (lib_churn) and the WAF of
# the churn read from log 0x22. On a kernel without them: bdev: is refused with EOPNOTSUPP naming the missing sysfs
# field, and auto: falls back to ng: (root here, no module loaded).
# usage: bdev_test.sh BLKDEV NGDEV CTRL    e.g. /dev/nvme0n1 /dev/ng0n1 /dev/nvme0
BLK=${1:-/dev/nvme0n1}
NG=${2:-/dev/ng0n1}
CTRL=${3:-/dev/nvme0}
CTL=/test/fdpkvctl
Q=/sys/block/${BLK#/dev/}/queue
# shellcheck source=tests/vm/scripts/tap.sh
. "$(dirname "$0")/tap.sh"

if [ -e "$Q/max_write_streams" ]; then
	streams=$(cat "$Q/max_write_streams")
	gran=$(cat "$Q/write_stream_granularity")
	echo "# $Q: max_write_streams $streams, write_stream_granularity $gran"
	[ "$streams" = 8 ]; ok $? "one write stream per placement handle: $streams"
	[ "$gran" = 1048576 ]; ok $? "write stream granularity is the 1 MiB reclaim unit: $gran"
	run $CTL list -o json
	has "\"uri\": *\"bdev:$BLK\""; ok $? "fdpkvctl list: auto: picks bdev:$BLK"
	run $CTL format "auto:$BLK" --force
	ok $rc "fdpkvctl format auto:$BLK"
	has "bdev:$BLK"; ok $? "format went through bdev:"
	$CTL stats "$NG" --save /tmp/bdev.stats >/dev/null 2>&1
	echo "# lib_churn bdev:$BLK (its own TAP follows)"
	/test/lib_churn "bdev:$BLK" "$NG" "$CTRL"
	r=$?
	# the device's write amplification over the churn, from log 0x22
	run $CTL stats "$NG" --since /tmp/bdev.stats
	has "^delta waf +: [0-9]"; ok $? "log 0x22 over the churn through bdev: $(echo "$out" | sed -n 's/^delta waf *: //p')"
	[ $failed -eq 0 ] && [ $r -eq 0 ]
	exit $?
fi
run $CTL format "bdev:$BLK" --force
[ $rc -ne 0 ]; ok $? "bdev: refused on $(uname -r) (exit $rc)"
has "max_write_streams is missing" && has "6.16"; ok $? "the refusal names queue/max_write_streams and the kernel needed"
has "Operation not supported"; ok $? "the refusal is EOPNOTSUPP"
run $CTL list -o json
has "\"uri\": *\"ng:$NG\""; ok $? "fdpkvctl list: auto: falls back to ng:$NG"
run $CTL format "$BLK" --force
ok $rc "a bare path formats through what auto: picks"
has "ng:$NG"; ok $? "that is ng:$NG"
echo "1..$n"
[ $failed -eq 0 ]
