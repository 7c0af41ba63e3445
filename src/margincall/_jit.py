"""How margincall compiles its kernels.

`kernel` compiles with numba, caches the machine code on disk (a second process does not
compile again), and turns off numba's reference counting: kernels never allocate, and counting
array references on every call and view costs more than the arithmetic of a day. `nogil_kernel`
also releases the GIL, so that Python threads run blocks of paths side by side.
Set NUMBA_DISABLE_JIT=1 to run every kernel as plain Python.

numba's cache checks only the source file of each function, not the files of the functions it
calls, so a changed helper could leave a stale caller in the cache. The cache therefore lives in
a folder named by a hash of the kernels' code (unless NUMBA_CACHE_DIR is set): the hash is taken
over the syntax trees of the kernel modules without docstrings, so an edit to a comment or a
docstring keeps the cache, and any edit to code starts a fresh one. When no cache folder can be
written (a read-only home), kernels compile in every process and a warning says so.
"""

from __future__ import annotations

import ast
import hashlib
import os
import tempfile
import warnings
from pathlib import Path

import numba
from numba import njit
from numba.core.errors import NumbaExperimentalFeatureWarning

# The credit machinery is a first-class function (engine.kernel): a feature numba calls experimental.
warnings.filterwarnings("ignore", category=NumbaExperimentalFeatureWarning)

KERNEL_PACKAGES = ("market", "engine")


def _code_of(source: str) -> str:
    """The module's code without docstrings or comments, as a stable text."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            if isinstance(body[0].value.value, str):
                body[0] = ast.Pass()
    return ast.dump(tree, annotate_fields=False)


def kernel_code_hash() -> str:
    """Hash of the code of every kernel module and of numba's version."""
    package = Path(__file__).parent
    digest = hashlib.sha256()
    for folder in KERNEL_PACKAGES:
        for source in sorted((package / folder).glob("*.py")):
            digest.update(source.name.encode())
            digest.update(_code_of(source.read_text(encoding="utf-8")).encode())
    digest.update(numba.__version__.encode())
    return digest.hexdigest()[:16]


def _writable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=folder, prefix=".probe-", delete=True)
        probe.close()
        return True
    except OSError:
        return False


def _kernel_cache_dir() -> Path | None:
    """The cache folder: ~/.cache/margincall/numba-<hash> (XDG_CACHE_HOME respected), else one in
    the system's temporary folder; None when neither can be written."""
    name = f"numba-{kernel_code_hash()}"
    candidates = []
    base = os.environ.get("XDG_CACHE_HOME")
    try:
        candidates.append(Path(base) if base else Path.home() / ".cache")
    except RuntimeError:  # no home folder
        pass
    candidates.append(Path(tempfile.gettempdir()) / f"margincall-{os.getuid() if hasattr(os, 'getuid') else 'user'}")
    for root in candidates:
        folder = root / "margincall" / name
        if _writable(folder):
            return folder
    return None


CACHE_DIR: Path | None
if os.environ.get("NUMBA_CACHE_DIR"):
    CACHE_DIR = Path(os.environ["NUMBA_CACHE_DIR"])
else:
    CACHE_DIR = _kernel_cache_dir()
    if CACHE_DIR is None:
        warnings.warn(
            "margincall: no folder for the compiled-kernel cache can be written (home and temporary folders are "
            "read-only); kernels will be compiled in every process. Set NUMBA_CACHE_DIR to a writable folder.",
            RuntimeWarning,
            stacklevel=2,
        )
    else:
        numba.config.CACHE_DIR = str(CACHE_DIR)

_CACHE = CACHE_DIR is not None
kernel = njit(cache=_CACHE, _nrt=False)
nogil_kernel = njit(cache=_CACHE, _nrt=False, nogil=True)
# A small helper, or a phase with one caller, is copied into its callers by numba: a call with
# arrays costs a few words per array and dimension, more than the arithmetic of such helpers on
# a hot path, and a function inlined at its only call site is not compiled on its own.
inline = njit(cache=_CACHE, _nrt=False, inline="always")
