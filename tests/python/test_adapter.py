# SPDX-License-Identifier: LGPL-2.1-or-later
"""FdpKvL2Adapter (`plugin`) against LMCACHE_CONTRACT.md behaviours 14-29."""
import os
import random
import threading
import time

import pytest

import lmc
from lmc import (RecordingListener, UBuf, bits, load, lookup, okey, payload, store,
                 wait_query, wait_store, fd_readable)

from fdpkv_lmcache import FdpKvL2Adapter, FdpKvL2AdapterConfig, L2StoreResult


def make(params, **over):
    p = dict(params)
    if "max_capacity_bytes" in over:
        p.pop("max_capacity_gb", None)
    p.update(over)
    return FdpKvL2Adapter(FdpKvL2AdapterConfig.from_dict(p))


def test_readme_plugin_json_loads_like_lmcache(dev):
    """The plugin factory: class, then config class by config_class_name,
    <class_name>Config or the class attribute; Cls(Config.from_dict(p), l1_memory_desc=..)."""
    import importlib
    cfg = lmc.readme_configs()["plugin"]
    mod = importlib.import_module(cfg["module_path"])
    cls = getattr(mod, cfg["class_name"])
    for name in (cfg.get("config_class_name"), cfg["class_name"] + "Config",
                 getattr(cls, "config_class_name")):
        assert getattr(mod, name) is FdpKvL2AdapterConfig
    params = dict(cfg["adapter_params"])
    params["devices"] = [dev]
    a = cls(FdpKvL2AdapterConfig.from_dict(params), l1_memory_desc=object())
    a.close()
    b = cls(params)          # raw-dict mode also works
    b.close()


def test_b14_three_distinct_fds(adapter, plugin_params, tmp_path):
    fds = [adapter.get_store_event_fd(), adapter.get_lookup_and_lock_event_fd(),
           adapter.get_load_event_fd()]
    assert all(isinstance(f, int) and f >= 0 for f in fds)
    assert len(set(fds)) == 3
    other = make(plugin_params, devices=["file:%s" % (tmp_path / "other.img")])
    try:
        fds2 = [other.get_store_event_fd(), other.get_lookup_and_lock_event_fd(),
                other.get_load_event_fd()]
        assert len(set(fds + fds2)) == 6
    finally:
        other.close()


def test_b15_store_signals_and_pops_once(adapter):
    fd = adapter.get_store_event_fd()
    tid = adapter.submit_store_task([okey(1)], [UBuf.of(payload(1, 1000))])
    assert fd_readable(fd, 10000)
    os.eventfd_read(fd)
    deadline = time.monotonic() + 10
    res = {}
    while tid not in res and time.monotonic() < deadline:
        res.update(adapter.pop_completed_store_tasks())
    assert res[tid].is_successful() and int(res[tid]) == 1000
    assert adapter.pop_completed_store_tasks() == {}
    tids = [adapter.submit_store_task([okey(10 + i)], [UBuf.of(payload(i, 10 + i))])
            for i in range(5)]
    assert len(set(tids)) == 5
    got = {}
    for t in tids:
        wait_store(adapter, t, popped=got)
    assert all(got[t].is_successful() for t in tids)
    assert sorted(got) == sorted(tids)


def test_b16_lookup_bits(adapter):
    assert lookup(adapter, [okey(1)]) == [False]
    store(adapter, [okey(1), okey(3)], [b"a" * 10, b"c" * 30])
    assert lookup(adapter, [okey(1)]) == [True]
    assert lookup(adapter, [okey(0), okey(1), okey(2), okey(3), okey(4)]) == \
        [False, True, False, True, False]
    adapter.submit_unlock([okey(1), okey(1), okey(3)])


def test_b17_query_once_then_none(adapter):
    store(adapter, [okey(1)], [b"x" * 100])
    tid = adapter.submit_lookup_and_lock_task([okey(1)], {})
    bm = wait_query(adapter, "lookup", tid)
    assert bits(bm, 1) == [True]
    assert adapter.query_lookup_and_lock_result(tid) is None
    assert adapter.query_lookup_and_lock_result(987654) is None
    lid = adapter.submit_load_task([okey(1)], [UBuf(100)])
    assert bits(wait_query(adapter, "load", lid), 1) == [True]
    assert adapter.query_load_result(lid) is None
    assert adapter.query_load_result(987654) is None
    adapter.submit_unlock([okey(1)])


def test_b18_unlock_never_locked_is_harmless(adapter):
    adapter.submit_unlock([okey(1), okey(2)])
    adapter.submit_unlock([])
    store(adapter, [okey(1)], [b"x"])
    adapter.submit_unlock([okey(1)] * 5)
    assert lookup(adapter, [okey(1)]) == [True]


def test_b19_load_exact_missing_untouched_full_sequence(adapter):
    n = 16
    keys = [okey(i, salt="s") for i in range(n)]
    datas = [payload(i, 5000 + 131 * i) for i in range(n)]
    assert store(adapter, keys, datas).is_successful()
    probe = keys[:8] + [okey(999)]
    found = lookup(adapter, probe)
    assert found == [True] * 8 + [False]
    ok, got = load(adapter, probe, [len(d) for d in datas[:8]] + [777])
    assert ok == [True] * 8 + [False]
    assert got[:8] == datas[:8]
    assert got[8] == b"\xab" * 777
    adapter.submit_unlock(probe)


def test_b20_delete_then_lookup_misses(adapter):
    keys = [okey(i) for i in range(6)]
    store(adapter, keys, [b"v%d" % i for i in range(6)])
    adapter.delete(keys[:2])
    assert lookup(adapter, keys) == [False, False, True, True, True, True]
    adapter.submit_unlock(keys)
    adapter.delete([okey(100)])
    adapter.delete([])
    adapter.delete([keys[3]])
    assert lookup(adapter, keys) == [False, False, True, False, True, True]
    adapter.submit_unlock(keys)


def test_b21_locked_key_survives_delete_until_unlocked(adapter):
    k = okey(1)
    store(adapter, [k], [b"locked" * 10])
    assert lookup(adapter, [k]) == [True]           # lock 1
    assert lookup(adapter, [k]) == [True]           # lock 2
    adapter.delete([k])
    ok, _ = load(adapter, [k], [60])
    assert ok == [True]
    adapter.submit_unlock([k])
    adapter.delete([k])
    assert load(adapter, [k], [60])[0] == [True]
    adapter.submit_unlock([k])
    adapter.delete([k])
    assert load(adapter, [k], [60])[0] == [False]


def test_b22_usage(plugin_params):
    a = make(plugin_params)
    try:
        u = a.get_usage()
        assert u.total_capacity_bytes == 0 and u.usage_fraction == -1
        assert store(a, [okey(1, salt="alice")], [b"z" * 400]) == 400
        assert a.get_usage().total_bytes_used == 400
        assert store(a, [okey(1, salt="alice")], [b"z" * 400]) == 0     # not twice
        assert a.get_usage().total_bytes_used == 400
        a.delete([okey(1, salt="alice")])
        assert a.get_usage().total_bytes_used == 0
        store(a, [okey(2, salt="alice"), okey(3, salt="bob"), okey(4)], [b"a" * 100, b"b" * 250, b"c" * 7])
        before = dict(a.get_usage().bytes_by_cache_salt)
        assert before == {"alice": 100, "bob": 250, "": 7}
    finally:
        a.close()
    a = make(plugin_params, max_capacity_bytes="1M")
    try:
        u = a.get_usage()
        assert dict(u.bytes_by_cache_salt) == before            # survives a restart
        assert u.total_bytes_used == 357
        assert u.total_capacity_bytes == 1 << 20
        assert u.usage_fraction == pytest.approx(357 / (1 << 20))
    finally:
        a.close()


def test_b23_full_store_fails_without_notify_then_succeeds(tmp_path):
    a = FdpKvL2Adapter({"devices": "file:%s" % (tmp_path / "small.img"), "capacity": "32M",
                        "segment_size": "2M", "free_segments_low": 1})
    try:
        lst = RecordingListener()
        a.register_listener(lst)
        stored = []
        failed_key = None
        for i in range(200):
            k = okey(i)
            r = store(a, [k], [payload(i, 512 << 10)])
            if not r.is_successful():
                failed_key = k
                break
            stored.append(k)
            assert lookup(a, [k]) == [True]             # lock everything stored
        assert failed_key is not None, "the cache never filled up"
        assert len(lst.stored) == len(stored)
        assert failed_key not in [k for k, _ in lst.stored]
        a.submit_unlock(stored)
        a.delete(stored[:8])
        assert len(lst.deleted) >= 8
        r = store(a, [failed_key], [payload(0, 512 << 10)])
        assert r.is_successful() and int(r) == 512 << 10
        assert lst.stored[-1] == (failed_key, 512 << 10)
    finally:
        a.close()


def test_b24_duplicate_store_notifies_once_listener_errors_swallowed(adapter):
    class Boom:
        calls = 0

        def on_l2_keys_stored(self, keys, *sizes):
            Boom.calls += 1
            raise RuntimeError("listener bug")

        on_l2_keys_accessed = on_l2_keys_deleted = on_l2_keys_stored

    adapter.register_listener(Boom())
    lst = RecordingListener()
    adapter.register_listener(lst)
    assert store(adapter, [okey(1)], [b"x" * 10]) == 10
    assert store(adapter, [okey(1)], [b"x" * 10]) == 0
    assert lst.stored == [(okey(1), 10)]
    assert lookup(adapter, [okey(1)]) == [True]
    assert load(adapter, [okey(1)], [10])[0] == [True]
    adapter.submit_unlock([okey(1)])
    adapter.delete([okey(1)])
    assert lst.accessed == [okey(1)] and lst.deleted == [okey(1)]
    assert Boom.calls >= 3
    assert adapter.report_status()["is_healthy"] is True


def test_b25_restart_found_loadable_usage_seeded_listener_told(plugin_params):
    keys = [okey(i, salt="u%d" % (i % 2)) for i in range(20)]
    datas = [payload(i, 2000 + i) for i in range(20)]
    a = make(plugin_params)
    store(a, keys, datas)
    used = a.get_usage().total_bytes_used
    a.close()
    b = make(plugin_params)
    try:
        assert b.get_usage().total_bytes_used == used
        lst = RecordingListener()
        b.register_listener(lst)
        told = {lmc_key_str(k): s for k, s in lst.stored}
        assert told == {lmc_key_str(k): len(d) for k, d in zip(keys, datas)}
        assert lookup(b, keys) == [True] * 20
        ok, got = load(b, keys, [len(d) for d in datas])
        assert ok == [True] * 20 and got == datas
        b.submit_unlock(keys)
        # A recovered key can be deleted through whatever the listener was given.
        b.delete([lst.stored[0][0]])
        assert b.get_usage().total_bytes_used == used - lst.stored[0][1]
    finally:
        b.close()


def lmc_key_str(k):
    from fdpkv_lmcache import key_to_string
    return key_to_string(k)


def test_b26_internal_failure_all_zero_bitmap(adapter):
    store(adapter, [okey(1)], [b"x" * 10])
    bad = "k" * 5000                               # longer than the library allows
    tid = adapter.submit_lookup_and_lock_task([okey(1), bad, okey(2)])
    assert bits(wait_query(adapter, "lookup", tid), 3) == [False] * 3
    tid = adapter.submit_load_task([okey(1), okey(1)], [UBuf(10), memoryview(b"read-only!")])
    assert bits(wait_query(adapter, "load", tid), 2) == [False, False]
    r = wait_store(adapter, adapter.submit_store_task([bad], [b"x"]))
    assert not r.is_successful() and int(r) == -1
    # An empty batch completes too.
    assert bits(wait_query(adapter, "lookup", adapter.submit_lookup_and_lock_task([])), 0) == []
    assert adapter.report_status()["is_healthy"]


def test_b27_close_twice_report_status(plugin_params):
    a = make(plugin_params)
    st = a.report_status()
    assert st["is_healthy"] is True and isinstance(st["type"], str) and st["type"]
    fds = [a.get_store_event_fd(), a.get_lookup_and_lock_event_fd(), a.get_load_event_fd()]
    a.close()
    a.close()
    st = a.report_status()
    assert st["is_healthy"] is False and "type" in st
    for fd in fds:
        with pytest.raises(OSError):
            os.fstat(fd)


@pytest.mark.parametrize("name,value", [
    ("devices", 5), ("devices", []), ("capacity", "lots"), ("capacity", -5),
    ("segment_size", 1000), ("queue_depth", "x"), ("queue_depth", 0),
    ("durability", "sometimes"), ("format", "maybe"), ("placement", 3),
    ("salt_separator", "::"), ("max_classes", 0), ("free_segments_low", -1),
    ("reinsert", "yes"), ("bogus_field", 1), ("max_capacity_gb", -1),
    ("max_capacity_bytes", "huge"),
])
def test_b28_bad_config_value_error_names_field(plugin_params, name, value):
    p = dict(plugin_params)
    p[name] = value
    with pytest.raises(ValueError) as ei:
        FdpKvL2AdapterConfig.from_dict(p)
    assert name.rstrip("s") in str(ei.value), str(ei.value)


def test_b28_missing_devices(plugin_params):
    p = dict(plugin_params)
    del p["devices"]
    with pytest.raises(ValueError, match="devices"):
        FdpKvL2AdapterConfig.from_dict(p)


def test_b29_concurrent_store_prefetch_delete(adapter):
    nkeys = 600     # three rounds of 200 new keys: a store never hits a locked key
    keys = [okey(i, salt="t%d" % (i % 4)) for i in range(nkeys)]
    data = {i: payload(i, 3000 + i * 7) for i in range(nkeys)}
    errors = []
    store_results = {}
    stop = threading.Event()

    def storer():
        try:
            popped = {}
            for i in range(0, nkeys, 8):
                if True:
                    idx = list(range(i, min(i + 8, nkeys)))
                    tid = adapter.submit_store_task([keys[j] for j in idx],
                                                    [UBuf.of(data[j]) for j in idx])
                    r = wait_store(adapter, tid, popped=popped)
                    assert tid not in store_results
                    store_results[tid] = r
                    assert r.is_successful()
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    def prefetcher():
        try:
            rng = random.Random(1)
            while not stop.is_set():
                idx = rng.sample(range(nkeys), 8)
                ks = [keys[j] for j in idx]
                found = lookup(adapter, ks)
                hit = [j for j, f in zip(idx, found) if f]
                if hit:
                    ok, got = load(adapter, [keys[j] for j in hit], [len(data[j]) for j in hit])
                    # Locked keys cannot have been deleted: they all load.
                    assert ok == [True] * len(hit)
                    for j, g in zip(hit, got):
                        assert g == data[j]
                adapter.submit_unlock(ks)
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    def deleter():
        try:
            rng = random.Random(2)
            while not stop.is_set():
                adapter.delete([keys[j] for j in rng.sample(range(nkeys), 4)])
                adapter.get_usage()
                time.sleep(0.002)
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    ts = [threading.Thread(target=f) for f in (prefetcher, prefetcher, deleter)]
    st = threading.Thread(target=storer)
    for t in ts + [st]:
        t.start()
    st.join(120)
    stop.set()
    for t in ts:
        t.join(60)
    assert not errors, errors
    assert len(store_results) == (nkeys + 7) // 8
    assert adapter.pop_completed_store_tasks() == {}
    u = adapter.get_usage()
    assert u.total_bytes_used == sum(u.bytes_by_cache_salt.values())
    assert adapter.report_status()["is_healthy"]


def test_store_result_type():
    assert int(L2StoreResult(False, 5)) == -1 and int(L2StoreResult(True, 5)) == 5


def test_evicted_keys_reported_deleted(tmp_path):
    a = FdpKvL2Adapter({"devices": "file:%s" % (tmp_path / "ev.img"), "capacity": "32M",
                        "segment_size": "2M", "free_segments_low": 2})
    try:
        lst = RecordingListener()
        a.register_listener(lst)
        for i in range(120):                         # ~60 MiB into a 32 MiB cache
            assert store(a, [okey(i)], [payload(i, 512 << 10)]).is_successful()
        # Evictions run on the library's evictor thread: wait for the report
        # (the deadline is a hang guard; a loaded machine may be slow).
        deadline = time.monotonic() + lmc.TIMEOUT
        while not lst.deleted and time.monotonic() < deadline:
            time.sleep(0.05)
        assert lst.deleted, "library evictions were not reported"
        u = a.get_usage()
        assert u.total_bytes_used == (120 - len(lst.deleted)) * (512 << 10)
        assert lookup(a, [lst.deleted[0]]) == [False]
    finally:
        a.close()


class _HoldCountingLock:
    """A lock that starts a new count at each acquisition (``cur``)."""

    def __init__(self):
        self._lock = threading.Lock()
        self.holds = []
        self.cur = None

    def acquire(self, *args, **kw):
        got = self._lock.acquire(*args, **kw)
        if got:
            self.cur = [0]
            self.holds.append(self.cur)
        return got

    def release(self):
        self._lock.release()

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc):
        self.release()


def test_evicted_keys_accounted_a_chunk_per_lock_hold(adapter):
    """Keys the library evicted leave the adapter's accounting a chunk per
    hold of its lock: a submit registering its task waits for one chunk at
    most, never for all the keys of an evicted segment (thousands)."""
    from fdpkv_lmcache import adapter as adapter_mod

    chunk = getattr(adapter_mod, "_EVICTED_CHUNK", 128)
    n = 5 * chunk + 3
    names = ["ev-%d" % i for i in range(n)]
    with adapter._lock:
        for s in names:
            adapter._account_add(s, 10, "salt", None)
    lst = RecordingListener()
    adapter.register_listener(lst)
    lock = _HoldCountingLock()
    remove = adapter._account_remove

    def counted_remove(s):
        lock.cur[0] += 1
        return remove(s)

    real_lock, adapter._lock = adapter._lock, lock
    adapter._account_remove = counted_remove
    try:
        adapter._process([], evicted=[(s, 10) for s in names])
    finally:
        adapter._lock = real_lock
        del adapter._account_remove
    assert sum(h[0] for h in lock.holds) == n
    assert max(h[0] for h in lock.holds) <= chunk
    assert len(lst.deleted) == n
    assert adapter.get_usage().total_bytes_used == 0


class _CacheProxy:
    """The adapter's library cache with submit() replaced by @submit(real, *args)."""

    def __init__(self, real, submit):
        self._real = real
        self._submit = submit

    def __getattr__(self, name):
        return getattr(self._real, name)

    def submit(self, *args):
        return self._submit(self._real, *args)


def test_adapter_lock_free_during_library_submit(adapter):
    """A library submit (which may wait for the library's lock) runs without
    the adapter's lock: the completion thread and queries go on meanwhile."""
    entered, release, out = threading.Event(), threading.Event(), []

    def slow(real, *args):
        entered.set()
        release.wait(30)
        return real.submit(*args)

    real = adapter._cache
    first = adapter.submit_store_task([okey(1)], [UBuf.of(payload(1, 100))])
    adapter._cache = _CacheProxy(real, slow)
    t = threading.Thread(target=lambda: out.append(
        adapter.submit_store_task([okey(2)], [UBuf.of(payload(2, 200))])))
    t.start()
    try:
        assert entered.wait(30)
        # the store submitted before completes while the other submit is stuck
        assert wait_store(adapter, first).is_successful()
        assert adapter._lock.acquire(timeout=30)
        adapter._lock.release()
        adapter.get_usage()
    finally:
        release.set()
        t.join(30)
        adapter._cache = real
    assert wait_store(adapter, out[0]).is_successful()


def test_adapter_completion_before_registration_kept(adapter):
    """A completion the adapter's thread drains before the submitter has
    registered its id is kept and delivered, not dropped."""
    seen = []

    def early(real, *args):
        lid = real.submit(*args)
        deadline = time.monotonic() + 30
        while lid not in adapter._early and time.monotonic() < deadline:
            time.sleep(0.001)
        seen.append(lid in adapter._early)
        return lid

    real = adapter._cache
    adapter._cache = _CacheProxy(real, early)
    try:
        tid = adapter.submit_store_task([okey(3)], [UBuf.of(payload(3, 300))])
        lt = adapter.submit_lookup_and_lock_task([okey(3)], None)
    finally:
        adapter._cache = real
    assert seen == [True, True]
    res = wait_store(adapter, tid)
    assert res.is_successful() and int(res) == 300
    assert bits(wait_query(adapter, "lookup", lt), 1) == [True]
    assert adapter._early == {}
    adapter.submit_unlock([okey(3)])
