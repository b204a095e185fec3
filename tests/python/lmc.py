# SPDX-License-Identifier: LGPL-2.1-or-later
"""Helpers shared by the fdpkv_lmcache tests: README JSON, LMCache-like keys,
'<B' ctypes buffers at odd offsets, and waiting on eventfds."""
from __future__ import annotations

import ctypes
import dataclasses
import hashlib
import json
import os
import pathlib
import re
import select
import time

README = pathlib.Path(__file__).resolve().parents[2] / "plugin" / "README.md"
TIMEOUT = 30.0


def readme_configs() -> dict:
    """{'native_plugin': cfg, 'plugin': cfg} parsed from the README's
    --l2-adapter '...' examples."""
    out = {}
    for m in re.finditer(r"--l2-adapter '(\{.*?\})'", README.read_text()):
        cfg = json.loads(m.group(1))
        out[cfg["type"]] = cfg
    assert set(out) == {"native_plugin", "plugin"}, out.keys()
    return out


def readme_params(kind: str, dev: str) -> dict:
    params = dict(readme_configs()[kind]["adapter_params"])
    params["devices"] = [dev]
    return params


# ---- keys -------------------------------------------------------------------
def lmkey(i: int, model="llama", rank=0xFF, group=0, salt="", hash_len=32) -> str:
    """LMCache's native key: model@%08x rank@%x group@hash hex[@salt]."""
    h = hashlib.sha256(b"%d" % i).digest()
    h = (h * (hash_len // len(h) + 1))[:hash_len]
    s = "%s@%08x@%x@%s" % (model, rank, group, h.hex())
    return s + "@" + salt if salt else s


def long_key(i: int, nbytes=1024) -> str:
    """A ~nbytes UTF-8 key in LMCache's format with a non-ASCII model name."""
    base = lmkey(i, model="模型-ünïcødé-🦙", salt="tenant:ä")
    pad = nbytes - len(base.encode())
    model = "模型-ünïcødé-🦙" + "x" * max(pad, 0)
    return lmkey(i, model=model, salt="tenant:ä")


@dataclasses.dataclass(frozen=True)
class FakeObjectKey:
    """Mirrors lmcache.v1.distributed.api.ObjectKey."""
    chunk_hash: bytes
    model_name: str
    kv_rank: int
    object_group_id: int = 0
    cache_salt: str = ""


def okey(i: int, salt="", model="llama", rank=0xFF, group=0) -> FakeObjectKey:
    return FakeObjectKey(hashlib.sha256(b"%d" % i).digest(), model, rank, group, salt)


# ---- buffers ----------------------------------------------------------------
def payload(seed, n: int) -> bytes:
    """Deterministic bytes for (seed, n)."""
    h = hashlib.sha256(repr((seed, n)).encode()).digest()
    return (h * (n // len(h) + 1))[:n]


class UBuf:
    """A ctypes c_ubyte array of n bytes at an odd offset inside a bigger one,
    exposed like LMCache's MemoryObj.byte_array: memoryview format '<B'."""

    def __init__(self, n: int, offset: int = 3, fill: int = 0):
        self._raw = (ctypes.c_ubyte * (n + offset + 8))()
        self.arr = (ctypes.c_ubyte * n).from_buffer(self._raw, offset)
        self.mv = memoryview(self.arr)
        assert self.mv.format == "<B" and self.mv.itemsize == 1
        if fill:
            ctypes.memset(ctypes.addressof(self.arr), fill, n)
        self.n = n

    @classmethod
    def of(cls, data: bytes, offset: int = 3) -> "UBuf":
        b = cls(len(data), offset)
        if data:
            ctypes.memmove(ctypes.addressof(b.arr), data, len(data))
        return b

    def bytes(self) -> bytes:
        return bytes(self.arr)

    @property
    def byte_array(self):  # MemoryObj-like
        return self.mv


# ---- connector --------------------------------------------------------------
def drain_until(conn, ids, timeout=TIMEOUT) -> dict:
    """Poll event_fd() (never reading it) and drain until every id in @ids has
    completed; returns {id: (ok, error, per_key)} and fails on duplicates."""
    want = set(ids)
    got = {}
    fd = conn.event_fd()
    p = select.poll()
    p.register(fd, select.POLLIN)
    deadline = time.monotonic() + timeout
    while want - set(got):
        assert time.monotonic() < deadline, "timed out waiting for %d ids" % len(want - set(got))
        p.poll(100)
        for fid, ok, err, per_key in conn.drain_completions():
            assert fid not in got, "duplicate completion %d" % fid
            got[fid] = (ok, err, per_key)
    return got


def run(conn, op: str, keys, bufs=None):
    fn = getattr(conn, "submit_batch_" + op)
    fid = fn(keys, bufs) if bufs is not None else fn(keys)
    return drain_until(conn, [fid])[fid]


def set_keys(conn, keys, datas, offset=3):
    bufs = [UBuf.of(d, offset) for d in datas]
    return run(conn, "set", keys, [b.mv for b in bufs])


def fd_readable(fd, timeout_ms=0) -> bool:
    p = select.poll()
    p.register(fd, select.POLLIN)
    return bool(p.poll(timeout_ms))


# ---- adapter ----------------------------------------------------------------
def _wait_fd(fd, ms=100):
    if fd_readable(fd, ms):
        try:
            os.eventfd_read(fd)
        except BlockingIOError:
            pass


def wait_store(adapter, task_id, timeout=TIMEOUT, popped=None):
    """Wait for store @task_id; other results popped meanwhile go to @popped."""
    deadline = time.monotonic() + timeout
    while True:
        res = adapter.pop_completed_store_tasks()
        if popped is not None:
            popped.update(res)
        if task_id in res:
            return res[task_id]
        if popped is not None and task_id in popped:
            return popped[task_id]
        assert time.monotonic() < deadline, "store %d timed out" % task_id
        _wait_fd(adapter.get_store_event_fd())


def wait_query(adapter, kind, task_id, timeout=TIMEOUT):
    q = adapter.query_lookup_and_lock_result if kind == "lookup" else adapter.query_load_result
    fd = (adapter.get_lookup_and_lock_event_fd() if kind == "lookup"
          else adapter.get_load_event_fd())
    deadline = time.monotonic() + timeout
    while True:
        r = q(task_id)
        if r is not None:
            return r
        assert time.monotonic() < deadline, "%s %d timed out" % (kind, task_id)
        _wait_fd(fd)


def bits(bm, n):
    return [bool(bm.test(i)) for i in range(n)]


def store(adapter, keys, datas, offset=3):
    objs = [UBuf.of(d, offset) for d in datas]
    return wait_store(adapter, adapter.submit_store_task(keys, objs))


def lookup(adapter, keys):
    return bits(wait_query(adapter, "lookup", adapter.submit_lookup_and_lock_task(keys, {})),
                len(keys))


def load(adapter, keys, sizes, fill=0xAB):
    objs = [UBuf(n, 5, fill) for n in sizes]
    bm = wait_query(adapter, "load", adapter.submit_load_task(keys, objs))
    return bits(bm, len(keys)), [o.bytes() for o in objs]


class RecordingListener:
    def __init__(self):
        self.stored, self.accessed, self.deleted = [], [], []

    def on_l2_keys_stored(self, keys, sizes):
        self.stored.extend(zip(keys, sizes))

    def on_l2_keys_accessed(self, keys):
        self.accessed.extend(keys)

    def on_l2_keys_deleted(self, keys):
        self.deleted.extend(keys)
