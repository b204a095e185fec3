# SPDX-License-Identifier: LGPL-2.1-or-later
"""MemoryObj bytes and the non-MP wrapper's metadata sidecar.

A value's layout (shape, dtype, MemoryFormat, cached_positions) is kept in a
sidecar object of META_BYTES: compact JSON padded with spaces, so that a read
needs no size lookup first. Values without one (written by the MP adapters)
get their layout from their size and LMCacheMetadata (infer_layout).
"""
from __future__ import annotations

import importlib
import json
from typing import Optional

META_BYTES = 4096          # one block: the sidecar read needs no size lookup
META_VERSION = 1


def buffer_of(obj, nbytes: int):
    """A writable/readable byte view of @obj's first @nbytes bytes."""
    mv = memoryview(obj.byte_array)
    if mv.ndim != 1 or mv.itemsize != 1:
        mv = mv.cast("B")
    return mv[:nbytes]


def logical_size(obj) -> int:
    get_size = getattr(obj, "get_size", None)
    n = get_size() if callable(get_size) else memoryview(obj.byte_array).nbytes
    return int(n)


def obj_meta(obj) -> dict:
    """shape, dtype, fmt and cached_positions of a MemoryObj, as JSON values."""
    md = getattr(obj, "metadata", None) or getattr(obj, "meta", None)

    def call(name, attr):
        fn = getattr(obj, name, None)
        if callable(fn):
            try:
                return fn()
            except Exception:  # noqa: BLE001 - older MemoryObj without it
                pass
        return getattr(md, attr, None)

    shape = call("get_shape", "shape")
    dtype = call("get_dtype", "dtype")
    fmt = call("getmemory_format", "fmt")
    pos = getattr(md, "cached_positions", None)
    if pos is not None:
        pos = pos.tolist() if hasattr(pos, "tolist") else [int(p) for p in pos]
    return {"v": META_VERSION,
            "shape": None if shape is None else [int(d) for d in shape],
            "dtype": None if dtype is None else str(dtype),
            "fmt": None if fmt is None else getattr(fmt, "name", str(fmt)),
            "pos": pos,
            "nbytes": logical_size(obj)}


def encode_meta(meta: dict) -> bytes:
    raw = json.dumps(meta, separators=(",", ":")).encode()
    if len(raw) > META_BYTES:
        raise ValueError("metadata of %d bytes (most %d): cached_positions too long"
                         % (len(raw), META_BYTES))
    return raw.ljust(META_BYTES, b" ")


def decode_meta(raw: bytes) -> Optional[dict]:
    try:
        meta = json.loads(raw.decode().rstrip(" "))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(meta, dict) or meta.get("v") != META_VERSION:
        return None
    return meta


def torch_module():
    try:
        import torch  # type: ignore
        return torch
    except ImportError:
        return None


def memory_format(name):
    """LMCache's MemoryFormat member @name, or None."""
    if name is None:
        return None
    try:
        mf = importlib.import_module("lmcache.v1.memory_management").MemoryFormat
        return mf[name]
    except (ImportError, AttributeError, KeyError):
        return None


def restore_dtype(name, key, metadata):
    """The dtype object named @name: the key's or the engine's, else torch's."""
    if name is None:
        return getattr(key, "dtype", None)
    for dt in (getattr(key, "dtype", None), getattr(metadata, "kv_dtype", None)):
        if dt is not None and str(dt) == name:
            return dt
    torch = torch_module()
    if torch is not None:
        dt = getattr(torch, name.split(".")[-1], None)
        if dt is not None:
            return dt
    return name


def infer_layout(metadata, key, vlen):
    """(shape, dtype, fmt) of a value written without a sidecar (by the MP
    adapter): KV_2LTD [2, layers, tokens, heads*head_size] (MLA:
    KV_MLA_FMT [1, layers, tokens, head_size]) from LMCacheMetadata.kv_shape
    (layers, 2|1, chunk, heads, head_size), tokens from the size."""
    md = metadata
    kv_shape = getattr(md, "kv_shape", None)
    dtype = getattr(key, "dtype", None) or getattr(md, "kv_dtype", None)
    if kv_shape is None or dtype is None or len(kv_shape) != 5:
        return None
    layers, kv, _chunk, heads, hsize = (int(d) for d in kv_shape)
    itemsize = getattr(dtype, "itemsize", None)
    if itemsize is None:
        torch = torch_module()
        itemsize = (torch.tensor([], dtype=dtype).element_size() if torch is not None
                    else None)
    if not itemsize:
        return None
    per_token = kv * layers * heads * hsize * int(itemsize)
    if vlen % per_token:
        return None
    mla = bool(getattr(md, "use_mla", False))
    fmt = memory_format("KV_MLA_FMT" if mla else "KV_2LTD")
    return (kv, layers, vlen // per_token, heads * hsize), dtype, fmt


def set_positions(obj, pos) -> None:
    """Give a read object its cached_positions (a tensor under torch)."""
    torch = torch_module()
    value = torch.tensor(pos, dtype=torch.long) if torch is not None else list(pos)
    md = getattr(obj, "metadata", None) or getattr(obj, "meta", None)
    if md is not None:
        md.cached_positions = value
