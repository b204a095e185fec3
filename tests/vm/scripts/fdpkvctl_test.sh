#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# fdpkvctl_test.sh - fdpkvctl in the test VM (busybox sh), TAP output.
# usage: fdpkvctl_test.sh NGDEV BLKDEV CTRL    e.g. /dev/ng0n1 /dev/nvme0n1 /dev/nvme0
# Expects a fresh emulated device: fdp.runs=1M, fdp.nruh=8, 4 KiB LBAs.
NG=${1:-/dev/ng0n1}
BLK=${2:-/dev/nvme0n1}
CTRL=${3:-/dev/nvme0}
CTL=/test/fdpkvctl
RAW=/test/fdp_raw
# shellcheck source=tests/vm/scripts/tap.sh
. "$(dirname "$0")/tap.sh"

# --- list ---------------------------------------------------------------------
run $CTL list
ok $rc "list exits 0"
has "^$BLK +$NG +1 +yes +yes\\(cfg 0\\) +4096 "; ok $? "list shows $BLK with FDP supported and enabled, LBA 4096"
run $CTL list -o json
has '"device": "'$BLK'"' && has '"fdp_supported": true' && has '"fdp_enabled": true' &&
	has '"lba_size": 4096' && has '"capacity_bytes": 1073741824' && has '"cache": "no"' &&
	has '"cache_info": null'
ok $? "list -o json fields: device fdp_supported fdp_enabled lba_size capacity_bytes cache (no)"

# --- info ---------------------------------------------------------------------
run $CTL info $NG
ok $rc "info exits 0"
has '^  nruh +: 8$'; ok $? "info shows nruh 8"
has '^  runs +: 1048576 bytes \(1\.00 MiB\)$'; ok $? "info shows RU size 1 MiB"
[ "$(count 'initially-isolated +host$')" -eq 8 ]; ok $? "info lists 8 handles, initially isolated, host-specified"
run $CTL info $BLK -o json
has '"nruh": 8' && has '"runs": 1048576' && has '"lba_size": 4096' && has '"fdp_enabled": true' &&
	has '"in_use": true' && has '"type": "initially-isolated"' && has '"usage": "host"'
ok $? "info -o json (block node) fields: nruh runs lba_size fdp_enabled in_use type usage"

# --- ruh-status on a fresh device --------------------------------------------------
run $CTL ruh-status $NG
ok $rc "ruh-status exits 0"
[ "$(count '^[0-7] +0 +[0-7] +[0-7] +256 +1048576 +100\.0 ')" -eq 8 ]
ok $? "ruh-status: 8 handles with RUAMW 256 LBAs = 1 MiB = 100% of the RU"
run $CTL ruh-status $NG -o json
[ "$(count '"ruamw": 256,')" -eq 8 ] && has '"ruamw_bytes": 1048576' && has '"ru_pct": 100.00' &&
	has '"pid": 7' && has '"ruhid": 7'
ok $? "ruh-status -o json: 8 x ruamw 256, ruamw_bytes, ru_pct, pid, ruhid"

# --- write 64 KiB without placement: lands on placement handle 0 --------------------
run $CTL stats $NG --save /tmp/stats0
ok $rc "stats --save"
dd if=$CTL of=$BLK bs=4096 count=16 conv=fsync 2>/dev/null
ok $? "dd 64 KiB to $BLK"
run $CTL ruh-status $NG
has '^0 +0 +0 +0 +240 +983040 +93\.8 '; ok $? "RUAMW of pid 0 dropped by 16 LBAs to 240"
[ "$(count '^[1-7] +0 +[1-7] +[1-7] +256 ')" -eq 7 ]; ok $? "other 7 handles still 256"
run $CTL stats $NG --since /tmp/stats0
has '^delta hbmw +: 65536 bytes$'; ok $? "stats --since: HBMW grew by the 65536 bytes written"
run $CTL stats $NG --since /tmp/stats0 -o json
has '"hbmw": 65536,' && has '"since": \{' && has '"mbmw"' && has '"mbe": 0' && has '"waf"'
ok $? "stats -o json fields: hbmw mbmw mbe waf since"

# --- a placed write (DTYPE=2, pid 5), cross-checked against raw reads -----------
run $CTL stats $NG -o json --save /tmp/stats1
raw_h0=$($RAW hbmw $NG)
$RAW write $NG 5 8 4096 >/dev/null; ok $? "fdp_raw: write 8 LBAs through pid 5"
raw_r5=$($RAW ruamw $NG 5)
raw_h1=$($RAW hbmw $NG)
run $CTL ruh-status $NG
has "^5 +0 +5 +5 +$raw_r5 "; ok $? "ruh-status pid 5 RUAMW ($raw_r5) equals the raw RUH Status"
[ "$raw_r5" = 248 ]; ok $? "raw RUAMW of pid 5 is 256 - 8"
run $CTL stats $NG --since /tmp/stats1 -o json
has "\"hbmw\": $raw_h1," && has '"hbmw": 32768,' && [ $((raw_h1 - raw_h0)) -eq 32768 ]
ok $? "stats hbmw equals the raw log page ($raw_h1), delta 32768 bytes both ways"

# --- events + premature RUH update ---------------------------------------------------
run $CTL events $NG --enable
ok $rc "events --enable exits 0"
has 'enabled event types 0x00 on 8 placement handles'; ok $? "events --enable set type 0 on 8 handles"
run $CTL ruh-update $NG --pid 0
ok $rc "ruh-update --pid 0 exits 0"
run $CTL ruh-status $NG -o json
[ "$(count '"ruamw": 256,')" -eq 7 ] && [ "$($RAW ruamw $NG 0)" = 256 ]
ok $? "after ruh-update pid 0 has a fresh RU (RUAMW 256; pid 5 still partly written)"
run $CTL events $NG
has 'type 0x00 RU not fully written +pid 0'; ok $? "events shows 'RU not fully written' on pid 0"
run $CTL events $NG -o json
has '"type_name": "RU not fully written"' && has '"pid": 0' && has '"count": [1-9]' &&
	has '"kind": "host"' && has '"timestamp_ms"'
ok $? "events -o json fields: kind count type_name pid timestamp_ms"
run $CTL events $NG --controller
ok $rc "events --controller exits 0"
run $CTL stats $NG --since /tmp/stats0
has '^delta mbmw +: 1081344 bytes$'; ok $? "MBMW = 65536 + 32768 written + 983040 unwritten bytes of the swapped RU"
run $CTL ruh-update $NG -o json --pid 1,2
has '"pids": \[' && has '"result": "updated"'; ok $? "ruh-update -o json --pid 1,2"

# --- provision: plan, then --force against a device that refuses -------------------
dd if=$BLK bs=4096 count=16 2>/dev/null | md5sum >/tmp/before
run $CTL provision $CTRL --size 512M --handles 4
[ $rc -ne 0 ] && has 'plan \(not executed: no --force\)' && has 'not executed: pass --force'
ok $? "provision without --force prints the plan and exits non-zero"
run $CTL provision $CTRL --size 512M --handles 4 --force
[ $rc -ne 0 ] && has 'Command Sequence Error' && has 'Nothing was deleted'
ok $? "provision --force: Set Features 0x1D refusal reported, exit $rc"
has '\[failed  \] Set Features 0x1D' && has '\[not-run \] delete namespace 1'
ok $? "provision --force stopped before deleting namespace 1"
run $CTL provision $CTRL --size 512M --handles 4 --force -o json
[ $rc -ne 0 ] && has '"outcome": "refused"' && has '"state": "failed"' && has '"action": "set-features"' &&
	has '"error": ".*Command Sequence Error'
ok $? "provision -o json: outcome refused, step states, error"
[ -e $BLK ] && [ -e $NG ]; ok $? "namespace 1 still present"
dd if=$BLK bs=4096 count=16 2>/dev/null | md5sum >/tmp/after
cmp -s /tmp/before /tmp/after 2>/dev/null || [ "$(cat /tmp/before)" = "$(cat /tmp/after)" ]
ok $? "data on namespace 1 unchanged"
run $CTL info $NG
ok $rc "info still works after the refused provision"

# --- cache commands on libfdpkv's ng backend (after the provision checks) ----------
run $CTL format ng:$NG --capacity 256M -o json
ok $rc "format ng:$NG exits 0"
has '"result": "formatted"' && has '"segment_bytes": 1048576'; ok $? "format: segments are 1 MiB reclaim units"
run $CTL format ng:$NG --capacity 256M
[ $rc -ne 0 ] && has 'holds an fdpkv cache; pass --force'; ok $? "format refuses to overwrite a cache"
run $CTL list
has "^$BLK +$NG +1 +yes +yes\\(cfg 0\\) +4096 +[0-9.]+ [KMGT]iB +yes "; ok $? "list: the cache column of $BLK is yes after format"
run $CTL list -o json
has '"cache": "yes"' && has '"cache_info": \{' && has '"segment_bytes": 1048576' &&
	has '"segments": 255' && has '"device_index": 0' && has '"devices": 1' &&
	has '"uuid": "[0-9a-f]{8}-[0-9a-f]{4}-'
ok $? "list -o json: cache yes, cache_info uuid segment_bytes segments device_index devices"
run $CTL bench ng:$NG -w fill -n 64 -b 4 -s 64K -F never
ok $rc "bench fill through ng: exits 0"
has '^written +: 16777216 bytes$' && has '^errors +: 0$'; ok $? "bench wrote 16 MiB without errors"
has '^fdp log 0x22 +: [0-9]+ host, [0-9]+ media bytes written' && has '^device waf +: [0-9]+\.[0-9]+ \(log 0x22'
ok $? "bench text report: log 0x22 deltas and the device waf"
run $CTL fsck ng:$NG -o json
[ $rc -eq 0 ] && has '"result": "clean"' && has '"objects_live": 256,' && has '"damage": 0,' &&
	has '"bytes_live": 16777216,'
ok $? "fsck: clean, 256 live objects, 16 MiB of values"
run $CTL dump ng:$NG -n 2
[ "$(count '^65536 +fdpkvctl-bench-0000000[0-2][0-9][0-9]$')" -eq 2 ] && has '^# 2 keys \(--limit reached\); 256 objects'
ok $? "dump --limit 2 lists 2 of the 256 bench keys"
run $CTL bench ng:$NG -w read -n 16 -b 4 -s 64K -k 256 -F never -o json
[ $rc -eq 0 ] && has '"hits": 64,' && has '"misses": 0,'; ok $? "bench read: 64 hits"
has '"fdp_stats": \{' && has '"waf": null,'; ok $? "bench read: fdp_stats, no host writes so waf null"
run $CTL bench ng:$NG -w mixed -n 64 -b 4 -s 64K -k 256 -t 2 --csv /tmp/bench.csv -F never -o json
[ $rc -eq 0 ] && has '"fdp_stats": \{' && has '"host_bytes_written": [1-9][0-9]*,' &&
	has '"waf": [0-9]+\.[0-9]+,' && has '"waf_source": "fdp",' && has '"errors": 0,'
ok $? "bench mixed on ng: a numeric waf from log 0x22 (fdp_stats, waf_source fdp)"
[ "$(head -1 /tmp/bench.csv)" = "t,sets,gets,mib_per_s,set_p99_us,get_p99_us,evicted_objects,evicted_segments" ] &&
	[ "$(wc -l < /tmp/bench.csv)" -ge 2 ]
ok $? "bench --csv: a header and at least one row"
run $CTL ruh-status $NG

# --- errors ----------------------------------------------------------------------
run $CTL ruh-update $NG
[ $rc -ne 0 ] && has '^usage: fdpkvctl ruh-update'; ok $? "ruh-update without --pid: usage, non-zero"
run $CTL info /test/plan
[ $rc -ne 0 ] && has 'not an NVMe device'; ok $? "info on a regular file fails clearly"
run $CTL provision $NG --size 1G --handles 2
[ $rc -ne 0 ] && has 'not a controller'; ok $? "provision on a namespace is refused"
run $CTL ruh-status $CTRL
[ $rc -ne 0 ] && has 'not an NVMe namespace'; ok $? "ruh-status on a controller is refused"

echo "1..$n"
[ $failed -eq 0 ]
