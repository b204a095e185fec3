# SPDX-License-Identifier: LGPL-2.1-or-later
"""FdpKvConnector (`native_plugin`) against LMCACHE_CONTRACT.md behaviours 1-13,
plus caller bugs, parameters, key formats, sizes and restart."""
import ctypes
import os
import select
import threading
import time

import pytest

import lmc
from lmc import UBuf, drain_until, fd_readable, lmkey, payload, run, set_keys

from fdpkv_lmcache import FdpKvConnector

METHODS = ("event_fd", "submit_batch_set", "submit_batch_get", "submit_batch_exists",
           "submit_batch_delete", "drain_completions", "close")


def test_b01_builds_from_adapter_params_and_methods_callable(dev):
    cfg = lmc.readme_configs()["native_plugin"]
    assert cfg["module_path"] == "fdpkv_lmcache" and cfg["class_name"] == "FdpKvConnector"
    params = dict(cfg["adapter_params"])
    params["devices"] = [dev]
    # What LMCache's factory does: import module_path, getattr class_name, Cls(**params).
    import importlib
    cls = getattr(importlib.import_module(cfg["module_path"]), cfg["class_name"])
    c = cls(**params)
    try:
        for m in METHODS:
            assert callable(getattr(c, m, None)), m
    finally:
        c.close()


def test_b02_event_fd_stable_until_close(conn):
    fd = conn.event_fd()
    assert isinstance(fd, int) and fd >= 0
    set_keys(conn, [lmkey(1)], [b"x" * 100])
    run(conn, "exists", [lmkey(1)])
    assert conn.event_fd() == fd
    os.fstat(fd)  # still open


def test_b03_submit_nonblocking_unique_int_ids(conn):
    bufs = [UBuf.of(payload(i, 64 << 10)) for i in range(64)]
    ids = []
    t0 = time.monotonic()
    for i in range(64):
        ids.append(conn.submit_batch_set([lmkey(i)], [bufs[i].mv]))
        ids.append(conn.submit_batch_exists([lmkey(i), lmkey(i + 1000)]))
        ids.append(conn.submit_batch_get([lmkey(i + 5000)], [UBuf(10).mv]))
    elapsed = time.monotonic() - t0
    assert all(type(i) is int for i in ids)
    assert len(set(ids)) == len(ids)
    assert elapsed < 5.0, elapsed
    drain_until(conn, ids)


def test_b04_every_id_exactly_one_completion_even_on_failure(conn):
    ids = []
    # 5 MiB does not fit a 4 MiB segment: a failing set.
    big = UBuf.of(payload("big", 5 << 20))
    ids.append(conn.submit_batch_set([lmkey(1)], [big.mv]))
    # Multi-key batch where one key fails.
    ok_buf = UBuf.of(b"ok" * 50)
    ids.append(conn.submit_batch_set([lmkey(2), lmkey(3)], [ok_buf.mv, big.mv]))
    ids.append(conn.submit_batch_get([lmkey(99)], [UBuf(7).mv]))
    for i in range(20):
        ids.append(conn.submit_batch_exists([lmkey(i)]))
    got = drain_until(conn, ids)
    assert set(got) == set(ids)
    assert got[ids[0]][0] is False
    assert got[ids[1]][0] is False          # partial failure -> ok=False
    assert got[ids[1]][2][1] is False
    time.sleep(0.1)
    assert conn.drain_completions() == []   # nothing extra, nothing twice


def test_b05_fd_readable_when_queued_clear_after_drain(conn):
    fd = conn.event_fd()
    assert not fd_readable(fd)
    fid = conn.submit_batch_exists([lmkey(1)])
    assert fd_readable(fd, 5000)
    assert fd_readable(fd, 0)                # polling does not consume it
    got = []
    deadline = time.monotonic() + 5
    while not got and time.monotonic() < deadline:
        got = conn.drain_completions()
    assert [g[0] for g in got] == [fid]
    assert not fd_readable(fd, 0)
    # Completions racing with drains are not lost.
    stop = threading.Event()
    seen = []

    def drainer():
        while not stop.is_set() or fd_readable(fd, 0):
            if fd_readable(fd, 50):
                seen.extend(c[0] for c in conn.drain_completions())

    t = threading.Thread(target=drainer)
    t.start()
    ids = [conn.submit_batch_exists([lmkey(i)]) for i in range(2000)]
    deadline = time.monotonic() + 30
    while len(seen) < len(ids) and time.monotonic() < deadline:
        time.sleep(0.01)
    stop.set()
    t.join()
    assert sorted(seen) == sorted(ids)
    assert not fd_readable(fd, 0)


def test_b06_drain_with_nothing_pending_is_empty(conn):
    assert conn.drain_completions() == []
    run(conn, "exists", [lmkey(1)])
    assert conn.drain_completions() == []


def test_b07_tuple_shape_and_per_key_length(conn):
    for n in (1, 3, 17):
        keys = [lmkey(100 * n + i) for i in range(n)]
        datas = [payload(k, 100 + i) for i, k in enumerate(keys)]
        half = n // 2 + 1
        results = [set_keys(conn, keys[:half], datas[:half])]
        results.append(run(conn, "exists", keys))
        results.append(run(conn, "get", keys, [UBuf(len(d)).mv for d in datas]))
        results.append(run(conn, "delete", keys))
        for ok, err, per_key in results:
            assert type(ok) is bool and type(err) is str
            assert isinstance(per_key, list)
        assert len(results[0][2]) == half
        for r in results[1:]:
            assert len(r[2]) == n
            assert all(type(b) is bool for b in r[2])
    fid = conn.submit_batch_exists([lmkey(1)])
    c = drain_until(conn, [fid])
    assert isinstance(fid, int) and c


def test_b08_exists_only_stored_salt_and_group_distinguish(conn):
    k = lmkey(1, salt="alice")
    assert set_keys(conn, [k], [b"v" * 10])[0] is True
    ok, _, per_key = run(conn, "exists", [k, lmkey(1, salt="bob"), lmkey(1),
                                          lmkey(1, salt="alice", group=1), lmkey(2)])
    assert ok is True
    assert per_key == [True, False, False, False, False]


def test_b09_get_true_only_when_filled_exactly_miss_untouched(conn):
    keys = [lmkey(i) for i in range(3)]
    datas = [payload(i, 1000 + i) for i in range(3)]
    set_keys(conn, keys, datas)
    bufs = [UBuf(len(datas[0]), 3, 0xEE), UBuf(777, 3, 0xEE), UBuf(len(datas[2]), 3, 0xEE)]
    ok, _, per_key = run(conn, "get", [keys[0], lmkey(50), keys[2]], [b.mv for b in bufs])
    assert per_key == [True, False, True]
    assert bufs[0].bytes() == datas[0] and bufs[2].bytes() == datas[2]
    assert bufs[1].bytes() == b"\xee" * 777           # the miss is untouched
    # Wrong-sized buffers are not "filled exactly".
    small, large = UBuf(len(datas[1]) - 1), UBuf(len(datas[1]) + 1)
    _, _, pk = run(conn, "get", [keys[1], keys[1]], [small.mv, large.mv])
    assert pk == [False, False]


def test_b10_set_ok_when_durable_and_reset_succeeds(native_params):
    c = FdpKvConnector(**native_params)
    k = lmkey(7)
    assert set_keys(c, [k], [b"first"])[0] is True
    assert set_keys(c, [k], [b"second!"])[0] is True     # re-set succeeds
    c.close()
    c = FdpKvConnector(**native_params)
    try:
        b = UBuf(7)
        assert run(c, "get", [k], [b.mv])[2] == [True]
        assert b.bytes() == b"second!"
    finally:
        c.close()


def test_b11_delete_reports_removed_then_exists_false(conn):
    set_keys(conn, [lmkey(1), lmkey(2)], [b"a", b"b"])
    ok, _, per_key = run(conn, "delete", [lmkey(1), lmkey(3)])
    assert ok is True and per_key == [True, False]
    assert run(conn, "exists", [lmkey(1), lmkey(2)])[2] == [False, True]
    assert run(conn, "delete", [lmkey(1)])[2] == [False]


def test_b12_round_trip_byte_exact_unaligned(conn):
    sizes = [1, 2, 511, 4095, 4096, 4097, 12345, 65537, (1 << 20) + 3]
    keys = [lmkey(i) for i in range(len(sizes))]
    datas = [payload(k, n) for k, n in zip(keys, sizes)]
    for off in (0, 1, 3, 7):
        ok, _, per_key = set_keys(conn, keys, datas, offset=off)
        assert ok and per_key == [True] * len(keys)
        bufs = [UBuf(n, off + 2) for n in sizes]
        ok, _, per_key = run(conn, "get", keys, [b.mv for b in bufs])
        assert ok and per_key == [True] * len(keys)
        for b, d in zip(bufs, datas):
            assert b.bytes() == d


def test_b13_close_twice_then_drain_empty_no_buffer_touched(native_params):
    c = FdpKvConnector(**native_params)
    keys = [lmkey(i) for i in range(8)]
    set_keys(c, keys, [payload(i, 300000) for i in range(8)])
    bufs = [UBuf(300000, 1, 0x11) for _ in keys]
    c.submit_batch_get(keys, [b.mv for b in bufs])
    c.submit_batch_exists(keys)
    c.close()
    snap = [b.bytes() for b in bufs]
    c.close()
    assert c.drain_completions() == []
    time.sleep(0.2)
    assert [b.bytes() for b in bufs] == snap
    assert c.drain_completions() == []
    with pytest.raises(ValueError):
        c.submit_batch_exists(keys)


# ---- beyond the numbered behaviours ------------------------------------------------

def test_caller_bugs_raise(conn):
    b = UBuf(4)
    with pytest.raises(ValueError):
        conn.submit_batch_set([lmkey(1), lmkey(2)], [b.mv])          # length mismatch
    with pytest.raises(ValueError):
        conn.submit_batch_get([lmkey(1)], [])
    for fn in (conn.submit_batch_exists, conn.submit_batch_delete):
        with pytest.raises(ValueError):
            fn([])                                                  # empty batch
    with pytest.raises(ValueError):
        conn.submit_batch_set([], [])
    with pytest.raises(TypeError):
        conn.submit_batch_exists([b"bytes-key"])                    # non-str key
    with pytest.raises(TypeError):
        conn.submit_batch_set([1], [b.mv])
    with pytest.raises(TypeError):
        conn.submit_batch_exists("not-a-list")
    with pytest.raises(BufferError):
        conn.submit_batch_get([lmkey(1)], [memoryview(b"read-only")])  # read-only for get
    with pytest.raises(BufferError):
        conn.submit_batch_set([lmkey(1)], [memoryview(bytearray(8))[::2]])  # not contiguous
    with pytest.raises(ValueError):
        conn.submit_batch_exists(["x" * 5000])                       # key too long
    # Nothing above submitted anything.
    assert conn.drain_completions() == []
    conn.close()
    with pytest.raises(ValueError):
        conn.submit_batch_exists([lmkey(1)])                        # closed


def test_set_accepts_readonly_bytes(conn):
    assert run(conn, "set", [lmkey(1)], [b"plain bytes"])[0] is True


@pytest.mark.parametrize("name,value,exc", [
    ("devices", 5, TypeError), ("devices", [], ValueError), ("devices", [1], TypeError),
    ("capacity", "lots", ValueError), ("capacity", -1, ValueError), ("capacity", 1.5, TypeError),
    ("segment_size", "1000", ValueError), ("queue_depth", "8", TypeError),
    ("queue_depth", 0, ValueError), ("durability", "sometimes", ValueError),
    ("durability", 1, TypeError), ("format", "maybe", ValueError),
    ("placement", "tenant", ValueError), ("salt_separator", "::", ValueError),
    ("salt_separator", 1, TypeError), ("max_classes", 0, ValueError),
    ("free_segments_low", -1, ValueError), ("reinsert", "yes", TypeError),
    ("dealloc_zeroes", "maybe", ValueError), ("dealloc_zeroes", True, TypeError),
    ("no_such_param", 1, ValueError),
])
def test_params_errors_name_the_param(native_params, name, value, exc):
    p = dict(native_params)
    p[name] = value
    with pytest.raises(exc) as ei:
        FdpKvConnector(**p)
    shown = {"devices": ("devices", "device")}.get(name, (name,))
    assert any(s in str(ei.value) for s in shown), str(ei.value)


def test_params_sizes_and_device_string(tmp_path):
    c = FdpKvConnector(devices="file:%s" % (tmp_path / "d.img"), capacity=64 << 20,
                       segment_size="1M", queue_depth=8, durability="fua", format="always",
                       placement="none", salt_separator="/", max_classes=2,
                       free_segments_low=1, reinsert=True, dealloc_zeroes="no")
    try:
        assert set_keys(c, [lmkey(1)], [b"abc"])[0] is True
    finally:
        c.close()


def test_format_never_without_cache_fails(tmp_path):
    with pytest.raises(OSError):
        FdpKvConnector(devices="file:%s" % (tmp_path / "none.img"), capacity="64M",
                       segment_size="1M", format="never")


def test_lmcache_keys_long_and_non_ascii(conn):
    keys = [lmc.long_key(i) for i in range(4)] + [
        "llama@000000ff@0@00010203@alice", "llama@000000ff@0@00010203",
        "Qwen/Qwen3-8B@01020304@a@" + "ab" * 32 + "@ユーザー:テナント",
        "m@00000000@0@" + "0" * 64 + "@" + "s" * 128]
    assert all(len(k.encode()) >= 1024 for k in keys[:4])
    datas = [payload(k, 333 + i) for i, k in enumerate(keys)]
    assert set_keys(conn, keys, datas)[0] is True
    assert run(conn, "exists", keys)[2] == [True] * len(keys)
    bufs = [UBuf(len(d)) for d in datas]
    assert run(conn, "get", keys, [b.mv for b in bufs])[2] == [True] * len(keys)
    assert [b.bytes() for b in bufs] == datas
    assert run(conn, "exists", [lmc.long_key(0)[:-1]])[2] == [False]


def test_objects_1B_to_64MiB(tmp_path):
    # A 64 MiB object needs 128 MiB segments (the library's default segment
    # shrinks with small capacities: it keeps >= 16 segments).
    c = FdpKvConnector(devices="file:%s" % (tmp_path / "big.img"), capacity="1G",
                       segment_size="128M")
    try:
        sizes = [1, 1 << 10, 1 << 20, 16 << 20, 64 << 20]
        for i, n in enumerate(sizes):
            k = lmkey(i, salt="big")
            d = payload(k, n)
            assert set_keys(c, [k], [d], offset=1)[0] is True, n
            b = UBuf(n, 3)
            assert run(c, "get", [k], [b.mv])[2] == [True], n
            assert b.bytes() == d
    finally:
        c.close()


def test_evictions_not_kept_for_nobody(tmp_path):
    # The connector contract reports no evictions, so the library must not
    # keep the evicted keys for a take_evicted() nobody calls: that list
    # would grow by one allocation per evicted object for ever.
    c = FdpKvConnector(devices="file:%s" % (tmp_path / "ev.img"), capacity="8M",
                       segment_size="1M")
    try:
        val = b"\x5a" * (256 << 10)
        for i in range(96):                  # 24 MiB through an 8 MiB cache
            assert set_keys(c, [lmkey(i, salt="ev")], [val])[0] is True
        assert c.stats()["evicted_objects"] > 0
        assert c._cache.take_evicted() == []
    finally:
        c.close()


def test_restart_keys_survive(native_params):
    keys = [lmkey(i, salt="t%d" % (i % 3)) for i in range(50)]
    datas = [payload(k, 1000 + 37 * i) for i, k in enumerate(keys)]
    c = FdpKvConnector(**native_params)
    set_keys(c, keys, datas)
    run(c, "delete", keys[:5])
    c.close()
    c = FdpKvConnector(**native_params)
    try:
        assert run(c, "exists", keys)[2] == [False] * 5 + [True] * 45
        bufs = [UBuf(len(d)) for d in datas[5:]]
        assert run(c, "get", keys[5:], [b.mv for b in bufs])[2] == [True] * 45
        assert [b.bytes() for b in bufs] == datas[5:]
    finally:
        c.close()


def test_buffer_held_until_drained(conn):
    """The connector holds each Py_buffer: a bytearray cannot be resized
    while its operation is outstanding (BufferError), and can afterwards."""
    ba = bytearray(payload("held", 4096))
    fid = conn.submit_batch_set([lmkey(1)], [ba])
    drain_until(conn, [fid])
    ba.extend(b"x")  # released after the drain
    ba2 = bytearray(4096)
    conn.submit_batch_get([lmkey(1)], [ba2])
    conn.close()     # close releases undrained buffers
    ba2.extend(b"x")


def test_ctypes_pointer_view(conn):
    """LMCache's byte_array is memoryview((c_ubyte*n).from_address(p))."""
    raw = ctypes.create_string_buffer(10000)
    arr = (ctypes.c_ubyte * 9999).from_address(ctypes.addressof(raw) + 1)
    mv = memoryview(arr)
    assert mv.format == "<B"
    ctypes.memmove(ctypes.addressof(arr), payload("p", 9999), 9999)
    assert run(conn, "set", [lmkey(1)], [mv])[0] is True
    out = (ctypes.c_ubyte * 9999).from_buffer(bytearray(10001), 2)
    assert run(conn, "get", [lmkey(1)], [memoryview(out)])[2] == [True]
    assert bytes(out) == payload("p", 9999)
    del raw


def test_versions():
    import fdpkv_lmcache
    from fdpkv_lmcache import _native
    assert fdpkv_lmcache.LIB_VERSION_COMPILED == (_native.VERSION_MAJOR, _native.VERSION_MINOR)
    assert fdpkv_lmcache.LIB_VERSION_RUNTIME[0] == _native.VERSION_MAJOR


def test_poll_fd_no_spin_idle(conn):
    fd = conn.event_fd()
    p = select.poll()
    p.register(fd, select.POLLIN)
    run(conn, "exists", [lmkey(1)])
    assert p.poll(200) == []
