# SPDX-License-Identifier: LGPL-2.1-or-later
"""The non-MP (in-process) storage plugin, FdpKvStorageBackend, against the 34
conformance behaviours of LMCACHE_NONMP_CONTRACT.md section 7: one test per
behaviour, test_nonmp_bNN_*. The LMCache side is lmc_nonmp's stand-ins
(registered as the lmcache modules the plugin imports). On the host each test
runs on a file and on a sim device; in the VM on FDPKV_TEST_DEVICE (ng:, fdpkv:).

Determinism without timing: a test that must see work still in flight stops
the completion dispatch (``paused``) - both drainers (thread and loop reader)
call ``backend._drain`` - so what the plugin did before any completion was
handled is observable, then lets it go.
"""
import asyncio
import concurrent.futures
import contextlib
import itertools
import logging
import os
import pathlib
import threading

import pytest

import lmc_nonmp as L

L.install()

from fdpkv_lmcache import FdpKvL2Adapter, FdpKvL2AdapterConfig  # noqa: E402
from fdpkv_lmcache.keys import engine_key_to_string, meta_key  # noqa: E402
from fdpkv_lmcache.nonmp import FdpKvStorageBackend  # noqa: E402
from lmc import payload, readme_params, wait_query  # noqa: E402

from lmcache.v1.storage_backend.abstract_backend import StoragePluginInterface  # noqa: E402

README = pathlib.Path(__file__).resolve().parents[2] / "plugin" / "README.md"
TIMEOUT = 60
_sim_ids = itertools.count()

# Small chunks (16 tokens x 2 KiB = 32 KiB) for most tests; big ones (512 KiB)
# to fill the 32 MiB cache of the eviction tests.
MD = dict(kv_shape=(4, 2, 16, 2, 64))
MD_BIG = dict(kv_shape=(4, 2, 256, 2, 64))
SMALL_CAP = {"capacity": "32M"}


def _kinds():
    return ["dev"] if os.environ.get("FDPKV_TEST_DEVICE") else ["file", "sim"]


@pytest.fixture(params=_kinds())
def ndev(request, tmp_path):
    """The device: the VM's (dev fixture), or a file / a named sim device
    (kept in this process across close, for restarts) on the host."""
    if request.param == "dev":
        return request.getfixturevalue("dev")
    if request.param == "file":
        return "file:%s" % (tmp_path / "dev.img")
    return "sim:name=nonmp%d" % next(_sim_ids)


def make_config(dev, yaml_over=None, **plugin):
    """The README's YAML with the device replaced and @plugin settings added."""
    y = L.readme_yaml(README)
    extra = dict(y["extra_config"])
    extra["storage_plugin.fdpkv.devices"] = dev
    for k, v in plugin.items():
        extra["storage_plugin.fdpkv." + k] = v
    y["extra_config"] = extra
    y.update(yaml_over or {})
    return L.LMCacheEngineConfig.from_dict(y)


class Env:
    """A loop thread (StorageManager's), a LocalCPUBackend and the plugin."""

    def __init__(self, dev, md=MD, **plugin):
        self.dev, self.plugin = dev, plugin
        self.md = L.LMCacheMetadata(**md)
        self.cfg = make_config(dev, **plugin)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever,
                                       name="storage-manager-event-loop", daemon=True)
        self.thread.start()
        self.lcb = L.LocalCPUBackend(self.cfg, self.md)
        self.alloc = self.lcb.memory_allocator
        self.be = self.open()

    def open(self):
        backends = {}
        L.storage_plugin_launcher(self.cfg, self.md, self.loop, self.lcb, "cpu", backends)
        return L.require_plugin(backends)

    def restart(self):
        self.be.close()
        self.be = self.open()
        return self.be

    def run(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(TIMEOUT)

    def obj(self, seed, tokens=None, positions=None):
        shape = L.full_shape(self.md, tokens)
        o = self.lcb.allocate(shape, self.md.kv_dtype, L.MemoryFormat.KV_2LTD)
        assert o is not None
        n = o.get_size()
        o.byte_array[:n] = payload(seed, n)
        o.metadata.cached_positions = positions
        return o

    def put(self, keys, objs, cb=None):
        """Put, wait, and drop the caller's refs (as StorageManager does)."""
        futs = self.be.batched_submit_put_task(keys, objs, on_complete_callback=cb)
        res = [f.result(TIMEOUT) for f in futs] if futs else None
        for o in objs:
            o.ref_count_down()
        return res

    def put_new(self, seeds, tokens=None):
        keys = [L.ekey(s) for s in seeds]
        res = self.put(keys, [self.obj(s, tokens) for s in seeds])
        assert res == [True] * len(seeds), res
        return keys

    def close(self):
        self.be.close()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(TIMEOUT)
        self.loop.close()


@pytest.fixture
def env(ndev):
    e = Env(ndev)
    yield e
    e.close()
    e.lcb.clear()
    assert not e.alloc.live, "objects never freed: %d" % len(e.alloc.live)


@pytest.fixture
def small(ndev):
    """32 MiB cache of 512 KiB chunks: eviction within a few dozen puts."""
    e = Env(ndev, md=MD_BIG, **SMALL_CAP)
    yield e
    e.close()
    assert not e.alloc.live


@contextlib.contextmanager
def paused(be):
    """Hold every completion until the block ends (then dispatch them)."""
    real = be._drain
    be._drain = lambda: None
    try:
        yield
    finally:
        del be._drain
        real()


def check_obj(env, obj, seed, tokens=None, positions=None):
    shape = L.full_shape(env.md, tokens)
    assert obj.get_shape() == shape
    assert str(obj.get_dtype()) == str(env.md.kv_dtype)
    assert obj.get_memory_format() is L.MemoryFormat.KV_2LTD
    assert obj.get_ref_count() == 1
    n = obj.get_size()
    assert bytes(obj.byte_array[:n]) == payload(seed, n)
    assert obj.metadata.cached_positions == positions
    assert obj.allocator is env.alloc


def free(*objs):
    for o in objs:
        if o is not None:
            o.ref_count_down()


def fill(env, start, count):
    """Put @count big chunks with seeds start.. (some may be refused)."""
    for s in range(start, start + count):
        env.put([L.ekey(s)], [env.obj(s)])


# ---- loading and construction ------------------------------------------------
def test_nonmp_b01_loaded_by_storage_plugins_config(ndev):
    md = L.LMCacheMetadata(**MD)
    cfg = make_config(ndev)
    assert cfg.storage_plugins == ["fdpkv"]
    loop = asyncio.new_event_loop()
    backends = L.CreateStorageBackends(cfg, md, loop)
    try:
        be = L.require_plugin(backends)
        assert isinstance(be, StoragePluginInterface)
        assert isinstance(be, FdpKvStorageBackend)
        assert be.local_cpu_backend is backends["LocalCPUBackend"]
        assert list(backends) == ["LocalCPUBackend", "fdpkv"]
    finally:
        for b in backends.values():
            b.close()
        loop.close()


def test_nonmp_b02_not_loaded_without_storage_plugins(ndev):
    cfg = make_config(ndev, yaml_over={"storage_plugins": None})
    loop = asyncio.new_event_loop()
    backends = L.CreateStorageBackends(cfg, L.LMCacheMetadata(**MD), loop)
    try:
        assert "fdpkv" not in backends
        with pytest.raises(L.PluginMissing, match="'fdpkv' was not loaded"):
            L.require_plugin(backends)
    finally:
        for b in backends.values():
            b.close()
        loop.close()


def test_nonmp_b03_keyword_constructor_ignores_unknown_kwargs(ndev):
    md = L.LMCacheMetadata(**MD)
    cfg = make_config(ndev)
    lcb = L.LocalCPUBackend(cfg, md)
    be = FdpKvStorageBackend(config=cfg, dst_device="cuda:0", metadata=md,
                             local_cpu_backend=lcb, loop=None, lmcache_worker=None,
                             some_future_argument=1)
    try:
        assert be.dst_device == "cuda:0" and be.config is cfg and be.metadata is md
        assert be.local_cpu_backend is lcb and be.loop is None
        assert be.batched_contains([L.ekey(1)]) == 0   # works without a loop
    finally:
        be.close()


def test_nonmp_b04_scheduler_role_without_local_cpu_raises_clearly(ndev, caplog):
    cfg = make_config(ndev)
    with pytest.raises(ValueError, match="needs a local_cpu_backend"):
        FdpKvStorageBackend(config=cfg, dst_device="cpu", metadata=L.LMCacheMetadata(**MD),
                            local_cpu_backend=None, loop=None)
    md = L.LMCacheMetadata(role="scheduler", **MD)
    loop = asyncio.new_event_loop()
    backends = L.CreateStorageBackends(cfg, md, loop)
    loop.close()
    assert "fdpkv" not in backends
    assert "needs a local_cpu_backend" in caplog.text
    assert "AttributeError" not in caplog.text


@pytest.mark.parametrize("over,err", [
    ({"devices": "file:/nonexistent-dir/x/cache.img"}, "No such file"),
    ({"bogus_setting": 1}, "bogus_setting"),
    ({"durability": "sometimes"}, "durability"),
    ({"l1_arena": "maybe"}, "l1_arena"),
])
def test_nonmp_b05_bad_config_raises_and_missing_plugin_is_detected(ndev, caplog, over, err):
    md = L.LMCacheMetadata(**MD)
    cfg = make_config(ndev, **over)
    lcb = L.LocalCPUBackend(cfg, md)
    with pytest.raises((ValueError, TypeError, OSError), match=err):
        FdpKvStorageBackend(config=cfg, metadata=md, local_cpu_backend=lcb)
    backends = {}
    with caplog.at_level(logging.ERROR):
        L.storage_plugin_launcher(cfg, md, None, lcb, "cpu", backends)
    assert "Failed to load storage plugin fdpkv" in caplog.text   # LMCache only logs
    with pytest.raises(L.PluginMissing):                           # we fail loudly
        L.require_plugin(backends)


# ---- put -----------------------------------------------------------------------
def test_nonmp_b06_put_returns_before_the_write_completes(env):
    key, obj = L.ekey(1), env.obj(1)
    done = []
    with paused(env.be):
        futs = env.be.batched_submit_put_task([key], [obj],
                                              on_complete_callback=done.append)
        # Returned with the completion not handled yet: it did not wait.
        assert isinstance(futs, list) and len(futs) == 1
        assert isinstance(futs[0], concurrent.futures.Future) and not futs[0].done()
        assert done == []
    assert futs[0].result(TIMEOUT) is True and done == [key]
    free(obj)


def test_nonmp_b07_put_then_contains_and_get_equal(env):
    pos = list(range(100, 116))
    keys = [L.ekey(1), L.ekey(2)]
    assert env.put(keys, [env.obj(1, positions=pos), env.obj(2)]) == [True, True]
    assert env.be.contains(keys[0]) and env.be.contains(keys[1])
    a = env.be.get_blocking(keys[0])
    check_obj(env, a, 1, positions=pos)
    env.be._metas.clear()   # the sidecar on the device, not the memory cache
    b = env.be.get_blocking(keys[1])
    check_obj(env, b, 2)
    free(a, b)


def test_nonmp_b08_ref_count_held_while_in_flight_and_dropped_once(env):
    objs = [env.obj(i) for i in range(3)]
    big = env.obj(9, tokens=16 * 160)            # 5 MiB: larger than a 4 MiB segment
    before = [o.get_ref_count() for o in objs + [big]]
    assert before == [1, 1, 1, 1]
    with paused(env.be):
        futs = env.be.batched_submit_put_task([L.ekey(i) for i in range(3)] + [L.ekey(9)],
                                              objs + [big])
        assert [o.get_ref_count() for o in objs + [big]] == [2, 2, 2, 2]
        # A skipped put (already in flight) takes no ref.
        assert env.be.batched_submit_put_task([L.ekey(0)], [objs[0]]) is None
        assert objs[0].get_ref_count() == 2
    assert [f.result(TIMEOUT) for f in futs] == [True, True, True, False]
    assert [o.get_ref_count() for o in objs + [big]] == before    # success and failure
    frees = env.alloc.frees
    free(*objs, big)
    assert env.alloc.frees == frees + 4                           # nobody else holds them


def test_nonmp_b09_exists_in_put_tasks_while_in_flight(env):
    key, obj = L.ekey(1), env.obj(1)
    assert not env.be.exists_in_put_tasks(key)
    with paused(env.be):
        futs = env.be.batched_submit_put_task([key], [obj])
        assert env.be.exists_in_put_tasks(key)
        assert not env.be.exists_in_put_tasks(L.ekey(2))
    futs[0].result(TIMEOUT)
    assert not env.be.exists_in_put_tasks(key)
    free(obj)


def test_nonmp_b10_put_of_key_in_flight_is_deduplicated(env):
    key, a, b = L.ekey(1), env.obj(1), env.obj(2)
    sets = env.be.stats()["sets"]
    with paused(env.be):
        futs = env.be.batched_submit_put_task([key, key], [a, b])   # twice in one batch
        assert len(futs) == 1
        assert env.be.batched_submit_put_task([key], [b]) is None   # and again
        assert a.get_ref_count() == 2 and b.get_ref_count() == 1
    assert futs[0].result(TIMEOUT)
    assert env.be.stats()["sets"] == sets + 2     # one value + its sidecar
    got = env.be.get_blocking(key)
    check_obj(env, got, 1)
    free(a, b, got)


def test_nonmp_b11_put_of_resident_key_does_not_rewrite(env):
    key = env.put_new([1])[0]
    sets, used = env.be.stats()["sets"], env.be.usage()["bytes_used"]
    other = env.obj(2)
    assert env.be.batched_submit_put_task([key], [other]) is None
    assert other.get_ref_count() == 1
    assert env.be.stats()["sets"] == sets and env.be.usage()["bytes_used"] == used
    got = env.be.get_blocking(key)
    check_obj(env, got, 1)                          # still the first value
    free(other, got)


def test_nonmp_b12_partial_last_chunk_keeps_its_shape(env):
    keys = [L.ekey(1), L.ekey(2)]
    assert env.put(keys, [env.obj(1), env.obj(2, tokens=5, positions=[0, 1, 2, 3, 4])]) \
        == [True, True]
    env.be._metas.clear()
    full, part = env.be.batched_get_blocking(keys)
    check_obj(env, full, 1)
    check_obj(env, part, 2, tokens=5, positions=[0, 1, 2, 3, 4])
    assert part.get_size() == 5 * 2048
    free(full, part)


def test_nonmp_b13_on_complete_callback_once_per_stored_key(env, caplog):
    calls = []

    def cb(key):
        calls.append(key)
        raise RuntimeError("callback bug")

    keys = [L.ekey(1), L.ekey(2), L.ekey(9)]
    objs = [env.obj(1), env.obj(2), env.obj(9, tokens=16 * 160)]    # the last is refused
    assert env.put(keys, objs, cb=cb) == [True, True, False]
    assert calls == keys[:2]
    assert "on_complete_callback raised" in caplog.text
    # Not called again for a skipped re-put.
    assert env.be.batched_submit_put_task(keys[:1], [env.obj(1)], cb) is None
    assert calls == keys[:2]
    free(*[o for o in env.alloc.live.values() if o.get_ref_count() == 1])


def test_nonmp_b14_oversized_object_rejected_without_eviction(env):
    keys = env.put_new(range(4))
    evicted = env.be.stats()["evicted_objects"]
    usage = env.be.usage()
    huge = env.obj(99, tokens=16 * 160)            # 5 MiB > 4 MiB segment
    calls = []
    assert env.put([L.ekey(99)], [huge], cb=calls.append) == [False]
    assert calls == [] and not env.be.exists_in_put_tasks(L.ekey(99))
    assert not env.be.contains(L.ekey(99))
    assert env.be.usage() == usage
    assert env.be.stats()["evicted_objects"] == evicted
    assert env.be.batched_contains(keys) == 4


# ---- lookup, pin, eviction -------------------------------------------------------
def test_nonmp_b15_contains_miss_creates_no_pin(env):
    key = L.ekey(1)
    assert env.be.contains(key) is False
    assert env.be.contains(key, pin=True) is False
    assert env.be.usage()["pins"] == 0
    env.put_new([1])
    assert env.be.remove(key) is True              # a pin would have made this False


def test_nonmp_b16_pinned_key_survives_eviction_until_unpinned(small):
    k = small.put_new([0])[0]
    assert small.be.contains(k, pin=True)
    fill(small, 1, 60)                             # 30 MiB through a 32 MiB cache
    assert small.be.stats()["evicted_objects"] > 0
    # Eviction takes whole segments, the oldest without a pinned object.
    assert not any(small.be.contains(L.ekey(s)) for s in range(8, 16))
    assert small.be.contains(k)                    # (not read: a read would re-insert it)
    assert small.be.unpin(k)
    fill(small, 61, 60)
    assert not small.be.contains(k)


def test_nonmp_b17_pins_are_counted(env):
    missing = L.ekey(5)
    assert env.be.pin(missing) is False and env.be.unpin(missing) is False
    k = env.put_new([1])[0]
    assert env.be.pin(k) and env.be.pin(k)
    assert env.be.usage()["pins"] == 2
    assert env.be.unpin(k)
    assert env.be.remove(k) is False               # one pin left
    assert env.be.unpin(k)
    assert env.be.remove(k) is True                # evictable/removable again


def test_nonmp_b18_batched_contains_counts_and_pins_the_prefix(env):
    k = env.put_new([1, 2, 4])
    keys = [k[0], k[1], L.ekey(3), k[2]]
    assert env.be.batched_contains(keys) == 2
    assert env.run(env.be.batched_async_contains("req0", keys)) == 2
    assert env.be.batched_contains(keys, pin=True) == 2
    assert env.be.remove(k[2]) is True             # beyond the miss: not pinned
    assert env.be.remove(k[0]) is False and env.be.remove(k[1]) is False
    env.be.unpin(k[0])
    env.be.unpin(k[1])
    env.put_new([4])
    assert env.run(env.be.batched_async_contains("req1", keys, pin=True)) == 2
    assert env.be.remove(k[2]) is True
    assert env.be.remove(k[0]) is False
    assert env.be.usage()["pins"] == 2


def test_nonmp_b19_fifo_eviction_and_rejection_when_all_pinned(small):
    keys = [small.put_new([s])[0] for s in range(40)]   # 20 MiB
    fill(small, 40, 10)                            # 5 MiB more: evicts the oldest
    held = [k for k in keys if small.be.contains(k)]
    gone = [k for k in keys if not small.be.contains(k)]
    assert gone and gone == keys[:len(gone)]       # oldest first
    assert held
    # Pin everything held and every new key: puts then run out of space.
    resident = [L.ekey(s) for s in range(80) if small.be.contains(L.ekey(s))]
    for k in resident:
        assert small.be.pin(k)
    for s in range(200, 300):
        if not small.put([L.ekey(s)], [small.obj(s)])[0]:
            break
        resident.append(L.ekey(s))
        assert small.be.pin(L.ekey(s))
    else:
        raise AssertionError("a cache of pinned objects took 50 MiB more")
    assert not small.be.contains(L.ekey(s)) and not small.be.exists_in_put_tasks(L.ekey(s))
    assert small.be.batched_contains(resident) == len(resident)   # nothing removed
    for k in resident:
        small.be.unpin(k)


def test_nonmp_b20_usage_returns_to_baseline(small):
    assert small.be.usage()["bytes_used"] == 0
    keys = small.put_new(range(10))
    assert small.be.usage()["bytes_used"] == 10 * 512 * 1024
    fill(small, 10, 50)                            # evicts
    assert small.be.stats()["evicted_objects"] > 0
    left = [L.ekey(s) for s in range(60) if small.be.contains(L.ekey(s))]
    assert small.be.usage()["bytes_used"] == len(left) * 512 * 1024
    # Deleting writes delete records, which may evict more: fewer removed.
    assert 0 < small.be.batched_remove(left + keys) <= len(left)
    assert small.be.usage() == dict(small.be.usage(), bytes_used=0, keys=0)


# ---- get ---------------------------------------------------------------------
def test_nonmp_b21_get_returns_fresh_object_from_local_cpu(env):
    assert env.be.get_blocking(L.ekey(7)) is None
    k = env.put_new([1])[0]
    live = set(env.alloc.live)
    got = env.be.get_blocking(k)
    assert id(got) in env.alloc.live and id(got) not in live
    assert env.lcb.allocate_calls[-1] == (L.full_shape(env.md), True)
    check_obj(env, got, 1)
    frees = env.alloc.frees
    free(got)
    assert env.alloc.frees == frees + 1 and id(got) not in env.alloc.live


def test_nonmp_b22_batched_get_blocking_same_length_prefix(env):
    k = env.put_new([1, 3])
    got = env.be.batched_get_blocking([k[0], L.ekey(2), k[1]])
    assert len(got) == 3 and got[1] is None and got[2] is None
    check_obj(env, got[0], 1)
    free(got[0])


def test_nonmp_b23_get_non_blocking_on_the_loop_without_blocking_it(env):
    k = env.put_new([1, 3])
    keys = [k[0], L.ekey(2), k[1]]
    env.be._metas.clear()

    async def ping():
        return "pong"

    with paused(env.be):
        task = asyncio.run_coroutine_threadsafe(
            env.be.batched_get_non_blocking("req", keys, {"cum_chunk_lengths": [0, 16]}),
            env.loop)
        # The read is waiting for its completion; the loop still runs.
        assert env.run(ping()) == "pong"
        assert not task.done()
    got = task.result(TIMEOUT)
    assert len(got) == 1
    check_obj(env, got[0], 1)
    assert env.lcb.allocate_calls[-1][1] is False      # busy_loop=False on the loop
    free(*got)


def test_nonmp_b24_allocation_failure_is_a_miss_without_leaks(env):
    k = env.put_new([1, 2])
    live = len(env.alloc.live)
    env.alloc.fail_next = 1
    assert env.be.get_blocking(k[0]) is None
    env.alloc.fail_next = 1
    assert env.be.batched_get_blocking(k) == [None, None]
    env.alloc.fail_next = 1
    assert env.run(env.be.batched_get_non_blocking("r", k)) == []
    assert len(env.alloc.live) == live
    # The second allocation fails: a prefix of one.
    real = env.lcb.allocate
    n = itertools.count()
    env.lcb.allocate = lambda *a, **kw: None if next(n) == 1 else real(*a, **kw)
    got = env.be.batched_get_blocking(k)
    assert got[1] is None
    check_obj(env, got[0], 1)
    free(got[0])
    assert len(env.alloc.live) == live


def test_nonmp_b25_remove_racing_a_read(env):
    from fdpkv_lmcache import nonmp
    k = env.put_new([1])[0]
    # Deterministic: the read's GET is in flight when remove() runs.
    gen = env.be._read([k], True)
    op, strs, bufs = next(gen)
    w = nonmp._Waiter()
    with paused(env.be):
        env.be._submit(op, strs, bufs, w)
    assert env.be.remove(k) is True
    w.event.wait(TIMEOUT)
    try:
        gen.send(w.comp)
    except StopIteration as stop:
        got = stop.value
    assert got == [] or (len(got) == 1 and check_obj(env, got[0], 1) is None)
    free(*got)
    # And through the public API from two threads.
    errors = []

    def reader(key, seed):
        try:
            o = env.be.get_blocking(key)
            if o is not None:
                check_obj(env, o, seed)
                free(o)
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    for i in range(20):
        key = env.put_new([100 + i])[0]
        t = threading.Thread(target=reader, args=(key, 100 + i))
        t.start()
        env.be.remove(key)
        t.join(TIMEOUT)
    assert errors == []


# ---- remove and close ----------------------------------------------------------
def test_nonmp_b26_remove_true_once_then_false(env):
    k = env.put_new([1, 2, 3])
    assert env.be.remove(k[0]) is True
    assert env.be.remove(k[0]) is False
    assert not env.be.contains(k[0]) and env.be.get_blocking(k[0]) is None
    assert env.be.batched_remove([k[1], k[0], L.ekey(9), k[2]]) == 2
    assert env.be.usage()["keys"] == 0


def test_nonmp_b27_close_drains_puts_releases_refs_and_is_idempotent(env):
    objs = [env.obj(i) for i in range(8)]
    futs = env.be.batched_submit_put_task([L.ekey(i) for i in range(8)], objs)
    be = env.be
    be.close()
    assert all(f.done() for f in futs)
    assert [o.get_ref_count() for o in objs] == [1] * 8
    be.close()                                      # idempotent
    assert not be._thread.is_alive() and not be._loop_reader
    with pytest.raises(OSError):
        os.fstat(be._stop_fd)
    assert be.batched_submit_put_task([L.ekey(20)], [objs[0]]) is None
    assert objs[0].get_ref_count() == 1
    assert be.contains(L.ekey(0)) is False and be.get_blocking(L.ekey(0)) is None
    assert be.remove(L.ekey(0)) is False and be.pin(L.ekey(0)) is False
    assert env.run(be.batched_get_non_blocking("r", [L.ekey(0)])) == []
    free(*objs)
    env.be = env.open()                             # the puts were durable
    assert env.be.batched_contains([L.ekey(i) for i in range(8)]) == 8


def test_nonmp_b28_allocator_backend_is_local_cpu(env):
    assert env.be.get_allocator_backend() is env.lcb


def test_nonmp_b29_optional_methods_exist(env):
    k = L.ekey(1)
    assert env.be.touch_cache() is None
    assert env.be.cancel_request("req-1") is None
    assert env.be.get_non_blocking(k) is None
    assert env.be.get_non_blocking(k, location="fdpkv") is None
    assert env.be.submit_prefetch_task(k) is False


# ---- integration (StorageManager) --------------------------------------------
def _sm(ndev, **over):
    return L.StorageManager(make_config(ndev, yaml_over=over), L.LMCacheMetadata(**MD))


def _sm_obj(sm, seed, tokens=None):
    md = L.LMCacheMetadata(**MD)
    o = sm.local_cpu_backend.allocate(L.full_shape(md, tokens), md.kv_dtype)
    o.byte_array[:o.get_size()] = payload(seed, o.get_size())
    return o


def _wait_stored(be, keys):
    for _ in range(int(TIMEOUT * 100)):
        if be.batched_contains(keys) == len(keys):
            return
        threading.Event().wait(0.01)
    raise AssertionError("puts never completed")


def test_nonmp_b30_storage_manager_round_trip_and_remove(ndev):
    sm = _sm(ndev)
    try:
        be = L.require_plugin(sm.storage_backends)
        keys = [L.ekey(i) for i in range(3)]
        sm.batched_put(keys, [_sm_obj(sm, i, tokens=16 if i < 2 else 7) for i in range(3)])
        _wait_stored(be, keys)
        sm.local_cpu_backend.clear()
        got = sm.batched_get(keys, location="fdpkv")
        for i, o in enumerate(got):
            assert bytes(o.byte_array[:o.get_size()]) == payload(i, o.get_size())
        assert got[2].get_shape()[2] == 7
        assert sm.batched_contains(keys) == (3, "fdpkv")
        assert sm.remove(keys[0], ["fdpkv"]) == 1 and not be.contains(keys[0])
        free(*got)
    finally:
        sm.close()
    sm.local_cpu_backend.clear()
    assert not sm.local_cpu_backend.memory_allocator.live


def test_nonmp_b31_local_cpu_false_still_uses_the_plugin(ndev):
    sm = _sm(ndev, local_cpu=False)
    try:
        be = L.require_plugin(sm.storage_backends)
        assert be.local_cpu_backend is sm.local_cpu_backend
        keys = [L.ekey(1), L.ekey(2)]
        sm.batched_put(keys, [_sm_obj(sm, 1), _sm_obj(sm, 2)])
        assert not sm.local_cpu_backend.hot
        _wait_stored(be, keys)
        got = sm.batched_get(keys, location="fdpkv")
        assert [bytes(o.byte_array[:o.get_size()]) for o in got] == \
            [payload(i, got[0].get_size()) for i in (1, 2)]
        free(*got)
    finally:
        sm.close()
    assert not sm.local_cpu_backend.memory_allocator.live


def test_nonmp_b32_concurrent_lookups_puts_and_async_gets(env):
    base = env.put_new(range(8))
    errors, stop = [], threading.Event()

    def guard(fn):
        def run():
            try:
                fn()
            except Exception as e:  # noqa: BLE001
                errors.append(e)
                stop.set()
        return run

    def lookups():
        while not stop.is_set():
            if env.be.contains(base[0], pin=True):
                env.be.unpin(base[0])
            env.be.batched_contains(base, pin=True)
            for k in base:
                env.be.unpin(k)
            stop.wait(0.001)                        # leave the CPU to the others

    def puts():
        for s in range(100, 160):
            env.put([L.ekey(s)], [env.obj(s)])

    async def gets():
        for _ in range(30):
            got = await env.be.batched_get_non_blocking("r", base)
            assert len(got) == 8
            for i, o in enumerate(got):
                check_obj(env, o, i)
            free(*got)

    threads = [threading.Thread(target=guard(lookups)), threading.Thread(target=guard(puts))]
    for t in threads:
        t.start()
    fut = asyncio.run_coroutine_threadsafe(gets(), env.loop)
    try:
        fut.result(TIMEOUT * 2)
        threads[1].join(TIMEOUT * 2)
    finally:
        stop.set()
        threads[0].join(TIMEOUT)
    assert not any(t.is_alive() for t in threads) and errors == []
    assert env.be.batched_contains([L.ekey(s) for s in range(100, 160)]) == 60
    assert env.be.usage()["pins"] == 0
    assert env.be.remove(base[0]) is True           # every pin was given back


def test_nonmp_b33_distinct_keys_and_slash_in_model(env):
    variants = [L.ekey(1), L.ekey(1, ws=2, wid=0), L.ekey(1, ws=2, wid=1),
                L.ekey(1, dtype=L.F32), L.ekey(1, tags={"user": "alice"}),
                L.ekey(1, tags={"user": "bob"}), L.ekey(1, model="a/b/c"),
                L.LayerCacheEngineKey("org/llama-3", 1, 0, L.ekey(1).chunk_hash, L.BF16,
                                      None, 3)]
    strs = [engine_key_to_string(k, L.BF16) for k in variants]
    assert len(set(strs)) == len(variants)
    objs = [env.obj(10 + i) for i in range(len(variants))]
    assert env.put(variants, objs) == [True] * len(variants)
    for i, k in enumerate(variants):
        got = env.be.get_blocking(k)
        check_obj(env, got, 10 + i)
        free(got)
    bad = L.ekey(2, model="x@y")
    o = env.obj(2)
    assert env.be.batched_submit_put_task([bad], [o]) is None and o.get_ref_count() == 1
    assert env.be.contains(bad) is False
    free(o)


def test_nonmp_b34_restart_finds_keys_with_metadata(env):
    keys = [L.ekey(1), L.ekey(2)]
    assert env.put(keys, [env.obj(1, positions=[5, 6]), env.obj(2, tokens=3)]) == [True, True]
    be = env.restart()
    assert be.batched_contains(keys) == 2
    assert be.usage()["bytes_used"] == 32768 + 3 * 2048
    a, b = be.batched_get_blocking(keys)
    check_obj(env, a, 1, positions=[5, 6])
    check_obj(env, b, 2, tokens=3)
    free(a, b)


# ---- beyond the 34 -----------------------------------------------------------
def test_nonmp_key_mapping_matches_mp_strings():
    k = L.CacheEngineKey("org/llama", 2, 1, b"\x01\x02", L.BF16)
    assert engine_key_to_string(k, L.BF16) == "org/llama@02010201@0@0102"
    assert engine_key_to_string(k, L.F32) == "org/llama@02010201@0@0102@@dt=bfloat16"
    assert engine_key_to_string(L.CacheEngineKey("m", 1, 0, -1, L.BF16), L.BF16) == \
        "m@01000100@0@ffffffffffffffff"
    t = L.CacheEngineKey("m", 1, 0, 255, L.BF16, {"lmcache.tag.user": "al:ice"})
    assert engine_key_to_string(t, L.BF16) == "m@01000100@0@00000000000000ff@user%al:ice"
    assert meta_key("m@1@0@ab").find("@") == -1
    for bad in (L.CacheEngineKey("m@x", 1, 0, 1, L.BF16), L.CacheEngineKey("m", 1, 1, 1, L.BF16),
                L.CacheEngineKey("m", 1, 0, 1, L.BF16, {"lmcache.tag.u": "a/b"})):
        with pytest.raises(ValueError):
            engine_key_to_string(bad, L.BF16)


def test_nonmp_aligned_values_move_without_copy(env):
    assert env.be.usage()["arena_registered"]
    s0 = env.be.stats()
    k = env.put_new([1])[0]                         # 32 KiB at a 4 KiB address
    got = env.be.get_blocking(k)
    check_obj(env, got, 1)
    free(got)
    s1 = env.be.stats()
    # the counters that tell a copy from a direct move, in the message
    moved = {n: s1[n] - s0[n] for n in ("direct_bytes", "fixed_cmds", "sets", "gets",
                                         "bytes_written", "bytes_read") if n in s1}
    # The value both ways; the 4 KiB sidecar also moves directly when the
    # Python buffer holding it happens to be 4 KiB-aligned (about one run in
    # 256: the library takes any aligned user buffer without a copy).
    assert moved["direct_bytes"] - 2 * 32768 in (0, 4096, 8192), moved


def _mp_adapter(dev):
    return FdpKvL2Adapter(FdpKvL2AdapterConfig.from_dict(readme_params("plugin", dev)))


def _mp_key(k):
    from lmc import FakeObjectKey
    return FakeObjectKey(k.chunk_hash, k.model_name, k.world_size << 24 | k.worker_id << 16
                         | k.world_size << 8 | k.worker_id)


def test_nonmp_cross_mode_nonmp_written_read_by_mp_after_restart(env):
    keys = [L.ekey(i, hash_bytes=True) for i in range(3)]
    assert env.put(keys, [env.obj(i) for i in range(3)]) == [True] * 3
    env.be.close()
    a = _mp_adapter(env.dev)
    try:
        okeys = [_mp_key(k) for k in keys]
        bm = wait_query(a, "lookup", a.submit_lookup_and_lock_task(okeys, {}))
        assert [bm.test(i) for i in range(3)] == [True] * 3
        a.submit_unlock(okeys)
        bufs = [bytearray(32768) for _ in keys]
        bm = wait_query(a, "load", a.submit_load_task(okeys, bufs))
        assert [bm.test(i) for i in range(3)] == [True] * 3
        assert [bytes(b) for b in bufs] == [payload(i, 32768) for i in range(3)]
        # The sidecars are not LMCache keys to MP.
        assert len(a.list_l2_keys().entries) == 3
        assert a.get_usage().total_bytes_used == 3 * 32768
    finally:
        a.close()
    env.be = env.open()


def test_nonmp_cross_mode_mp_written_read_by_nonmp_after_restart(env):
    env.be.close()
    keys = [L.ekey(i, hash_bytes=True) for i in range(2)]
    a = _mp_adapter(env.dev)
    try:
        from lmc import store
        sizes = [32768, 5 * 2048]                   # a full chunk and a partial one
        assert store(a, [_mp_key(k) for k in keys],
                     [payload(i, n) for i, n in enumerate(sizes)]).is_successful()
    finally:
        a.close()
    env.be = env.open()
    got = env.be.batched_get_blocking(keys)
    check_obj(env, got[0], 0)                       # shape from the size and kv_shape
    check_obj(env, got[1], 1, tokens=5)
    free(*got)
    assert env.be.remove(keys[0]) is True


def test_nonmp_cancelled_async_get_frees_its_object_after_the_read(env):
    k = env.put_new([1])[0]                         # sidecar cached: one GET, into the obj
    base = len(env.alloc.live)

    async def start():
        return asyncio.ensure_future(env.be.batched_get_non_blocking("r", [k]))

    async def settle():
        for _ in range(5):
            await asyncio.sleep(0)

    async def completed(fut):
        await fut

    with paused(env.be):
        task = env.run(start())
        env.run(settle())                           # submitted, waiting for the read
        assert len(env.alloc.live) == base + 1
        (read,) = [h.fut for h, _n in env.be._ops.values()]   # its completion
        env.loop.call_soon_threadsafe(task.cancel)
        env.run(settle())
        assert task.cancelled()
        assert len(env.alloc.live) == base + 1      # the library may still write into it
    # The read completes on a device thread, whenever a loaded machine runs
    # it: wait for that completion, not for a number of loop turns.
    env.run(completed(read))
    env.run(settle())                               # its done callbacks ran
    assert len(env.alloc.live) == base              # freed once the read completed
