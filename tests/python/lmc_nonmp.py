# SPDX-License-Identifier: LGPL-2.1-or-later
"""Stand-ins for the LMCache classes a non-MP storage plugin meets, written
from /work/shared/docs/LMCACHE_NONMP_CONTRACT.md (section numbers below):
CacheEngineKey (5), MemoryObj / the LocalCPU allocator (5), LMCacheEngineConfig
and LMCacheMetadata (3), StorageBackendInterface / StoragePluginInterface (2),
storage_plugin_launcher / CreateStorageBackends (1, 3) and a StorageManager
with its own event-loop thread (4).

install() registers them as the lmcache modules the plugin imports
(lmcache.v1.storage_backend.abstract_backend, lmcache.v1.memory_management),
unless a real LMCache is importable, so that fdpkv_lmcache.nonmp subclasses
the same StoragePluginInterface the tests check against.
"""
from __future__ import annotations

import abc
import asyncio
import ctypes
import dataclasses
import enum
import importlib
import json
import logging
import mmap
import re
import sys
import threading
import types
from collections import OrderedDict
from typing import Optional

logger = logging.getLogger("lmcache-standin")

ALIGN = 4096


# ---- dtypes (torch.dtype's str and itemsize) --------------------------------
class Dtype:
    def __init__(self, name: str, itemsize: int):
        self.name, self.itemsize = name, itemsize

    def __str__(self):
        return "torch." + self.name

    __repr__ = __str__


BF16 = Dtype("bfloat16", 2)
F16 = Dtype("float16", 2)
F32 = Dtype("float32", 4)


class MemoryFormat(enum.Enum):
    UNDEFINED = 0
    KV_2LTD = 1
    KV_T2D = 2
    KV_MLA_FMT = 3
    BINARY = 4


# ---- CacheEngineKey (lmcache/utils.py) ---------------------------------------
@dataclasses.dataclass(slots=True)
class CacheEngineKey:
    model_name: str
    world_size: int
    worker_id: int
    chunk_hash: object
    dtype: object
    request_configs: Optional[dict] = None

    @property
    def tags(self):
        rc = self.request_configs or {}
        return tuple(sorted((k[len("lmcache.tag."):], str(v)) for k, v in rc.items()
                            if k.startswith("lmcache.tag.")))

    def chunk_hash_hex(self) -> str:
        h = self.chunk_hash
        return h.hex() if isinstance(h, bytes) else "%x" % h

    def _id(self):
        return (self.model_name, self.world_size, self.worker_id, self.chunk_hash,
                str(self.dtype), self.tags)

    def __hash__(self):
        return hash(self._id())

    def __eq__(self, other):
        return isinstance(other, CacheEngineKey) and self._id() == other._id()

    def to_string(self) -> str:
        s = "%s@%d@%d@%s@%s" % (self.model_name, self.world_size, self.worker_id,
                                self.chunk_hash_hex(), str(self.dtype).replace("torch.", ""))
        return s + "".join("@%s%%%s" % kv for kv in self.tags)


@dataclasses.dataclass(slots=True, eq=False)
class LayerCacheEngineKey(CacheEngineKey):
    layer_id: int = 0

    def _id(self):
        return CacheEngineKey._id(self) + (self.layer_id,)

    def __hash__(self):
        return hash(self._id())


def ekey(i: int, model="org/llama-3", ws=1, wid=0, dtype=BF16, tags=None, hash_bytes=False):
    """A CacheEngineKey with a deterministic chunk hash (an int, or 32 bytes)."""
    import hashlib
    d = hashlib.sha256(b"chunk%d" % i).digest()
    h = d if hash_bytes else int.from_bytes(d[:8], "big", signed=True)
    rc = {"lmcache.tag." + k: v for k, v in (tags or {}).items()} or None
    return CacheEngineKey(model, ws, wid, h, dtype, rc)


# ---- MemoryObj and the pinned allocator --------------------------------------
@dataclasses.dataclass
class MemoryObjMetadata:
    shape: tuple
    dtype: object
    address: int
    phy_size: int
    ref_count: int
    fmt: MemoryFormat = MemoryFormat.KV_2LTD
    cached_positions: object = None
    pin_count: int = 0


def nbytes_of(shape, dtype) -> int:
    n = dtype.itemsize
    for d in shape:
        n *= int(d)
    return n


class TensorMemoryObj:
    """byte_array spans the physical (4 KiB-rounded) size, as newer LMCache."""

    def __init__(self, allocator, shape, dtype, fmt, address, phy_size):
        self.allocator = allocator
        self.metadata = MemoryObjMetadata(tuple(shape), dtype, address, phy_size, 1, fmt)
        self._lock = threading.Lock()

    @property
    def meta(self):
        return self.metadata

    def get_size(self) -> int:
        return nbytes_of(self.metadata.shape, self.metadata.dtype)

    def get_physical_size(self) -> int:
        return self.metadata.phy_size

    def get_shape(self):
        return self.metadata.shape

    def get_dtype(self):
        return self.metadata.dtype

    def get_memory_format(self):
        return self.metadata.fmt

    @property
    def data_ptr(self) -> int:
        return self.allocator.base + self.metadata.address

    @property
    def byte_array(self) -> memoryview:
        a = self.metadata.address
        return self.allocator.view[a:a + self.metadata.phy_size]

    def ref_count_up(self):
        with self._lock:
            assert self.metadata.ref_count > 0, "ref_count_up on a freed object"
            self.metadata.ref_count += 1

    def ref_count_down(self):
        with self._lock:
            assert self.metadata.ref_count > 0, "ref_count_down below 0"
            self.metadata.ref_count -= 1
            free = self.metadata.ref_count == 0
        if free:
            self.allocator.free(self)

    def get_ref_count(self) -> int:
        return self.metadata.ref_count


class _TensorLike:
    """What the plugin reads of LMCache's allocator buffer (a torch tensor)."""

    def __init__(self, ptr, n):
        self._ptr, self._n = ptr, n

    def data_ptr(self):
        return self._ptr

    def numel(self):
        return self._n

    def element_size(self):
        return 1


class PinnedAllocator:
    """First-fit allocator over one page-aligned arena; counts allocs/frees."""

    def __init__(self, size=8 << 20):
        self.size = size
        self.mm = mmap.mmap(-1, size)
        self.view = memoryview(self.mm)
        self._anchor = ctypes.c_char.from_buffer(self.mm)
        self.base = ctypes.addressof(self._anchor)
        self.buffer = _TensorLike(self.base, size)
        self.lock = threading.Lock()
        self.free_list = [(0, size)]
        self.live = {}
        self.allocs = self.frees = 0
        self.fail_next = 0

    def allocate(self, shape, dtype, fmt):
        need = nbytes_of(shape, dtype)
        phy = -(-max(need, 1) // ALIGN) * ALIGN
        with self.lock:
            if self.fail_next:
                self.fail_next -= 1
                return None
            for i, (off, n) in enumerate(self.free_list):
                if n >= phy:
                    self.free_list[i] = (off + phy, n - phy)
                    obj = TensorMemoryObj(self, shape, dtype, fmt, off, phy)
                    self.live[id(obj)] = obj
                    self.allocs += 1
                    return obj
        return None

    def free(self, obj):
        with self.lock:
            assert self.live.pop(id(obj), None) is obj, "double free"
            self.frees += 1
            self.free_list.append((obj.metadata.address, obj.metadata.phy_size))
            self.free_list.sort()
            merged = []
            for off, n in self.free_list:
                if merged and merged[-1][0] + merged[-1][1] == off:
                    merged[-1] = (merged[-1][0], merged[-1][1] + n)
                else:
                    merged.append((off, n))
            self.free_list = merged


class LocalCPUBackend:
    """The hot cache and allocator: allocate() as in local_cpu_backend.py."""

    def __init__(self, config, metadata, allocator=None):
        self.config, self.metadata = config, metadata
        self.memory_allocator = allocator or PinnedAllocator()
        self.hot = OrderedDict()
        self.allocate_calls = []   # (shape, busy_loop)
        self.lock = threading.Lock()

    def allocate(self, shapes, dtypes, fmt=None, eviction=True, busy_loop=True):
        shape = shapes[0] if isinstance(shapes, list) else shapes
        dtype = dtypes[0] if isinstance(dtypes, list) else dtypes
        self.allocate_calls.append((tuple(shape), busy_loop))
        return self.memory_allocator.allocate(shape, dtype, fmt or MemoryFormat.KV_2LTD)

    def get_full_chunk_size_bytes(self) -> int:
        return nbytes_of(full_shape(self.metadata), self.metadata.kv_dtype)

    def submit_put_task(self, key, obj):
        obj.ref_count_up()
        with self.lock:
            old = self.hot.pop(key, None)
            self.hot[key] = obj
        if old is not None:
            old.ref_count_down()

    def clear(self):
        with self.lock:
            objs, self.hot = list(self.hot.values()), OrderedDict()
        for o in objs:
            o.ref_count_down()

    def close(self):
        self.clear()


# ---- config and metadata (section 3) -----------------------------------------
@dataclasses.dataclass
class LMCacheEngineConfig:
    chunk_size: int = 256
    local_cpu: bool = True
    max_local_cpu_size: float = 5
    storage_plugins: Optional[list] = None
    extra_config: Optional[dict] = None
    enable_pd: bool = False
    enable_async_loading: bool = False

    @classmethod
    def from_dict(cls, d: dict) -> "LMCacheEngineConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


@dataclasses.dataclass
class LMCacheMetadata:
    model_name: str = "org/llama-3"
    world_size: int = 1
    worker_id: int = 0
    fmt: str = "vllm"
    kv_dtype: object = BF16
    kv_shape: tuple = (4, 2, 16, 2, 64)   # layers, K/V, chunk tokens, heads, head size
    use_mla: bool = False
    role: str = "worker"


def full_shape(md, tokens=None):
    layers, kv, chunk, heads, hs = md.kv_shape
    return (kv, layers, chunk if tokens is None else tokens, heads * hs)


# ---- the base classes (section 2) ---------------------------------------------
class StorageBackendInterface(metaclass=abc.ABCMeta):
    def __init__(self, dst_device="cpu"):
        self.dst_device = dst_device

    @abc.abstractmethod
    def contains(self, key, pin=False): ...

    @abc.abstractmethod
    def exists_in_put_tasks(self, key): ...

    @abc.abstractmethod
    def batched_submit_put_task(self, keys, objs, transfer_spec=None,
                                on_complete_callback=None): ...

    @abc.abstractmethod
    def get_blocking(self, key): ...

    @abc.abstractmethod
    def pin(self, key): ...

    @abc.abstractmethod
    def unpin(self, key): ...

    @abc.abstractmethod
    def remove(self, key, force=True): ...

    @abc.abstractmethod
    def get_allocator_backend(self): ...

    @abc.abstractmethod
    def close(self): ...

    def batched_contains(self, keys, pin=False):
        n = 0
        for k in keys:
            if not self.contains(k, pin):
                break
            n += 1
        return n

    async def batched_async_contains(self, lookup_id, keys, pin=False):
        raise NotImplementedError

    async def batched_get_non_blocking(self, lookup_id, keys, transfer_spec=None):
        raise NotImplementedError

    def batched_get_blocking(self, keys):
        return [self.get_blocking(k) for k in keys]

    def get_non_blocking(self, key, location=None):
        raise NotImplementedError

    def batched_remove(self, keys, force=True):
        return sum(1 for k in keys if self.remove(k, force))

    def touch_cache(self):
        raise NotImplementedError

    def cancel_request(self, req_id):
        pass


class StoragePluginInterface(StorageBackendInterface):
    def __init__(self, dst_device="cpu", config=None, metadata=None, local_cpu_backend=None,
                 loop=None):
        super().__init__(dst_device=dst_device)
        self.config = config
        self.metadata = metadata
        self.local_cpu_backend = local_cpu_backend
        self.loop = loop


# ---- loading (sections 1 and 3) -----------------------------------------------
def storage_plugin_launcher(config, metadata, loop, local_cpu_backend, dst_device,
                            storage_backends):
    """As LMCache's: errors from import or constructor are logged, not raised."""
    extra = config.extra_config or {}
    for name in set(config.storage_plugins or []):
        try:
            module_path = extra["storage_plugin.%s.module_path" % name]
            class_name = extra["storage_plugin.%s.class_name" % name]
            cls = getattr(importlib.import_module(module_path), class_name)
            backend = cls(config=config, dst_device=dst_device, metadata=metadata,
                          local_cpu_backend=local_cpu_backend, loop=loop)
            storage_backends[name] = backend
        except Exception:  # noqa: BLE001 - LMCache logs and goes on
            logger.exception("Failed to load storage plugin %s", name)


def CreateStorageBackends(config, metadata, loop, dst_device="cpu"):
    backends = OrderedDict()
    local_cpu = None
    if config.max_local_cpu_size > 0 and metadata.role != "scheduler":
        local_cpu = LocalCPUBackend(config, metadata)
        backends["LocalCPUBackend"] = local_cpu
    if not config.enable_pd or config.local_cpu:
        storage_plugin_launcher(config, metadata, loop, local_cpu, dst_device, backends)
    return backends


class PluginMissing(AssertionError):
    pass


def require_plugin(backends, name="fdpkv"):
    """LMCache only logs a plugin that failed to load: fail loudly instead."""
    if name not in backends:
        raise PluginMissing("storage plugin %r was not loaded (see the log: LMCache swallows "
                            "its import/constructor error); loaded: %s" % (name, list(backends)))
    return backends[name]


# ---- StorageManager (section 4) ----------------------------------------------
class StorageManager:
    """Its own loop in thread "storage-manager-event-loop"; the backends."""

    def __init__(self, config, metadata):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever,
                                       name="storage-manager-event-loop", daemon=True)
        self.thread.start()
        self.config = config
        self.storage_backends = CreateStorageBackends(config, metadata, self.loop)
        self.local_cpu_backend = self.storage_backends.get("LocalCPUBackend")

    def batched_put(self, keys, objs):
        for name, b in self.storage_backends.items():
            if name == "LocalCPUBackend":
                if self.config.local_cpu:
                    for k, o in zip(keys, objs):
                        b.submit_put_task(k, o)
                continue
            b.batched_submit_put_task(keys, objs)
        for o in objs:
            o.ref_count_down()

    def batched_get(self, keys, location):
        objs = self.storage_backends[location].batched_get_blocking(keys)
        if all(o is not None for o in objs) and self.config.local_cpu:
            for k, o in zip(keys, objs):
                self.local_cpu_backend.submit_put_task(k, o)
        return objs

    def batched_contains(self, keys, pin=False):
        for name, b in self.storage_backends.items():
            if name == "LocalCPUBackend":
                continue
            n = b.batched_contains(keys, pin)
            if n:
                return n, name
        return 0, None

    def batched_unpin(self, keys, locations):
        for loc in locations:
            for k in keys:
                self.storage_backends[loc].unpin(k)

    def remove(self, key, locations=None):
        n = 0
        for name, b in self.storage_backends.items():
            if name != "LocalCPUBackend" and (locations is None or name in locations):
                n += bool(b.remove(key))
        return n

    def run(self, coro, timeout=30):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self):
        for name, b in self.storage_backends.items():
            b.close()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


# ---- the README's YAML -------------------------------------------------------
def readme_yaml(path) -> dict:
    """The ```yaml block under 'non-MP' in @path, parsed (flat mapping with one
    nested mapping, extra_config: what LMCache's config file holds)."""
    text = open(path).read()
    m = re.search(r"```yaml\n(.*?)```", text[text.index("## non-MP"):], re.S)
    out, cur = {}, None
    for line in m.group(1).splitlines():
        line = line.split(" #", 1)[0].rstrip()
        if not line.strip():
            continue
        k, _, v = line.strip().partition(":")
        v = v.strip()
        val = json.loads(v) if v[:1] in ('"', "[") else (
            {"true": True, "false": False}.get(v, int(v) if v.isdigit() else v))
        if line.startswith(" "):
            out[cur][k] = val
        elif v == "":
            cur = k
            out[k] = {}
        else:
            out[k] = val
    return out


# ---- module registration -----------------------------------------------------
def install() -> bool:
    """Register the stand-ins as lmcache modules unless LMCache is importable.
    Returns True if the stand-ins are in use."""
    try:
        importlib.import_module("lmcache.v1.storage_backend.abstract_backend")
        return False
    except ImportError:
        pass

    def mod(name, pkg=True, **attrs):
        m = sys.modules.get(name) or types.ModuleType(name)
        if pkg and not hasattr(m, "__path__"):
            m.__path__ = []
        m.__dict__.update(attrs)
        sys.modules[name] = m
        return m

    mod("lmcache")
    mod("lmcache.v1")
    mod("lmcache.utils", False, CacheEngineKey=CacheEngineKey,
        LayerCacheEngineKey=LayerCacheEngineKey)
    mod("lmcache.v1.memory_management", False, MemoryFormat=MemoryFormat,
        TensorMemoryObj=TensorMemoryObj, MemoryObjMetadata=MemoryObjMetadata)
    mod("lmcache.v1.storage_backend", storage_plugin_launcher=storage_plugin_launcher,
        CreateStorageBackends=CreateStorageBackends)
    mod("lmcache.v1.storage_backend.abstract_backend", False,
        StorageBackendInterface=StorageBackendInterface,
        StoragePluginInterface=StoragePluginInterface)
    return True
