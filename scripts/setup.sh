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
#   3. downloads the current Debian 6.1 and 6.12 (bookworm) kernel images, headers and
#      kbuild into the cache (resolved from the mirror, never hard-coded),
#      unpacks them, fixes the headers' absolute Makefile include, runs depmod
#      and extracts an uncompressed vmlinux for PVH boot;
#   4. downloads and unpacks linux-source-6.12 (for the KUnit kernel and
#      checkpatch.pl);
#   5. makes a Debian 13 (trixie) build root with debootstrap (gcc-14, dkms,
#      kbuild's needs; its own apt sources on the host's mirror, never the
#      host's) and downloads trixie's kernel and trixie-backports' newest the
#      same way as in 3, resolved inside that root, and adduser's .deb for
#      the trixie package test;
#   6. makes a clean bookworm root for the package tests and keeps the 6.1
#      kernel's headers .debs (scripts/mkdebroot.sh).
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
	cppcheck perl fio gnuplot-nox libisal-dev debhelper dh-dkms dh-python lintian python3-all-dev
	debootstrap clang libclang-rt-14-dev"
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
# apt-cache/apt-get as run by $APT_RUN: empty for the host's apt, in_troot
# (section 5) for the trixie root's.
apt_run() { ${APT_RUN:-} "$@"; }
# Version of metapackage $1 in suite $2 (exact suite name, e.g. bookworm-backports),
# or the candidate when $2 is "candidate".
meta_version() {
	if [ "$2" = candidate ]; then
		apt_run apt-cache policy "$1" | awk '/Candidate:/ && $2 != "(none)" {print $2}'
	else
		apt_run apt-cache madison "$1" | awk -F'|' -v s=" $2/" 'index($3, s) {gsub(/ /, "", $2); print $2; exit}'
	fi
}
# The headers package, kernel release, package version and cache dir of the
# newest kernel in suite $2 (as for meta_version), from linux-headers-amd64:
# sets hpkg, kver, pver, dir and records KVER_$1 for kernels.env. False when
# that kernel is cached already.
resolve_kernel() {
	local mver
	mver=$(meta_version linux-headers-amd64 "$2")
	[ -n "$mver" ] || die "cannot resolve linux-headers-amd64 in $2"
	hpkg=$(apt_run apt-cache show "linux-headers-amd64=$mver" |
		sed -n 's/^Depends:.*\(linux-headers-[0-9][^ ,]*-amd64\).*/\1/p' | awk 'NR == 1')
	[ -n "$hpkg" ] || die "cannot resolve the headers package of linux-headers-amd64=$mver"
	kver=${hpkg#linux-headers-}
	pver=$(apt_run apt-cache show "$hpkg" | awk '/^Version:/ {print $2; exit}')
	dir=$CACHE/kernels/$kver
	echo "KVER_$1=$kver" >>"$CACHE/kernels.env.new"
	if [ -f "$dir/.done" ]; then
		say "kernel $kver: cached"
		return 1
	fi
}
# The unpacked debs in $1/root of kernel $2 made usable where they lie, and
# the kernel extracted for PVH boot; then $1/.done.
finish_kernel() {
	local dir=$1 kver=$2 vmlinuz
	# The headers' Makefile includes /usr/src/linux-headers-*-common/Makefile by
	# absolute path (7.x also sets KBUILD_OUTPUT to its own absolute path);
	# make them relative so the unpacked tree works where it lies.
	sed -i -e 's#^include /usr/src/\(.*\)$#include $(dir $(lastword $(MAKEFILE_LIST)))../\1#' \
		-e 's#^KBUILD_OUTPUT=/usr/src/\(.*\)$#KBUILD_OUTPUT=$(dir $(lastword $(MAKEFILE_LIST)))../\1#' \
		"$dir/root/usr/src/linux-headers-$kver/Makefile"
	# trixie's packages put modules in /usr/lib/modules; depmod -b and the
	# harness look in lib/modules, as bookworm's packages have it
	[ -e "$dir/root/lib" ] || ln -s usr/lib "$dir/root/lib"
	depmod -b "$dir/root" "$kver"
	# /boot/vmlinuz-<kver> (6.x), /usr/lib/modules/<kver>/vmlinuz[.unsigned] (7.x);
	# find fails on whichever of the two directories the kernel lacks
	vmlinuz=$(find "$dir/root/boot" "$dir/root/usr/lib/modules/$kver" -maxdepth 1 \
		\( -name "vmlinuz-$kver" -o -name vmlinuz -o -name vmlinuz.unsigned \) 2>/dev/null |
		awk 'NR == 1' || true)
	[ -n "$vmlinuz" ] && extract_vmlinux "$vmlinuz" "$dir/vmlinux" ||
		die "cannot extract vmlinux from vmlinuz-$kver (${vmlinuz:-not found})"
	touch "$dir/.done"
}

fetch_kernel() { # $1 = tag (61|612), $2 = suite selector
	local hpkg kver pver dir debs p
	resolve_kernel "$1" "$2" || return 0
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
	finish_kernel "$dir" "$kver"
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
	# through a file: a pipe into tar -xJ can end the first tar with
	# SIGPIPE (the second stops reading at its end-of-archive blocks)
	dpkg-deb --fsys-tarfile "$src"/linux-source-6.12_*.deb |
		tar -xO ./usr/src/linux-source-6.12.tar.xz >"$src/linux-source-6.12.tar.xz"
	tar -xJf "$src/linux-source-6.12.tar.xz" -C "$src"
	rm -f "$src"/linux-source-6.12_*.deb "$src/linux-source-6.12.tar.xz"
	touch "$src/.done"
fi
# --- 5. Debian 13 (trixie): a build root and its kernels ---------------------
# Trixie's kernels ship kbuild tools linked against trixie's C library and are
# built with gcc-14, so their modules are built in a trixie root made with
# debootstrap (scripts/in-trixie.sh enters it). Trixie is never added to the
# host's apt sources: the root has its own, on the host's Debian mirror.
# The mirror (and security mirror) the host's own apt sources name.
host_mirror() { # $1 = debian | debian-security
	# the answer is the output, empty when none: /etc/apt/sources.list
	# may be absent (deb822 sources only) and fail the first grep
	grep -rhsE '^[^#]*(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/ |
		grep -oE "https?://[^ ]+/$1/?( |\$)" | tr -d ' ' | awk 'NR == 1' || true
}
TROOT=$CACHE/trixie-root
TRIXIE_PKGS="gcc-14 make libc6-dev dwarves kmod xz-utils zstd dkms bc ca-certificates"
in_troot() { # /proc mounted in a private mount namespace: gone afterwards
	unshare --mount --propagation private sh -c 'mount -t proc proc "$0/proc" && exec chroot "$0" "$@"' \
		"$TROOT" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
}
if [ ! -f "$TROOT/.done" ]; then
	mirror=$(host_mirror debian)
	[ -n "$mirror" ] || die "no Debian mirror in /etc/apt/sources.list*"
	command -v debootstrap >/dev/null || apt-get install -y -q --no-install-recommends debootstrap >/dev/null ||
		die "apt-get install debootstrap failed"
	say "making the trixie build root $TROOT from $mirror (a few minutes, once)"
	rm -rf "$TROOT.tmp"
	debootstrap --variant=minbase --include="$(echo "$TRIXIE_PKGS" | tr ' ' ,)" trixie \
		"$TROOT.tmp" "$mirror" >"$CACHE/trixie-debootstrap.log" 2>&1 ||
		die "debootstrap trixie failed (log: $CACHE/trixie-debootstrap.log)"
	{
		echo "deb $mirror trixie main"
		echo "deb $mirror trixie-updates main"
		echo "deb $mirror trixie-backports main"
		sec=$(host_mirror debian-security)
		[ -z "$sec" ] || echo "deb $sec trixie-security main"
	} >"$TROOT.tmp/etc/apt/sources.list"
	rm -rf "$TROOT" && mv "$TROOT.tmp" "$TROOT"
	rm -f "$TROOT/.apt-updated"
	touch "$TROOT/.done"
fi
if [ -z "$(find "$TROOT/.apt-updated" -mmin -1440 2>/dev/null)" ]; then
	say "apt-get update in the trixie root"
	in_troot apt-get update -q >/dev/null || die "apt-get update in $TROOT failed"
	touch "$TROOT/.apt-updated"
fi

# Like fetch_kernel, inside the trixie root: $1 = variable suffix, $2 = suite
# (exact name, or "candidate"). Also installs in the root what the headers
# and kbuild packages need (their non-kernel dependencies, e.g. gcc-14).
fetch_trixie_kernel() {
	local hpkg kver pver dir debs p deps APT_RUN=in_troot
	resolve_kernel "$1" "$2" || return 0
	say "kernel $kver ($pver, trixie): downloading image, headers and kbuild"
	debs="$hpkg=$pver"
	# The unsigned image. 6.12 has linux-image-<kver>-unsigned; 7.x splits
	# linux-image-<kver> into linux-base-, linux-modules- and
	# linux-binary-<kver> (signed) or linux-binary-unsigned-<kver>.
	if in_troot apt-cache show "linux-image-$kver-unsigned=$pver" >/dev/null 2>&1; then
		debs="$debs linux-image-$kver-unsigned=$pver"
	else
		for p in $(in_troot apt-cache show "linux-image-$kver=$pver" | sed -n 's/^Depends: //p' |
			tr ',' '\n' | sed -n 's/^ *\(linux-[^ ]*\).*/\1/p'); do
			if [ "$p" = "linux-binary-$kver" ] &&
				in_troot apt-cache show "linux-binary-unsigned-$kver=$pver" >/dev/null 2>&1; then
				p=linux-binary-unsigned-$kver
			fi
			debs="$debs $p=$pver"
		done
	fi
	# the headers' and kbuild's dependencies: their kernel packages are
	# downloaded, the rest (gcc-14, kbuild's libraries) installed in the root
	deps=
	for p in $(in_troot apt-cache show "$hpkg=$pver" | sed -n 's/^Depends: //p' | tr ',' '\n' |
		sed -n 's/^ *\([^ ]*\).*/\1/p'); do
		case $p in
		linux-headers-* | linux-kbuild-*) debs="$debs $p" ;;
		linux-image-* | linux-base-*-amd64) ;;
		*) deps="$deps $p" ;;
		esac
		case $p in
		linux-kbuild-*)
			deps="$deps $(in_troot apt-cache show "$p" | sed -n 's/^Depends: //p' | awk 'NR == 1' |
				tr ',' '\n' | sed -n 's/^ *\([^ ]*\).*/\1/p' | sed '/^linux-/d' | tr '\n' ' ')" ;;
		esac
	done
	rm -rf "$dir" "$TROOT/var/tmp/fdpkv-debs" && mkdir -p "$dir" "$TROOT/var/tmp/fdpkv-debs"
	# shellcheck disable=SC2086
	(cd "$TROOT/var/tmp/fdpkv-debs" &&
		in_troot sh -c "cd /var/tmp/fdpkv-debs && apt-get download -q -o APT::Sandbox::User=root $debs" >/dev/null) ||
		die "apt-get download (trixie) failed for: $debs"
	# what the kbuild tools and the compiler need, in the root
	# shellcheck disable=SC2086
	[ -z "$deps" ] || in_troot apt-get install -y -q --no-install-recommends $deps >/dev/null ||
		die "apt-get install in $TROOT failed for:$deps"
	for d in "$TROOT"/var/tmp/fdpkv-debs/*.deb; do dpkg-deb -x "$d" "$dir/root"; done
	rm -rf "$TROOT/var/tmp/fdpkv-debs"
	finish_kernel "$dir" "$kver"
}
fetch_trixie_kernel TRIXIE candidate
fetch_trixie_kernel TRIXIE_BPO trixie-backports
# What fdpkv-dkms needs on a Debian 13 node beyond the build root (adduser),
# as .debs: the package test installs them offline into an overlay of the
# root (tests/deb/test-deb-trixie.sh); the root itself stays as made.
tdebs=$CACHE/debroot/trixie-debs
if [ ! -f "$tdebs/.done" ]; then
	say "trixie: downloading adduser for the package test"
	rm -rf "$tdebs" "$TROOT/var/tmp/fdpkv-tdebs" && mkdir -p "$tdebs" "$TROOT/var/tmp/fdpkv-tdebs"
	in_troot sh -c "cd /var/tmp/fdpkv-tdebs && apt-get download -q -o APT::Sandbox::User=root adduser" >/dev/null ||
		die "apt-get download (trixie) adduser failed"
	mv "$TROOT"/var/tmp/fdpkv-tdebs/*.deb "$tdebs/" && rm -rf "$TROOT/var/tmp/fdpkv-tdebs"
	touch "$tdebs/.done"
fi

{
	cat "$CACHE/kernels.env.new"
	echo "TRIXIE_ROOT=$TROOT"
	echo "KSRC_612=$src/linux-source-6.12"
	echo "KSRC_612_VERSION=$sver"
} >"$CACHE/kernels.env"
rm -f "$CACHE/kernels.env.new"
# --- 5. a clean bookworm root for the package test (tests/deb) ----------------
[ -e "$CACHE/debroot/bookworm.tar" ] || say "making a clean bookworm root for tests/deb (debootstrap, once)"
FDPKV_CACHE=$CACHE "$(dirname "$0")/mkdebroot.sh" || die "scripts/mkdebroot.sh failed"
say "ready: $(tr '\n' ' ' <"$CACHE/kernels.env")"
