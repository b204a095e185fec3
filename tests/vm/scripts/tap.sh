# SPDX-License-Identifier: GPL-2.0
#
# tap.sh - TAP helpers the guest scripts source (busybox sh):
#   ok RC DESCRIPTION   one test line, counted in $n and $failed
#   run CMD...          $out = stdout+stderr, $rc = exit code; echoed as comments
#   has REGEX           $out matches; count REGEX: how many lines of $out do
n=0
failed=0

ok() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
	fi
}

run() {
	out=$("$@" 2>&1)
	rc=$?
	echo "# \$ $*  (exit $rc)"
	echo "$out" | sed 's/^/#   /'
}

has() { echo "$out" | grep -qE -- "$1"; }
count() { echo "$out" | grep -cE -- "$1"; }
