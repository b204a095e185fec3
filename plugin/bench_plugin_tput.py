#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""FdpKvConnector throughput vs libfdpkv's at LMCache chunk sizes (not a test).

Stores and loads N values of VALUE bytes through FdpKvConnector with
page-aligned buffers (as LMCache's L1 chunks are), DEPTH single-key batches in
flight (submit, poll the eventfd, drain, resubmit), on a fresh file in DIR;
then runs build/bench/bench_lib on the same path with the same size and depth
(its "align" phases: the library alone, same buffers kind), and prints both and
the plugin / lib ratios: best against best, and the median of the rounds'
ratios (rounds alternate plugin and lib).

    /usr/bin/python3 plugin/bench_plugin_tput.py [--dir /dev/shm] [--value-size 32M]
        [--mib 1024] [--depth 8] [--rounds 2]

Run `make plugin bench-build` first.
"""
import argparse
import ctypes
import os
import select
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path.insert(0, HERE)

from fdpkv_lmcache import FdpKvConnector  # noqa: E402


def size_arg(s):
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    s = str(s).strip().upper().rstrip("IB")
    return int(s[:-1]) * mult[s[-1]] if s and s[-1] in mult else int(s)


def plugin_run(args, path, n):
    """(set MB/s, get MB/s) through FdpKvConnector."""
    seg = args.value_size + (1 << 20) if args.value_size + (1 << 20) > (16 << 20) else 16 << 20
    seg = (seg + (1 << 20) - 1) & ~((1 << 20) - 1)
    cap = n * (args.value_size + 4096) * 5 // 4 + 8 * seg
    if os.path.exists(path):
        os.unlink(path)
    conn = FdpKvConnector(devices="file:" + path, capacity=cap, segment_size=seg,
                          queue_depth=args.depth, format="always")
    raw = (ctypes.c_ubyte * (args.depth * args.value_size + 4096))()
    base = (4096 - ctypes.addressof(raw) % 4096) % 4096
    views = [memoryview((ctypes.c_ubyte * args.value_size).from_buffer(
        raw, base + i * args.value_size)) for i in range(args.depth)]
    ctypes.memset(ctypes.addressof(raw), 0x5A, len(raw))
    poller = select.poll()
    poller.register(conn.event_fd(), select.POLLIN)
    keys = ["bench@0@0@%08x" % i for i in range(n)]
    out = []
    for op in ("set", "get"):
        fn = getattr(conn, "submit_batch_" + op)
        slot_of = {}
        issued = done = 0
        t0 = time.perf_counter()
        for slot in range(min(args.depth, n)):
            slot_of[fn([keys[issued]], [views[slot]])] = slot
            issued += 1
        while done < n:
            poller.poll(1000)
            for fid, ok, err, _ in conn.drain_completions():
                if not ok:
                    raise SystemExit("%s failed: %s" % (op, err))
                slot = slot_of.pop(fid)
                done += 1
                if issued < n:
                    slot_of[fn([keys[issued]], [views[slot]])] = slot
                    issued += 1
        out.append(n * args.value_size / (time.perf_counter() - t0) / 1e6)
    conn.close()
    os.unlink(path)
    return out


def lib_run(args, path):
    """(set MB/s, get MB/s) of bench_lib's aligned phases."""
    res = subprocess.run([os.path.join(TOP, "build", "bench", "bench_lib"), "-s",
                          str(args.value_size), "-b", str(args.mib), "-q", str(args.depth),
                          "-l", "lib", path], check=True, capture_output=True, text=True).stdout
    mbs = {}
    for line in res.splitlines():
        f = line.split(",")
        if f[0] == "csv":
            mbs[f[5]] = float(f[6])
    return mbs["align set"], mbs["align get"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", default="/dev/shm")
    ap.add_argument("--value-size", type=size_arg, default="32M")
    ap.add_argument("--mib", type=int, default=1024)
    ap.add_argument("--depth", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    n = max(args.depth, (args.mib << 20) // args.value_size)
    path = os.path.join(args.dir, "fdpkv-plugin-bench.%d.img" % os.getpid())
    runs_p, runs_l = [], []
    # bench_lib's library phases run after its raw and copy phases in the
    # same process; the plugin's first phase in a fresh process is slower
    # (up to 3x for 32 MiB sets on tmpfs: first-use costs), so it gets an
    # untimed round first.
    plugin_run(args, path, n)
    for _ in range(args.rounds):
        runs_p.append(plugin_run(args, path, n))
        runs_l.append(lib_run(args, path))
    print("FdpKvConnector vs libfdpkv, %s, %d MiB values, depth %d, %d ops, %d rounds"
          % (args.dir, args.value_size >> 20, args.depth, n, args.rounds))
    # Best of each side, and the median of the rounds' ratios: on a VM's
    # tmpfs a phase's write speed varies 1-5 GB/s with how fresh the pages
    # the kernel hands out are, for both sides alike.
    for i, op in enumerate(("set", "get")):
        bp = max(r[i] for r in runs_p)
        bl = max(r[i] for r in runs_l)
        ratios = sorted(p[i] / lb[i] for p, lb in zip(runs_p, runs_l))
        med = ratios[len(ratios) // 2] if len(ratios) % 2 else \
            (ratios[len(ratios) // 2 - 1] + ratios[len(ratios) // 2]) / 2
        print("  %-4s plugin %8.0f MB/s   lib %8.0f MB/s   best/best %.2f   "
              "median of round ratios %.2f (%s)"
              % (op, bp, bl, bp / bl, med, " ".join("%.2f" % r for r in ratios)))


if __name__ == "__main__":
    main()
