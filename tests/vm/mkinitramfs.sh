#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# mkinitramfs.sh - pack a test initramfs for one kernel.
#
# usage: MODS="nvme" mkinitramfs.sh KROOT KVER PLAN OUT FILE...
#   KROOT  dir holding lib/modules/KVER (an unpacked linux-image deb, or an
#          INSTALL_MOD_PATH)
#   KVER   kernel release
#   PLAN   the steps the guest runs, one a line (see guest-init.sh)
#   OUT    the .cpio.gz to write
#   FILE   copied to /test; dynamic executables bring their shared libraries
#   MODS   in-tree modules to load at boot, with their dependencies resolved
#          from modules.dep (default: nvme)
#   INIT   the /init (default guest-init.sh, which runs PLAN)
set -euo pipefail
KROOT=$1 KVER=$2 PLAN=$3 OUT=$4
shift 4
here=$(cd "$(dirname "$0")" && pwd)
MODS=${MODS:-nvme}
root=$(mktemp -d /tmp/fdpkv-initrd.XXXXXX)
trap 'rm -rf "$root"' EXIT
# mktemp makes the dir 0700: the guest's non-root test users need to enter it.
chmod 0755 "$root"
mkdir -p "$root"/{bin,sbin,proc,sys,dev,tmp,test,mod,lib,lib64,etc}
chmod 1777 "$root/tmp"
cp /bin/busybox "$root/bin/busybox"
for a in sh mount umount insmod rmmod lsmod ls cat echo sleep dmesg uname grep sed chmod chown \
	id kill ps head tail wc cut tr sync reboot mkdir rm cp dd od hexdump stat xargs env timeout; do
	ln -s busybox "$root/bin/$a"
done
printf 'root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\nfdpkv:x:1000:1000:fdpkv:/tmp:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\nfdpkv:x:1000:\nnogroup:x:65534:\n' >"$root/etc/group"

md=$KROOT/lib/modules/$KVER
[ -f "$md/modules.dep" ] || depmod -b "$KROOT" "$KVER"
n=0 seen=" "
for m in $MODS; do
	# the dependency chain, deepest first, then the module itself
	chain=$(awk -v m="$m" '{
		k = $1; sub(":$", "", k); b = k; sub(".*/", "", b)
		sub(/\.ko(\.(xz|zst|gz))?$/, "", b); gsub("_", "-", b); mm = m; gsub("_", "-", mm)
	} b == mm { for (i = NF; i >= 2; i--) print $i; print k; exit }' "$md/modules.dep")
	[ -n "$chain" ] || { echo "mkinitramfs: module $m not in $md/modules.dep" >&2; exit 1; }
	for d in $chain; do
		case "$seen" in *" $d "*) continue ;; esac
		seen="$seen$d "
		n=$((n + 1))
		b=$(basename "$d"); b=${b%.xz}; b=${b%.zst}; b=${b%.gz}
		case $d in
		*.xz) xz -dc "$md/$d" ;;
		*.zst) zstd -qdc "$md/$d" ;;
		*.gz) gzip -dc "$md/$d" ;;
		*) cat "$md/$d" ;;
		esac >"$root/mod/$(printf %02d $n)-$b"
	done
done

copy_libs() { # the shared libraries (and loader) a dynamic executable needs
	ldd "$1" 2>/dev/null | awk '/=> \// {print $3} /^[ \t]*\/lib/ {print $1}' | while read -r l; do
		[ -e "$root$l" ] && continue
		mkdir -p "$root$(dirname "$l")"
		cp -L "$l" "$root$l"
	done
}
for f in "$@"; do
	case $f in
	*.ko.xz) xz -dc "$f" >"$root/test/$(basename "${f%.xz}")" ;;
	*) cp -a "$f" "$root/test/" ;;
	esac
	[ -x "$f" ] && [ ! -d "$f" ] && readelf -l "$f" 2>/dev/null | grep -q 'program interpreter' && copy_libs "$f"
done
# VM_PYTHON=1: Debian's Python with pytest, the plugin and tests/python, so
# the plugin's contract tests can run in the guest (about 15 MB compressed).
if [ "${VM_PYTHON:-0}" = 1 ]; then
	top=$(cd "$here/../.." && pwd)
	py=$(readlink -f /usr/bin/python3)
	mkdir -p "$root/usr/bin" "$root/usr/lib/python3/dist-packages"
	cp "$py" "$root/usr/bin/"
	ln -sf "$(basename "$py")" "$root/usr/bin/python3"
	copy_libs "$py"
	for so in /usr/lib/"$(basename "$py")"/lib-dynload/*.so; do
		copy_libs "$so"
	done
	tar -C /usr/lib -cf - --exclude=test --exclude=tests --exclude=idlelib --exclude=tkinter \
		--exclude=lib2to3 --exclude=ensurepip --exclude=pydoc_data --exclude='config-3*' \
		--exclude=turtledemo "$(basename "$py")" | tar -C "$root/usr/lib" -xf -
	for p in pytest _pytest pluggy iniconfig packaging py py.py attr; do
		[ -e "/usr/lib/python3/dist-packages/$p" ] || continue
		cp -a "/usr/lib/python3/dist-packages/$p" "$root/usr/lib/python3/dist-packages/"
	done
	mkdir -p "$root/test/plugin" "$root/test/tests"
	cp -a "$top/plugin/fdpkv_lmcache" "$top/plugin/README.md" "$root/test/plugin/"
	cp -a "$top/tests/python" "$root/test/tests/"
	for so in "$root"/test/plugin/fdpkv_lmcache/*.so; do
		[ -e "$so" ] && copy_libs "$so"
	done
fi
cp "$PLAN" "$root/test/plan"
cp "${INIT:-$here/guest-init.sh}" "$root/init"
chmod 0755 "$root/init" "$root/test"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$OUT"
