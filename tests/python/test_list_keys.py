# SPDX-License-Identifier: LGPL-2.1-or-later
"""FdpKvL2Adapter.list_l2_keys: LMCache's L2AdapterInterface signature and
KeyListPage result, pages in key-byte order, the model filter, stability
while keys come and go between pages, and its refusals."""
import pytest

from lmc import lmkey, okey, store

from fdpkv_lmcache import FdpKvL2Adapter
from fdpkv_lmcache._compat import EncodedObjectKey, KeyEntry, KeyListPage
from fdpkv_lmcache.keys import key_to_string


def entry_str(e) -> str:
    """The stored key string of a KeyEntry (inverse of the adapter's parse)."""
    k = e.key
    s = "%s@%08x@%x@%s" % (k.model_name, k.kv_rank, k.object_group_id, k.chunk_hash_hex)
    return s + "@" + k.cache_salt if k.cache_salt else s


def list_all(adapter, page_size, model_name=None):
    """Every page of one listing."""
    pages, cursor = [], None
    while True:
        page = adapter.list_l2_keys(model_name=model_name, page_size=page_size, cursor=cursor)
        pages.append(page)
        cursor = page.next_page_token
        if cursor is None:
            return pages


def byte_order(strs):
    return sorted(strs, key=lambda s: s.encode())


def test_pages_cover_every_key_once_in_byte_order(adapter):
    keys = [okey(i, salt=("t%d" % (i % 3)) if i % 2 else "") for i in range(23)]
    store(adapter, keys, [b"v" * (100 + i) for i in range(23)])
    pages = list_all(adapter, page_size=5)
    assert len(pages) == 5                                      # 5 + 5 + 5 + 5 + 3
    assert [len(p.entries) for p in pages] == [5, 5, 5, 5, 3]
    for p in pages:
        assert isinstance(p, KeyListPage) and isinstance(p.entries, tuple)
        assert all(isinstance(e, KeyEntry) for e in p.entries)
    assert all(isinstance(p.next_page_token, str) for p in pages[:-1])
    got = [entry_str(e) for p in pages for e in p.entries]
    want = {key_to_string(k): 100 + i for i, k in enumerate(keys)}
    assert got == byte_order(want)
    sizes = {entry_str(e): e.size_bytes for p in pages for e in p.entries}
    assert sizes == want
    # an exact multiple of the page size ends with next_page_token None, not an empty page
    pages = list_all(adapter, page_size=23)
    assert len(pages) == 1 and len(pages[0].entries) == 23
    assert adapter.list_l2_keys().next_page_token is None       # defaults: page_size 500


def test_entry_is_lmcache_encoded_key(adapter):
    k = okey(7, salt="alice:chat", model="org/Model-7B", rank=0x04010401, group=2)
    store(adapter, [k], [b"x" * 321])
    (e,) = adapter.list_l2_keys().entries
    assert isinstance(e.key, EncodedObjectKey)
    assert e.key == EncodedObjectKey(chunk_hash_hex=k.chunk_hash.hex(), model_name="org/Model-7B",
                                     kv_rank=0x04010401, object_group_id=2,
                                     cache_salt="alice:chat")
    assert e.size_bytes == 321


def test_model_filter(adapter):
    models = ["llama", "llama-2", "mistral"]
    keys = {m: [okey(i, model=m, salt="s" if i % 2 else "") for i in range(9)] for m in models}
    for m in models:
        store(adapter, keys[m], [b"m" * 50] * 9)
    # a key that is not an LMCache key: stored, never listed
    store(adapter, ["fdpkvctl-bench-0000000001"], [b"f" * 10])
    for m in models:
        got = [entry_str(e) for p in list_all(adapter, 4, model_name=m) for e in p.entries]
        assert got == byte_order(key_to_string(k) for k in keys[m])   # "llama" excludes "llama-2"
        assert {e.key.model_name for p in list_all(adapter, 4, m) for e in p.entries} == {m}
    everything = [entry_str(e) for p in list_all(adapter, 4) for e in p.entries]
    assert len(everything) == 27 and "fdpkvctl-bench-0000000001" not in everything
    page = adapter.list_l2_keys(model_name="no-such-model")
    assert page.entries == () and page.next_page_token is None


def test_stable_while_keys_are_deleted_and_added_between_pages(adapter):
    keys = [okey(i) for i in range(30)]
    store(adapter, keys, [b"d" * 64] * 30)
    order = byte_order(key_to_string(k) for k in keys)
    by_str = {key_to_string(k): k for k in keys}

    first = adapter.list_l2_keys(page_size=8)
    seen = [entry_str(e) for e in first.entries]
    assert seen == order[:8]
    cursor_key = seen[-1]
    # delete 2 listed keys and 3 not yet listed; add keys before and after the cursor
    gone_listed = order[2:4]
    gone_ahead = [order[10], order[17], order[29]]
    adapter.delete([by_str[s] for s in gone_listed + gone_ahead])
    new = [lmkey(1000 + i) for i in range(12)]
    store(adapter, new, [b"n" * 32] * 12)

    cursor = first.next_page_token
    pages = 1
    while cursor is not None:
        page = adapter.list_l2_keys(page_size=8, cursor=cursor)
        seen += [entry_str(e) for e in page.entries]
        cursor = page.next_page_token
        pages += 1
        if pages == 2:                           # churn again: order[20] is not reached yet
            assert order[20].encode() > seen[-1].encode()
            adapter.delete([by_str[order[20]]])

    assert len(seen) == len(set(seen))                          # nothing twice
    rest = seen[8:]
    assert rest == byte_order(rest)                             # still in order
    survivors = [s for s in order if s not in gone_listed + gone_ahead + [order[20]]]
    for s in survivors:
        assert seen.count(s) == 1                               # present throughout: once
    for s in gone_ahead:
        assert s not in seen                                    # deleted before being reached
    for s in new:
        # new keys show up exactly when they sort after the cursor
        assert (s in rest) == (s.encode() > cursor_key.encode())


def test_listing_while_storing(adapter):
    """Listings run beside stores (the walk holds neither the GIL nor the
    adapter's lock): each listing stays ordered and duplicate-free."""
    import threading

    stop = threading.Event()

    def writer():
        i = 0
        while not stop.is_set() and i < 400:
            store(adapter, [okey(5000 + i + j) for j in range(4)], [b"w" * 16] * 4)
            i += 4

    t = threading.Thread(target=writer)
    t.start()
    try:
        for _ in range(20):
            got = [entry_str(e) for p in list_all(adapter, 16) for e in p.entries]
            assert got == byte_order(set(got))
    finally:
        stop.set()
        t.join(30)
    assert not t.is_alive()


@pytest.mark.parametrize("page_size", [0, -1, True, 1.5, "10", None])
def test_bad_page_size(adapter, page_size):
    with pytest.raises(ValueError, match="page_size"):
        adapter.list_l2_keys(page_size=page_size)


@pytest.mark.parametrize("cursor", ["garbage", "k1.", "k1.@@@", 42])
def test_bad_cursor_and_model(adapter, cursor):
    with pytest.raises(ValueError, match="cursor"):
        adapter.list_l2_keys(cursor=cursor)
    with pytest.raises(ValueError, match="model_name"):
        adapter.list_l2_keys(model_name="a@b")


def test_list_after_close_raises(plugin_params):
    a = FdpKvL2Adapter(plugin_params)
    a.close()
    with pytest.raises(ValueError, match="closed"):
        a.list_l2_keys()


def test_page_sizes_one_and_huge(adapter):
    store(adapter, [okey(i) for i in range(4)], [b"a"] * 4)
    pages = list_all(adapter, 1)
    assert [len(p.entries) for p in pages] == [1, 1, 1, 1]
    assert len(adapter.list_l2_keys(page_size=10 ** 9).entries) == 4
