# SPDX-License-Identifier: LGPL-2.1-or-later
"""pytest setup for the fdpkv_lmcache tests: puts plugin/ (with the in-place
built extension, `make plugin`) on sys.path and gives each test its own
file-backend device in tmp_path."""
import os
import pathlib
import sys

import pytest

TOP = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(TOP / "plugin"))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import lmc  # noqa: E402  (tests/python/lmc.py)


def _wipe_superblocks(bdev: str) -> None:
    """Zero the first 8 KiB (both superblock copies) of block device @bdev
    with O_DIRECT, so the next open formats a fresh cache."""
    import mmap

    buf = mmap.mmap(-1, 8192)  # page aligned, zero filled
    fd = os.open(bdev, os.O_RDWR | os.O_DIRECT)
    try:
        os.pwrite(fd, buf, 0)
    finally:
        os.close(fd)
        buf.close()


@pytest.fixture
def dev(tmp_path):
    """The device of each test's cache: a new file, or the device named by
    FDPKV_TEST_DEVICE (the VM runs these tests on the emulated FDP SSD, e.g.
    ng:/dev/ng0n1) with its superblocks wiped through FDPKV_TEST_WIPE (its
    block device) so that every test starts on an empty cache."""
    uri = os.environ.get("FDPKV_TEST_DEVICE")
    if not uri:
        return "file:%s" % (tmp_path / "dev.img")
    _wipe_superblocks(os.environ["FDPKV_TEST_WIPE"])
    return uri


@pytest.fixture
def native_params(dev):
    """The README's native_plugin adapter_params with the device replaced."""
    return lmc.readme_params("native_plugin", dev)


@pytest.fixture
def plugin_params(dev):
    """The README's plugin adapter_params with the device replaced."""
    return lmc.readme_params("plugin", dev)


@pytest.fixture
def conn(native_params):
    from fdpkv_lmcache import FdpKvConnector

    c = FdpKvConnector(**native_params)
    yield c
    c.close()


@pytest.fixture
def adapter(plugin_params):
    from fdpkv_lmcache import FdpKvL2Adapter, FdpKvL2AdapterConfig

    a = FdpKvL2Adapter(FdpKvL2AdapterConfig.from_dict(plugin_params))
    yield a
    a.close()
