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
