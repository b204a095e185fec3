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
