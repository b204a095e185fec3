# SPDX-License-Identifier: LGPL-2.1-or-later
"""FdpKvConnector - LMCache's `native_plugin` connector over libfdpkv.

LMCache constructs it as ``FdpKvConnector(**adapter_params)`` and drives it
through NativeConnectorL2Adapter: submits are serialised by the bridge lock,
a demux thread polls event_fd() (never reading it) and calls
drain_completions() concurrently with them. Everything on the hot path is in
C (``_native.Cache.submit`` / ``drain_lmcache``); this class only names the
methods LMCache expects.
"""
from __future__ import annotations

from . import _native, _placement
from ._params import lib_params

_OP_SET = _native.OP_SET
_OP_GET = _native.OP_GET
_OP_EXISTS = _native.OP_EXISTS
_OP_DELETE = _native.OP_DELETE


class FdpKvConnector:
    """An fdpkv cache as a native_plugin connector.

    Parameters are those of README.md (devices, capacity, segment_size,
    queue_depth, durability, format, placement, salt_separator, max_classes,
    free_segments_low, reinsert, dealloc_zeroes). Ill-typed values raise TypeError, bad or
    unknown ones ValueError, both naming the parameter; a device that cannot
    be opened raises OSError.

    Caller bugs raise (ValueError: empty batch, length mismatch, closed
    connector; TypeError: non-str key; BufferError: read-only buffer for
    get); I/O errors become ``ok=False`` completions. Every submit returns a
    unique id that gets exactly one completion
    ``(id, ok, error, per_key)`` with ``len(per_key) == len(keys)``.
    """

    def __init__(self, **adapter_params) -> None:
        self._cache = None
        params = lib_params(adapter_params)
        # LMCache's connector contract has no eviction report, so nobody
        # would take the keys the library evicts: keep none (each would be
        # an allocation held for the life of the process)
        params["report_evicted"] = "0"
        self._cache = _native.Cache(params)
        self._fd = self._cache.event_fd()
        _placement.warn_if_folded(self._cache, params.get("device"), "FdpKvConnector")

    def event_fd(self) -> int:
        """The library eventfd: readable while completions are queued. Never read
        it: drain_completions() clears it. The same fd until close()."""
        if self._cache.closed:
            raise ValueError("operation on a closed FdpKvConnector")
        return self._fd

    def submit_batch_set(self, keys, memoryviews) -> int:
        return self._cache.submit(_OP_SET, keys, memoryviews)

    def submit_batch_get(self, keys, memoryviews) -> int:
        return self._cache.submit(_OP_GET, keys, memoryviews)

    def submit_batch_exists(self, keys) -> int:
        return self._cache.submit(_OP_EXISTS, keys)

    def submit_batch_delete(self, keys) -> int:
        return self._cache.submit(_OP_DELETE, keys)

    def drain_completions(self) -> list:
        """All queued completions as (id, ok, error, per_key); [] when none or
        after close()."""
        return self._cache.drain_lmcache()

    def close(self) -> None:
        """Wait for in-flight I/O, persist and close. Undrained completions are
        dropped and no buffer is touched afterwards. Idempotent."""
        if self._cache is not None:
            self._cache.close()

    # Extras, not part of LMCache's contract.
    def usage(self) -> dict:
        return self._cache.usage()

    def stats(self) -> dict:
        return self._cache.stats()

    def placement(self) -> list:
        """Per device, each class's placement id and whether it shares it."""
        return _placement.report(self._cache)

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass
