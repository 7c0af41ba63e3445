"""Compiling the kernels once per install, in two processes at once.

The engine has two compile units that do not link each other's code: the day loop (`run_slot`
and below) and the credit machinery (`resolve_day` and below, reached as a first-class function).
numba compiles one function at a time under a global lock, so on a first start the machinery is
compiled in a second process while this one compiles the day loop; both write numba's on-disk
cache, from which every later process (and every Dask worker on the machine) loads them in about a
second. To even out the two, the second process first builds two of the day loop's kernels (the
busy day and the path's outcome, `engine.kernel.OTHER_PARTS`) while this one builds the quiet
stretches; this one then waits for them before compiling the loop, which loads them.

A marker file in the cache folder (named by a hash of the kernels' code) records that this code
version has been compiled, at this install's path and with its files' modification times,
which numba's cache checks too: another install of the same code, or a touched file, compiles
again, and is announced as such. Processes that start together on an empty cache (test workers,
Dask workers on one machine) take turns: one compiles while the others wait for it on a lock file
and then load what it wrote, rather than each compiling the same kernels on the same cores.

    python -m margincall.engine.compile      # compile (or check) the kernels and print the time
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numba

from margincall._jit import CACHE_DIR, SOURCES_STAMP

MARKER = f"compiled-{SOURCES_STAMP}"
EXPECTED_SECONDS = 20  # the first compile on a 2-core machine, for the message shown meanwhile
PARTS_DONE = "parts compiled"  # the helper's line once the day loop's parts it builds are in the cache


def _marker() -> Path | None:
    return CACHE_DIR / MARKER if CACHE_DIR is not None else None


def is_compiled() -> bool:
    """Whether this code version's kernels are in the disk cache."""
    marker = _marker()
    return marker is not None and marker.exists()


def _compile_machinery(parts_done: Callable[[], None] | None = None) -> None:
    """The second unit: the day loop's busy day and outcome (`parts_done` is told when they are
    in the cache), then the credit machinery."""
    from margincall.engine.day import RESOLVE_SIGNATURE, resolve_day
    from margincall.engine.kernel import OTHER_PARTS, compile_parts

    compile_parts(OTHER_PARTS)
    if parts_done is not None:
        parts_done()
    resolve_day.compile(RESOLVE_SIGNATURE)


def _compile_day_loop(before_loop: Callable[[], None] | None = None) -> None:
    """The first unit: the quiet stretches, then (after `before_loop`) the day loop, which loads
    what is already compiled."""
    from margincall.engine.kernel import DAY_LOOP_PARTS, compile_parts, compile_run_slot

    compile_parts(DAY_LOOP_PARTS)
    if before_loop is not None:
        before_loop()
    compile_run_slot()


@contextlib.contextmanager
def _compile_lock() -> Iterator[None]:
    """Held while this process compiles: an exclusive lock on a file in the cache folder (none
    where the folder or file locks are unavailable: each process then compiles for itself)."""
    try:
        import fcntl
    except ImportError:  # not POSIX
        yield
        return
    handle = None
    if CACHE_DIR is not None:
        try:
            handle = open(CACHE_DIR / f"compiling-{SOURCES_STAMP}.lock", "a+b")  # noqa: SIM115 (held across the yield)
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        except OSError:
            if handle is not None:
                handle.close()
            handle = None
    try:
        yield
    finally:
        if handle is not None:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
            handle.close()


def ensure_compiled(announce: Callable[[str], None] | None = None) -> float:
    """Compile the kernels unless this code version is in the disk cache; returns the seconds
    spent compiling, or waiting for another process that compiles them (0 when nothing was
    compiled). `announce` is told before a compile starts."""
    if is_compiled() or numba.config.DISABLE_JIT:
        return 0.0
    started = time.perf_counter()
    if announce is not None:
        announce(f"compiling kernels, once per install: ~{EXPECTED_SECONDS} s")
    with _compile_lock():
        if not is_compiled():  # else another process compiled them while this one waited
            _compile_all()
    return time.perf_counter() - started


def _compile_all() -> None:
    started = time.perf_counter()
    helper = None
    if CACHE_DIR is not None and not os.environ.get("NUMBA_DISABLE_JIT"):
        helper = subprocess.Popen(
            [sys.executable, "-m", "margincall.engine.compile", "--machinery"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )

    def parts_from_helper() -> None:
        """Wait until the helper has the day loop's busy day and outcome in the cache (or ended)."""
        if helper is not None and helper.stdout is not None:
            helper.stdout.readline()

    _compile_day_loop(before_loop=parts_from_helper)
    if helper is not None:
        helper.wait()
        if helper.stdout is not None:
            helper.stdout.close()
    _compile_machinery()  # loads what the helper wrote; compiles here if it could not
    marker = _marker()
    if marker is not None:
        try:
            marker.write_text(f"{time.perf_counter() - started:.1f}\n", encoding="utf-8")
        except OSError:
            pass


def main(argv: list[str]) -> int:
    if argv[1:] == ["--machinery"]:
        _compile_machinery(parts_done=lambda: print(PARTS_DONE, flush=True))
        return 0
    seconds = ensure_compiled(lambda message: print(message, flush=True))
    print(f"kernels ready ({seconds:.1f} s compiling)" if seconds else "kernels ready (from the cache)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
