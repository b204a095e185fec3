# SPDX-License-Identifier: LGPL-2.1-or-later
"""What `make demo` runs after roundtrip.c: the LMCache native_plugin
connector (fdpkv_lmcache.FdpKvConnector) driven the way LMCache's bridge
drives it — submit, poll the event fd, drain — on the file backend."""
import ctypes
import select
import sys

from fdpkv_lmcache import FdpKvConnector

dev = sys.argv[1] if len(sys.argv) > 1 else "/tmp/fdpkv-demo-plugin.img"
conn = FdpKvConnector(devices=["file:" + dev], capacity="256M", segment_size="4M",
                      format="always", placement="salt")
done = {}


def wait(fid):
    while fid not in done:
        select.select([conn.event_fd()], [], [], 0.5)   # the bridge never reads the fd
        for f, ok, err, per_key in conn.drain_completions():
            done[f] = (ok, per_key)
    return done.pop(fid)


keys = ["llama-3-8b@00010000@0@%016x@alice:1" % (0xc0ffee00 + i) for i in range(8)]
size = 300_001                      # not a multiple of 4 KiB, like LMCache's chunks
src = [(ctypes.c_ubyte * size).from_buffer_copy(bytes([i]) * size) for i in range(8)]
dst = [(ctypes.c_ubyte * size)() for _ in range(8)]
print("plugin demo: fdpkv_lmcache.FdpKvConnector on file:%s" % dev)
ok, _ = wait(conn.submit_batch_set(keys, [memoryview(b) for b in src]))
print("  submit_batch_set     8 keys -> ok=%s" % ok)
ok, bits = wait(conn.submit_batch_exists(keys + ["llama-3-8b@00010000@0@missing"]))
print("  submit_batch_exists  9 keys -> %s" % bits)
ok, filled = wait(conn.submit_batch_get(keys, [memoryview(b) for b in dst]))
same = sum(bytes(a) == bytes(b) for a, b in zip(src, dst))
print("  submit_batch_get     8 keys -> ok=%s, %d of 8 byte-exact" % (ok, same))
ok, removed = wait(conn.submit_batch_delete(keys[:2]))
print("  submit_batch_delete  2 keys -> %s" % removed)
conn.close()
print("plugin demo %s" % ("ok" if same == 8 else "FAILED"))
sys.exit(0 if same == 8 else 1)
