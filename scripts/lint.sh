#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# lint.sh - checkpatch.pl --strict on the kernel module and the uapi header
# (kernel style), cppcheck on the userspace C. Exits non-zero on any finding.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
CACHE=${FDPKV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/fdpkv}
# shellcheck disable=SC1091
. "$CACHE/kernels.env" || { echo "lint: run scripts/setup.sh first" >&2; exit 1; }
rc=0
cp=$KSRC_612/scripts/checkpatch.pl
[ -x "$cp" ] || { echo "lint: $cp missing" >&2; exit 1; }
echo "== checkpatch --strict"
# FILE_PATH_CHANGES/SPDX checks are about patches, not files in an out-of-tree tree.
out=$("$cp" --strict --no-tree --quiet --terse --show-types --ignore FILE_PATH_CHANGES \
	-f Kbuild kmod/*.c kmod/*.h kmod/tests/*.c include/uapi/*.h 2>&1) || rc=1
# the per-file "total: 0 errors, 0 warnings, 0 checks" lines are noise
printf '%s\n' "$out" | grep -v '^total: 0 errors, 0 warnings, 0 checks' || true
echo "== cppcheck"
srcs=$(ls lib/*.c tools/*.c plugin/src/*.c 2>/dev/null)

if [ -n "$srcs" ]; then
	# shellcheck disable=SC2086
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability,performance \
		--inline-suppr --std=c11 -D_GNU_SOURCE -Iinclude -Ilib/include -Ilib \
		--library=python \
		--suppress=missingIncludeSystem $srcs || rc=1
fi
[ $rc -eq 0 ] && echo "lint: clean"
exit $rc
