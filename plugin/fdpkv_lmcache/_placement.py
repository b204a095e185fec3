# SPDX-License-Identifier: LGPL-2.1-or-later
"""Placement classes folded onto one placement handle: report and warn.

When a device has fewer FDP placement handles than the cache has classes
(2 + max_classes), the library folds several classes onto one handle. Their
segments then interleave in one reclaim unit stream, so tenants whose data
ages at different rates share reclaim units again, which FDP is there to
avoid. The cache still works; the operator should know (more handles, or a
smaller max_classes at the next format).
"""
from __future__ import annotations

import logging

logger = logging.getLogger("fdpkv_lmcache")


def report(cache) -> list:
    """Per device: {device, fdp, handles, shared_handles, shared_classes,
    classes: [{class, placement_id, sharing}]} from the library."""
    out = []
    for i, d in enumerate(cache.placement()):
        d = dict(d)
        d["device"] = i
        d["classes"] = [dict(c, **{"class": k}) for k, c in enumerate(d["classes"])]
        out.append(d)
    return out


def shared_classes(rep: list) -> int:
    """Classes, over all devices, that share their placement handle."""
    return sum(d["shared_classes"] for d in rep)


def warn_if_folded(cache, devices, who: str) -> list:
    """Log one warning when classes share a handle on any device; returns the
    report. @devices: the configured device URIs (for the message)."""
    try:
        rep = report(cache)
    except Exception:  # noqa: BLE001 - a report must never fail an open
        logger.debug("fdpkv: placement report unavailable", exc_info=True)
        return []
    folded = [d for d in rep if d["shared_classes"]]
    if not folded:
        return rep
    if isinstance(devices, str):
        devices = devices.split(",")
    devices = list(devices or [])
    d = folded[0]
    name = devices[d["device"]] if d["device"] < len(devices) else "device %d" % d["device"]
    hint = ""
    if d["handles"] >= 3:
        hint = "; max_classes=%d at format gives every class its own" % (d["handles"] - 2)
    logger.warning(
        "%s: %s: %d of %d placement classes share %d placement handle(s) (the device has "
        "%d)%s: their data mixes in reclaim units, defeating FDP separation between them%s",
        who, name, d["shared_classes"], len(d["classes"]), d["shared_handles"], d["handles"],
        " (and on %d more device(s))" % (len(folded) - 1) if len(folded) > 1 else "", hint)
    return rep
