#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test-install.sh - `make install` honours PREFIX and DESTDIR, and what it
# installs is usable: a program builds against the installed header with
# pkg-config (static and shared) and runs; fdpkvctl runs. Prints TAP.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
scratch=$(mktemp -d /tmp/fdpkv-install.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
n=0 failed=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi; }

root=$scratch/root
make -s -C "$top" install DESTDIR="$root" PREFIX=/opt/fdpkv >"$scratch/install.log" 2>&1
ok $? "make install DESTDIR=... PREFIX=/opt/fdpkv"
for f in lib/libfdpkv.a lib/libfdpkv.so.0 lib/libfdpkv.so include/fdpkv/fdpkv.h \
	include/fdpkv/uapi/fdpkv.h lib/pkgconfig/libfdpkv.pc bin/fdpkvctl; do
	[ -e "$root/opt/fdpkv/$f" ]
	ok $? "installed /opt/fdpkv/$f"
done
grep -q '^prefix=/opt/fdpkv$' "$root/opt/fdpkv/lib/pkgconfig/libfdpkv.pc"
ok $? "libfdpkv.pc names the prefix, not DESTDIR"
cat >"$scratch/v.c" <<'EOC'
#include <stdio.h>
#include <fdpkv.h>
#include <uapi/fdpkv.h>
int main(void)
{
	printf("%d.%d %d\n", fdpkv_version_major(), fdpkv_version_minor(), FDPKV_ABI_VERSION);
	return fdpkv_version_major() != FDPKV_VERSION_MAJOR;
}
EOC
# the .pc file says /opt/fdpkv; point pkg-config at the staged tree
pcdir=$scratch/pc
mkdir -p "$pcdir"
sed "s|^prefix=.*|prefix=$root/opt/fdpkv|; s|^libdir=.*|libdir=$root/opt/fdpkv/lib|; s|^includedir=.*|includedir=$root/opt/fdpkv/include|" \
	"$root/opt/fdpkv/lib/pkgconfig/libfdpkv.pc" >"$pcdir/libfdpkv.pc"
export PKG_CONFIG_PATH=$pcdir
gcc -std=gnu11 -Wall -Werror -o "$scratch/v-shared" "$scratch/v.c" $(pkg-config --cflags --libs libfdpkv) \
	2>"$scratch/cc.log" && LD_LIBRARY_PATH=$root/opt/fdpkv/lib "$scratch/v-shared" >/dev/null
ok $? "a program builds with pkg-config against the shared library and runs"
gcc -std=gnu11 -Wall -Werror -o "$scratch/v-static" "$scratch/v.c" \
	$(pkg-config --static --cflags libfdpkv) "$root/opt/fdpkv/lib/libfdpkv.a" -luring -lpthread \
	2>>"$scratch/cc.log" && "$scratch/v-static" >/dev/null
ok $? "a program links the static library and runs"
nm -D --defined-only "$root/opt/fdpkv/lib/libfdpkv.so" | awk '{print $3}' | grep -v '^fdpkv_' | grep -v '^FDPKV_' | grep -q .
[ $? -ne 0 ]
ok $? "the shared library exports only fdpkv_* symbols"
nm -g --defined-only "$root/opt/fdpkv/lib/libfdpkv.a" | awk 'NF == 3 {print $3}' | grep -v '^fdpkv_' | grep -q .
[ $? -ne 0 ]
ok $? "the static library defines only fdpkv_* global symbols"
# A program may use names the library uses inside: the demo's round trip on
# a sim device, linked with a file that defines seg_base and backend_open.
printf '#include <stdlib.h>\nint seg_base;\nint backend_open(void);\nint backend_open(void) { abort(); }\n' \
	>"$scratch/clash.c"
gcc -std=gnu11 -Wall -Werror -o "$scratch/v-clash" "$top/examples/roundtrip.c" \
	"$scratch/clash.c" $(pkg-config --static --cflags libfdpkv) "$root/opt/fdpkv/lib/libfdpkv.a" \
	-luring -lisal -lpthread 2>>"$scratch/cc.log" && \
	"$scratch/v-clash" "sim:name=clash" capacity=32M >"$scratch/clash.log" 2>&1
ok $? "a program defining seg_base and backend_open links the static library and works"
"$root/opt/fdpkv/bin/fdpkvctl" version >/dev/null
ok $? "the installed fdpkvctl runs"
[ $failed -eq 0 ] || sed 's/^/# /' "$scratch/cc.log" "$scratch/install.log" | head -n 20
echo "1..$n"
[ $failed -eq 0 ]
