#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test-deb-trixie.sh - fdpkv-dkms from `make deb` on Debian 13 (trixie): in
# an overlay of the trixie build root (scripts/setup.sh; the root itself is
# not written) with trixie's 6.12 and trixie-backports' newest kernel headers
# bound in where their packages put them, `apt-get install
# ./fdpkv-dkms_*.deb` (offline: dkms is in the root, adduser comes from
# $FDPKV_CACHE/debroot/trixie-debs) registers the module, DKMS builds and
# installs it with trixie's dkms and gcc-14 for both kernels, and purge
# leaves the root as it was. Only fdpkv-dkms: the other four packages are
# built for bookworm's libraries and Python. Prints TAP.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${FDPKV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/fdpkv}
# shellcheck disable=SC1091
{ . "$CACHE/kernels.env" && [ -n "${KVER_TRIXIE:-}" ] && [ -f "$TRIXIE_ROOT/.done" ] &&
	[ -f "$CACHE/debroot/trixie-debs/.done" ]; } ||
	{ echo "not ok 1 - run scripts/setup.sh first"; exit 1; }
# The overlay and bind mounts live in a private mount namespace: they vanish
# with this script, whatever happens.
[ -n "${FDPKV_DEB_NS:-}" ] || exec env FDPKV_DEB_NS=1 unshare -m --propagation private "$0" "$@"
version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$top/dkms.conf")
scratch=$(mktemp -d /tmp/fdpkv-debtrixie.XXXXXX)
root=$scratch/root
trap 'umount -R "$root" 2>/dev/null; rm -rf "$scratch"' EXIT
n=0 failed=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi; }
show() { sed 's/^/# /' "$@" | tail -n 20; }
# shellcheck source=tests/deb/lib.sh
. "$top/tests/deb/lib.sh"
inroot() { deb_inroot "$root" "$@"; }

[ -n "${FDPKV_DEB_NOBUILD:-}" ] || make -s -C "$top" deb >"$scratch/deb.log" 2>&1
rc=$?
[ $rc = 0 ] || show "$scratch/deb.log"
ok $rc "make deb"
deb=$(ls "$top"/build/deb/fdpkv-dkms_*.deb 2>/dev/null | head -n 1)

mkdir -p "$scratch/upper" "$scratch/work" "$root"
mount -t overlay overlay -o "lowerdir=$TRIXIE_ROOT,upperdir=$scratch/upper,workdir=$scratch/work" "$root"
ok $? "an overlay of the trixie root"
kvers="$KVER_TRIXIE ${KVER_TRIXIE_BPO:-}"
for kver in $kvers; do
	kroot=$CACHE/kernels/$kver/root
	# the headers, -common and kbuild trees, read-only where their packages put them
	for d in "$kroot/usr/src"/linux-headers-* "$kroot/usr/lib"/linux-kbuild-*; do
		[ -L "$d" ] && continue
		t=$root${d#"$kroot"}
		mkdir -p "$t" && mount --bind -o ro "$d" "$t"
	done
	# the kernel's module tree as its packages leave it: the modules
	# (bound read-only), the build link and the files beside them; depmod's
	# indexes made here, as the image's postinst would
	mkdir -p "$root/usr/lib/modules/$kver/kernel"
	mount --bind -o ro "$kroot/usr/lib/modules/$kver/kernel" "$root/usr/lib/modules/$kver/kernel"
	find "$kroot/usr/lib/modules/$kver" -maxdepth 1 ! -type d ! -name 'modules.*' \
		-exec cp -a {} "$root/usr/lib/modules/$kver/" \;
	inroot depmod "$kver" || echo "# depmod $kver failed"
done
mkdir -p "$root/tmp/debs" "$root/tmp/pre"
cp "$deb" "$root/tmp/debs/"
cp "$CACHE"/debroot/trixie-debs/*.deb "$root/tmp/pre/"
# What a trixie node has before: dkms (in the root) and adduser
# shellcheck disable=SC2046
DEBIAN_FRONTEND=noninteractive inroot apt-get install -q -y --no-install-recommends \
	$(cd "$root" && printf '/%s ' tmp/pre/*.deb) >"$scratch/pre.log" 2>&1
rc=$?
[ $rc = 0 ] || show "$scratch/pre.log"
ok $rc "adduser installs offline in the trixie root"
# DKMS's signing key, made by its first build on a node and kept by dkms
# (not by fdpkv-dkms) ever after
inroot dkms generate_mok >"$scratch/mok.log" 2>&1
rc=$?
[ $rc = 0 ] || show "$scratch/mok.log"
ok $rc "dkms generate_mok: the node's DKMS signing key exists before the install"
# scripts/in-trixie.sh makes its bind mount points (a worktree, the cache)
# in the shared root: other trees' runs may add some meanwhile
first=${top#/} && first=${first%%/*}
snap() { deb_snapshot "$root" | grep -vE "(^| )\./($first|${CACHE#/})(/| |\$)"; }
snap >"$scratch/before"

DEBIAN_FRONTEND=noninteractive inroot apt-get install -q -y --no-install-recommends \
	"/tmp/debs/$(basename "$deb")" >"$scratch/install.log" 2>&1
rc=$?
[ $rc = 0 ] || show "$scratch/install.log"
ok $rc "apt-get install ./fdpkv-dkms_*.deb on trixie ($(inroot dpkg-query -W -f='${Version}' dkms) dkms)"
inroot getent group fdpkv >/dev/null
ok $? "postinst created the fdpkv group with trixie's adduser"
# trixie's dkms builds at install for every kernel with headers
for kver in $kvers; do
	inroot dkms status -m fdpkv -v "$version" -k "$kver" >"$scratch/status" 2>&1
	ko=$(find "$root/usr/lib/modules/$kver/updates" -name 'fdpkv.ko*' 2>/dev/null | head -n 1)
	vm=$([ -n "$ko" ] && modinfo -F vermagic "$ko" 2>/dev/null)
	grep -q ': installed' "$scratch/status" && [ "${vm%% *}" = "$kver" ]
	rc=$?
	[ $rc = 0 ] || show "$scratch/status" "$root/var/lib/dkms/fdpkv/$version/build/make.log"
	ok $rc "the postinst's DKMS build installed the module for $kver (gcc-14): ${ko#"$root"}"
done

DEBIAN_FRONTEND=noninteractive inroot apt-get purge -q -y fdpkv-dkms >"$scratch/purge.log" 2>&1
rc=$?
[ $rc = 0 ] || show "$scratch/purge.log"
ok $rc "apt-get purge fdpkv-dkms"
snap >"$scratch/after"
diff "$scratch/before" "$scratch/after" >"$scratch/left.diff"
rc=$?
[ $rc = 0 ] || show "$scratch/left.diff"
ok $rc "purge leaves nothing: the root is as before (modules, DKMS tree, sources, group)"
echo "1..$n"
[ $failed = 0 ]
