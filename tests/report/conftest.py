"""Fixtures for the report tests: real engine results on two tiny scenarios kept in data/."""

from __future__ import annotations

from pathlib import Path

import pytest

import margincall
from margincall.analysis.results import SimulationResult
from margincall.model.scenario import Scenario

DATA = Path(__file__).parent / "data"


# A fixture run: the scenario, its YAML text, and the engine's result on it.
Run = tuple[Scenario, str, SimulationResult]


def _run(name: str, seed: int) -> Run:
    text = (DATA / f"{name}.yaml").read_text(encoding="utf-8")
    scenario = margincall.parse_scenario(text, default_name=name)
    # 2,048 paths: quick; the first call in a fresh checkout compiles the kernels (about 40 s).
    return scenario, text, margincall.simulate(scenario, paths=2048, seed=seed)


@pytest.fixture(scope="session")
def single() -> Run:
    """One public-stock loan, a private stake shocked on day 0 (the scenario of the engine's examples)."""
    return _run("single", seed=1)


@pytest.fixture(scope="session")
def two_loans() -> Run:
    """Two secured loans (one on a private stake), an unsecured bond, cash flows, dated shocks, a listing."""
    return _run("two-loans", seed=3)
