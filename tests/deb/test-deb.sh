#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test-deb.sh - the Debian packages work on a clean machine: `make deb`
# builds the five packages lintian-clean with the dependencies they need;
# `apt-get install ./*.deb` into a copy of a clean bookworm root (made by
# scripts/mkdebroot.sh; no network: every dependency comes from that root's
# apt cache) creates the fdpkv group and the udev rule, registers the module
# with DKMS, which builds and installs it for each cached kernel's headers;
# fdpkvctl, the library (pkg-config file, header) and the plugin work; purge
# leaves the root exactly as it was before. Prints TAP.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${FDPKV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/fdpkv}
base=$CACHE/debroot/bookworm.tar
# shellcheck disable=SC1091
{ . "$CACHE/kernels.env" && [ -f "$base" ] && [ -f "$CACHE/debroot/kbuild-debs/.done" ]; } ||
	{ echo "not ok 1 - run scripts/setup.sh first"; exit 1; }
version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$top/dkms.conf")
PKGS="fdpkv-dkms libfdpkv0 libfdpkv-dev fdpkvctl python3-fdpkv-lmcache"
scratch=$(mktemp -d /tmp/fdpkv-deb.XXXXXX)
# FDPKV_DEB_KEEP=1 keeps the scratch root for a look afterwards
trap '[ -n "${FDPKV_DEB_KEEP:-}" ] && echo "# kept $scratch" || rm -rf "$scratch"' EXIT
root=$scratch/root
n=0 failed=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi; }
show() { sed 's/^/# /' "$@" | tail -n 20; }

# shellcheck source=tests/deb/lib.sh
. "$top/tests/deb/lib.sh"
inroot() { deb_inroot "$root" "$@"; }
# the same, with the cached headers of kernel $1 bound where Debian puts them
inroot_hdr() {
	local kver=$1 d='' t binds='' dirs='' rc
	shift
	# the headers and the kbuild tree their symlinks point into
	for d in "$CACHE/kernels/$kver/root/usr/src"/linux-headers-* \
		"$CACHE/kernels/$kver/root/usr/lib"/linux-kbuild-*; do
		[ -L "$d" ] && continue
		t=$root${d#"$CACHE/kernels/$kver/root"}
		mkdir -p "$t"
		dirs="$dirs $t"
		binds="$binds mount --bind '$d' '$t' &&"
	done
	unshare -m --propagation private /bin/sh -c "$binds"' mount -t proc proc "$0/proc" && mount -t sysfs -o ro sysfs "$0/sys" && exec chroot "$0" "$@"' \
		"$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8 "$@"
	rc=$?
	# the mount points are the test's, not the packages': leave no trace
	# shellcheck disable=SC2086
	rmdir $dirs
	return $rc
}
snapshot() { deb_snapshot "$root"; }

# --- build ---------------------------------------------------------------------
# FDPKV_DEB_NOBUILD=1: test the packages already in build/deb (iterating on this test)
[ -n "${FDPKV_DEB_NOBUILD:-}" ] || make -s -C "$top" deb >"$scratch/deb.log" 2>&1
rc=$?
[ $rc = 0 ] || show "$scratch/deb.log"
ok $rc "make deb builds the packages and lintian reports no error or warning"
debs=
for p in $PKGS; do
	f=$(ls "$top"/build/deb/"${p}"_*.deb 2>/dev/null | head -n 1)
	[ -n "$f" ]
	ok $? "package $p built"
	debs="$debs $f"
done
depends() { dpkg-deb -f "$top/build/deb/$1"_*.deb Depends 2>/dev/null; }
depends fdpkv-dkms | grep -q 'dkms (>=' && depends fdpkv-dkms | grep -qw adduser
ok $? "fdpkv-dkms depends on dkms and adduser: $(depends fdpkv-dkms)"
depends libfdpkv-dev | grep -q "libfdpkv0 (= $version)"
ok $? "libfdpkv-dev depends on the same version of libfdpkv0: $(depends libfdpkv-dev)"
depends fdpkvctl | grep -qw libnvme1 && depends fdpkvctl | grep -qw liburing2
ok $? "fdpkvctl depends on libnvme1 and liburing2: $(depends fdpkvctl)"
depends python3-fdpkv-lmcache | grep -q 'python3 (>= 3.11'
ok $? "python3-fdpkv-lmcache depends on the python3 it was built for: $(depends python3-fdpkv-lmcache)"

# --- install into a clean root --------------------------------------------------
mkdir -p "$root/tmp/debs" && cp $debs "$root/tmp/debs/"
# apt takes local packages by absolute path only
indebs=
for p in $PKGS; do indebs="$indebs /tmp/debs/$(basename "$(ls "$top"/build/deb/"${p}"_*.deb)")"; done
# What a node has before: the libraries the kernel headers' kbuild needs
# (the headers themselves are bound in for the DKMS build below), and the
# packages' dependencies
# shellcheck disable=SC2086
deb_prepare_root "$root" "$base" "$CACHE/debroot/kbuild-debs" "$scratch" $indebs
rc=$?
[ $rc = 1 ] && show "$scratch/kbuild.log"
ok $((rc == 1)) "the kernel headers' kbuild libraries install in the clean root"
[ $rc = 2 ] && show "$scratch/deps.log"
ok $((rc != 0)) "the dependencies ($deb_ndeps packages) install offline from the clean root's apt cache"
# Each cached kernel's (empty) module tree, which its image package would
# have made: DKMS installs only for a kernel that is there.
for kver in $KVER_61 $KVER_612; do
	mkdir -p "$root/lib/modules/$kver" && inroot depmod "$kver" || echo "# depmod $kver failed"
done
snapshot >"$scratch/before"
# (no --no-download here: apt refuses local .debs with it; every dependency
# is installed already, so nothing is fetched)
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive inroot apt-get install -q -y --no-install-recommends \
	-o Dpkg::Options::=--force-unsafe-io $indebs >"$scratch/install.log" 2>&1
rc=$?
[ $rc = 0 ] || show "$scratch/install.log"
ok $rc "apt-get install ./*.deb in the clean root"
gid=$(inroot getent group fdpkv | cut -d: -f3)
[ -n "$gid" ] && [ "$gid" -lt 1000 ]
ok $? "postinst created the system group fdpkv (gid ${gid:-none})"
grep -q 'KERNEL=="fdpkv".*GROUP="fdpkv", MODE="0660"' "$root/lib/udev/rules.d/60-fdpkv.rules" 2>/dev/null
ok $? "the udev rule gives /dev/fdpkv to group fdpkv, mode 0660"
grep -qx fdpkv "$root/usr/lib/modules-load.d/fdpkv.conf" 2>/dev/null
ok $? "modules-load.d loads fdpkv at boot"
inroot dkms status -m fdpkv -v "$version" 2>&1 | grep -q "fdpkv/$version"
ok $? "the package registered fdpkv/$version with DKMS"
for kver in $KVER_61 $KVER_612; do
	hdr=/usr/src/linux-headers-$kver
	inroot_hdr "$kver" dkms install -m fdpkv -v "$version" -k "$kver" --kernelsourcedir "$hdr" \
		--no-initrd >"$scratch/dkms-$kver.log" 2>&1
	rc=$?
	[ $rc = 0 ] || show "$scratch/dkms-$kver.log" "$root/var/lib/dkms/fdpkv/$version/build/make.log"
	ko=$(find "$root/lib/modules/$kver" -name 'fdpkv.ko*' 2>/dev/null | head -n 1)
	vm=$([ -n "$ko" ] && modinfo -F vermagic "$ko" 2>/dev/null)
	[ $rc = 0 ] && [ "${vm%% *}" = "$kver" ]
	ok $? "DKMS builds and installs the packaged module for $kver: ${ko#"$root"}"
done
inroot fdpkvctl list >"$scratch/list.log" 2>&1
rc=$?
[ $rc = 0 ] || show "$scratch/list.log"
ok $rc "fdpkvctl list runs in the clean root"
out=$(inroot /usr/bin/python3 -c 'import fdpkv_lmcache as m; print(m.LIB_VERSION_RUNTIME)' 2>&1)
[ "$out" = "(${version%%.*}, $(echo "$version" | cut -d. -f2))" ]
ok $? "python3 -c 'import fdpkv_lmcache' works: library $out"
cat >"$root/tmp/v.c" <<'EOC'
#include <fdpkv.h>
#include <uapi/fdpkv.h>
int main(void) { return fdpkv_version_major() != FDPKV_VERSION_MAJOR || FDPKV_ABI_VERSION < 1; }
EOC
# pkg-config itself is not installed in the clean root: read the .pc file
pc=$(ls "$root"/usr/lib/*/pkgconfig/libfdpkv.pc 2>/dev/null)
cflags=$(sed -n 's/^Cflags: //p' "$pc" | sed "s|\${includedir}|$(sed -n 's/^includedir=//p' "$pc")|")
inroot gcc -std=gnu11 -Wall -Werror $cflags -o /tmp/v /tmp/v.c -lfdpkv >"$scratch/cc.log" 2>&1 && inroot /tmp/v
rc=$?
[ $rc = 0 ] || show "$scratch/cc.log"
ok $rc "a program builds with libfdpkv.pc's Cflags and -lfdpkv against the packages and runs"
rm -f "$root/tmp/v" "$root/tmp/v.c"

# --- purge ----------------------------------------------------------------------
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive inroot apt-get purge -q -y -o Dpkg::Options::=--force-unsafe-io $PKGS >"$scratch/purge.log" 2>&1
rc=$?
[ $rc = 0 ] || show "$scratch/purge.log"
ok $rc "apt-get purge of the five packages"
snapshot >"$scratch/after"
diff "$scratch/before" "$scratch/after" >"$scratch/left.diff"
rc=$?
[ $rc = 0 ] || show "$scratch/left.diff"
ok $rc "purge leaves nothing: the root is as before the install (group, DKMS tree, modules, files)"
echo "1..$n"
[ $failed = 0 ]
