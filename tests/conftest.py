"""Shared fixtures: scenario files under tests/data."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"


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
