#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test-deb-vm.sh - the Debian packages on a booted Debian node: the clean
# bookworm root (scripts/mkdebroot.sh) with the packages' dependencies
# installed and the Debian 6.1 kernel's modules (as its image package leaves
# them), as an ext4 image (mke2fs -d: no loop mount), is booted under QEMU
# (TCG) on that kernel with tests/deb/guest-deb.sh as init and a second disk
# holding the fdpkv .debs (the kernel's headers are installed in the image
# from their .debs). The guest, with no network, installs the packages with
# apt from local files -- DKMS builds fdpkv for the running kernel -- loads
# the module,
# checks /dev/fdpkv's group and mode as udev sets them, fdpkvctl list, the
# plugin's import, purges and checks nothing is left. Prints TAP (the
# guest's lines renumbered into the run's).
#
# Environment: FDPKV_DEB_NOBUILD=1 tests the packages already in build/deb;
# FDPKV_DEB_KEEP=1 keeps the scratch dir (image, console log).
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${FDPKV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/fdpkv}
base=$CACHE/debroot/bookworm.tar
# shellcheck disable=SC1091
{ . "$CACHE/kernels.env" && [ -f "$base" ] && [ -f "$CACHE/debroot/kbuild-debs/.done" ] &&
	[ -f "$CACHE/debroot/kernel-debs/$KVER_61/.done" ]; } ||
	{ echo "not ok 1 - run scripts/setup.sh first"; exit 1; }
kver=$KVER_61
kroot=$CACHE/kernels/$kver/root
version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$top/dkms.conf")
PKGS="fdpkv-dkms libfdpkv0 libfdpkv-dev fdpkvctl python3-fdpkv-lmcache"
scratch=$(mktemp -d /tmp/fdpkv-debvm.XXXXXX)
trap '[ -n "${FDPKV_DEB_KEEP:-}" ] && echo "# kept $scratch" || rm -rf "$scratch"' EXIT
root=$scratch/root t=/opt/fdpkv-test
n=0 failed=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi; }
show() { sed 's/^/# /' "$@" | tail -n 20; }
# shellcheck source=tests/deb/lib.sh
. "$top/tests/deb/lib.sh"

[ -n "${FDPKV_DEB_NOBUILD:-}" ] || make -s -C "$top" deb >"$scratch/deb.log" 2>&1
rc=$?
[ $rc = 0 ] || show "$scratch/deb.log"
ok $rc "make deb"

# --- the guest's disks ----------------------------------------------------------
# The root (vda): what a node has before the packages -- the clean root with
# udev, the packages' dependencies, the kernel's modules (as its image
# package leaves them) and its headers packages installed from their .debs
# -- made once per clean root, kernel and debian/control (which names the
# dependencies) and cached as a raw ext4 image; QEMU keeps the guest's
# writes in a temporary overlay (snapshot=on), so it is never written. (Installing the
# headers in the guest too would cost minutes of TCG for dpkg alone.) The
# test's files (vdb, mounted at /opt/fdpkv-test): the fdpkv .debs and the
# guest script, made each run.
t0=$SECONDS
key=$( { readlink -f "$base"; echo "$kver"; cat "$top/debian/control"; ls "$CACHE/debroot/kbuild-debs" \
	"$CACHE/debroot/kernel-debs/$kver"; } | sha1sum | cut -c1-8)
img=$CACHE/debroot/vm-root-$kver-$key.img
# the .debs into the test's directory (and their paths there, for the root's
# dependencies); again after the root is made, which empties that directory
copy_debs() {
	mkdir -p "$root$t/debs"
	indebs=
	for p in $PKGS; do
		f=$(ls "$top"/build/deb/"${p}"_*.deb 2>/dev/null | head -n 1)
		[ -n "$f" ] && cp "$f" "$root$t/debs/" && indebs="$indebs $t/debs/$(basename "$f")"
	done
}
copy_debs
if [ ! -f "$img" ]; then
	# shellcheck disable=SC2086
	DEB_EXTRA=udev deb_prepare_root "$root" "$base" "$CACHE/debroot/kbuild-debs" "$scratch" $indebs
	rc=$?
	[ $rc = 0 ] || show "$scratch/kbuild.log" "$scratch/deps.log"
	# the kernel's modules as its image package leaves them (the headers
	# package brings the build link)
	mkdir -p "$root/lib/modules"
	tar -C "$kroot/lib/modules" --exclude="$kver/build" --exclude="$kver/source" -cf - "$kver" |
		tar -C "$root/lib/modules" -xf -
	# its headers, from their packages (apt takes local files by absolute path)
	mkdir -p "$root/tmp/kdebs" && cp "$CACHE/debroot/kernel-debs/$kver"/*.deb "$root/tmp/kdebs/"
	if [ $rc = 0 ]; then
		# shellcheck disable=SC2046
		DEBIAN_FRONTEND=noninteractive deb_inroot "$root" apt-get install -q -y --no-install-recommends \
			-o Dpkg::Options::=--force-unsafe-io $(cd "$root" && ls tmp/kdebs/*.deb | sed 's|^|/|') \
			>"$scratch/headers.log" 2>&1
		rc=$?
		[ $rc = 0 ] || show "$scratch/headers.log"
	fi
	rm -rf "$root/tmp/kdebs"
	# apt's cache is not needed any more: a smaller image
	find "$root/var/cache/apt" -name '*.deb' -delete
	rm -rf "${root:?}$t" && mkdir -p "$root$t"
	# room for the headers, the DKMS build and the packages
	mb=$(($(du -sm "$root" | cut -f1) + 700))
	[ $rc = 0 ] && mke2fs -q -t ext4 -F -d "$root" "$img.$$" "${mb}M" >"$scratch/mke2fs.log" 2>&1 &&
		mv "$img.$$" "$img"
	rc=$?
	rm -f "$img.$$"
	[ $rc = 0 ] || show "$scratch/mke2fs.log"
	ok $rc "the guest's root: the clean root with udev, the packages' $deb_ndeps dependencies and $kver's headers, installed offline ($((SECONDS - t0)) s, cached as ${img#"$CACHE/"})"
else
	ok 0 "the guest's root: cached ${img#"$CACHE/"}"
fi
copy_debs
cp "$top/tests/deb/lib.sh" "$top/tests/deb/guest-deb.sh" "$root$t/"
echo "$version" >"$root$t/version"
echo "$PKGS" >"$root$t/pkgs"
mke2fs -q -t ext4 -F -d "$root$t" "$scratch/test.img" "$(($(du -sm "$root$t" | cut -f1) + 16))M" \
	>"$scratch/mke2fs-test.log" 2>&1
rc=$?
[ $rc = 0 ] || show "$scratch/mke2fs-test.log"
ok $rc "the test's disk: the fdpkv .debs and the guest script"
rm -rf "$root"
MODS="virtio_pci virtio_blk crc32c_generic ext4" INIT="$top/tests/deb/vm-initrd-init.sh" \
	"$top/tests/vm/mkinitramfs.sh" "$kroot" "$kver" /dev/null "$scratch/initrd.gz" >"$scratch/initrd.log" 2>&1
rc=$?
[ $rc = 0 ] || show "$scratch/initrd.log"
ok $rc "an initramfs that mounts the disks and hands over to the test"

# --- the guest -------------------------------------------------------------------
t0=$SECONDS
# The guest needs about 8 CPU-minutes of TCG (dpkg, the DKMS build); on the
# shared 2-core machine under load it gets half a core or less: 40 minutes
# before it counts as hung.
VM_DISKS="$img,snapshot=on $scratch/test.img" VM_MEM=${VM_MEM:-1536M} VM_TIMEOUT=${VM_TIMEOUT:-2400} \
	VM_APPEND="fdpkvtest.init=$t/guest-deb.sh" \
	"$top/tests/vm/run-vm.sh" "$CACHE/kernels/$kver/vmlinux" "$scratch/initrd.gz" "$scratch/console.log"
rc=$?
mkdir -p "$top/build/vm/logs" && cp "$scratch/console.log" "$top/build/vm/logs/deb-vm.log"
# the guest's TAP, renumbered into this run's
while IFS= read -r line; do
	case $line in
	"ok "*) ok 0 "guest: ${line#* - }" ;;
	"not ok "*) ok 1 "guest: ${line#* - }" ;;
	"# "*) echo "$line" ;;
	esac
done < <(grep -E '^(ok|not ok) [0-9]+ - |^# ' "$scratch/console.log")
[ $rc = 0 ] || grep -E '^=== |Kernel panic|BUG:' "$scratch/console.log" | sed 's/^/# /' | tail -n 20
ok $rc "the guest on $kver reports rc=0 ($((SECONDS - t0)) s; console: build/vm/logs/deb-vm.log)"
echo "1..$n"
[ $failed = 0 ]
