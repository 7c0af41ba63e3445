"""Helpers for the hostile-input tests: the CLI in-process and as a separate process, and the
one outcome every input must have: `check` and `run` either succeed with finite results or exit
with status 2 and one clear message, never a traceback; and `check` passing means `run` does
not fail on input."""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner

from margincall.cli.main import app

DATA = Path(__file__).resolve().parents[1] / "data"
BASE = (DATA / "single-stock.yaml").read_text(encoding="utf-8")
EXE = shutil.which("margincall")


@dataclass(frozen=True)
class Outcome:
    code: int
    output: str  # stdout and stderr, with rich's line wrapping undone
    stdout: str
    crashed: BaseException | None  # an exception that escaped the command (not SystemExit)


def cli(*args: str) -> Outcome:
    """A command run in-process (the kernels stay compiled between commands)."""
    result = CliRunner().invoke(app, [str(a) for a in args])
    crashed = result.exception if result.exception is not None and not isinstance(result.exception, SystemExit) else None
    flat = " ".join(result.output.replace("│", " ").split())  # rich's wrapping and typer's error box undone
    return Outcome(result.exit_code, flat, result.stdout, crashed)


def cli_process(*args: str, timeout: float = 300, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """A command in a process of its own (for what could block, hang or print at exit)."""
    command = [EXE, *map(str, args)] if EXE else [sys.executable, "-m", "margincall.cli.main", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})})


def assert_clean_error(outcome: Outcome, *needles: str) -> None:
    """Exit status 2, one "error:" message (containing every needle), no traceback."""
    assert outcome.crashed is None, f"an exception escaped: {outcome.crashed!r}\n{outcome.output}"
    assert outcome.code == 2, outcome.output
    assert "Traceback" not in outcome.output
    messages = len(re.findall(r"(?<!syntax )error:", outcome.output))
    assert messages == 1 or "Invalid value" in outcome.output or "Usage:" in outcome.output, outcome.output
    for needle in needles:
        assert needle in outcome.output, f"{needle!r} not in: {outcome.output}"


def write(tmp_path: Path, text: str, name: str = "scenario.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def finite_json(path: Path) -> bool:
    """Whether a result.json holds only finite numbers (JSON's NaN and Infinity are not finite)."""
    def walk(value: object) -> bool:
        if isinstance(value, float):
            return math.isfinite(value)
        if isinstance(value, dict):
            return all(walk(v) for v in value.values())
        if isinstance(value, list):
            return all(walk(v) for v in value)
        return True

    return walk(json.loads(path.read_text(encoding="utf-8")))


def check_then_run(tmp_path: Path, text: str, *, paths: int = 64) -> tuple[Outcome, Outcome | None]:
    """`check` the scenario text; when it passes, `run` it (tiny path count, no store). `run`
    refuses to show a result with NaN or infinity (exit 2), so exit 0 means finite results."""
    path = write(tmp_path, text)
    checked = cli("check", path)
    if checked.code != 0:
        return checked, None
    return checked, cli("run", path, "--paths", str(paths), "--no-store")


def assert_refused_or_runs(tmp_path: Path, text: str, *needles: str) -> None:
    """`check` refuses the text cleanly (naming the needles), or it passes and `run` succeeds with
    finite results."""
    checked, ran = check_then_run(tmp_path, text)
    if ran is None:
        assert_clean_error(checked, *needles)
        return
    assert checked.crashed is None and checked.code == 0
    assert ran.crashed is None, f"check passed, then run crashed: {ran.crashed!r}\n{ran.output}"
    assert ran.code == 0, f"check passed, then run failed (a result that is not finite is a failure too):\n{ran.output}"
