"""Reproducibility (DESIGN.md section 3): the same scenario, seed and path count give the same
numbers, bit for bit, whatever the number of threads or the batch size; each path's draws depend
on the seed and its index only."""

from __future__ import annotations

import functools
import json

import pytest
from validation_support import rich_scenario_data, scenario_from

import margincall

PATHS = 5_000  # five blocks of 1024 paths, the last one partial
SEED = 99


@functools.cache
def scenario() -> margincall.Scenario:
    return scenario_from(rich_scenario_data())


def fingerprint(result: margincall.SimulationResult) -> str:
    """Every number of the result except the wall-clock time, in a form where NaN == NaN."""
    data = result.to_dict()
    data.pop("elapsed_seconds")
    return json.dumps(data, sort_keys=True, default=float)


@functools.cache
def reference() -> str:
    return fingerprint(margincall.simulate(scenario(), paths=PATHS, seed=SEED, threads=1, batch_blocks=1))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("threads", "batch_blocks"),
    [(2, 1), (1, 5), (2, 5), (2, 2), (None, None)],
)
def test_same_numbers_whatever_threads_and_batches(threads, batch_blocks):
    result = margincall.simulate(scenario(), paths=PATHS, seed=SEED, threads=threads, batch_blocks=batch_blocks)
    assert fingerprint(result) == reference()


@pytest.mark.slow
def test_same_numbers_on_a_second_run():
    assert fingerprint(margincall.simulate(scenario(), paths=PATHS, seed=SEED, threads=1, batch_blocks=1)) == reference()


@pytest.mark.slow
def test_different_seeds_give_different_numbers():
    other = margincall.simulate(scenario(), paths=PATHS, seed=SEED + 1)
    assert fingerprint(other) != reference()
    first = json.loads(reference())
    assert other.loans["gamma-loan"].p_margin_call != first["loans"]["gamma-loan"]["p_margin_call"]
    assert other.borrower.expected_equity != first["borrower"]["expected_equity"]


@pytest.mark.slow
def test_first_paths_are_the_same_paths_in_a_longer_run():
    """The first k paths of an N-path run are the paths of a k-path run: the traces agree, across a
    block boundary (1024 paths per block) too."""
    short = margincall.trace(scenario(), paths=3, seed=SEED, max_events=100_000)
    long = margincall.trace(scenario(), paths=1_030, seed=SEED, max_events=1_000_000)
    assert short, "the traced paths have events"
    assert [e for e in long if e.path < 3] == short
    tail = margincall.trace(scenario(), paths=1_026, seed=SEED, max_events=1_000_000)
    assert [e for e in long if e.path < 1_026] == tail
    assert {e.path for e in tail} >= {1_024, 1_025}


@pytest.mark.slow
def test_trace_follows_the_seed():
    a = margincall.trace(scenario(), paths=2, seed=SEED, max_events=100_000)
    b = margincall.trace(scenario(), paths=2, seed=SEED + 1, max_events=100_000)
    assert a != b
    assert a == margincall.trace(scenario(), paths=2, seed=SEED, max_events=100_000)
