"""The first start: a compile is announced and kept out of the run's time, and a second start
compiles nothing. The "compiled" marker follows what numba's cache checks (the sources' path,
size and modification time), so another install of the same code is not taken for compiled."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from margincall._jit import (
    SOURCES_STAMP,
    _kernel_sources,
    _sources_stamp,
    kernel_code_hash,
)
from margincall.engine.compile import MARKER

ANNOUNCED = "compiling kernels, once per install"


def test_the_marker_is_keyed_by_the_sources_stamp() -> None:
    assert MARKER == f"compiled-{SOURCES_STAMP}"
    assert SOURCES_STAMP == _sources_stamp(_kernel_sources())


def test_the_stamp_changes_with_a_files_path_or_time_but_not_with_nothing(tmp_path: Path) -> None:
    first = tmp_path / "a" / "day.py"
    first.parent.mkdir()
    first.write_text("x = 1\n", encoding="utf-8")
    os.utime(first, ns=(1_000_000_000, 1_000_000_000))
    stamp = _sources_stamp([first])
    assert _sources_stamp([first]) == stamp
    copy = tmp_path / "b" / "day.py"  # the same code installed elsewhere
    copy.parent.mkdir()
    copy.write_text("x = 1\n", encoding="utf-8")
    os.utime(copy, ns=(1_000_000_000, 1_000_000_000))
    assert _sources_stamp([copy]) != stamp
    os.utime(first, ns=(2_000_000_000, 2_000_000_000))  # touched
    assert _sources_stamp([first]) != stamp


def test_the_code_hash_is_remembered_and_read_back(tmp_path: Path) -> None:
    fresh = kernel_code_hash()
    assert kernel_code_hash(tmp_path) == fresh  # computed, then written
    (memo,) = tmp_path.iterdir()
    assert memo.name == f"code-{SOURCES_STAMP}" and memo.read_text(encoding="ascii").strip() == fresh
    assert kernel_code_hash(tmp_path) == fresh  # read back


def _run(cache: Path, out: Path) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key != "NUMBA_CACHE_DIR"}
    env["XDG_CACHE_HOME"] = str(cache)
    argv = [sys.executable, "-m", "margincall.cli.main", "run", "--paths", "2000", "--no-store", "--out", str(out)]
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=1200, check=True)


@pytest.mark.slow
def test_a_fresh_install_announces_its_compile_and_a_second_start_compiles_nothing(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = _run(cache, tmp_path / "first")
    assert ANNOUNCED in first.stderr + first.stdout
    # the compile (tens of seconds on 2 idle cores, minutes on busy ones) is reported apart from the run
    compiled = re.search(r"kernels compiled in ([0-9.]+) s", first.stderr + first.stdout)
    assert compiled is not None and float(compiled.group(1)) > 5.0
    result = json.loads((tmp_path / "first" / "result.json").read_text(encoding="utf-8"))
    assert result["elapsed_seconds"] < float(compiled.group(1))
    (folder,) = (cache / "margincall").glob("numba-*")
    assert (folder / MARKER).exists()
    second = _run(cache, tmp_path / "second")
    assert ANNOUNCED not in second.stderr + second.stdout and "kernels compiled" not in second.stderr + second.stdout


@pytest.mark.slow
def test_processes_starting_together_compile_once(tmp_path: Path) -> None:
    """Two processes on one empty cache (two test or Dask workers): one compiles, the other waits
    for it and loads what it wrote, spending a fraction of the CPU."""
    env = {key: value for key, value in os.environ.items() if key != "NUMBA_CACHE_DIR"}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    argv = [sys.executable, "-m", "margincall.engine.compile"]
    started = [subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for _ in range(2)]
    cpu_seconds = []
    for process in started:
        _, status, usage = os.wait4(process.pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0, process.stdout.read() if process.stdout else ""
        cpu_seconds.append(usage.ru_utime + usage.ru_stime)  # children (the machinery's compile) not included
        if process.stdout is not None:
            process.stdout.close()
    assert min(cpu_seconds) < 0.25 * max(cpu_seconds), cpu_seconds


LISTEN = """
import sys
from numba.core import event
from margincall.engine.compile import ensure_compiled
compiled = []
class Names(event.Listener):
    def on_start(self, e):
        compiled.append(e.data["dispatcher"].py_func.__name__)
    def on_end(self, e):
        pass
event.register("numba:compile", Names())
ensure_compiled()
print(" ".join(compiled))
"""


@pytest.mark.slow
def test_the_two_compile_units_share_the_day_loops_parts(tmp_path: Path) -> None:
    """On an empty cache this process compiles the quiet stretches and the day loop, and loads the
    busy day, the path's outcome and the credit machinery that the second process built (with the
    signatures the loop calls them with: else they would be compiled here again)."""
    env = {key: value for key, value in os.environ.items() if key != "NUMBA_CACHE_DIR"}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    done = subprocess.run([sys.executable, "-c", LISTEN], capture_output=True, text=True, env=env, timeout=1200, check=True)
    here = set(done.stdout.split())
    assert {"run_slot", "simulate_block", "quiet_days", "quiet_days_single", "refresh_gates"} <= here, here
    assert not here & {"busy_day", "add_outcome", "machinery_idle", "resolve_day", "pay_dues"}, here
