#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# fdpkvctl attach/grants/detach against the module: a process's grant shows
# with its pid and command name and is gone after it is killed; quotas
# (policy) and shareable handles and extents (share) are set and shown. TAP.
n=0 failed=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi; }
T=/test
$T/fdpkvctl attach /dev/nvme0n1 -o json >/tmp/attach.json
ok $? "fdpkvctl attach /dev/nvme0n1"
grep -q '"ru_size": *1048576' /tmp/attach.json
ok $? "attach handed the RU size read from log 0x20 to the module"
$T/fdpkvctl attach /dev/nvme0n1 >/dev/null 2>/tmp/err
[ $? -ne 0 ] && grep -q "already attached" /tmp/err
ok $? "attaching twice fails with a reason: $(cat /tmp/err)"
$T/fdpkv_hold 0 2 0 100 >/tmp/hold.out &
hold=$!
i=0
while ! grep -q held /tmp/hold.out 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
$T/fdpkvctl grants -o json >/tmp/g.json
ok $? "fdpkvctl grants -o json"
c=$(grep -A1 "\"holder_pid\": $hold," /tmp/g.json | grep -c "\"holder_comm\": \"fdpkv_hold\"")
[ "$c" -eq 3 ]
ok $? "2 handles and 1 lease held by pid $hold (fdpkv_hold): $c entries"
$T/fdpkvctl grants | grep -q "held by $hold (fdpkv_hold)"
ok $? "the text form shows the lease holder"
$T/fdpkvctl detach 0 2>/tmp/err
[ $? -ne 0 ] && grep -q "handles or leases are held" /tmp/err
ok $? "detach while held fails: $(cat /tmp/err)"
rmmod fdpkv 2>/tmp/err
[ $? -ne 0 ]
ok $? "rmmod while a process has /dev/fdpkv open is refused: $(cat /tmp/err)"
kill -9 $hold
wait $hold 2>/dev/null
$T/fdpkvctl grants -o json >/tmp/g.json
! grep -q '"granted": *true' /tmp/g.json && ! grep -q '"id"' /tmp/g.json
ok $? "after kill -9 nothing is granted or leased"
$T/fdpkvctl policy 0 -o json >/tmp/p.json
ok $? "fdpkvctl policy 0 -o json"
grep -q '"max_handles_file": *4,' /tmp/p.json && grep -q '"max_lba_pct_uid": *50' /tmp/p.json
ok $? "the default policy: half the 8 handles and half the blocks"
$T/fdpkvctl policy 0 --max-handles-file 8 --max-lba-pct-uid 75 >/tmp/p.txt
ok $? "fdpkvctl policy sets two limits"
grep -q "placement handles *8 *4" /tmp/p.txt && grep -q "blocks (% of capacity) 50 *75" /tmp/p.txt
ok $? "and shows them, the others unchanged: $(tr '\n' ' ' </tmp/p.txt)"
$T/fdpkvctl policy 0 --max-leases-file 300 2>/tmp/err
[ $? -ne 0 ] && grep -q "a limit is 0 or beyond" /tmp/err
ok $? "a limit beyond the table fails with a reason: $(cat /tmp/err)"
$T/fdpkvctl share 0 --handle 1,2 >/tmp/s.txt
ok $? "fdpkvctl share --handle 1,2: $(tr '\n' ' ' </tmp/s.txt)"
$T/fdpkvctl grants -o json >/tmp/g.json
c=$(grep -c '"shared": *true' /tmp/g.json)
[ "$c" -eq 2 ]
ok $? "grants lists the two handles as shareable: $c"
$T/fdpkvctl share 0 --extent 64+32 -o json >/tmp/s.json
grep -q '"slba": *64' /tmp/s.json && grep -q '"nlb": *32' /tmp/s.json
ok $? "fdpkvctl share --extent 64+32 -o json: $(tr -d ' \n' </tmp/s.json)"
$T/fdpkvctl grants | grep -q "shareable extent: LBAs 64..95"
ok $? "grants shows the extent"
$T/fdpkvctl share 0 --extent 80+32 2>/tmp/err
[ $? -ne 0 ] && grep -q "Device or resource busy (overlaps" /tmp/err
ok $? "an overlapping extent is refused with a reason: $(cat /tmp/err)"
$T/fdpkvctl share 0 --extent 64+31 --off 2>/tmp/err
[ $? -ne 0 ] && grep -q "no extent with exactly these bounds" /tmp/err
ok $? "removing other bounds fails with a reason: $(cat /tmp/err)"
$T/fdpkvctl share 0 --extent 64 2>/tmp/err
[ $? -ne 0 ] && grep -q "'64' is not SLBA+NLB" /tmp/err
ok $? "a malformed extent names the field: $(cat /tmp/err)"
$T/fdpkvctl share 0 --handle 999 2>/tmp/err
[ $? -ne 0 ] && grep -q "no such placement id" /tmp/err
ok $? "an unknown placement id is refused: $(cat /tmp/err)"
$T/fdpkvctl share 0 --extent 64+32 --off >/dev/null && $T/fdpkvctl share 0 --handle 1,2 --off >/dev/null
ok $? "share --off makes both exclusive again"
$T/fdpkvctl grants -o json >/tmp/g.json
! grep -q '"shared": *true' /tmp/g.json && ! grep -q '"extent": *true' /tmp/g.json
ok $? "grants then lists nothing shared"
$T/fdpkvctl detach 0
ok $? "detach"
$T/fdpkvctl detach 0 2>/tmp/err
[ $? -ne 0 ] && grep -q "not attached" /tmp/err
ok $? "detach again fails: $(cat /tmp/err)"
echo "1..$n"
[ $failed -eq 0 ]
