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
docstring keeps the cache, and any edit to code starts a fresh one (the hash is remembered under the
sources' sizes and modification times, so that a process does not parse them again while none
changes). When no cache folder can be
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


def _kernel_sources() -> list[Path]:
    package = Path(__file__).parent
    return [source for folder in KERNEL_PACKAGES for source in sorted((package / folder).glob("*.py"))]


def _sources_stamp(sources: list[Path]) -> str:
    """A key of the kernel sources' paths, sizes and modification times (numba's own cache index
    trusts the same stamp), and of numba's version."""
    digest = hashlib.sha256(numba.__version__.encode())
    for source in sources:
        stat = source.stat()
        digest.update(f"{source}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
    return digest.hexdigest()[:24]


# numba's on-disk cache is valid for this stamp only: it files kernels by their source folder's
# path and checks each source file's size and modification time (engine.compile keys its "compiled"
# marker by it, so that a second install of the same code, or a touched file, is announced as the
# compile it is)
SOURCES_STAMP = _sources_stamp(_kernel_sources())


def kernel_code_hash(memo_folder: Path | None = None) -> str:
    """Hash of the code of every kernel module and of numba's version. Parsing the modules takes
    about 0.1 s, paid by every process (each CLI command, each Dask worker): with `memo_folder`,
    the hash is remembered there under the sources' stamp and read back while no source changes."""
    sources = _kernel_sources()
    memo = memo_folder / f"code-{SOURCES_STAMP}" if memo_folder is not None else None
    if memo is not None:
        try:
            known = memo.read_text(encoding="ascii").strip()
            if len(known) == 16:
                return known
        except (OSError, UnicodeDecodeError):
            pass
    digest = hashlib.sha256()
    for source in sources:
        digest.update(source.name.encode())
        digest.update(_code_of(source.read_text(encoding="utf-8")).encode())
    digest.update(numba.__version__.encode())
    code_hash = digest.hexdigest()[:16]
    if memo is not None:
        try:
            memo.parent.mkdir(parents=True, exist_ok=True)
            memo.write_text(code_hash + "\n", encoding="ascii")
        except OSError:
            pass
    return code_hash


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
    candidates = []
    base = os.environ.get("XDG_CACHE_HOME")
    try:
        candidates.append(Path(base) if base else Path.home() / ".cache")
    except RuntimeError:  # no home folder
        pass
    candidates.append(Path(tempfile.gettempdir()) / f"margincall-{os.getuid() if hasattr(os, 'getuid') else 'user'}")
    name = None
    for root in candidates:
        if name is None:
            name = f"numba-{kernel_code_hash(root / 'margincall' / 'code-hashes')}"
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
# a hot path, and a function inlined at its only call site is not compiled on its own. Each copy
# is typed and lowered again, so the credit machinery's large phases (obligations, paying dues,
# responding to a call, liquidating, deadlines) stay ordinary kernels: they run on few days of a
# path, and inlined they took 40% more of the first compile (25.6 s against 15.6 s) for a speed-up
# on the default scenario within the noise (about 2%).
inline = njit(cache=_CACHE, _nrt=False, inline="always")
