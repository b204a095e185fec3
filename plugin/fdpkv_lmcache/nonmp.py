# SPDX-License-Identifier: LGPL-2.1-or-later
"""FdpKvStorageBackend - fdpkv as an LMCache non-MP (in-process) storage plugin.

LMCache's in-process mode (deprecated upstream, still deployed) loads it with::

    storage_plugins: ["fdpkv"]
    extra_config:
      storage_plugin.fdpkv.module_path: fdpkv_lmcache.nonmp
      storage_plugin.fdpkv.class_name: FdpKvStorageBackend
      storage_plugin.fdpkv.devices: "ng:/dev/ng0n1"   # + any library parameter

A thin wrapper over the same C extension (``_native.Cache``) the MP adapters
use, on the same device format and under the same key strings
(keys.engine_key_to_string), so a cache written in one mode is read in the
other after a restart.

Completions. The library has one eventfd. A private thread polls it and
drains, so blocking callers (worker and lookup-server threads) never depend
on LMCache's event loop; when a loop is given the eventfd is also added as a
reader on it, so async lookups and gets are resolved on the loop without a
thread hop. Both drain concurrently: the library hands each completion out
once and dispatch is serialised by ``_lock``.

Values. A put writes two objects per key: the value (the MemoryObj's bytes,
read in place; no copy when it lies in the registered LocalCPU arena and is
whole 4 KiB blocks) and a 4 KiB sidecar (keys.meta_key; format in _memobj.py)
with shape, dtype, format and cached_positions. A get reads the sidecar (cached in memory after
the first time), allocates through the LocalCPUBackend and reads the value
straight into the new object. Values written by the MP adapter have no
sidecar: their shape is derived from the value size and LMCacheMetadata.

Pins are the library's lock counts: counted (n pins need n unpins); a pinned
object survives eviction, and remove() of a pinned key returns False.
Eviction is the library's: FIFO by segment, with ``reinsert`` (default on
here) sparing objects read since they were written.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import errno
import logging
import os
import select
import threading
from collections import OrderedDict
from typing import Any, Callable, List, Optional, Sequence

from . import _native, _placement
from ._params import lib_params
from ._memobj import (META_BYTES, buffer_of, decode_meta, encode_meta, infer_layout,
                      logical_size, memory_format, obj_meta, restore_dtype, set_positions,
                      torch_module)
from .keys import engine_key_to_string, is_meta_key, meta_key

logger = logging.getLogger("fdpkv_lmcache")

try:  # pragma: no cover - depends on the deployment
    from lmcache.v1.storage_backend.abstract_backend import StoragePluginInterface
except ImportError:  # LMCache absent: a base with the same constructor
    class StoragePluginInterface:  # type: ignore[no-redef]
        def __init__(self, dst_device: str = "cpu", config=None, metadata=None,
                     local_cpu_backend=None, loop=None) -> None:
            self.dst_device = dst_device
            self.config = config
            self.metadata = metadata
            self.local_cpu_backend = local_cpu_backend
            self.loop = loop

_META_CACHE = 65536        # parsed sidecars kept in memory
_CLOSE_WAIT_S = 10.0       # close(): how long in-flight puts may take
_POLL_MS = 500
# Wrapper-level extra_config keys (everything else goes to the library).
_WRAPPER_PARAMS = ("module_path", "class_name", "l1_arena")


def _plugin_params(config, class_name: str) -> dict:
    """This plugin's `storage_plugin.<name>.*` keys of config.extra_config.
    The launcher does not pass the plugin's name: it is the entry of
    config.storage_plugins whose class_name is ours ("fdpkv" if none is)."""
    extra = dict(getattr(config, "extra_config", None) or {})
    names = [n for n in (getattr(config, "storage_plugins", None) or [])
             if extra.get("storage_plugin.%s.class_name" % n) == class_name]
    if len(names) > 1:
        raise ValueError("storage_plugins lists %s, all with class_name %s: fdpkv supports "
                         "one instance per engine" % (sorted(names), class_name))
    prefix = "storage_plugin.%s." % (names[0] if names else "fdpkv")
    return {k[len(prefix):]: v for k, v in extra.items() if k.startswith(prefix)}


def _bool_param(name: str, v) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.lower() in ("true", "false", "1", "0", "yes", "no"):
        return v.lower() in ("true", "1", "yes")
    raise ValueError("storage_plugin.fdpkv.%s must be a bool, got %r" % (name, v))


class _Waiter:
    """One submitted operation's completion, for a blocking caller."""
    __slots__ = ("event", "comp")

    def __init__(self):
        self.event = threading.Event()
        self.comp = None

    def __call__(self, comp):
        self.comp = comp
        self.event.set()


class _AsyncWaiter:
    """One submitted operation's completion, for a coroutine on @loop."""
    __slots__ = ("loop", "fut")

    def __init__(self, loop):
        self.loop = loop
        self.fut = loop.create_future()

    def _set(self, comp):
        if not self.fut.done():
            self.fut.set_result(comp)

    def __call__(self, comp):
        try:
            if asyncio.get_running_loop() is self.loop:
                self._set(comp)
                return
        except RuntimeError:
            pass
        try:
            self.loop.call_soon_threadsafe(self._set, comp)
        except RuntimeError:  # loop closed: nobody awaits any more
            pass


class _Put:
    """One batch of puts: the objects whose refs we hold until it completes."""
    __slots__ = ("keys", "strs", "objs", "sizes", "metas", "futures", "callback")

    def __init__(self, keys, strs, objs, sizes, metas, futures, callback):
        self.keys, self.strs, self.objs = keys, strs, objs
        self.sizes, self.metas, self.futures, self.callback = sizes, metas, futures, callback


class FdpKvStorageBackend(StoragePluginInterface):
    """An fdpkv cache as an LMCache non-MP storage plugin (thread-safe).

    Constructed by LMCache's storage_plugin_launcher with keywords only.
    Settings come from ``extra_config['storage_plugin.<name>.<param>']``:
    the library parameters of README.md (``devices`` required) and
    ``l1_arena`` (bool, default true: register the LocalCPU allocator's
    buffer so aligned values move without a copy). Raises ValueError/
    TypeError for bad settings, OSError for a device that cannot be opened,
    and ValueError without a local_cpu_backend (the scheduler role: it must
    not open the device the worker writes).
    """

    def __init__(self, dst_device: str = "cpu", config: Any = None, metadata: Any = None,
                 local_cpu_backend: Any = None, loop: Optional[asyncio.AbstractEventLoop] = None,
                 **kwargs: Any) -> None:
        self._cache = None
        self._closed = True
        super().__init__(dst_device=dst_device, config=config, metadata=metadata,
                         local_cpu_backend=local_cpu_backend, loop=loop)
        if kwargs:
            logger.debug("FdpKvStorageBackend: ignoring kwargs %s", sorted(kwargs))
        if local_cpu_backend is None:
            raise ValueError("FdpKvStorageBackend needs a local_cpu_backend (max_local_cpu_size"
                             " > 0); the scheduler role gets none and must not open the device")
        params = _plugin_params(config, type(self).__name__)
        use_arena = _bool_param("l1_arena", params.get("l1_arena", True))
        libp = dict((k, v) for k, v in params.items() if k not in _WRAPPER_PARAMS)
        libp.setdefault("reinsert", True)
        if "devices" not in libp:
            raise ValueError("storage_plugin.fdpkv.devices is required (e.g. ng:/dev/ng0n1)")
        self._lib_params = lib_params(libp)
        self._kv_dtype = getattr(metadata, "kv_dtype", None)

        self._lock = threading.Lock()
        self._ops: dict = {}              # library op id -> (handler, keys in the op)
        self._inflight: dict = {}         # key string -> _Put (puts not yet durable)
        self._index: dict = {}            # data key string -> value bytes
        self._metas: OrderedDict = OrderedDict()   # data key string -> parsed sidecar
        self._used = 0                    # value bytes of self._index
        self._pins = 0                    # pins held (pin() minus unpin())
        self._arena_id = None
        self._loop_reader = False
        self._thread = self._stop_fd = None

        self._cache = _native.Cache(self._lib_params)
        try:
            self._closed = False
            self._fd = self._cache.event_fd()
            self._stop_fd = os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
            _placement.warn_if_folded(self._cache, self._lib_params.get("device"),
                                      "FdpKvStorageBackend")
            if use_arena:
                self._register_arena()
            for s, vlen in self._cache.keys():   # what survived a restart
                if not is_meta_key(s):
                    self._index[s] = vlen
                    self._used += vlen
            self._cache.take_evicted()
            self._thread = threading.Thread(target=self._run, name="fdpkv-nonmp", daemon=True)
            self._thread.start()
            if loop is not None and not loop.is_closed():
                self._add_loop_reader(loop)
        except BaseException:
            self._closed = True
            if getattr(self, "_thread", None) is not None:
                os.eventfd_write(self._stop_fd, 1)
                self._thread.join(_CLOSE_WAIT_S)
            self._cache.close()
            if getattr(self, "_stop_fd", None) is not None:
                os.close(self._stop_fd)
            raise

    # ----------------------------------------------------------- plumbing
    def _register_arena(self) -> None:
        """Register the LocalCPU allocator's buffer (a torch tensor in LMCache:
        memory_allocator[.pin_allocator].buffer) as a library arena."""
        alloc = getattr(self.local_cpu_backend, "memory_allocator", None)
        for a in (alloc, getattr(alloc, "pin_allocator", None)):
            buf = getattr(a, "buffer", None)
            if buf is None or not callable(getattr(buf, "data_ptr", None)):
                continue
            try:
                size = int(buf.numel()) * int(buf.element_size())
                self._arena_id = self._cache.register_arena(int(buf.data_ptr()), size)
                return
            except (OSError, ValueError, TypeError, AttributeError) as e:
                logger.warning("fdpkv: LocalCPU buffer not registered (%s); values are copied", e)
                return

    def _add_loop_reader(self, loop) -> None:
        def add():
            loop.add_reader(self._fd, self._on_readable)
            self._loop_reader = True
        try:
            on_loop = asyncio.get_running_loop() is loop
        except RuntimeError:
            on_loop = False
        if loop.is_running() and not on_loop:
            fut = concurrent.futures.Future()

            def run():
                try:
                    add()
                    fut.set_result(None)
                except BaseException as e:  # noqa: BLE001
                    fut.set_exception(e)
            loop.call_soon_threadsafe(run)
            try:
                fut.result(timeout=_CLOSE_WAIT_S)
            except concurrent.futures.TimeoutError:
                logger.warning("fdpkv: event loop busy; completions go through the thread only")
        else:
            add()

    def _remove_loop_reader(self) -> None:
        loop = self.loop
        if not self._loop_reader or loop is None or loop.is_closed():
            return
        try:
            if loop.is_running():
                try:
                    on_loop = asyncio.get_running_loop() is loop
                except RuntimeError:
                    on_loop = False
                if on_loop:
                    loop.remove_reader(self._fd)
                else:
                    asyncio.run_coroutine_threadsafe(self._remove_reader_coro(), loop).result(
                        timeout=_CLOSE_WAIT_S)
            else:
                loop.remove_reader(self._fd)
            self._loop_reader = False
        except Exception:  # noqa: BLE001 - a stuck loop must not stop close()
            logger.warning("fdpkv: could not remove the eventfd reader from the loop")

    async def _remove_reader_coro(self):
        self.loop.remove_reader(self._fd)

    def _run(self) -> None:
        p = select.poll()
        p.register(self._fd, select.POLLIN)
        p.register(self._stop_fd, select.POLLIN)
        while True:
            try:
                events = p.poll(_POLL_MS)
            except InterruptedError:
                continue
            if any(fd == self._stop_fd for fd, _ in events):
                return
            if events:
                self._drain()

    def _on_readable(self) -> None:
        self._drain()

    def _drain(self) -> None:
        """Take queued completions and hand each to its handler (any thread)."""
        try:
            comps = self._cache.drain()
        except Exception:  # noqa: BLE001 - closed meanwhile
            return
        handlers = []
        with self._lock:
            for comp in comps:
                h = self._ops.pop(comp[0], (None,))[0]
                if h is None:
                    logger.warning("fdpkv: completion for unknown op %d dropped", comp[0])
                else:
                    handlers.append((h, comp))
            if comps:
                self._sync_evicted()
        for h, comp in handlers:
            try:
                h(comp)
            except Exception:  # noqa: BLE001
                logger.exception("fdpkv: completion handler failed")

    def _sync_evicted(self) -> None:
        """Drop what the library evicted by itself. Caller holds _lock."""
        try:
            for s, _vlen in self._cache.take_evicted():
                self._forget(s)
        except ValueError:  # closed
            pass

    def _forget(self, s: str) -> None:
        """Drop @s (data or sidecar key) from the index. Caller holds _lock."""
        if is_meta_key(s):
            return
        vlen = self._index.pop(s, None)
        if vlen is not None:
            self._used -= vlen
        self._metas.pop(s, None)

    def _submit(self, op, strs, bufs, handler) -> None:
        """Submit under _lock so the completion finds its handler."""
        with self._lock:
            if self._closed:
                raise ValueError("operation on a closed FdpKvStorageBackend")
            lid = self._cache.submit(op, strs, bufs)
            self._ops[lid] = (handler, len(strs))

    def _run_sync(self, op, strs, bufs=None):
        """Submit and wait (blocking caller). Returns (id, op, result, status, vlen)."""
        w = _Waiter()
        self._submit(op, strs, bufs, w)
        w.event.wait()
        return w.comp

    async def _run_async(self, op, strs, bufs=None):
        w = _AsyncWaiter(asyncio.get_running_loop())
        self._submit(op, strs, bufs, w)
        return await w.fut

    def _key(self, key) -> Optional[str]:
        try:
            return engine_key_to_string(key, self._kv_dtype)
        except (ValueError, TypeError) as e:
            logger.warning("fdpkv: key %r cannot be stored: %s", key, e)
            return None

    # ----------------------------------------------------------------- put
    def batched_submit_put_task(self, keys: Sequence[Any], objs: List[Any],
                                transfer_spec: Any = None,
                                on_complete_callback: Optional[Callable[[Any], None]] = None
                                ) -> Optional[List[concurrent.futures.Future]]:
        """Write @objs under @keys without waiting for I/O. Keys already held or
        in flight are skipped (no ref taken). Each written obj keeps one ref
        until its write completes; then the ref is dropped once and
        @on_complete_callback(key) runs for each key stored. Returns one Future
        (result: stored or not) per key written, or None if none was."""
        if len(keys) != len(objs):
            raise ValueError("length mismatch: %d keys, %d objs" % (len(keys), len(objs)))
        with self._lock:
            if self._closed:
                logger.warning("fdpkv: put of %d keys after close ignored", len(keys))
                return None
        todo = []
        for key, obj in zip(keys, objs):
            s = self._key(key)
            if s is None:
                continue
            try:
                n = logical_size(obj)
                meta = obj_meta(obj)
                raw = encode_meta(meta)
                buf = buffer_of(obj, n)
                if buf.nbytes != n:
                    raise ValueError("byte_array holds %d of its %d bytes" % (buf.nbytes, n))
            except (ValueError, TypeError, AttributeError) as e:
                logger.warning("fdpkv: put of %r skipped: %s", key, e)
                continue
            todo.append((key, s, obj, n, meta, raw, buf))
        put_keys, strs, objs_held, sizes, metas, bufs, futs = [], [], [], [], [], [], []
        seen = set()
        with self._lock:
            if self._closed:
                return None
            for key, s, obj, n, meta, raw, buf in todo:
                if s in self._inflight or s in self._index or s in seen:
                    continue    # dedup: no second write, no ref
                obj.ref_count_up()
                put_keys.append(key)
                seen.add(s)
                strs.append(s)
                objs_held.append(obj)
                sizes.append(n)
                metas.append(meta)
                bufs.append(buf)
                bufs.append(raw)
                futs.append(concurrent.futures.Future())
            if not strs:
                return None
            rec = _Put(put_keys, strs, objs_held, sizes, metas, futs, on_complete_callback)
            lib_keys = []
            for s in strs:
                lib_keys.append(s)
                lib_keys.append(meta_key(s))
            try:
                lid = self._cache.submit(_native.OP_SET, lib_keys, bufs)
                for s in strs:
                    self._inflight[s] = rec
                self._ops[lid] = (lambda comp, rec=rec: self._put_done(rec, comp), len(lib_keys))
                return futs
            except Exception:  # noqa: BLE001 - nothing was submitted: give back below
                logger.exception("fdpkv: put of %d keys failed", len(strs))
        for obj, f in zip(objs_held, futs):
            obj.ref_count_down()
            f.set_result(False)
        return None

    def _put_done(self, rec: _Put, comp) -> None:
        status = comp[3]
        stored = []
        with self._lock:
            for i, s in enumerate(rec.strs):
                # The value decides: without its sidecar (lost to an error)
                # a read derives the layout from the size (_infer_layout).
                ok = status[2 * i] == 0
                if self._inflight.get(s) is rec:
                    del self._inflight[s]
                if ok:
                    if s not in self._index:
                        self._index[s] = rec.sizes[i]
                        self._used += rec.sizes[i]
                    if status[2 * i + 1] == 0:
                        self._remember_meta(s, rec.metas[i])
                stored.append(ok)
        for i, obj in enumerate(rec.objs):
            try:
                obj.ref_count_down()
            except Exception:  # noqa: BLE001
                logger.exception("fdpkv: ref_count_down failed")
            if stored[i] and rec.callback is not None:
                try:
                    rec.callback(rec.keys[i])
                except Exception:  # noqa: BLE001 - the contract: catch and log
                    logger.exception("fdpkv: on_complete_callback raised")
            if not stored[i] and status[2 * i] not in (0, -errno.ESHUTDOWN):
                logger.warning("fdpkv: put of %s failed: %s", rec.strs[i],
                               os.strerror(-status[2 * i]))
            rec.futures[i].set_result(stored[i])

    def _remember_meta(self, s: str, meta: dict) -> None:
        """Caller holds _lock."""
        self._metas[s] = meta
        self._metas.move_to_end(s)
        while len(self._metas) > _META_CACHE:
            self._metas.popitem(last=False)

    def exists_in_put_tasks(self, key) -> bool:
        s = self._key(key)
        with self._lock:
            return s is not None and s in self._inflight

    # -------------------------------------------------------------- lookup
    def contains(self, key, pin: bool = False) -> bool:
        return self.batched_contains([key], pin) == 1

    def batched_contains(self, keys: List[Any], pin: bool = False) -> int:
        """How many of @keys, from the first, are held. With @pin exactly
        those are pinned (one library lock each)."""
        strs = self._lookup_strs(keys)
        if not strs:
            return 0
        return self._prefix(strs, self._run_sync(self._lookup_op(pin), strs), pin)

    async def batched_async_contains(self, lookup_id: str, keys: List[Any],
                                     pin: bool = False) -> int:
        strs = self._lookup_strs(keys)
        if not strs:
            return 0
        return self._prefix(strs, await self._run_async(self._lookup_op(pin), strs), pin)

    @staticmethod
    def _lookup_op(pin):
        return _native.OP_LOOKUP_LOCK if pin else _native.OP_EXISTS

    def _lookup_strs(self, keys) -> list:
        """Key strings of @keys up to the first one not in the index."""
        strs = []
        with self._lock:
            if self._closed:
                return []
            self._sync_evicted()
            for k in keys:
                s = self._key(k)
                if s is None or s not in self._index:
                    break
                strs.append(s)
        return strs

    def _prefix(self, strs, comp, pinned) -> int:
        status = comp[3]
        n = 0
        while n < len(status) and status[n] == 0:
            n += 1
        if pinned:
            extra = [s for s, st in zip(strs[n:], status[n:]) if st == 0]
            if extra:   # locked beyond the first miss: give those back
                self._cache.unlock(extra)
            with self._lock:
                self._pins += n
        return n

    def pin(self, key) -> bool:
        return self.contains(key, pin=True)

    def unpin(self, key) -> bool:
        s = self._key(key)
        with self._lock:
            if s is None or self._closed or s not in self._index:
                return False
            self._pins = max(0, self._pins - 1)
        self._cache.unlock([s])
        return True

    # ----------------------------------------------------------------- get
    def get_blocking(self, key) -> Optional[Any]:
        return self.batched_get_blocking([key])[0]

    def batched_get_blocking(self, keys: List[Any]) -> List[Optional[Any]]:
        """Objects for the leading hits of @keys (allocated from the
        LocalCPUBackend, ref_count 1, owned by the caller), None from the
        first miss on; always len(keys) entries."""
        gen = self._read(keys, busy_loop=True)
        try:
            req = next(gen)
            while True:
                req = gen.send(self._run_sync(*req))
        except StopIteration as stop:
            objs = stop.value
        except ValueError:      # closed meanwhile: nothing was submitted
            gen.close()
            objs = []
        return objs + [None] * (len(keys) - len(objs))

    async def batched_get_non_blocking(self, lookup_id: str, keys: List[Any],
                                       transfer_spec: Any = None) -> List[Any]:
        """The objects of the leading hits of @keys (possibly fewer than
        keys), read without blocking the loop: submits return at once and
        completions arrive through the loop's reader on the eventfd. The
        allocator is asked with busy_loop=False; a failed allocation ends
        the prefix."""
        gen = self._read(keys, busy_loop=False)
        try:
            req = next(gen)
            while True:
                w = _AsyncWaiter(asyncio.get_running_loop())
                try:
                    self._submit(req[0], req[1], req[2], w)
                except ValueError:      # closed meanwhile: nothing was submitted
                    gen.close()
                    return []
                try:
                    comp = await asyncio.shield(w.fut)
                except asyncio.CancelledError:
                    # The library still writes into our objects: free them
                    # (gen.close) only once the read has completed.
                    w.fut.add_done_callback(lambda _f: gen.close())
                    raise
                req = gen.send(comp)
        except StopIteration as stop:
            return stop.value

    def _read(self, keys, busy_loop: bool):
        """The read as a generator of (op, keys, bufs) requests, driven by
        a blocking or an async caller; returns the list of objects of the
        leading hits. Objects not returned are freed (finally) - after
        their read completed, as the drivers guarantee."""
        strs = self._lookup_strs(keys)
        keys = list(keys)[:len(strs)]
        if not strs:
            return []
        with self._lock:
            metas = [self._metas.get(s) for s in strs]
            vlens = [self._index.get(s) for s in strs]
        objs = []
        handed = False
        try:
            need = [i for i, m in enumerate(metas) if m is None]
            if need:
                raws = [bytearray(META_BYTES) for _ in need]
                comp = yield (_native.OP_GET, [meta_key(strs[i]) for i in need], raws)
                for j, i in enumerate(need):
                    if comp[3][j] == 0:
                        metas[i] = decode_meta(bytes(raws[j]))
                        if metas[i] is not None:
                            with self._lock:
                                self._remember_meta(strs[i], metas[i])
            for i, s in enumerate(strs):
                obj = self._allocate(keys[i], metas[i], vlens[i], busy_loop)
                if obj is None:
                    break
                objs.append(obj)
            if not objs:
                return []
            n = len(objs)
            bufs = [buffer_of(o, vlens[i]) for i, o in enumerate(objs)]
            comp = yield (_native.OP_GET, strs[:n], bufs)
            status = comp[3]
            hit = 0
            while hit < n and status[hit] == 0:
                hit += 1
            for i in range(hit):
                pos = (metas[i] or {}).get("pos")
                if pos is not None:
                    set_positions(objs[i], pos)
            handed = True
            out, objs = objs[:hit], objs[hit:]
            return out
        finally:
            if not handed or objs:
                for o in objs:
                    try:
                        o.ref_count_down()
                    except Exception:  # noqa: BLE001
                        logger.exception("fdpkv: ref_count_down failed")

    def _allocate(self, key, meta, vlen, busy_loop):
        """A LocalCPU object of exactly @vlen bytes for @key, or None."""
        if vlen is None:
            return None
        if meta is not None and meta.get("shape") is not None and meta.get("nbytes") == vlen:
            shape = tuple(meta["shape"])
            dtype = restore_dtype(meta.get("dtype"), key, self.metadata)
            fmt = memory_format(meta.get("fmt"))
        else:
            guess = infer_layout(self.metadata, key, vlen)
            if guess is None:
                return None
            shape, dtype, fmt = guess
        torch = torch_module()
        if torch is not None:
            shape = torch.Size(shape)
        try:
            obj = self.local_cpu_backend.allocate(shape, dtype, fmt=fmt, eviction=True,
                                                  busy_loop=busy_loop)
        except TypeError:   # older LocalCPUBackend.allocate without busy_loop
            obj = self.local_cpu_backend.allocate(shape, dtype, fmt)
        except Exception:  # noqa: BLE001 - an allocator failure is a miss
            logger.exception("fdpkv: allocation for %r failed", key)
            return None
        if obj is None:
            return None
        if logical_size(obj) != vlen:
            logger.warning("fdpkv: allocator gave %d bytes for a %d-byte value of %r",
                           logical_size(obj), vlen, key)
            obj.ref_count_down()
            return None
        return obj

    def get_non_blocking(self, key, location: Optional[str] = None):
        return None

    def submit_prefetch_task(self, key) -> bool:
        return False

    # -------------------------------------------------------------- remove
    def remove(self, key, force: bool = True) -> bool:
        """Delete @key; True if it was held. A pinned key is not removed."""
        return self.batched_remove([key], force) == 1

    def batched_remove(self, keys: List[Any], force: bool = True) -> int:
        strs = []
        with self._lock:
            if self._closed:
                return 0
        for k in keys:
            s = self._key(k)
            if s is not None and s not in strs:
                strs.append(s)
        if not strs:
            return 0
        lib_keys = []
        for s in strs:
            lib_keys += [s, meta_key(s)]
        status = self._run_sync(_native.OP_DELETE, lib_keys)[3]
        n = 0
        with self._lock:
            for i, s in enumerate(strs):
                st = status[2 * i]
                if st == 0:
                    n += 1
                if st in (0, -errno.ENOENT):
                    self._forget(s)
        return n

    # ---------------------------------------------------------------- misc
    def get_allocator_backend(self):
        return self.local_cpu_backend

    def touch_cache(self) -> None:
        """Recency is the library's (reads mark objects for re-insertion)."""

    def cancel_request(self, req_id: str) -> None:
        pass

    def usage(self) -> dict:
        """Value bytes and keys this backend holds, pins, puts in flight, and
        whether aligned values go without a copy (arena registered)."""
        with self._lock:
            if not self._closed:
                self._sync_evicted()
            return {"bytes_used": self._used, "keys": len(self._index), "pins": self._pins,
                    "puts_in_flight": len(self._inflight),
                    "arena_registered": self._arena_id is not None}

    def stats(self) -> dict:
        """The library's counters (hits, direct_bytes, evicted_objects, ...)."""
        return self._cache.stats()

    def __str__(self) -> str:
        return "FdpKvStorageBackend(%s)" % (self._lib_params.get("device") if self._cache else "")

    # --------------------------------------------------------------- close
    def close(self) -> None:
        """Wait (up to 10 s) for puts in flight, then stop the thread, leave
        the loop, close the cache (it waits for I/O still running and drops
        every pin) and give back every ref still held. Idempotent; later
        calls return None/False/0 or raise ValueError (submits)."""
        with self._lock:
            if self._closed or self._cache is None:
                return
            puts = {id(r): r for r in self._inflight.values()}
        pending = [f for rec in puts.values() for f in rec.futures]
        concurrent.futures.wait(pending, timeout=_CLOSE_WAIT_S)
        with self._lock:
            self._closed = True
        os.eventfd_write(self._stop_fd, 1)
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=_CLOSE_WAIT_S)
        self._remove_loop_reader()
        self._drain()
        self._cache.close()
        with self._lock:
            left, self._ops = self._ops, {}
        for lid, (h, n) in left.items():   # their I/O is over: fail them
            try:
                h((lid, 0, -errno.ESHUTDOWN, [-errno.ESHUTDOWN] * n, [0] * n))
            except Exception:  # noqa: BLE001
                logger.exception("fdpkv: completion handler failed at close")
        os.close(self._stop_fd)

    def __del__(self) -> None:
        try:
            if not getattr(self, "_closed", True):
                self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass
