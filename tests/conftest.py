"""Shared fixtures: scenario files under tests/data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"


@pytest.fixture(autouse=True)
def _private_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every command a test runs records into its own SQLite store, never the user's."""
    monkeypatch.setenv("MARGINCALL_DB", str(tmp_path / "runs.db"))


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def rich_scenario():
    import margincall

    return margincall.load_scenario(DATA / "rich.yaml")


@pytest.fixture(scope="session")
def single_stock():
    import margincall

    return margincall.load_scenario(DATA / "single-stock.yaml")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`python -m pytest` leaves out the tests marked `slow` (statistical validation at many
    paths, end-to-end service, Dask and crash tests) so that it passes in under three minutes;
    `python -m pytest -m slow` runs them, and CI (`.ci/run`) runs both. A `-m` expression, or a
    test named on the command line (`path::test`), selects as given."""
    if config.option.markexpr or any("::" in arg for arg in config.args):
        return
    slow = [item for item in items if item.get_closest_marker("slow") is not None]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if item.get_closest_marker("slow") is None]


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto` (pyproject's addopts) runs the fast half on every core, four workers at most (each
    worker builds the session's fixtures again). The slow half (`-m slow`), and a test named on the
    command line, run in one process: the slow tests include timed and crash tests, Dask clusters
    and searches that use every core themselves."""
    if config.option.markexpr or any("::" in arg for arg in config.args):
        return 0
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return min(4, cores)
