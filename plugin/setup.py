# SPDX-License-Identifier: LGPL-2.1-or-later
"""Build fdpkv_lmcache._native from src/*.c against the static libfdpkv.

The fdpkv tree is found through the environment variable FDPKV_TOP (default:
the parent of this directory). If <top>/build/lib/libfdpkv.a is missing,
`make -C <top> lib` is run once; if that fails the build stops with a message.
"""
import glob
import os
import subprocess
import sys

from setuptools import Extension, setup

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.environ.get("FDPKV_TOP") or os.path.join(HERE, ".."))
LIBA = os.path.join(TOP, "build", "lib", "libfdpkv.a")


def _ensure_lib():
    if os.path.exists(LIBA):
        return
    if not os.path.exists(os.path.join(TOP, "Makefile")):
        sys.exit(f"fdpkv_lmcache: {LIBA} is missing and {TOP} is not an fdpkv tree; "
                 "set FDPKV_TOP to the fdpkv source tree and run `make lib` there")
    print(f"fdpkv_lmcache: {LIBA} is missing, running `make -C {TOP} lib`", file=sys.stderr)
    rc = subprocess.call(["make", "-C", TOP, "lib"])
    if rc != 0 or not os.path.exists(LIBA):
        sys.exit(f"fdpkv_lmcache: `make -C {TOP} lib` failed (exit {rc}); "
                 f"libfdpkv.a is needed at {LIBA}")


# Only building the extension needs the library (not sdist/egg_info).
if any(a.startswith(("build", "install", "bdist", "develop", "editable")) for a in sys.argv[1:]):
    _ensure_lib()

sources = sorted(os.path.relpath(p, HERE) for p in glob.glob(os.path.join(HERE, "src", "*.c")))

native = Extension(
    "fdpkv_lmcache._native",
    sources=sources,
    include_dirs=[os.path.join(HERE, "src"), os.path.join(TOP, "lib", "include"),
                  os.path.join(TOP, "include")],
    extra_compile_args=["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter",
                        "-Wno-missing-field-initializers", "-D_GNU_SOURCE", "-pthread"],
    extra_objects=[LIBA],
    libraries=["uring", "pthread"],
    # ISA-L's crc32_iscsi is referenced weakly (lib/crc32c.c): --as-needed would drop it
    extra_link_args=["-Wl,--push-state,--no-as-needed", "-lisal", "-Wl,--pop-state"],
    depends=glob.glob(os.path.join(HERE, "src", "*.h")) + [LIBA],
)

setup(packages=["fdpkv_lmcache"], ext_modules=[native])
