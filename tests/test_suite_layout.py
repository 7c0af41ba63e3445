"""The test suite's own layout: CI runs the README's test command and then the slow tests, and
test modules have unique names (pytest's default import mode stops at collection otherwise)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_test_modules_have_unique_names() -> None:
    names = Counter(path.name for path in (ROOT / "tests").rglob("test_*.py"))
    assert [name for name, count in names.items() if count > 1] == []


def test_ci_runs_the_readme_test_command_then_the_slow_tests() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert 'python -m pip install -e ".[test]" && python -m pytest\n' in readme
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    commands = [line.split("||")[0].strip() for line in ci.splitlines() if re.match(r"\s*python -m pytest", line)]
    assert commands == ["python -m pytest", "python -m pytest -m slow"]
    assert 'exit "$status"' in ci  # either half failing fails CI


def test_the_fast_half_runs_on_every_core_and_the_slow_half_in_one_process() -> None:
    import importlib.util
    import os
    from types import SimpleNamespace

    spec = importlib.util.spec_from_file_location("suite_conftest", ROOT / "tests" / "conftest.py")
    assert spec is not None and spec.loader is not None
    conftest = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conftest)
    pytest_xdist_auto_num_workers = conftest.pytest_xdist_auto_num_workers

    def workers(markexpr: str, args: list[str]) -> int:
        return pytest_xdist_auto_num_workers(SimpleNamespace(option=SimpleNamespace(markexpr=markexpr), args=args))

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    assert workers("", []) == min(4, cores)
    assert workers("slow", []) == 0
    assert workers("", ["tests/engine/test_first_start.py::test_the_marker_is_keyed_by_the_sources_stamp"]) == 0
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'addopts = ".*-n auto', pyproject)
