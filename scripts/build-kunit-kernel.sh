#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# build-kunit-kernel.sh - build (once per machine) the small 6.12 kernel that
# runs fdpkv's KUnit suites and the KASAN VM plans (# vm-kernels: KASAN).
# Debian's kernels have CONFIG_KUNIT and CONFIG_KASAN off, so this is
# allnoconfig + tests/kunit/kunit.config from Debian's linux-source-6.12.
#
# The build is cached under $FDPKV_CACHE/kunit/<source version>-<config hash>
# and takes several minutes on 2 cores the first time (5-7 without KASAN,
# which instruments every object). Prints the cache dir.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${FDPKV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/fdpkv}
# shellcheck disable=SC1091
. "$CACHE/kernels.env" 2>/dev/null || { echo "build-kunit-kernel: run scripts/setup.sh first" >&2; exit 1; }
frag=$top/tests/kunit/kunit.config
hash=$(sha256sum "$frag" | cut -c1-12)
out=$CACHE/kunit/$KSRC_612_VERSION-$hash
if [ -f "$out/.done" ]; then
	echo "$out"
	exit 0
fi
echo "build-kunit-kernel: building the KUnit/KASAN kernel in $out (one time, several minutes)" >&2
rm -rf "$out" && mkdir -p "$out/build"
log=$out/build.log
{
	make -C "$KSRC_612" O="$out/build" allnoconfig KCONFIG_ALLCONFIG="$frag"
	make -C "$out/build" -j"$(nproc)" bzImage modules
	make -C "$out/build" modules_install INSTALL_MOD_PATH="$out/modroot"
} >"$log" 2>&1 || { tail -n 30 "$log" >&2; echo "build-kunit-kernel: failed, see $log" >&2; exit 1; }
make -s -C "$out/build" kernelrelease >"$out/kernelrelease"
touch "$out/.done"
echo "$out"
