# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# lib.sh - what the package tests share (sourced): a chroot into a scratch
# root, the offline install of what a node has before the fdpkv packages,
# and a snapshot of a root to compare before the install and after purge.
# Also copied into the VM guest of test-deb-vm.sh, which sources it there
# (deb_snapshot only: the guest has no chroot to enter).

# deb_inroot ROOT CMD...: run CMD in ROOT with /proc and /sys, in a private
# mount namespace: the mounts vanish with it, so nothing mounted can outlive
# the test or be reached by rm -rf.
deb_inroot() {
	local root=$1
	shift
	unshare -m --propagation private /bin/sh -c \
		'mount -t proc proc "$0/proc" && mount -t sysfs -o ro sysfs "$0/sys" && exec chroot "$0" "$@"' \
		"$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8 "$@"
}

# deb_apt_offline ROOT LOG PKG...: apt-get install PKG... in ROOT from its apt
# cache only (no network), unsafe-io (a scratch root).
deb_apt_offline() {
	local root=$1 log=$2
	shift 2
	DEBIAN_FRONTEND=noninteractive deb_inroot "$root" apt-get install -q -y --no-download \
		--no-install-recommends -o Dpkg::Options::=--force-unsafe-io "$@" >"$log" 2>&1
}

# deb_prepare_root ROOT TAR KBUILD_DEBS_DIR LOGDIR DEB...: unpack the clean
# root TAR into ROOT and install offline what a node has before the fdpkv
# packages: the libraries the kernel headers' kbuild needs (their packages'
# Depends, from KBUILD_DEBS_DIR), the packages named in $DEB_EXTRA (from the
# root's apt cache), and the dependencies of the packages DEB... (paths
# inside ROOT) alone, so that "before" and "after purge" compare the same
# dependency set. Sets deb_ndeps. Returns 1 when the kbuild libraries or
# DEB_EXTRA fail, 2 when the dependencies fail (logs in LOGDIR).
deb_prepare_root() {
	local root=$1 tar=$2 kdebs=$3 logdir=$4 own
	shift 4
	deb_ndeps=0
	mkdir -p "$root" && tar -C "$root" -xf "$tar" || return 1
	cp "$kdebs"/*.deb "$root/var/cache/apt/archives/"
	# shellcheck disable=SC2046
	deb_apt_offline "$root" "$logdir/kbuild.log" $(cd "$kdebs" && ls *.deb | sed 's/_.*//') ${DEB_EXTRA:-} ||
		return 1
	own=$(for d in "$@"; do dpkg-deb -f "$root$d" Package; done)
	deb_inroot "$root" apt-get install -s --no-install-recommends "$@" 2>&1 |
		sed -n 's/^Inst \([^ ]*\) .*/\1/p' | grep -vxF -f <(echo "$own") >"$logdir/deps"
	# shellcheck disable=SC2034 # read by the tests that source this
	deb_ndeps=$(wc -l <"$logdir/deps")
	# shellcheck disable=SC2046
	deb_apt_offline "$root" "$logdir/deps.log" $(cat "$logdir/deps") || return 2
}

# deb_snapshot ROOT [PATH...]: every path of ROOT with a checksum of each
# regular file (or only of those under the PATHs, relative to ROOT: reading
# all of a root costs minutes under TCG; deb_newer then covers the rest),
# minus what dpkg and apt keep about themselves, the backups of /etc/group &
# co., /run (a tmpfs on a running system: adduser's lock file stays there)
# and the test's own files (/opt/fdpkv-test in the VM guest).
deb_prune=(\( -path ./var/lib/dpkg -o -path ./var/lib/apt -o -path ./var/cache -o -path ./var/log
	-o -path ./proc -o -path ./sys -o -path ./dev -o -path ./tmp -o -path ./run -o -path ./opt/fdpkv-test
	-o -path ./etc/ld.so.cache -o -path ./lost+found -o \( -path './etc/*' -name '*-' \) \) -prune -o)
deb_snapshot() {
	local root=$1
	shift
	(cd "$root" && find . -xdev "${deb_prune[@]}" -printf '%p %y\n' | sort &&
		find "${@:-.}" -xdev "${deb_prune[@]}" -type f -print0 | xargs -0 -r md5sum | sort -k 2)
}

# deb_newer ROOT STAMP PATH...: the regular files of ROOT modified after
# STAMP that are not under the PATHs deb_snapshot checksummed.
deb_newer() {
	local root=$1 stamp=$2 p
	shift 2
	(cd "$root" && find . -xdev "${deb_prune[@]}" -type f -newer "$stamp" -print |
		while read -r p; do
			for s in "$@"; do
				case $p in "$s" | "$s"/*) continue 2 ;; esac
			done
			echo "$p"
		done)
}
