#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test-dkms.sh - dkms.conf really builds and installs fdpkv.ko: `make
# dkms-src` into a scratch root, then `dkms add/build/install` against each
# cached kernel's headers, with scratch dkms and install trees (nothing on
# the host changes). Prints TAP.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${FDPKV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/fdpkv}
# shellcheck disable=SC1091
. "$CACHE/kernels.env" || { echo "not ok 1 - run scripts/setup.sh first"; exit 1; }
version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$top/dkms.conf")
scratch=$(mktemp -d /tmp/fdpkv-dkms.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
n=0 failed=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi; }

make -s -C "$top" dkms-src DESTDIR="$scratch/root" >"$scratch/src.log" 2>&1
ok $? "make dkms-src installs the module sources"
src=$scratch/root/usr/src
mkdir -p "$scratch/dkms" "$scratch/dkms-trixie" "$scratch/install"
# Debian 12's kernels with the host's dkms; Debian 13's (trixie's and
# trixie-backports' newest) with trixie's dkms inside the trixie root, as on
# a Debian 13 node (scripts/in-trixie.sh; the scratch dir is under /tmp,
# which it binds at the same path). Each dkms has its own scratch tree.
trixie_kvers=" ${KVER_TRIXIE:-} ${KVER_TRIXIE_BPO:-} "
dkms_for() { # $1 = kver, then the dkms arguments
	local kver=$1
	shift
	case $trixie_kvers in
	*" $kver "*) "$top/scripts/in-trixie.sh" dkms "$@" --dkmstree "$scratch/dkms-trixie" ;;
	*) dkms "$@" --dkmstree "$scratch/dkms" ;;
	esac
}
dkms add -m fdpkv -v "$version" --sourcetree "$src" --dkmstree "$scratch/dkms" >"$scratch/add.log" 2>&1
ok $? "dkms add fdpkv/$version"
if [ -n "${KVER_TRIXIE:-}${KVER_TRIXIE_BPO:-}" ]; then
	(cd "$scratch" && "$top/scripts/in-trixie.sh" dkms add -m fdpkv -v "$version" --sourcetree "$src" \
		--dkmstree "$scratch/dkms-trixie") >"$scratch/add-trixie.log" 2>&1
	rc=$?
	[ $rc = 0 ] || tail -n 20 "$scratch/add-trixie.log" | sed 's/^/# /'
	ok $rc "dkms add fdpkv/$version in the trixie root"
fi
for kver in $KVER_61 $KVER_612 ${KVER_TRIXIE:-} ${KVER_TRIXIE_BPO:-}; do
	hdr=$CACHE/kernels/$kver/root/usr/src/linux-headers-$kver
	(cd "$scratch" && dkms_for "$kver" build -m fdpkv -v "$version" -k "$kver" --kernelsourcedir "$hdr" \
		--sourcetree "$src") >"$scratch/build-$kver.log" 2>&1
	rc=$?
	[ $rc = 0 ] || tail -n 20 "$scratch/build-$kver.log" | sed 's/^/# /'
	ok $rc "dkms build against $kver headers"
	ko=$(find "$scratch"/dkms*/fdpkv/"$version/$kver" -name 'fdpkv.ko*' 2>/dev/null | head -n 1)
	vm=$( [ -n "$ko" ] && modinfo -F vermagic "$ko" 2>/dev/null)
	[ "${vm%% *}" = "$kver" ]
	ok $? "the built module's vermagic is $kver (${vm%% *})"
	mkdir -p "$scratch/install/$kver"
	# dkms (3.x) installs a module compressed like the target kernel's own,
	# which it learns from the modules in the install tree: give the scratch
	# tree one empty stand-in with the kernel's compression.
	ext=$(find "$CACHE/kernels/$kver/root/lib/modules/$kver/kernel" -name '*.ko.*' 2>/dev/null |
		awk 'NR == 1 {sub(/.*\.ko/, ""); print}')
	[ -z "$ext" ] || touch "$scratch/install/$kver/fdpkv-test-stand-in.ko$ext"
	(cd "$scratch" && dkms_for "$kver" install -m fdpkv -v "$version" -k "$kver" --kernelsourcedir "$hdr" \
		--sourcetree "$src" --installtree "$scratch/install" \
		--no-depmod --no-initrd) >"$scratch/install-$kver.log" 2>&1
	rc=$?
	[ $rc = 0 ] || tail -n 20 "$scratch/install-$kver.log" | sed 's/^/# /'
	installed=$(find "$scratch/install/$kver" -name 'fdpkv.ko*' 2>/dev/null)
	[ $rc = 0 ] && [ -n "$installed" ]
	ok $? "dkms install into a scratch tree for $kver: ${installed#"$scratch"/}"
done
echo "1..$n"
[ $failed = 0 ]
