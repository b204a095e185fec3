#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# setup.sh - make this Debian bookworm machine ready to build and test fdpkv.
#
# Idempotent and fast when everything is already there. It:
#   1. adds the bookworm-backports suite if missing (never any other suite);
#   2. installs build and test dependencies from bookworm, then QEMU alone from
#      bookworm-backports (that order avoids pulling backported libraries that
#      conflict with bookworm's; see shared VM_HARNESS.md);
#   3. downloads the current Debian 6.1 and 6.12 kernel images, headers and
#      kbuild into the cache (resolved from the mirror, never hard-coded),
#      unpacks them, fixes the headers' absolute Makefile include, runs depmod
#      and extracts an uncompressed vmlinux for PVH boot;
#   4. downloads and unpacks linux-source-6.12 (for the KUnit kernel and
#      checkpatch.pl).
#
# Cache: $FDPKV_CACHE (default ${XDG_CACHE_HOME:-$HOME/.cache}/fdpkv).
# It writes $FDPKV_CACHE/kernels.env, which the Makefile and harness read.
set -euo pipefail

CACHE=${FDPKV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/fdpkv}
export DEBIAN_FRONTEND=noninteractive

say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (installs packages); run: sudo $0"
grep -q 'VERSION_CODENAME=bookworm' /etc/os-release ||
	die "fdpkv's setup supports Debian 12 (bookworm) only"

# --- 1. apt suites -----------------------------------------------------------
BPO_LIST=/etc/apt/sources.list.d/fdpkv-bookworm-backports.list
have_bpo() {
	# -q: a match wins even if /etc/apt/sources.list does not exist
	grep -rqsE '^[^#]*bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/
}
if ! have_bpo; then
	say "adding bookworm-backports to $BPO_LIST"
	echo 'deb http://deb.debian.org/debian bookworm-backports main' >"$BPO_LIST"
	rm -f "$CACHE/.apt-updated"
fi
mkdir -p "$CACHE"
# One apt-get update per day at most: the lists are what resolve kernel versions.
if [ -z "$(find "$CACHE/.apt-updated" -mmin -1440 2>/dev/null)" ]; then
	say "apt-get update"
	apt-get update -q >/dev/null || die "apt-get update failed (is the Debian mirror reachable?)"
	touch "$CACHE/.apt-updated"
fi

# --- 2. packages --------------------------------------------------------------
PKGS_BOOKWORM="build-essential pkg-config liburing-dev libnvme-dev libjson-c-dev libssl-dev libcmocka-dev
	python3-dev python3-pytest python3-setuptools python3-pip python3-venv dkms cpio kmod
	dwarves busybox-static xz-utils zstd bc binutils flex bison libelf-dev
	cppcheck perl clang libclang-rt-14-dev"
missing=
for p in $PKGS_BOOKWORM; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
	say "installing from bookworm:$missing"
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing >/dev/null ||
		die "apt-get install failed for:$missing"
fi
qemu_ok() {
	command -v qemu-system-x86_64 >/dev/null &&
		qemu-system-x86_64 -device nvme-subsys,help 2>/dev/null | grep -q 'fdp'
}
if ! qemu_ok; then
	say "installing qemu-system-x86 from bookworm-backports (FDP emulation needs QEMU >= 8)"
	apt-get install -y -q --no-install-recommends -t bookworm-backports qemu-system-x86 >/dev/null ||
		die "could not install qemu-system-x86 from bookworm-backports"
	qemu_ok || die "installed QEMU has no FDP emulation (nvme-subsys fdp=)"
fi

# --- 3. kernels ---------------------------------------------------------------
# Version of metapackage $1 in suite $2 (exact suite name, e.g. bookworm-backports),
# or the candidate when $2 is "candidate".
meta_version() {
	if [ "$2" = candidate ]; then
		apt-cache policy "$1" | awk '/Candidate:/ {print $2}'
	else
		apt-cache madison "$1" | awk -F'|' -v s=" $2/" 'index($3, s) {gsub(/ /, "", $2); print $2; exit}'
	fi
}
# The linux-headers-<kver> package a headers metapackage version depends on.
headers_pkg() {
	apt-cache show "linux-headers-amd64=$1" |
		sed -n 's/^Depends:.*\(linux-headers-[0-9][^ ,]*-amd64\).*/\1/p' | head -n1
}

fetch_kernel() { # $1 = tag (61|612), $2 = suite selector
	local tag=$1 mver hpkg kver pver dir debs p
	mver=$(meta_version linux-headers-amd64 "$2")
	[ -n "$mver" ] || die "cannot resolve linux-headers-amd64 in $2"
	hpkg=$(headers_pkg "$mver")
	[ -n "$hpkg" ] || die "cannot resolve the headers package of linux-headers-amd64=$mver"
	kver=${hpkg#linux-headers-}
	pver=$(apt-cache show "$hpkg" | awk '/^Version:/ {print $2; exit}')
	dir=$CACHE/kernels/$kver
	echo "KVER_$tag=$kver" >>"$CACHE/kernels.env.new"
	if [ -f "$dir/.done" ]; then
		say "kernel $kver: cached"
		return
	fi
	say "kernel $kver ($pver): downloading image, headers and kbuild"
	rm -rf "$dir" && mkdir -p "$dir/debs"
	debs="linux-image-$kver-unsigned=$pver $hpkg=$pver"
	# the -common and kbuild packages the headers depend on
	for p in $(apt-cache show "$hpkg=$pver" | sed -n 's/^Depends: //p' | tr ',' '\n' |
		sed -n 's/^ *\(linux-\(headers\|kbuild\)-[^ ]*\).*/\1/p'); do
		debs="$debs $p"
	done
	# shellcheck disable=SC2086
	(cd "$dir/debs" && apt-get download -q -o APT::Sandbox::User=root $debs >/dev/null) ||
		die "apt-get download failed for: $debs"
	for d in "$dir"/debs/*.deb; do dpkg-deb -x "$d" "$dir/root"; done
	rm -rf "$dir/debs"
	# The headers' Makefile includes /usr/src/linux-headers-*-common/Makefile by
	# absolute path; make it relative so the unpacked tree works where it lies.
	sed -i 's#^include /usr/src/\(.*\)$#include $(dir $(lastword $(MAKEFILE_LIST)))../\1#' \
		"$dir/root/usr/src/linux-headers-$kver/Makefile"
	depmod -b "$dir/root" "$kver"
	extract_vmlinux "$dir/root/boot/vmlinuz-$kver" "$dir/vmlinux" ||
		die "cannot extract vmlinux from vmlinuz-$kver"
	touch "$dir/.done"
}

# Find the compressed payload of a bzImage by its magic and keep the first
# candidate that decompresses to an ELF file (PVH boots it 1-5 s faster).
extract_vmlinux() {
	local mt off
	for mt in '\x28\xb5\x2f\xfd:zstd -qdc' '\xfd\x37\x7a\x58\x5a\x00:xz -qdc' '\x1f\x8b\x08:gzip -qdc'; do
		for off in $(LC_ALL=C grep -aboP "${mt%%:*}" "$1" | cut -d: -f1); do
			tail -c +$((off + 1)) "$1" | ${mt#*:} >"$2" 2>/dev/null || true
			readelf -h "$2" >/dev/null 2>&1 && return 0
		done
	done
	return 1
}

rm -f "$CACHE/kernels.env.new"
fetch_kernel 61 candidate
fetch_kernel 612 bookworm-backports

# --- 4. linux-source-6.12 (KUnit kernel, checkpatch.pl) ------------------------
sver=$(meta_version linux-source-6.12 bookworm-backports)
[ -n "$sver" ] || die "cannot resolve linux-source-6.12 in bookworm-backports"
src=$CACHE/src/linux-source-6.12-$sver
if [ ! -f "$src/.done" ]; then
	say "linux-source-6.12 $sver: downloading and unpacking"
	rm -rf "$src" && mkdir -p "$src"
	(cd "$src" && apt-get download -q -o APT::Sandbox::User=root "linux-source-6.12=$sver" >/dev/null) ||
		die "apt-get download linux-source-6.12=$sver failed"
	dpkg-deb --fsys-tarfile "$src"/linux-source-6.12_*.deb |
		tar -xO ./usr/src/linux-source-6.12.tar.xz | tar -xJ -C "$src"
	rm -f "$src"/linux-source-6.12_*.deb
	touch "$src/.done"
fi
{
	cat "$CACHE/kernels.env.new"
	echo "KSRC_612=$src/linux-source-6.12"
	echo "KSRC_612_VERSION=$sver"
} >"$CACHE/kernels.env"
rm -f "$CACHE/kernels.env.new"
say "ready: $(tr '\n' ' ' <"$CACHE/kernels.env")"
