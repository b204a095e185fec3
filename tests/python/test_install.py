# SPDX-License-Identifier: LGPL-2.1-or-later
"""`pip install ./plugin` with Debian's python3 and no index (no PyPI here):
the installed package imports outside the source tree and round-trips."""
import os
import pathlib
import subprocess
import sys

import pytest

TOP = pathlib.Path(__file__).resolve().parents[2]


@pytest.mark.skipif(subprocess.run([sys.executable, "-m", "pip", "--version"],
                                   capture_output=True).returncode != 0,
                    reason="python3-pip is not installed")
def test_pip_install_plugin_into_a_target(tmp_path):
    target = tmp_path / "site"
    env = dict(os.environ, FDPKV_TOP=str(TOP), PIP_NO_INDEX="1",
               PIP_DISABLE_PIP_VERSION_CHECK="1")
    r = subprocess.run([sys.executable, "-m", "pip", "install", "--no-build-isolation",
                        "--no-deps", "--target", str(target), str(TOP / "plugin")],
                       capture_output=True, text=True, env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    code = (
        "import ctypes, fdpkv_lmcache, select, sys\n"
        "assert fdpkv_lmcache.__file__.startswith(sys.argv[1]), fdpkv_lmcache.__file__\n"
        "c = fdpkv_lmcache.FdpKvConnector(devices=['file:' + sys.argv[2]], capacity='64M',\n"
        "                                 segment_size='1M')\n"
        "src = (ctypes.c_ubyte * 5000).from_buffer_copy(bytes(range(256)) * 19 + bytes(136))\n"
        "dst = (ctypes.c_ubyte * 5000)()\n"
        "ids = [c.submit_batch_set(['m@0@0@k'], [memoryview(src)])]\n"
        "done = {}\n"
        "def wait(i):\n"
        "    while i not in done:\n"
        "        select.select([c.event_fd()], [], [], 5)\n"
        "        for fid, ok, err, per_key in c.drain_completions():\n"
        "            done[fid] = (ok, per_key)\n"
        "    return done[i]\n"
        "assert wait(ids[0])[0]\n"
        "g = c.submit_batch_get(['m@0@0@k'], [memoryview(dst)])\n"
        "ok, per_key = wait(g)\n"
        "assert ok and per_key in (None, [True]) and bytes(dst) == bytes(src)\n"
        "c.close()\n"
        "from fdpkv_lmcache.nonmp import FdpKvStorageBackend  # the non-MP plugin ships too\n"
        "print('round trip ok')\n")
    r = subprocess.run([sys.executable, "-c", code, str(target), str(tmp_path / "dev.img")],
                       capture_output=True, text=True, cwd=tmp_path,
                       env=dict(os.environ, PYTHONPATH=str(target)))
    assert r.returncode == 0 and "round trip ok" in r.stdout, r.stdout + r.stderr
