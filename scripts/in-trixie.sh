#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# in-trixie.sh - run a command inside the Debian 13 (trixie) build root that
# scripts/setup.sh makes under $FDPKV_CACHE. Trixie's kernels (6.12+deb13 and
# trixie-backports' newest) ship kbuild tools linked against trixie's C
# library and expect gcc-14, so their modules are built in there.
#
# usage: in-trixie.sh CMD [ARG...]
#
# The command runs in its own mount namespace with, at the same absolute
# paths as outside, the source tree this script belongs to, the cached
# kernels, /tmp, /proc and /dev bind-mounted: paths mean the same inside and
# out, and the mounts vanish with the command (nothing to clean up, and
# concurrent runs from other trees do not see each other's mounts). Root only.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${FDPKV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/fdpkv}
troot=$CACHE/trixie-root
[ $# -gt 0 ] || { echo "usage: $0 CMD [ARG...]" >&2; exit 2; }
[ -f "$troot/.done" ] || { echo "in-trixie: no trixie build root at $troot: run scripts/setup.sh" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "in-trixie: must run as root (mount namespace, chroot)" >&2; exit 1; }

# The inner script gets the root and the directories to bind as arguments;
# the command follows "--".
# shellcheck disable=SC2016
exec unshare --mount --propagation private /bin/bash -euc '
	troot=$1 cwd=$2
	shift 2
	while [ "$1" != -- ]; do
		mkdir -p "$troot$1"
		mount --bind "$1" "$troot$1"
		shift
	done
	shift
	cd "$troot$cwd"
	exec chroot --userspec=0:0 "$troot" /bin/sh -c "cd \"\$0\" && exec \"\$@\"" "$cwd" \
		env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
		${MAKEFLAGS+MAKEFLAGS="$MAKEFLAGS"} "$@"
' in-trixie "$troot" "$PWD" /proc /dev /tmp "$CACHE/kernels" "$top" -- "$@"
