#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# mkdebroot.sh - a clean Debian bookworm root for the package test
# (tests/deb): `debootstrap --variant=minbase` from the host's mirror, its
# apt lists, and the .debs of everything the fdpkv packages depend on in its
# apt cache -- so `apt install ./*.deb` in a copy of it resolves and installs
# the real dependency closure without network. Kept as one tarball in
# $FDPKV_CACHE/debroot, beside the .debs of what the cached kernels' kbuild
# trees need to run (kbuild-debs/: on a node they come with the headers
# packages; the test binds the cached headers in instead), and the 6.1
# kernel's headers packages themselves (kernel-debs/: the VM guest of
# tests/deb/test-deb-vm.sh installs them with dpkg). Made once
# (idempotent), called by scripts/setup.sh.
set -euo pipefail
CACHE=${FDPKV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/fdpkv}
MIRROR=${FDPKV_DEBIAN_MIRROR:-http://deb.debian.org/debian}
kdebs=$CACHE/debroot/kbuild-debs
# what debian/control's Depends of the five packages name, plus the compiler
# dkms needs (dkms only recommends it)
DEPS="adduser dkms gcc make libc6-dev python3 libnvme1 liburing2 liburing-dev libisal2 libisal-dev
	kmod udev"
# the root is keyed by that list, so a new dependency makes a new root;
# bookworm.tar names the current one (what tests/deb unpacks)
out=$CACHE/debroot/bookworm-$(echo "$DEPS" | sha1sum | cut -c1-8).tar
# the Depends of linux-kbuild-6.1 and -6.12 (objtool, sign-file, pahole)
KBUILD_DEPS="libelf1 libssl3 zlib1g pahole"
# The headers packages of the Debian 12 kernel (KVER_61) as .debs, for the
# VM guest's root, which has them installed with dpkg before the fdpkv
# packages (tests/deb/test-deb-vm.sh): kernel-debs/<kver>/, from the host's
# apt, the version setup.sh unpacked into kernels/<kver>.
# shellcheck disable=SC1091
. "$CACHE/kernels.env"
hdebs=$CACHE/debroot/kernel-debs/$KVER_61
if [ ! -f "$hdebs/.done" ]; then
	hpkg=linux-headers-$KVER_61
	pver=$(apt-cache show "$hpkg" | awk '/^Version:/ {print $2; exit}')
	# the headers, their -common and kbuild packages, and the compiler
	# package (Depends: the gcc that built the kernel)
	debs="$hpkg=$pver $(apt-cache show "$hpkg=$pver" | sed -n 's/^Depends: //p' | tr ',' '\n' |
		sed -n 's/^ *\(linux-[^ ]*\).*/\1/p' | sed "s/\$/=$pver/" | tr '\n' ' ')"
	rm -rf "$hdebs.new" && mkdir -p "$hdebs.new"
	# shellcheck disable=SC2086
	(cd "$hdebs.new" && apt-get download -q -o APT::Sandbox::User=root $debs >/dev/null)
	touch "$hdebs.new/.done"
	rm -rf "$hdebs" && mv "$hdebs.new" "$hdebs"
fi
[ -f "$out" ] && [ -f "$kdebs/.done" ] && ln -sfn "$(basename "$out")" "$CACHE/debroot/bookworm.tar" && exit 0
mkdir -p "$CACHE/debroot"
work=$(mktemp -d "$CACHE/debroot/.work.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root
if [ ! -f "$out" ]; then
	debootstrap --variant=minbase bookworm "$root" "$MIRROR" >"$work/debootstrap.log" 2>&1 ||
		{ tail -n 20 "$work/debootstrap.log" >&2; exit 1; }
	echo "deb $MIRROR bookworm main" >"$root/etc/apt/sources.list"
	chroot "$root" apt-get update -q >/dev/null
	# shellcheck disable=SC2086
	chroot "$root" apt-get install -q -y --download-only --no-install-recommends $DEPS >/dev/null
	tar -C "$root" -cf "$work/bookworm.tar" .
	mv "$work/bookworm.tar" "$out"
	ln -sfn "$(basename "$out")" "$CACHE/debroot/bookworm.tar"
else
	mkdir -p "$root" && tar -C "$root" -xf "$out"
fi
# the kbuild trees' libraries, with whatever they pull in, as the root resolves them
mkdir -p "$root/tmp/kbuild/partial"
# shellcheck disable=SC2086
chroot "$root" apt-get install -q -y --download-only --no-install-recommends \
	-o Dir::Cache::archives=/tmp/kbuild/ $KBUILD_DEPS >/dev/null
rm -rf "$kdebs.new" && mkdir -p "$kdebs.new"
cp "$root"/tmp/kbuild/*.deb "$kdebs.new/"
touch "$kdebs.new/.done"
rm -rf "$kdebs" && mv "$kdebs.new" "$kdebs"
