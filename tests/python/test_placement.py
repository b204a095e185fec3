# SPDX-License-Identifier: LGPL-2.1-or-later
"""Placement classes folded onto one placement handle: report_status's
placement report, FdpKvConnector.placement() and the one warning both
adapters log at open (sim: devices with few and with enough handles)."""
import logging

from fdpkv_lmcache import FdpKvConnector, FdpKvL2Adapter

SIM = {"capacity": "64M", "segment_size": "1M", "max_classes": 8}


def test_report_status_placement(adapter):
    st = adapter.report_status()
    rep = st["placement"]
    assert len(rep) == 1 and rep[0]["device"] == 0
    assert len(rep[0]["classes"]) == len(st["lib"]["classes"])
    assert [c["class"] for c in rep[0]["classes"]] == list(range(len(rep[0]["classes"])))
    assert st["placement_shared_classes"] == sum(d["shared_classes"] for d in rep)
    if not rep[0]["fdp"]:                           # file: one stream, nothing shared
        assert st["placement_shared_classes"] == 0 and rep[0]["handles"] == 0


def test_folded_classes_reported_and_warned(caplog):
    caplog.set_level(logging.WARNING, logger="fdpkv_lmcache")
    a = FdpKvL2Adapter(dict(SIM, devices=["sim:handles=4"]))
    try:
        st = a.report_status()
        assert st["placement_shared_classes"] == 8
        d = st["placement"][0]
        assert d["fdp"] and d["handles"] == 4 and d["shared_handles"] == 2
        assert [c["sharing"] for c in d["classes"]] == [0, 0] + [3] * 8
        assert {c["placement_id"] for c in d["classes"][2:]} == {2, 3}
    finally:
        a.close()
    warns = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warns) == 1
    msg = warns[0].getMessage()
    assert "FdpKvL2Adapter: sim:handles=4: 8 of 10 placement classes share 2" in msg
    assert "max_classes=2" in msg

    caplog.clear()
    c = FdpKvConnector(devices="sim:handles=4", **SIM)
    try:
        assert c.placement()[0]["shared_classes"] == 8
    finally:
        c.close()
    warns = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warns) == 1 and "FdpKvConnector: sim:handles=4" in warns[0].getMessage()


def test_no_warning_when_every_class_has_its_handle(caplog):
    caplog.set_level(logging.WARNING, logger="fdpkv_lmcache")
    a = FdpKvL2Adapter(dict(SIM, devices=["sim:handles=16"]))
    try:
        st = a.report_status()
        assert st["placement_shared_classes"] == 0
        assert [c["placement_id"] for c in st["placement"][0]["classes"]] == list(range(10))
    finally:
        a.close()
    c = FdpKvConnector(devices="sim:handles=16", **SIM)
    c.close()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
