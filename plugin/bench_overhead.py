#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Per-key overhead of FdpKvConnector on the file backend (not a test).

Prints microseconds per key for set / get / exists at batch sizes 1, 16 and
256: submit + wait on the eventfd + drain, as LMCache's bridge does it, with
small values so the Python/C/library path dominates rather than the disk.

    /usr/bin/python3 plugin/bench_overhead.py [--dir DIR] [--value-size N] [--keys N]
"""
import argparse
import ctypes
import os
import select
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from fdpkv_lmcache import FdpKvConnector  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", default=None, help="directory for the device file (default: a temp dir)")
    ap.add_argument("--value-size", type=int, default=4096)
    ap.add_argument("--keys", type=int, default=4096, help="keys per measurement")
    args = ap.parse_args()

    tmp = tempfile.TemporaryDirectory(dir=args.dir)
    conn = FdpKvConnector(devices="file:%s/bench.img" % tmp.name, capacity="1G",
                          segment_size="16M", format="always")
    fd = conn.event_fd()
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    n = args.keys
    keys = ["bench-model@000000ff@0@%064x@tenant:%d" % (i, i % 4) for i in range(n)]
    raw = (ctypes.c_ubyte * (args.value_size * n + 64))()
    views = [memoryview((ctypes.c_ubyte * args.value_size).from_buffer(raw, 1 + i * args.value_size))
             for i in range(n)]

    def run(op, batch):
        fn = getattr(conn, "submit_batch_" + op)
        outstanding = set()
        t0 = time.perf_counter()
        for i in range(0, n, batch):
            ks = keys[i:i + batch]
            fid = fn(ks, views[i:i + batch]) if op in ("set", "get") else fn(ks)
            outstanding.add(fid)
            if len(outstanding) >= 32:
                poller.poll(1000)
                for c in conn.drain_completions():
                    outstanding.discard(c[0])
        while outstanding:
            poller.poll(1000)
            for c in conn.drain_completions():
                outstanding.discard(c[0])
        return (time.perf_counter() - t0) * 1e6 / n

    print("fdpkv_lmcache overhead, file backend, %d-byte values, %d keys per point"
          % (args.value_size, n))
    print("%-8s %10s %10s %10s" % ("op", "batch=1", "batch=16", "batch=256"))
    for op in ("set", "get", "exists"):
        row = [run(op, b) for b in (1, 16, 256)]
        print("%-8s %8.2fus %8.2fus %8.2fus" % (op, *row))
    conn.close()
    tmp.cleanup()


if __name__ == "__main__":
    main()
