"""How margincall compiles its kernels.

`kernel` compiles with numba, caches the machine code on disk (a second process does not
compile again), and turns off numba's reference counting: kernels never allocate, and the
counting of array references on every call and view costs more than the arithmetic of a day.
`inline_kernel` is the same for small helpers that numba copies into their caller.
Set NUMBA_DISABLE_JIT=1 to run every kernel as plain Python.

numba's cache checks only the source file of each function, not the files of the functions
it calls, so a changed helper could leave a stale caller in the cache. The cache therefore
lives in a folder named by a hash of all kernel sources (unless NUMBA_CACHE_DIR is set).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numba
from numba import njit


def _kernel_cache_dir() -> Path:
    package = Path(__file__).parent
    digest = hashlib.sha256()
    for folder in ("market", "engine"):
        for source in sorted((package / folder).glob("*.py")):
            digest.update(source.name.encode())
            digest.update(source.read_bytes())
    digest.update(numba.__version__.encode())
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "margincall" / f"numba-{digest.hexdigest()[:16]}"


if not os.environ.get("NUMBA_CACHE_DIR"):
    numba.config.CACHE_DIR = str(_kernel_cache_dir())

kernel = njit(cache=True, _nrt=False)
inline_kernel = njit(cache=True, _nrt=False, inline="always")
