#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Submit-call latency of FdpKvConnector and FdpKvL2Adapter on an aged device (not a test).

LMCache's contract: submit never blocks. This drives each adapter as LMCache's
controllers do, on a file device aged by churn: values are stored (several
times the capacity, so the library evicts whole segments), a share of them
deleted (the library carries delete records forward when it evicts their
segment) and read back, with a bounded number of operations in flight. Every
submit call (set/store, get/load, exists/lookup, delete) is timed from call to
return, and p50/p99/p99.9/max in milliseconds are printed per adapter, with
the count of calls over 10 ms and over 100 ms. Only the warm phase (after one
capacity of churn) counts: it is the aged device the issue is about. Beside
them, the same percentiles of a call that cannot block (event_fd()) timed
right after each submit: the machine's scheduling noise floor; and the
stores that failed (a store fails with ENOSPC when nothing can be evicted,
so a run where many fail measured no eviction). The adapter unlocks what
its lookups locked once the load is submitted, as LMCache does after the
load: locks left behind would pin every segment.

    /usr/bin/python3 plugin/bench_submit_latency.py [--dir DIR] [--capacity 2G]
        [--segment-size 128M] [--value-size 65536] [--churn 3] [--batch 1]
        [--delete-every 4] [--csv FILE] [--only connector|adapter] [--slow]

--slow explains every call over 10 ms: the call, the submitter thread's CPU
time during it and its context switches (voluntary: it blocked, on a lock,
the GIL or I/O; involuntary: it was preempted, i.e. waited for a CPU),
measured around the call (getrusage(RUSAGE_THREAD), two more system calls
per submit).

Run `make plugin` first. The device file is made in DIR (default /var/tmp:
a disk file; it is deleted at the end).
"""
import argparse
import ctypes
import gc
import os
import resource
import select
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from fdpkv_lmcache import FdpKvConnector, FdpKvL2Adapter  # noqa: E402

INFLIGHT = 32


def size_arg(s):
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    s = str(s).strip().upper().rstrip("IB")
    return int(s[:-1]) * mult[s[-1]] if s and s[-1] in mult else int(s)


def pct(sorted_ms, p):
    return sorted_ms[min(len(sorted_ms) - 1, int(len(sorted_ms) * p / 100.0))]


def summary(name, lat_floor):
    lat, floor, failed = lat_floor
    ms = sorted(x * 1e3 for x in lat)
    fl = sorted(x * 1e3 for x in floor)
    return {"adapter": name, "calls": len(ms), "p50_ms": pct(ms, 50), "p99_ms": pct(ms, 99),
            "p99.9_ms": pct(ms, 99.9), "max_ms": ms[-1],
            "over_10ms": sum(1 for x in ms if x > 10), "over_100ms": sum(1 for x in ms if x > 100),
            "floor_p99.9_ms": pct(fl, 99.9), "floor_max_ms": fl[-1], "failed_sets": failed}


class Buffers:
    """One value buffer per in-flight slot, 4 KiB aligned (LMCache's L1 chunks are)."""

    def __init__(self, n, size):
        self.raw = (ctypes.c_ubyte * (n * size + 4096))()
        base = (4096 - ctypes.addressof(self.raw) % 4096) % 4096
        self.views = [memoryview((ctypes.c_ubyte * size).from_buffer(self.raw, base + i * size))
                      for i in range(n)]
        ctypes.memset(ctypes.addressof(self.raw), 0x5A, n * size + 4096)


class Probe:
    """Thread CPU time, context switches, page faults and the cyclic garbage
    collector's time (any thread's) around one call (--slow)."""

    def __init__(self, on):
        self.on = on
        self.slow = []
        self.gc_ms = 0.0
        self.gc_gen = -1
        self.gc_t0 = 0.0
        if on:
            gc.callbacks.append(self.gc_cb)

    def gc_cb(self, phase, info):
        if phase == "start":
            self.gc_t0 = time.perf_counter()
        else:
            self.gc_ms += (time.perf_counter() - self.gc_t0) * 1e3
            self.gc_gen = max(self.gc_gen, info["generation"])

    def before(self):
        if self.on:
            self.gc_ms, self.gc_gen = 0.0, -1
            self.r0 = resource.getrusage(resource.RUSAGE_THREAD)

    def after(self, what, dt, warm):
        if not self.on:
            return
        r1 = resource.getrusage(resource.RUSAGE_THREAD)
        if warm and dt > 0.010:
            r0 = self.r0
            self.slow.append((what, dt * 1e3, (r1.ru_utime - r0.ru_utime) * 1e3,
                              (r1.ru_stime - r0.ru_stime) * 1e3,
                              r1.ru_nvcsw - r0.ru_nvcsw, r1.ru_nivcsw - r0.ru_nivcsw,
                              r1.ru_minflt - r0.ru_minflt, self.gc_ms, self.gc_gen,
                              os.getloadavg()[0]))

    def close(self):
        if self.on:
            gc.callbacks.remove(self.gc_cb)


def key(i):
    return "bench-model@000000ff@0@%064x@tenant:%d" % (i, i % 4)


def churn_plan(args):
    """(op, first_key, count) in order: store, and every delete_every-th batch
    delete an older batch and read/lookup a recent one."""
    total = args.churn * args.capacity // args.value_size
    i = 0
    while i < total:
        yield "set", i, args.batch
        j = i // args.batch
        if j % args.delete_every == 0 and i >= 8 * args.batch:
            yield "delete", i - 8 * args.batch, args.batch
            yield "exists", i - args.batch, args.batch
            yield "get", i - args.batch, args.batch
        i += args.batch


def run_connector(args, path, probe):
    conn = FdpKvConnector(devices="file:" + path, capacity=args.capacity,
                          segment_size=args.segment_size, format="always",
                          free_segments_low=2)
    fd = conn.event_fd()
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    bufs = Buffers(INFLIGHT * args.batch, args.value_size)
    outstanding, sets = set(), set()
    lat, floor, failed = [], [], [0]
    warm_after = args.capacity // args.value_size
    slot = 0

    def reap(block):
        if block:
            poller.poll(1000)
        for c in conn.drain_completions():
            outstanding.discard(c[0])
            if c[0] in sets:
                sets.discard(c[0])
                failed[0] += not c[1]

    for op, first, n in churn_plan(args):
        while len(outstanding) >= INFLIGHT:
            reap(True)
        keys = [key(first + k) for k in range(n)]
        if op in ("set", "get"):
            views = [bufs.views[(slot + k) % len(bufs.views)] for k in range(n)]
            slot += n
        fn = getattr(conn, "submit_batch_" + op)
        probe.before()
        t0 = time.perf_counter()
        fid = fn(keys, views) if op in ("set", "get") else fn(keys)
        dt = time.perf_counter() - t0
        probe.after(op, dt, first >= warm_after)
        t0 = time.perf_counter()
        conn.event_fd()
        dfloor = time.perf_counter() - t0
        outstanding.add(fid)
        if op == "set":
            sets.add(fid)
        if first >= warm_after:
            lat.append(dt)
            floor.append(dfloor)
        reap(False)
    while outstanding:
        reap(True)
    conn.close()
    probe.close()
    return lat, floor, failed[0]


def run_adapter(args, path, probe):
    a = FdpKvL2Adapter({"devices": "file:" + path, "capacity": args.capacity,
                        "segment_size": args.segment_size, "format": "always",
                        "free_segments_low": 2, "reinsert": True})
    bufs = Buffers(INFLIGHT * args.batch, args.value_size)
    lat, floor, failed = [], [], [0]
    warm_after = args.capacity // args.value_size
    stores, loads, lookups = [], [], []
    slot = 0

    def reap(block):
        if block:
            time.sleep(0.0005)
        done = a.pop_completed_store_tasks()
        failed[0] += sum(1 for r in done.values() if not r.is_successful())
        stores[:] = [t for t in stores if t not in done]
        loads[:] = [t for t in loads if a.query_load_result(t) is None]
        keep = []
        for t in lookups:
            r = a.query_lookup_and_lock_result(t)
            if r is None:
                keep.append(t)
        lookups[:] = keep

    def timed(fn, *fargs, warm=False):
        probe.before()
        t0 = time.perf_counter()
        r = fn(*fargs)
        dt = time.perf_counter() - t0
        probe.after(fn.__name__, dt, warm)
        t0 = time.perf_counter()
        a.get_store_event_fd()
        return r, dt, time.perf_counter() - t0

    for op, first, n in churn_plan(args):
        while len(stores) + len(loads) + len(lookups) >= INFLIGHT:
            reap(True)
        keys = [key(first + k) for k in range(n)]
        if op in ("set", "get"):
            views = [bufs.views[(slot + k) % len(bufs.views)] for k in range(n)]
            slot += n
        if op == "get":
            # the load, then the unlock of what the lookup locked
            for fn, fargs in ((a.submit_load_task, (keys, views)), (a.submit_unlock, (keys,))):
                r, dt, dfloor = timed(fn, *fargs, warm=first >= warm_after)
                if fn == a.submit_load_task:
                    loads.append(r)
                if first >= warm_after:
                    lat.append(dt)
                    floor.append(dfloor)
            reap(False)
            continue
        probe.before()
        t0 = time.perf_counter()
        if op == "set":
            stores.append(a.submit_store_task(keys, views))
        elif op == "exists":
            lookups.append(a.submit_lookup_and_lock_task(keys, None))
        else:
            a.submit_unlock(keys)
        dt = time.perf_counter() - t0
        probe.after({"set": "submit_store_task", "exists": "submit_lookup_and_lock_task",
                     "delete": "submit_unlock"}[op], dt, first >= warm_after)
        t0 = time.perf_counter()
        a.get_store_event_fd()
        dfloor = time.perf_counter() - t0
        if op == "delete":
            a.delete(keys)     # waits for its result by contract: not a submit, not timed
        if first >= warm_after:
            lat.append(dt)
            floor.append(dfloor)
        reap(False)
    while stores or loads or lookups:
        reap(True)
    a.close()
    probe.close()
    return lat, floor, failed[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", default="/var/tmp")
    ap.add_argument("--capacity", type=size_arg, default="2G")
    ap.add_argument("--segment-size", type=size_arg, default="128M")
    ap.add_argument("--value-size", type=size_arg, default="64K")
    ap.add_argument("--churn", type=float, default=3, help="capacities stored in all")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--delete-every", type=int, default=4)
    ap.add_argument("--csv", default=None, help="append one row per adapter")
    ap.add_argument("--only", choices=("connector", "adapter"), default=None)
    ap.add_argument("--slow", action="store_true",
                    help="explain every call over 10 ms (CPU time, context switches)")
    args = ap.parse_args()
    rows = []
    probes = []
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        path = os.path.join(tmp, "aged.img")
        if args.only != "adapter":
            probes.append(("FdpKvConnector", Probe(args.slow)))
            rows.append(summary("FdpKvConnector", run_connector(args, path, probes[-1][1])))
            os.unlink(path)
        if args.only != "connector":
            probes.append(("FdpKvL2Adapter", Probe(args.slow)))
            rows.append(summary("FdpKvL2Adapter", run_adapter(args, path, probes[-1][1])))
    print("submit latency, aged file device %s: capacity %d MiB, segments %d MiB, "
          "%d B values, batch %d, churn %.1fx, delete every %d batches"
          % (args.dir, args.capacity >> 20, args.segment_size >> 20, args.value_size,
             args.batch, args.churn, args.delete_every))
    print("%-16s %8s %9s %9s %9s %9s %8s %8s %11s %9s %11s" % (
        "adapter", "calls", "p50 ms", "p99 ms", "p99.9 ms", "max ms", ">10ms", ">100ms",
        "floor p99.9", "floor max", "failed sets"))
    for r in rows:
        print("%-16s %8d %9.3f %9.3f %9.3f %9.3f %8d %8d %11.3f %9.3f %11d" % (
            r["adapter"], r["calls"], r["p50_ms"], r["p99_ms"], r["p99.9_ms"], r["max_ms"],
            r["over_10ms"], r["over_100ms"], r["floor_p99.9_ms"], r["floor_max_ms"],
            r["failed_sets"]))
    for name, probe in probes:
        if not args.slow:
            continue
        print("%s: %d calls over 10 ms (usr/sys: the submitter's CPU time in the call; "
              "vol: it blocked; invol: it was preempted; flt: page faults; gc: the "
              "garbage collector's time in it, oldest generation)" % (name, len(probe.slow)))
        for what, ms, usr, sys_, vol, invol, flt, gcms, gen, load in probe.slow:
            print("  %-28s %8.3f ms  usr %7.3f  sys %7.3f  vol %2d  invol %2d  flt %4d"
                  "  gc %7.3f ms (gen %2d)  load %5.1f"
                  % (what, ms, usr, sys_, vol, invol, flt, gcms, gen, load))
    if args.csv:
        new = not os.path.exists(args.csv)
        with open(args.csv, "a") as f:
            if new:
                f.write("adapter,calls,p50_ms,p99_ms,p99.9_ms,max_ms,over_10ms,over_100ms,"
                        "floor_p99.9_ms,floor_max_ms,failed_sets\n")
            for r in rows:
                f.write("%s,%d,%.3f,%.3f,%.3f,%.3f,%d,%d,%.3f,%.3f,%d\n" % (
                    r["adapter"], r["calls"], r["p50_ms"], r["p99_ms"], r["p99.9_ms"],
                    r["max_ms"], r["over_10ms"], r["over_100ms"], r["floor_p99.9_ms"],
                    r["floor_max_ms"], r["failed_sets"]))


if __name__ == "__main__":
    main()
