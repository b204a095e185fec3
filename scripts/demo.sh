#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# demo.sh - what `make demo` runs on the file backend (the default on
# machines without FDP hardware): examples/roundtrip.c through libfdpkv, then
# examples/plugin_roundtrip.py through the LMCache native_plugin connector.
# Extra args go to roundtrip.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
make -s build/examples/roundtrip plugin >/dev/null
img=${FDPKV_DEMO_IMG:-/tmp/fdpkv-demo.img}
rm -f "$img" "$img.plugin"
build/examples/roundtrip "file:$img" "$@"
echo
PYTHONPATH=$top/plugin /usr/bin/python3 examples/plugin_roundtrip.py "$img.plugin"
