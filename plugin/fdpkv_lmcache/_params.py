# SPDX-License-Identifier: LGPL-2.1-or-later
"""adapter_params -> libfdpkv configuration (a dict of strings for _native.Cache).

Every parameter is checked here for its type (TypeError naming it) and its
obvious value range (ValueError naming it); the library then checks the rest
(its ValueError names the key too).
"""
from __future__ import annotations

import re

_SIZE_RE = re.compile(r"^\s*(\d+)\s*([KMGT]?)(i?B)?\s*$", re.IGNORECASE)
_SHIFT = {"": 0, "K": 10, "M": 20, "G": 30, "T": 40}


def parse_size(name: str, value) -> int:
    """An int of bytes, or a str like '4G', '512MiB', '1048576'."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise TypeError("%s must be an int (bytes) or a size string like '4G', not %s"
                        % (name, type(value).__name__))
    if isinstance(value, str):
        m = _SIZE_RE.match(value)
        if not m:
            raise ValueError("%s: cannot parse size %r (use e.g. 268435456, '256M', '4G')"
                             % (name, value))
        value = int(m.group(1)) << _SHIFT[m.group(2).upper()]
    if value < 0:
        raise ValueError("%s must be >= 0, got %d" % (name, value))
    return value


def _int(name, value, lo):
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("%s must be an int, not %s" % (name, type(value).__name__))
    if value < lo:
        raise ValueError("%s must be >= %d, got %d" % (name, lo, value))
    return str(value)


def _choice(name, value, choices):
    if not isinstance(value, str):
        raise TypeError("%s must be a str (one of %s), not %s"
                        % (name, "|".join(choices), type(value).__name__))
    if value.lower() not in choices:
        raise ValueError("%s must be one of %s, got %r" % (name, "|".join(choices), value))
    return value.lower()


def _devices(name, value):
    if isinstance(value, str):
        items = [v.strip() for v in value.split(",")]
    elif isinstance(value, (list, tuple)):
        items = list(value)
        for v in items:
            if not isinstance(v, str):
                raise TypeError("%s must be a str or a list of str, found %s"
                                % (name, type(v).__name__))
    else:
        raise TypeError("%s must be a str or a list of str, not %s"
                        % (name, type(value).__name__))
    if not items or any(not v for v in items):
        raise ValueError("%s must name at least one device URI (file:, ng:, fdpkv:, bdev:, auto:, sim:)"
                         % name)
    return items


def _sep(name, value):
    if not isinstance(value, str):
        raise TypeError("%s must be a one-character str, not %s" % (name, type(value).__name__))
    if len(value) != 1 or len(value.encode()) != 1:
        raise ValueError("%s must be exactly one ASCII character, got %r" % (name, value))
    return value


def _bool(name, value):
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int) and value in (0, 1):
        return str(value)
    if isinstance(value, int):
        raise ValueError("%s must be true or false, got %d" % (name, value))
    raise TypeError("%s must be a bool, not %s" % (name, type(value).__name__))


# name -> (library key, converter)
PARAMS = {
    "devices": ("device", _devices),
    "capacity": ("capacity", lambda n, v: str(parse_size(n, v))),
    "segment_size": ("segment_size", lambda n, v: str(parse_size(n, v))),
    "queue_depth": ("queue_depth", lambda n, v: _int(n, v, 1)),
    "durability": ("durability", lambda n, v: _choice(n, v, ("none", "flush", "fua"))),
    "format": ("format", lambda n, v: _choice(n, v, ("never", "auto", "always"))),
    "placement": ("placement", lambda n, v: _choice(n, v, ("salt", "none"))),
    "salt_separator": ("salt_separator", _sep),
    "max_classes": ("max_classes", lambda n, v: _int(n, v, 1)),
    "free_segments_low": ("free_segments_low", lambda n, v: _int(n, v, 0)),
    "reinsert": ("reinsert", _bool),
    "dealloc_zeroes": ("dealloc_zeroes", lambda n, v: _choice(n, v, ("auto", "yes", "no"))),
}

DEFAULTS = {"format": "auto"}


def lib_params(params: dict, extra_allowed=()) -> dict:
    """Check @params and return the dict for _native.Cache. Keys in
    @extra_allowed are skipped (the caller handles them)."""
    if not isinstance(params, dict):
        raise TypeError("adapter_params must be a dict, not %s" % type(params).__name__)
    for k in params:
        if not isinstance(k, str):
            raise TypeError("adapter_params keys must be str, found %r" % (k,))
        if k not in PARAMS and k not in extra_allowed:
            raise ValueError("unknown parameter %r (known: %s)"
                             % (k, ", ".join(sorted(set(PARAMS) | set(extra_allowed)))))
    if "devices" not in params:
        raise ValueError("devices is required (e.g. \"file:/var/lib/fdpkv/cache.img\")")
    out = {}
    merged = dict(DEFAULTS)
    merged.update({k: v for k, v in params.items() if k in PARAMS})
    for name, value in merged.items():
        libkey, conv = PARAMS[name]
        out[libkey] = conv(name, value)
    return out
