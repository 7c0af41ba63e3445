"""Shared fixtures: scenario files under tests/data."""

from __future__ import annotations

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
