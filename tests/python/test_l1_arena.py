# SPDX-License-Identifier: LGPL-2.1-or-later
"""The plugin adapter registers LMCache's L1 arena (l1_memory_desc): values in
it move between device and L1 without a copy, through io_uring fixed buffers
(in the VM: NVMe passthrough on ng and through the module)."""
import ctypes
import mmap
import types

import pytest

from lmc import bits, okey, payload, wait_query, wait_store

from fdpkv_lmcache import FdpKvL2Adapter, FdpKvL2AdapterConfig, _native

ARENA = 32 << 20
CHUNK = 256 << 10          # a KV chunk: whole 4 KiB blocks, page aligned in L1


@pytest.fixture
def l1():
    """An L1-like arena and its L1MemoryDesc."""
    m = mmap.mmap(-1, ARENA)
    anchor = ctypes.c_char.from_buffer(m)
    desc = types.SimpleNamespace(ptr=ctypes.addressof(anchor), size=ARENA, align_bytes=4096,
                                 stable_registration_size=ARENA)
    view = memoryview(m)
    yield view, desc
    view.release()
    del anchor
    m.close()


def lib_stats(a):
    return a.report_status()["lib"]


def store_load(a, view, keys, sizes, src_off, dst_off):
    """Store from view[src_off..], load into view[dst_off..]; return the load bits."""
    objs, off = [], src_off
    for i, n in enumerate(sizes):
        view[off:off + n] = payload(i + 7, n)
        objs.append(view[off:off + n])
        off += n
    assert wait_store(a, a.submit_store_task(keys, objs)).is_successful()
    outs, off = [], dst_off
    for n in sizes:
        view[off:off + n] = b"\0" * n
        outs.append(view[off:off + n])
        off += n
    bm = wait_query(a, "load", a.submit_load_task(keys, outs))
    for i, (o, n) in enumerate(zip(outs, sizes)):
        assert bytes(o) == payload(i + 7, n)
    return bits(bm, len(keys))


def test_l1_arena_values_move_without_copy(plugin_params, dev, l1):
    view, desc = l1
    a = FdpKvL2Adapter(FdpKvL2AdapterConfig.from_dict(plugin_params), l1_memory_desc=desc)
    try:
        st = a.report_status()
        assert st["l1_arena"] == {"registered": True, "bytes": ARENA, "error": None}
        before = lib_stats(a)
        keys = [okey(i) for i in range(8)]
        assert store_load(a, view, keys, [CHUNK] * 8, 0, 8 << 20) == [True] * 8
        after = lib_stats(a)
        # stored and loaded in place
        assert after["direct_bytes"] - before["direct_bytes"] == 2 * 8 * CHUNK
        # fixed buffers where the kernel takes them (not Debian 6.1's NVMe
        # passthrough: probed), plain addresses otherwise: no copy either way
        if after["fixed_buffers"]:
            assert after["fixed_cmds"] > before["fixed_cmds"]
        else:
            assert after["fixed_cmds"] == before["fixed_cmds"]
            assert not dev.startswith("file:")
        # a chunk that is not whole blocks is copied, and still exact
        mid = lib_stats(a)["direct_bytes"]
        assert store_load(a, view, [okey(100)], [CHUNK + 100], 16 << 20, 20 << 20) == [True]
        assert lib_stats(a)["direct_bytes"] == mid
    finally:
        a.close()


def test_l1_arena_bad_desc_is_a_warning(plugin_params, l1):
    view, _ = l1
    a = FdpKvL2Adapter(FdpKvL2AdapterConfig.from_dict(plugin_params), l1_memory_desc=object())
    try:
        st = a.report_status()
        assert st["l1_arena"]["registered"] is False
        assert "ptr" in st["l1_arena"]["error"]
        assert store_load(a, view, [okey(1)], [CHUNK], 0, 1 << 20) == [True]
        # page-aligned whole-block chunks still move without a copy, through
        # plain addresses: no fixed buffer without the arena
        assert lib_stats(a)["direct_bytes"] == 2 * CHUNK
        assert lib_stats(a)["fixed_cmds"] == 0
    finally:
        a.close()


def test_native_register_arena_refusals(plugin_params, l1):
    view, desc = l1
    c = _native.Cache(FdpKvL2AdapterConfig.from_dict(plugin_params).lib_params)
    try:
        aid = c.register_arena(desc.ptr, desc.size)
        assert aid >= 0
        with pytest.raises(FileExistsError):
            c.register_arena(desc.ptr + 4096, 4096)
        with pytest.raises(ValueError):
            c.register_arena(0, 4096)
        with pytest.raises(FileNotFoundError):
            c.unregister_arena(aid + 1)
        c.unregister_arena(aid)
    finally:
        c.close()
    with pytest.raises(Exception, match="closed"):
        c.register_arena(desc.ptr, desc.size)
