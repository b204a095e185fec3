#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The kernel log since the plan began (guest-init cleared it) holds no report
# of KASAN, a WARNING, list or refcount corruption, a BUG or an oops. TAP;
# exit 1 and the offending lines if it does.
. /test/tap.sh
bad=$(dmesg | grep -E 'BUG:|WARNING:|list_(add|del) corruption|refcount_t:|Oops|general protection|Call Trace|KASAN')
[ -z "$bad" ]
ok $? "kernel log: no KASAN report, WARNING, list/refcount corruption or oops"
[ -z "$bad" ] || echo "$bad" | head -n 20 | sed 's/^/#   /'
exit $failed
