#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# demo.sh - build and run examples/roundtrip on the file backend (the default
# on machines without FDP hardware). Extra args go to the program.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
make -s build/examples/roundtrip
img=${FDPKV_DEMO_IMG:-/tmp/fdpkv-demo.img}
rm -f "$img"
exec build/examples/roundtrip "file:$img" "$@"
