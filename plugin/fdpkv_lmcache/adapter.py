# SPDX-License-Identifier: LGPL-2.1-or-later
"""FdpKvL2Adapter - LMCache's `plugin` L2 adapter over libfdpkv.

Compared with the `native_plugin` connector it adds what only an
L2AdapterInterface can do: lookup-and-lock takes real locks in the library's
index (delete and eviction skip locked objects), usage and listeners are
seeded from the device after a restart, sizes are exact, and keys the
library evicts by itself are reported to listeners as deleted.

Threads. A background thread polls the library's eventfd, drains, records
every result in the dicts below under ``_lock``, fires listeners outside the
lock (exceptions are logged and swallowed), and only then signals the
matching one of three eventfds (store, lookup, load) made here with
os.eventfd. ``_lock`` is never held across a library call that can wait
for the library's own lock (submit, drain, take_evicted): a submit takes a
task id under it, calls the library without it, and registers the id under
it again. A completion drained before its id is registered is parked in
``_early`` and processed by the submitter right after registering, so none
is lost and the completion thread never waits for a submit.

Keys may be str or LMCache ObjectKeys (or any object with to_string() or a
meaningful __str__); see keys.key_to_string for the exact rule. Buffers are
MemoryObj (their ``byte_array``) or any object exporting the buffer protocol.
"""
from __future__ import annotations

import base64
import binascii
import logging
import operator
import os
import select
import threading
from types import MappingProxyType
from typing import Any

from . import _native, _placement
from ._compat import (HAVE_LMCACHE, AdapterUsage, Bitmap, KeyEntry, KeyListPage,
                      L2AdapterConfigBase, L2AdapterInterface, L2StoreResult)
from ._params import PARAMS, lib_params, parse_size
from .keys import (SEP, is_meta_key, key_to_string, salt_of, string_to_encoded_key,
                   string_to_key)

logger = logging.getLogger("fdpkv_lmcache")

_STORE, _LOOKUP, _LOAD, _DELETE = "store", "lookup", "load", "delete"
_DELETE_TIMEOUT_S = 30.0
_POLL_MS = 500

# Adapter-level parameters (everything else goes to the library).
_ADAPTER_PARAMS = ("max_capacity_gb", "max_capacity_bytes")

# list_l2_keys: the cursor is the last key returned, as "k1." + base64url of
# its bytes (opaque, and safe in the query string of LMCache's HTTP API).
_CURSOR_PREFIX = "k1."
# Most keys asked of the library per walk (its keys_page limit).
_PAGE_CHUNK = 65536
# Keys the library evicted, taken out of the accounting per hold of _lock:
# a segment's eviction reports thousands (2,048 of 64 KiB in a 128 MiB
# segment), and a submit waits for _lock to register its task.
_EVICTED_CHUNK = 128


def _cursor_encode(key: bytes) -> str:
    return _CURSOR_PREFIX + base64.urlsafe_b64encode(key).decode("ascii").rstrip("=")


def _cursor_decode(cursor) -> bytes | None:
    if cursor is None:
        return None
    if not isinstance(cursor, str) or not cursor.startswith(_CURSOR_PREFIX):
        raise ValueError("malformed cursor %r: pass the previous page's next_page_token"
                         % (cursor,))
    body = cursor[len(_CURSOR_PREFIX):]
    try:
        key = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        raise ValueError("malformed cursor %r: pass the previous page's next_page_token"
                         % (cursor,)) from None
    if not key:
        raise ValueError("malformed cursor %r: empty key" % (cursor,))
    return key


class FdpKvL2AdapterConfig(L2AdapterConfigBase):
    """Configuration of FdpKvL2Adapter: the library parameters of the
    native_plugin connector (devices, capacity, ...) plus
    ``max_capacity_gb`` / ``max_capacity_bytes`` (the capacity declared to
    LMCache for global eviction; 0, the default, turns it off and
    usage_fraction is -1)."""

    def __init__(self, adapter_params: dict | None = None, **kw) -> None:
        params = dict(adapter_params or {})
        params.update(kw)
        params.pop("type", None)
        self.adapter_params = params
        cap = 0
        if "max_capacity_gb" in params and "max_capacity_bytes" in params:
            raise ValueError("max_capacity_gb: give max_capacity_gb or max_capacity_bytes, not both")
        if "max_capacity_gb" in params:
            v = params["max_capacity_gb"]
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise ValueError("max_capacity_gb must be a number, not %s" % type(v).__name__)
            if v < 0:
                raise ValueError("max_capacity_gb must be >= 0, got %r" % v)
            cap = int(v * (1 << 30))
        elif "max_capacity_bytes" in params:
            try:
                cap = parse_size("max_capacity_bytes", params["max_capacity_bytes"])
            except TypeError as e:
                raise ValueError(str(e)) from None
        self.max_capacity_bytes = cap
        try:
            self.lib_params = lib_params(params, extra_allowed=_ADAPTER_PARAMS)
        except TypeError as e:
            # from_dict reports every bad field as ValueError (LMCache's rule).
            raise ValueError(str(e)) from None
        # What only the library knows (e.g. segment_size not a multiple of 4 KiB).
        _native.check_config(self.lib_params)

    @classmethod
    def from_dict(cls, d: dict) -> "FdpKvL2AdapterConfig":
        if not isinstance(d, dict):
            raise ValueError("adapter_params must be a dict, not %s" % type(d).__name__)
        return cls(d)

    @classmethod
    def help(cls) -> str:
        return ("fdpkv plugin adapter fields: " + ", ".join(list(PARAMS) + list(_ADAPTER_PARAMS))
                + " (see fdpkv_lmcache README.md)")

    def __repr__(self) -> str:
        return "FdpKvL2AdapterConfig(%r)" % (self.adapter_params,)


class _Task:
    __slots__ = ("kind", "task_id", "keys", "strs", "sizes")

    def __init__(self, kind, task_id, keys, strs, sizes=None):
        self.kind = kind
        self.task_id = task_id
        self.keys = keys
        self.strs = strs
        self.sizes = sizes


def _buffer_of(obj):
    """A MemoryObj's byte_array, or the object itself (buffer protocol)."""
    ba = getattr(obj, "byte_array", None)
    return obj if ba is None else ba


def _eventfd() -> int:
    return os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)


class FdpKvL2Adapter(L2AdapterInterface):
    """An fdpkv cache as an LMCache `plugin` L2 adapter (thread-safe)."""

    config_class_name = "FdpKvL2AdapterConfig"
    type_name = "fdpkv"

    def __init__(self, config: Any = None, l1_memory_desc: Any = None, **kwargs: Any) -> None:
        if config is None:
            config = kwargs
        elif kwargs:
            logger.debug("FdpKvL2Adapter: ignoring extra kwargs %s", sorted(kwargs))
        if not isinstance(config, FdpKvL2AdapterConfig):
            config = FdpKvL2AdapterConfig.from_dict(dict(config))
        super().__init__(max_capacity_bytes=config.max_capacity_bytes)
        self._listeners = []
        self._config = config
        self._l1_memory_desc = l1_memory_desc
        self._arena_id = None
        self._arena_bytes = 0
        self._arena_error = None

        self._lock = threading.Lock()
        self._closed = False
        self._pending: dict[int, _Task] = {}
        self._done_store: dict[int, Any] = {}
        self._done_lookup: dict[int, Any] = {}
        self._done_load: dict[int, Any] = {}
        self._delete_waiters: dict[int, threading.Event] = {}
        # Completions drained before their submit registered the id: lid -> tuple.
        self._early: dict[int, tuple] = {}
        self._next_task_id = 0
        # key string -> [size, salt, key object]; the adapter's byte accounting.
        self._known: dict[str, list] = {}
        self._total_bytes = 0
        self._by_salt: dict[str, int] = {}
        self._fds: list[int] = []

        self._cache = _native.Cache(config.lib_params)
        try:
            self._lib_fd = self._cache.event_fd()
            self._store_efd = _eventfd()
            self._fds.append(self._store_efd)
            self._lookup_efd = _eventfd()
            self._fds.append(self._lookup_efd)
            self._load_efd = _eventfd()
            self._fds.append(self._load_efd)
            self._stop_efd = _eventfd()
            self._fds.append(self._stop_efd)
            _placement.warn_if_folded(self._cache, config.lib_params.get("device"),
                                      "FdpKvL2Adapter")
            if l1_memory_desc is not None:
                self._register_l1(l1_memory_desc)
            # Seed usage from what survived a restart.
            for s, vlen in self._cache.keys():
                if not is_meta_key(s):   # the non-MP wrapper's sidecars
                    self._account_add(s, vlen, salt_of(None, s), None)
            self._cache.take_evicted()  # nothing evicted before we knew the keys
            self._thread = threading.Thread(target=self._run, name="fdpkv-l2-adapter",
                                            daemon=True)
            self._thread.start()
        except BaseException:
            self._cache.close()
            for fd in self._fds:
                os.close(fd)
            raise

    def _register_l1(self, desc: Any) -> None:
        """Register LMCache's L1 arena (L1MemoryDesc: ptr, size, align_bytes,
        stable_registration_size) with the library: values in it then move
        between the device and L1 without a copy, through io_uring fixed
        buffers. Without it (or if the kernel refuses to pin it) every value
        is bounced, which is slower but otherwise the same, so a failure is a
        warning, reported by report_status(), not an error."""
        try:
            ptr = operator.index(getattr(desc, "ptr"))
            size = getattr(desc, "stable_registration_size", None) or getattr(desc, "size")
            size = operator.index(size)
        except (AttributeError, TypeError) as e:
            self._arena_error = "l1_memory_desc has no integer ptr/size: %s" % e
            logger.warning("fdpkv: %s; L1 values will be copied", self._arena_error)
            return
        try:
            self._arena_id = self._cache.register_arena(ptr, size)
            self._arena_bytes = size
        except (OSError, ValueError) as e:
            self._arena_error = "register_arena(0x%x, %d): %s" % (ptr, size, e)
            logger.warning("fdpkv: %s; L1 values will be copied", self._arena_error)

    # ------------------------------------------------------------------ fds
    def get_store_event_fd(self) -> int:
        return self._store_efd

    def get_lookup_and_lock_event_fd(self) -> int:
        return self._lookup_efd

    def get_load_event_fd(self) -> int:
        return self._load_efd

    # ---------------------------------------------------------------- store
    def submit_store_task(self, keys, objects) -> int:
        return self._submit(_STORE, _native.OP_SET, keys, objects)

    def pop_completed_store_tasks(self) -> dict:
        with self._lock:
            done, self._done_store = self._done_store, {}
        return done

    # --------------------------------------------------------------- lookup
    def submit_lookup_and_lock_task(self, keys, *args, **kwargs) -> int:
        """The second argument (layout_desc / group_layout_descs, depending on
        the LMCache version) is advisory and ignored."""
        return self._submit(_LOOKUP, _native.OP_LOOKUP_LOCK, keys, None)

    def query_lookup_and_lock_result(self, task_id: int):
        with self._lock:
            return self._done_lookup.pop(task_id, None)

    def submit_unlock(self, keys) -> None:
        if not keys:
            return
        strs = [key_to_string(k) for k in keys]
        try:
            self._cache.unlock(strs)  # never fails; a no-op once closed
        except Exception:  # noqa: BLE001 - fire-and-forget by contract
            logger.exception("fdpkv: unlock of %d keys failed", len(strs))

    # ----------------------------------------------------------------- load
    def submit_load_task(self, keys, objects) -> int:
        return self._submit(_LOAD, _native.OP_GET, keys, objects)

    def query_load_result(self, task_id: int):
        with self._lock:
            return self._done_load.pop(task_id, None)

    # --------------------------------------------------------------- delete
    def delete(self, keys) -> None:
        """Delete @keys and wait (up to 30 s) for the result. Locked keys are
        skipped by the library; listeners hear only of keys really removed."""
        if not keys:
            return
        ev = threading.Event()
        strs = [key_to_string(k) for k in keys]
        with self._lock:
            if self._closed:
                return
            task_id = self._new_task_id()
            self._delete_waiters[task_id] = ev
        try:
            lid = self._cache.submit(_native.OP_DELETE, strs)
        except Exception:  # noqa: BLE001
            logger.exception("fdpkv: delete of %d keys failed", len(strs))
            with self._lock:
                self._delete_waiters.pop(task_id, None)
            return
        self._register(lid, _Task(_DELETE, task_id, list(keys), strs))
        if not ev.wait(_DELETE_TIMEOUT_S):
            with self._lock:
                self._delete_waiters.pop(task_id, None)
            logger.warning("fdpkv: delete() of %d keys timed out", len(strs))

    # -------------------------------------------------------------- listing
    def list_l2_keys(self, model_name: str | None = None, page_size: int = 500,
                     cursor: str | None = None) -> KeyListPage:
        """One page (a KeyListPage) of the keys held, ordered by their bytes,
        of every model or of @model_name only. Pass the page's
        next_page_token as @cursor for the next page; it is None once the
        listing is done. The cursor is the last key returned, so a key held
        during the whole listing is listed exactly once whatever is stored or
        deleted between pages; keys stored or deleted meanwhile may or may not
        appear. Keys that are not LMCache keys (written by other tools) are
        skipped. Each entry is a KeyEntry(key=EncodedObjectKey, size_bytes=
        value bytes). Raises ValueError for a page_size that is not an int
        >= 1, a model_name with '@' or a malformed cursor. Walks the library's
        index without the GIL: O(keys held) per page."""
        if isinstance(page_size, bool):
            raise ValueError("page_size must be an int >= 1, not bool")
        try:
            page_size = operator.index(page_size)
        except TypeError:
            raise ValueError("page_size must be an int >= 1, not %s"
                             % type(page_size).__name__) from None
        if page_size < 1:
            raise ValueError("page_size must be an int >= 1, got %d" % page_size)
        prefix = None
        if model_name is not None:
            if not isinstance(model_name, str):
                raise ValueError("model_name must be a str or None, not %s"
                                 % type(model_name).__name__)
            if SEP in model_name:
                raise ValueError("model_name must not contain '@' (got %r)" % model_name)
            # model_name has no '@', so "<model>@" selects exactly its keys.
            prefix = (model_name + SEP).encode("utf-8", "surrogateescape")
        after = _cursor_decode(cursor)
        if self._closed:
            raise ValueError("operation on a closed FdpKvL2Adapter")
        entries = []
        more = True
        # Skipped (foreign) keys leave a page short: ask again from the last one.
        while more and len(entries) < page_size:
            batch, more = self._cache.keys_page(
                after, min(page_size - len(entries), _PAGE_CHUNK), prefix)
            for s, vlen in batch:
                ek = string_to_encoded_key(s)
                if ek is not None:
                    entries.append(KeyEntry(key=ek, size_bytes=vlen))
            if batch:
                after = batch[-1][0].encode("utf-8", "surrogateescape")
        return KeyListPage(entries=tuple(entries),
                           next_page_token=_cursor_encode(after) if more else None)

    # ---------------------------------------------------------------- usage
    def get_usage(self):
        with self._lock:
            by_salt = {k: v for k, v in self._by_salt.items() if v > 0}
            total = self._total_bytes
        return AdapterUsage(total_bytes_used=total,
                            total_capacity_bytes=self._max_capacity_bytes,
                            bytes_by_cache_salt=MappingProxyType(by_salt))

    # ------------------------------------------------------------ listeners
    def register_listener(self, listener) -> None:
        """Register @listener and tell it, via on_l2_keys_stored, about every
        key already held (keys recovered after a restart included)."""
        with self._lock:
            self._listeners.append(listener)
            items = list(self._known.values())
        if items:
            keys = [it[2] for it in items]
            sizes = [it[0] for it in items]
            self._call(listener, "on_l2_keys_stored", keys, sizes)

    # --------------------------------------------------------------- status
    def report_status(self) -> dict:
        with self._lock:
            closed = self._closed
            pending = len(self._pending)
            nkeys = len(self._known)
            total = self._total_bytes
        status = {
            "is_healthy": (not closed) and self._thread.is_alive(),
            "type": self.type_name,
            "devices": self._config.lib_params.get("device"),
            "pending_ops": pending,
            "keys": nkeys,
            "bytes_used": total,
            "lmcache": HAVE_LMCACHE,
            "l1_arena": {"registered": self._arena_id is not None,
                         "bytes": self._arena_bytes, "error": self._arena_error},
        }
        if not closed:
            try:
                status["lib"] = self._cache.stats()
                status["lib_usage"] = self._cache.usage()
                # Classes folded onto one FDP handle (0: each has its own).
                placement = _placement.report(self._cache)
                status["placement"] = placement
                status["placement_shared_classes"] = _placement.shared_classes(placement)
            except Exception as e:  # noqa: BLE001
                status["is_healthy"] = False
                status["error"] = str(e)
        return status

    def set_backend_name(self, name: str) -> None:
        self.type_name = str(name)

    # ---------------------------------------------------------------- close
    def close(self) -> None:
        """Stop the thread, close the cache (waits for in-flight I/O) and the
        eventfds. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            waiters = list(self._delete_waiters.values())
            self._delete_waiters.clear()
        try:
            os.eventfd_write(self._stop_efd, 1)
        except OSError:
            pass
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self._cache.close()
        for ev in waiters:
            ev.set()
        fds, self._fds = self._fds, []
        for fd in fds:
            try:
                os.close(fd)
            except OSError:
                pass

    def __del__(self) -> None:
        try:
            if not getattr(self, "_closed", True):
                self.close()
        except Exception:  # noqa: BLE001
            pass

    # ------------------------------------------------------------- internal
    def _new_task_id(self) -> int:
        tid = self._next_task_id
        self._next_task_id += 1
        return tid

    def _submit(self, kind, op, keys, objects) -> int:
        keys = list(keys)
        n = len(keys)
        if objects is not None:
            objects = list(objects)
            if len(objects) != n:
                raise ValueError("length mismatch: %d keys, %d objects" % (n, len(objects)))
        strs = [key_to_string(k) for k in keys]
        bufs = None if objects is None else [_buffer_of(o) for o in objects]
        with self._lock:
            if self._closed:
                raise ValueError("operation on a closed FdpKvL2Adapter")
            task_id = self._new_task_id()
        lid = None
        if n:
            # Without _lock: see the class comment.
            try:
                lid = self._cache.submit(op, strs, bufs)
            except Exception:  # noqa: BLE001 - an internal failure is a failed task
                logger.exception("fdpkv: %s submit of %d keys failed", kind, n)
        if lid is not None:
            sizes = [memoryview(b).nbytes for b in bufs] if kind == _STORE else None
            self._register(lid, _Task(kind, task_id, keys, strs, sizes))
            return task_id
        with self._lock:
            # Nothing to wait for: record the result now.
            if kind == _STORE:
                self._done_store[task_id] = L2StoreResult(n == 0, 0)
            elif kind == _LOOKUP:
                self._done_lookup[task_id] = Bitmap(n)
            else:
                self._done_load[task_id] = Bitmap(n)
        self._signal({kind})
        return task_id

    def _register(self, lid, task) -> None:
        """Register library id @lid of @task, and if its completion was
        drained before (parked in _early), process it now."""
        with self._lock:
            early = self._early.pop(lid, None)
            self._pending[lid] = task
        if early is not None:
            self._process([early], evicted=())

    def _account_add(self, s, size, salt, key):
        """Caller holds _lock (or is __init__). Returns True if @s is new."""
        old = self._known.get(s)
        if old is not None:
            delta = size - old[0]
            old[0] = size
            if key is not None:
                old[2] = key
            self._total_bytes += delta
            self._by_salt[old[1]] = self._by_salt.get(old[1], 0) + delta
            return False
        self._known[s] = [size, salt, key if key is not None else string_to_key(s)]
        self._total_bytes += size
        self._by_salt[salt] = self._by_salt.get(salt, 0) + size
        return True

    def _account_remove(self, s):
        """Caller holds _lock. Returns the removed record or None."""
        rec = self._known.pop(s, None)
        if rec is None:
            return None
        self._total_bytes = max(0, self._total_bytes - rec[0])
        left = self._by_salt.get(rec[1], 0) - rec[0]
        if left > 0:
            self._by_salt[rec[1]] = left
        else:
            self._by_salt.pop(rec[1], None)
        return rec

    def _signal(self, kinds) -> None:
        for kind in kinds:
            fd = {_STORE: self._store_efd, _LOOKUP: self._lookup_efd,
                  _LOAD: self._load_efd}.get(kind)
            if fd is None:
                continue
            try:
                os.eventfd_write(fd, 1)
            except OSError:  # closed meanwhile
                pass

    def _call(self, listener, method, *args) -> None:
        try:
            getattr(listener, method)(*args)
        except Exception:  # noqa: BLE001 - a listener never breaks the adapter
            logger.exception("fdpkv: listener %r.%s raised", listener, method)

    def _notify(self, method, *args) -> None:
        for listener in list(self._listeners):
            self._call(listener, method, *args)

    def _run(self) -> None:
        poller = select.poll()
        poller.register(self._lib_fd, select.POLLIN)
        poller.register(self._stop_efd, select.POLLIN)
        while True:
            try:
                events = poller.poll(_POLL_MS)
            except InterruptedError:
                continue
            if any(fd == self._stop_efd for fd, _ in events):
                return
            try:
                self._process(self._cache.drain())
            except Exception:  # noqa: BLE001
                if self._closed:
                    return
                logger.exception("fdpkv: completion processing failed")

    def _process(self, completions, evicted=None) -> None:
        stored_keys, stored_sizes, accessed, deleted = [], [], [], []
        kinds, waiters = set(), []
        # Taken before the adapter's lock (and after the drain, as before):
        # it takes the cache's lock, and nothing may wait for that behind ours.
        if evicted is None:
            evicted = self._cache.take_evicted()
        with self._lock:
            for comp in completions:
                lid, op, result, status, vlen = comp
                t = self._pending.pop(lid, None)
                if t is None:
                    # Its submit has not registered the id yet: it will
                    # find the completion here (_register).
                    self._early[lid] = comp
                    continue
                kinds.add(t.kind)
                if t.kind == _STORE:
                    ok = result == 0
                    nbytes = 0
                    if ok:
                        for key, s, size in zip(t.keys, t.strs, t.sizes):
                            if self._account_add(s, size, salt_of(key, s), key):
                                nbytes += size
                                stored_keys.append(key)
                                stored_sizes.append(size)
                    self._done_store[t.task_id] = L2StoreResult(ok, nbytes)
                elif t.kind in (_LOOKUP, _LOAD):
                    bm = Bitmap(len(t.keys))
                    for i, st in enumerate(status):
                        if st == 0:
                            bm.set(i)
                            if t.kind == _LOAD:
                                accessed.append(t.keys[i])
                    if t.kind == _LOOKUP:
                        self._done_lookup[t.task_id] = bm
                    else:
                        self._done_load[t.task_id] = bm
                elif t.kind == _DELETE:
                    for i, st in enumerate(status):
                        if st == 0 and self._account_remove(t.strs[i]) is not None:
                            deleted.append(t.keys[i])
                    ev = self._delete_waiters.pop(t.task_id, None)
                    if ev is not None:
                        waiters.append(ev)
        # Keys the library evicted by itself: deleted as far as LMCache
        # knows. A chunk per hold of the lock, so that a submit registering
        # its task waits for one chunk at most, never for a segment's keys.
        for i in range(0, len(evicted), _EVICTED_CHUNK):
            with self._lock:
                for s, _vlen in evicted[i:i + _EVICTED_CHUNK]:
                    rec = self._account_remove(s)
                    if rec is not None:
                        deleted.append(rec[2])
        # Listeners outside the lock, results already recorded; then signal.
        if stored_keys:
            self._notify("on_l2_keys_stored", stored_keys, stored_sizes)
        if accessed:
            self._notify("on_l2_keys_accessed", accessed)
        if deleted:
            self._notify("on_l2_keys_deleted", deleted)
        self._signal(kinds)
        for ev in waiters:
            ev.set()
