# SPDX-License-Identifier: LGPL-2.1-or-later
"""Keys: LMCache ObjectKeys <-> the opaque strings stored by libfdpkv.

The library stores opaque UTF-8 keys. Both adapters use the string LMCache's
native bridge builds (``_object_key_to_string``)::

    <model_name>@<kv_rank as %08x>@<object_group_id as %x>@<chunk_hash hex>[@<cache_salt>]

so a device written through one adapter type is readable through the other.
key_to_string() accepts, in this order:

1. ``str`` - used as is (what the ``native_plugin`` connector receives);
2. an object with ``model_name``, ``kv_rank`` and ``chunk_hash`` attributes
   (LMCache's ObjectKey; ``object_group_id`` and ``cache_salt`` optional);
3. an object with a callable ``to_string()``;
4. anything else - ``str(key)``.
"""
from __future__ import annotations

from ._compat import EncodedObjectKey, ObjectKey

SEP = "@"


def key_to_string(key) -> str:
    if type(key) is str:
        return key
    if isinstance(key, str):
        return str.__str__(key)
    if hasattr(key, "chunk_hash") and hasattr(key, "model_name") and hasattr(key, "kv_rank"):
        chunk_hash = key.chunk_hash
        h = chunk_hash.hex() if isinstance(chunk_hash, (bytes, bytearray)) else str(chunk_hash)
        s = "%s@%08x@%x@%s" % (key.model_name, int(key.kv_rank),
                               int(getattr(key, "object_group_id", 0) or 0), h)
        salt = getattr(key, "cache_salt", "") or ""
        return s + SEP + salt if salt else s
    to_string = getattr(key, "to_string", None)
    if callable(to_string):
        return str(to_string())
    return str(key)


def salt_of(key, key_str: str) -> str:
    """The cache_salt of @key: its attribute, else the 5th '@' field of the string."""
    salt = getattr(key, "cache_salt", None)
    if isinstance(salt, str):
        return salt
    parts = key_str.split(SEP)
    return parts[4] if len(parts) >= 5 else ""


def string_to_key(s: str):
    """Rebuild an LMCache ObjectKey from its string when LMCache is importable
    and the string parses; otherwise return the string itself (used for keys
    recovered after a restart, which only exist as strings on the device)."""
    if ObjectKey is None:
        return s
    parts = s.split(SEP)
    if len(parts) not in (4, 5):
        return s
    try:
        return ObjectKey(chunk_hash=bytes.fromhex(parts[3]), model_name=parts[0],
                         kv_rank=int(parts[1], 16), object_group_id=int(parts[2], 16),
                         cache_salt=parts[4] if len(parts) == 5 else "")
    except Exception:  # noqa: BLE001 - a foreign key format: keep the string
        return s


def _fields(s: str):
    """(model, kv_rank, group, hash_hex, salt) of an LMCache key string, or None."""
    parts = s.split(SEP)
    if len(parts) not in (4, 5) or not parts[0]:
        return None
    try:
        rank, group = int(parts[1], 16), int(parts[2], 16)
        bytes.fromhex(parts[3])
    except ValueError:
        return None
    if rank < 0 or group < 0:
        return None
    return parts[0], rank, group, parts[3], parts[4] if len(parts) == 5 else ""


def string_to_encoded_key(s: str):
    """The key list_l2_keys reports for the stored string @s: LMCache's
    EncodedObjectKey (the stand-in without LMCache; ObjectKey itself on
    LMCache versions without EncodedObjectKey), or None when @s is not an
    LMCache key (e.g. written by fdpkvctl bench), which cannot be reported."""
    f = _fields(s)
    if f is None:
        return None
    model, rank, group, hash_hex, salt = f
    try:
        if EncodedObjectKey is None:
            return ObjectKey(chunk_hash=bytes.fromhex(hash_hex), model_name=model, kv_rank=rank,
                             object_group_id=group, cache_salt=salt)
        return EncodedObjectKey(chunk_hash_hex=hash_hex, model_name=model, kv_rank=rank,
                                object_group_id=group, cache_salt=salt)
    except Exception:  # noqa: BLE001 - LMCache's own checks refused it (e.g. a bad salt)
        return None


# ---- non-MP (in-process) keys ----------------------------------------------
#
# The non-MP wrapper (nonmp.FdpKvStorageBackend) gets LMCache's
# CacheEngineKey (model_name, world_size, worker_id, chunk_hash, dtype, tags;
# LayerCacheEngineKey adds layer_id). It stores it under the MP string above,
# so that one device serves both modes:
#
#   model_name                  -> <model>   (must not contain '@')
#   world_size, worker_id       -> kv_rank = ws<<24 | wid<<16 | ws<<8 | wid
#                                  (one node: local world = world, local
#                                  rank = worker id), as %08x
#   (no group)                  -> 0
#   chunk_hash                  -> bytes: .hex(); int: 8-byte big-endian
#                                  two's complement, or as many bytes as a
#                                  larger int needs; str: taken as hex
#   tags {k: v}                 -> cache salt "k%v,k2%v2" (sorted by k)
#   dtype, when not the engine's
#   kv dtype; layer_id          -> a sixth field "dt=<dtype>,l=<layer>"
#
# The sixth field only appears for keys MP cannot express; MP never writes
# it and its key listing skips it. Keys whose fields would break the format
# ('@', or a tag with '/', '\\', NUL or ',') are refused with ValueError.
#
# The per-key metadata (shape, dtype, format, cached_positions) lives in a
# sidecar object under meta_key(data key): the data key with every '@'
# replaced by '\x1f' behind the prefix META_PREFIX. It has no '@', so MP's
# listing skips it and it can never equal an MP key.

META_PREFIX = "\x1ffdpkv-meta\x1f"
_EXT_SEP = ","
_SALT_BAD = ("@", "/", "\\", "\0", ",")


def _hash_hex(h) -> str:
    if isinstance(h, (bytes, bytearray, memoryview)):
        return bytes(h).hex()
    if isinstance(h, int) and not isinstance(h, bool):
        if -(1 << 63) <= h < (1 << 64):
            return (h & ((1 << 64) - 1)).to_bytes(8, "big").hex()
        if h < 0:
            raise ValueError("chunk_hash %d: a negative int wider than 64 bits" % h)
        return h.to_bytes((h.bit_length() + 7) // 8, "big").hex()
    if isinstance(h, str):
        bytes.fromhex(h)  # ValueError for a non-hex str
        return h.lower()
    raise ValueError("chunk_hash of type %s" % type(h).__name__)


def dtype_name(dtype) -> str:
    """'bfloat16' for torch.bfloat16 (and for the str 'torch.bfloat16')."""
    s = str(dtype)
    return s[len("torch."):] if s.startswith("torch.") else s


def _tags_of(key) -> list:
    tags = getattr(key, "tags", None)
    if not tags:
        return []
    items = tags.items() if isinstance(tags, dict) else tags
    out = []
    for item in items:
        k, v = item
        out.append((str(k), str(v)))
    return sorted(out)


def engine_key_to_string(key, kv_dtype=None) -> str:
    """The stored string of a non-MP CacheEngineKey (see the table above).
    @kv_dtype is the engine's KV dtype (LMCacheMetadata.kv_dtype): keys of
    that dtype map to exactly the MP string. A str is returned as is; an
    object that is not a CacheEngineKey goes through key_to_string."""
    if isinstance(key, str):
        return key_to_string(key)
    if not (hasattr(key, "world_size") and hasattr(key, "worker_id")
            and hasattr(key, "chunk_hash") and hasattr(key, "model_name")):
        return key_to_string(key)
    model = str(key.model_name)
    if not model or SEP in model or "\x1f" in model:
        raise ValueError("model_name %r: empty, or contains '@' or \\x1f" % model)
    ws, wid = int(key.world_size), int(key.worker_id)
    if not (1 <= ws <= 255 and 0 <= wid < ws):
        raise ValueError("world_size %d / worker_id %d: need 0 <= worker_id < world_size <= 255"
                         % (ws, wid))
    kv_rank = ws << 24 | wid << 16 | ws << 8 | wid
    s = "%s@%08x@0@%s" % (model, kv_rank, _hash_hex(key.chunk_hash))
    salt = ""
    tags = _tags_of(key)
    if tags:
        for k, v in tags:
            if any(c in k + v for c in _SALT_BAD + ("%",)):
                raise ValueError("tag %r=%r: contains one of @ / \\ NUL , %%" % (k, v))
        salt = _EXT_SEP.join("%s%%%s" % kv for kv in tags)
        if len(salt) > 128:
            raise ValueError("tags make a cache salt of %d chars (most 128)" % len(salt))
    ext = []
    dt = getattr(key, "dtype", None)
    if dt is not None and (kv_dtype is None or dtype_name(dt) != dtype_name(kv_dtype)):
        ext.append("dt=" + dtype_name(dt))
    layer = getattr(key, "layer_id", None)
    if layer is not None:
        ext.append("l=%d" % int(layer))
    if ext:
        return "%s@%s@%s" % (s, salt, _EXT_SEP.join(ext))
    return s + SEP + salt if salt else s


def meta_key(data_key: str) -> str:
    """The sidecar key holding @data_key's metadata (never an MP key)."""
    return META_PREFIX + data_key.replace(SEP, "\x1f")


def is_meta_key(s: str) -> bool:
    return s.startswith(META_PREFIX)
