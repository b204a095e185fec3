# SPDX-License-Identifier: LGPL-2.1-or-later
"""LMCache types when LMCache is importable, minimal stand-ins otherwise.

With LMCache installed, FdpKvL2Adapter subclasses LMCache's
L2AdapterInterface and returns LMCache's own Bitmap, L2StoreResult and
AdapterUsage, so the `plugin` factory accepts it. Without LMCache the same
names are defined here with the same behaviour, so the package works (and is
tested) standalone; so are list_l2_keys' KeyListPage, KeyEntry and
EncodedObjectKey (the same fields as lmcache.v1.distributed.api's).
"""
from __future__ import annotations

import threading
from abc import ABC
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

HAVE_LMCACHE = False

try:  # pragma: no cover - depends on the deployment
    from lmcache.v1.distributed.l2_adapters.base import (  # type: ignore
        AdapterUsage,
        L2AdapterInterface,
    )
    from lmcache.v1.distributed.internal_api import L2StoreResult  # type: ignore
    from lmcache.v1.distributed.l2_adapters.config import L2AdapterConfigBase  # type: ignore
    try:
        from lmcache.lmcache_native import Bitmap  # type: ignore
    except ImportError:
        from lmcache.native_storage_ops import Bitmap  # type: ignore
    try:
        from lmcache.v1.distributed.api import ObjectKey  # type: ignore
    except ImportError:
        ObjectKey = None  # type: ignore
    HAVE_LMCACHE = True
except ImportError:
    ObjectKey = None  # type: ignore

    class Bitmap:  # type: ignore[no-redef]
        """A fixed-size bit set with LMCache's Bitmap methods (set/test/count)."""

        __slots__ = ("_n", "_bits")

        def __init__(self, size: int) -> None:
            if size < 0:
                raise ValueError("Bitmap size must be >= 0")
            self._n = int(size)
            self._bits = 0

        def set(self, i: int) -> None:
            self._check(i)
            self._bits |= 1 << i

        def clear(self, i: int) -> None:
            self._check(i)
            self._bits &= ~(1 << i)

        def test(self, i: int) -> bool:
            self._check(i)
            return bool(self._bits >> i & 1)

        def count(self) -> int:
            return bin(self._bits).count("1")

        popcount = count

        def size(self) -> int:
            return self._n

        def __len__(self) -> int:
            return self._n

        def __getitem__(self, i: int) -> bool:
            return self.test(i)

        def to_list(self) -> list[bool]:
            return [bool(self._bits >> i & 1) for i in range(self._n)]

        def __eq__(self, other: object) -> bool:
            if isinstance(other, Bitmap):
                return self._n == other._n and self._bits == other._bits
            return NotImplemented

        def __repr__(self) -> str:
            return "Bitmap(%s)" % "".join("1" if b else "0" for b in self.to_list())

        def _check(self, i: int) -> None:
            if not 0 <= i < self._n:
                raise IndexError("bit %d out of range 0..%d" % (i, self._n - 1))

    class L2StoreResult(int):  # type: ignore[no-redef]
        """Bytes written (>= 0) on success, -1 on failure (an int, as in LMCache)."""

        def __new__(cls, success: bool, bytes_transferred: int) -> "L2StoreResult":
            if bytes_transferred < 0:
                raise ValueError("bytes_transferred must be >= 0, got %d" % bytes_transferred)
            return super().__new__(cls, bytes_transferred if success else -1)

        def is_successful(self) -> bool:
            return int(self) >= 0

        def bytes_transferred(self) -> int:
            return int(self)

    @dataclass(frozen=True)
    class AdapterUsage:  # type: ignore[no-redef]
        total_bytes_used: int
        total_capacity_bytes: int
        bytes_by_cache_salt: Mapping[str, int] = field(
            default_factory=lambda: MappingProxyType({}))

        @property
        def usage_fraction(self) -> float:
            if self.total_capacity_bytes <= 0:
                return -1.0
            return self.total_bytes_used / self.total_capacity_bytes

    class L2AdapterConfigBase(ABC):  # type: ignore[no-redef]
        """Stand-in for lmcache's L2AdapterConfigBase (from_dict + help)."""

    class L2AdapterInterface(ABC):  # type: ignore[no-redef]
        """Stand-in for lmcache's L2AdapterInterface: listeners and capacity."""

        def __init__(self, max_capacity_bytes: int = 0) -> None:
            self._listeners: list = []
            self._max_capacity_bytes = max_capacity_bytes
            self._usage_lock = threading.Lock()

        def register_listener(self, listener) -> None:
            self._listeners.append(listener)

        @property
        def supports_global_eviction(self) -> bool:
            return self._max_capacity_bytes > 0

        def list_l2_keys(self, model_name=None, page_size=500, cursor=None):
            raise NotImplementedError(
                "%s does not implement list_l2_keys" % type(self).__name__)

# list_l2_keys' result types (lmcache.v1.distributed.api), newer than the rest:
# an LMCache without them never calls list_l2_keys, so the stand-ins serve.
try:  # pragma: no cover - depends on the deployment
    from lmcache.v1.distributed.api import KeyEntry, KeyListPage  # type: ignore
except ImportError:
    @dataclass(frozen=True)
    class KeyEntry:  # type: ignore[no-redef]
        """One listed key (its EncodedObjectKey) and its value bytes on the device."""
        key: object
        size_bytes: int

    @dataclass(frozen=True)
    class KeyListPage:  # type: ignore[no-redef]
        """A page of list_l2_keys: next_page_token is None iff the listing is done."""
        entries: tuple
        next_page_token: "str | None"

try:  # pragma: no cover - depends on the deployment
    from lmcache.v1.distributed.api import EncodedObjectKey  # type: ignore
except ImportError:
    if HAVE_LMCACHE and ObjectKey is not None:
        # Versions whose KeyEntry carried the ObjectKey itself.
        EncodedObjectKey = None  # type: ignore
    else:
        @dataclass(frozen=True)
        class EncodedObjectKey:  # type: ignore[no-redef]
            """ObjectKey's JSON-safe projection: the chunk hash as hex."""
            chunk_hash_hex: str
            model_name: str
            kv_rank: int
            object_group_id: int = 0
            cache_salt: str = ""

__all__ = ["HAVE_LMCACHE", "AdapterUsage", "Bitmap", "EncodedObjectKey", "KeyEntry",
           "KeyListPage", "L2AdapterConfigBase", "L2AdapterInterface", "L2StoreResult",
           "ObjectKey"]
