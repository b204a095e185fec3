# SPDX-License-Identifier: LGPL-2.1-or-later
"""fdpkv_lmcache - LMCache L2 adapters over libfdpkv (NVMe FDP KV-cache store).

- FdpKvConnector: the ``native_plugin`` connector (event_fd, submit_batch_*,
  drain_completions, close), constructed as ``FdpKvConnector(**adapter_params)``.
- FdpKvL2Adapter / FdpKvL2AdapterConfig: the ``plugin`` adapter
  (an L2AdapterInterface with library-side locks, seeded usage and listeners).

See README.md for the LMCache JSON of both.
"""
from . import _native
from ._compat import HAVE_LMCACHE, AdapterUsage, Bitmap, L2StoreResult
from .adapter import FdpKvL2Adapter, FdpKvL2AdapterConfig
from .connector import FdpKvConnector
from .keys import key_to_string

__version__ = "0.1.0"
#: libfdpkv version this module was compiled against / runs with.
LIB_VERSION_COMPILED = (_native.VERSION_MAJOR, _native.VERSION_MINOR)
LIB_VERSION_RUNTIME = _native.lib_version()

__all__ = ["FdpKvConnector", "FdpKvL2Adapter", "FdpKvL2AdapterConfig", "AdapterUsage",
           "Bitmap", "L2StoreResult", "HAVE_LMCACHE", "key_to_string",
           "LIB_VERSION_COMPILED", "LIB_VERSION_RUNTIME"]
