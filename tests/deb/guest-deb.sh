#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# guest-deb.sh - PID 1 of test-deb-vm.sh's guest: a clean Debian 12 root
# booted on the Debian kernel whose headers packages are installed, with
# the fdpkv packages in /opt/fdpkv-test/debs. No network: apt installs local
# files only. udev runs as on a node (systemd-udevd, started here since no
# systemd boots). It installs the fdpkv packages, whose DKMS build must be
# for the running kernel; loads the module, checks /dev/fdpkv's group and
# mode as udev set them, fdpkvctl list and the plugin's import; purges and
# checks nothing is left. Prints TAP, then "=== RESULT rc=N", and powers off.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 HOME=/root DEBIAN_FRONTEND=noninteractive
t=/opt/fdpkv-test
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
# what systemd would add to devtmpfs: dkms reads <(...) through /dev/fd
ln -s /proc/self/fd /dev/fd
ln -s /proc/self/fd/0 /dev/stdin
ln -s /proc/self/fd/1 /dev/stdout
ln -s /proc/self/fd/2 /dev/stderr
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
hostname fdpkv-deb-guest
# shellcheck source=tests/deb/lib.sh
. "$t/lib.sh"
kver=$(uname -r)
version=$(cat "$t/version")
PKGS=$(cat "$t/pkgs")
n=0 failed=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi; }
show() { sed 's/^/# /' "$@" | tail -n 25; }
finish() {
	echo "1..$n"
	echo "=== RESULT rc=$((failed != 0)) uptime $(cut -d' ' -f1 /proc/uptime)"
	sync
	mount -o remount,ro / 2>/dev/null
	echo o >/proc/sysrq-trigger
	sleep 10
}
secs() { cut -d' ' -f1 /proc/uptime; }
since() { awk -v a="$1" -v b="$(secs)" 'BEGIN { printf "%.0f", b - a }'; }
echo "=== guest: $kver, $(nproc) CPUs, uptime $(secs)"

# udev as on a node, for the events from here on (/dev/fdpkv's); the boot's
# devices need no coldplug for this test
/lib/systemd/systemd-udevd --daemon >/dev/null 2>&1
[ -S /run/udev/control ]
ok $? "systemd-udevd runs"

# what the packages' maintainer scripts and DKMS write into besides their
# own files: checksummed before and after; any other file modified between
# the two snapshots shows in deb_newer
sums=(./etc ./var)
# (by the path find reports: /lib is a link to usr/lib on merged-/usr)
for f in "$(readlink -f "/lib/modules/$kver")"/modules.*; do sums+=(".$f"); done
touch /tmp/stamp
deb_snapshot / "${sums[@]}" >/tmp/before

# --- install --------------------------------------------------------------------
debs=
missing=
for p in $PKGS; do
	f=$(ls "$t"/debs/"${p}"_*.deb 2>/dev/null) || missing="$missing $p"
	debs="$debs $f"
done
t0=$(secs)
if [ -n "$missing" ]; then
	# apt-get install with nothing to install succeeds: say what is missing
	echo "no .deb on the test disk for:$missing" >/tmp/install.log
	rc=1
else
	# shellcheck disable=SC2086
	apt-get install -q -y --no-install-recommends -o Dpkg::Options::=--force-unsafe-io $debs \
		>/tmp/install.log 2>&1
	rc=$?
fi
[ $rc = 0 ] || show /tmp/install.log /var/lib/dkms/fdpkv/"$version"/build/make.log
ok $rc "apt-get install ./*.deb with DKMS building for the running kernel ($(since "$t0") s)"
dkms status -m fdpkv -v "$version" -k "$kver" 2>&1 | grep -q ": installed"
ok $? "DKMS reports fdpkv/$version installed for the running kernel $kver"
ko=$(find "/lib/modules/$kver/updates/dkms" -name 'fdpkv.ko*' 2>/dev/null | head -n 1)
vm=$([ -n "$ko" ] && modinfo -F vermagic "$ko")
[ "${vm%% *}" = "$kver" ]
ok $? "the module is in $ko, vermagic ${vm%% *}"
modprobe fdpkv
ok $? "modprobe fdpkv (depmod found the DKMS module)"
udevadm settle -t 60
st=$(stat -c '%G %a %F' /dev/fdpkv 2>&1)
[ "$st" = "fdpkv 660 character special file" ]
ok $? "udev gives /dev/fdpkv to group fdpkv, mode 0660: $st"
fdpkvctl list >/tmp/list.log 2>&1
rc=$?
[ $rc = 0 ] || show /tmp/list.log
ok $rc "fdpkvctl list works: $(head -n 3 /tmp/list.log | tr '\n' '|')"
out=$(python3 -c 'import fdpkv_lmcache as m; print(m.LIB_VERSION_RUNTIME)' 2>&1)
[ "$out" = "(${version%%.*}, $(echo "$version" | cut -d. -f2))" ]
ok $? "python3 -c 'import fdpkv_lmcache' works: library $out"

# --- purge ----------------------------------------------------------------------
modprobe -r fdpkv
ok $? "modprobe -r fdpkv"
t0=$(secs)
# shellcheck disable=SC2086
apt-get purge -q -y -o Dpkg::Options::=--force-unsafe-io $PKGS >/tmp/purge.log 2>&1
rc=$?
[ $rc = 0 ] || show /tmp/purge.log
ok $rc "apt-get purge of the five packages ($(since "$t0") s)"
left=
for p in $PKGS; do dpkg -L "$p" >/dev/null 2>&1 && left="$left $p"; done
[ -z "$left" ]
ok $? "dpkg knows none of the packages any more${left:+:$left}"
left=$(find /lib/modules/"$kver" /var/lib/dkms /usr/src -name 'fdpkv*' 2>/dev/null | tr '\n' ' ')
[ -z "$left" ]
ok $? "no module, DKMS tree or sources left${left:+: $left}"
! getent group fdpkv >/dev/null
ok $? "purge removed the (empty) fdpkv group"
deb_snapshot / "${sums[@]}" >/tmp/after
diff /tmp/before /tmp/after >/tmp/left.diff
d=$?
deb_newer / /tmp/stamp "${sums[@]}" | sed 's/^/modified: /' >>/tmp/left.diff
[ $d = 0 ] && [ ! -s /tmp/left.diff ]
rc=$?
[ $rc = 0 ] || show /tmp/left.diff
ok $rc "purge leaves nothing: the root is as before the install"
finish
