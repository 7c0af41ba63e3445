"""A private asset's mark moves only on valuation events (DESIGN.md section 3): scheduled marks
(`marks.every_days`), random rounds (`marks.rounds_per_year`), jump days and shock days. Its fair
value follows GBM in between, unseen by the lender."""

from __future__ import annotations

import math

import numpy as np
import pytest
from validation_support import (
    Z,
    discrete_first_passage,
    first_call_counts,
    scenario_from,
    single_asset_loan,
)

import margincall

SEED = 271828


def private(**kwargs) -> margincall.Scenario:
    return scenario_from(single_asset_loan(kind="private", **kwargs))


@pytest.mark.slow
def test_no_events_no_call_even_with_huge_volatility():
    scenario = private(volatility=3.0, drift=-1.0, horizon=252)
    result = margincall.simulate(scenario, paths=5_000, seed=SEED)
    loan = result.loans["l"]
    assert loan.p_margin_call == 0.0
    assert loan.p_default == 0.0
    assert loan.p_margin_call_se == 0.0
    assert all(v is None for v in loan.first_call_day.values())
    # the lender's LTV never moves from its day-0 value of 0.5 (up to the histogram's bin width)
    for key in ("p5", "p95"):
        assert all(x == pytest.approx(0.5, rel=0.05) for x in loan.ltv_quantiles[key])
    events = margincall.trace(scenario, paths=50, seed=SEED)
    assert not [e for e in events if e.event in ("mark", "call", "default")]


@pytest.mark.slow
def test_scheduled_marks_call_only_on_multiples_of_the_period():
    """marks.every_days = 63: calls (and marks) fall on days 63, 126, 189, 252 only, and P(call) is
    the probability that GBM observed on those four days falls to the barrier (computed exactly,
    as a first passage with 63-day monitoring steps)."""
    sigma, barrier, horizon, paths = 0.8, 0.8, 252, 50_000
    scenario = private(volatility=sigma, barrier=barrier, horizon=horizon, marks={"every_days": 63})
    result = margincall.simulate(scenario, paths=paths, seed=SEED)
    loan = result.loans["l"]
    counts = first_call_counts(result)
    days = np.nonzero(counts)[0]
    assert len(days) > 0
    assert set(days.tolist()) <= {63, 126, 189, 252}, f"first calls on days {days.tolist()}"
    for value in loan.first_call_day.values():
        assert value is not None and value % 63 == 0
    expected = discrete_first_passage(sigma, 0.0, barrier, 4, days_per_year=4)
    assert abs(loan.p_margin_call - expected) <= Z * loan.p_margin_call_se + 1e-4, (
        f"P(call) = {loan.p_margin_call:.5f} +- {loan.p_margin_call_se:.5f}, expected {expected:.5f}"
    )

    events = margincall.trace(scenario, paths=300, seed=SEED, max_events=100_000)
    calls = [e for e in events if e.event == "call"]
    marks = [e for e in events if e.event == "mark"]
    assert calls and marks
    assert all(e.day % 63 == 0 for e in calls), sorted({e.day for e in calls})
    assert all(e.day % 63 == 0 for e in marks), sorted({e.day for e in marks})
    assert len(marks) == 300 * 4  # every path is marked on each of the four scheduled days


@pytest.mark.slow
def test_stale_mark_lags_a_deterministic_decline():
    """Zero volatility, drift -2 a year: the fair value reaches the barrier (80% of day 0) on day
    29, but the lender sees it only at the next valuation event."""
    crossing = math.ceil(math.log(0.8) / (-2.0 / 252))
    assert crossing == 29

    scheduled = private(volatility=0.0, drift=-2.0, horizon=126, marks={"every_days": 63})
    result = margincall.simulate(scheduled, paths=2_000, seed=SEED)
    assert result.loans["l"].p_margin_call == 1.0
    counts = first_call_counts(result)
    assert counts[63] == 2_000 and counts.sum() == 2_000

    # random rounds: a Bernoulli event each day with probability 1 - exp(-rate dt); the call
    # comes at the first event on or after day 29
    rate, horizon, paths = 4.0, 126, 50_000
    rounds = private(volatility=0.0, drift=-2.0, horizon=horizon, marks={"rounds_per_year": rate})
    result = margincall.simulate(rounds, paths=paths, seed=SEED)
    loan = result.loans["l"]
    q = 1.0 - math.exp(-rate / 252)
    expected = 1.0 - (1.0 - q) ** (horizon - crossing + 1)
    assert abs(loan.p_margin_call - expected) <= Z * loan.p_margin_call_se, (
        f"P(call) = {loan.p_margin_call:.5f} +- {loan.p_margin_call_se:.5f}, expected {expected:.5f}"
    )
    counts = first_call_counts(result)
    assert counts[:crossing].sum() == 0, "no call before the fair value reaches the barrier"
    d = np.arange(crossing, horizon + 1)
    pmf = q * (1.0 - q) ** (d - crossing)
    mean_expected = float((d * pmf).sum() / pmf.sum())
    days = np.arange(len(counts))
    mean = float((days * counts).sum() / counts.sum())
    sd = math.sqrt(float((counts * (days - mean) ** 2).sum()) / (counts.sum() - 1))
    assert abs(mean - mean_expected) <= Z * sd / math.sqrt(counts.sum())


@pytest.mark.slow
def test_jump_days_are_valuation_events():
    """No scheduled marks, but jumps of log-size -5: each jump reveals the fair value (a down
    round), so P(call) = 1 - exp(-rate T) whatever the fair value did in between, and every call
    falls on a day with a mark."""
    rate, horizon, paths = 0.6, 252, 50_000
    scenario = private(volatility=0.5, horizon=horizon, jumps={"rate": rate, "mean": -5.0, "stdev": 0.0})
    loan = margincall.simulate(scenario, paths=paths, seed=SEED).loans["l"]
    expected = 1.0 - math.exp(-rate * horizon / 252)
    assert abs(loan.p_margin_call - expected) <= Z * loan.p_margin_call_se, (
        f"P(call) = {loan.p_margin_call:.5f} +- {loan.p_margin_call_se:.5f}, expected {expected:.5f}"
    )
    events = margincall.trace(scenario, paths=500, seed=SEED, max_events=100_000)
    marked = {(e.path, e.day) for e in events if e.event == "mark"}
    calls = [e for e in events if e.event == "call"]
    assert calls
    assert all((e.path, e.day) in marked for e in calls)


@pytest.mark.slow
def test_day0_shock_on_private_asset_is_seen_by_the_lender():
    """A day-0 shock of -70% moves the mark at once: every path is called at the first covenant
    test, day 1, although the asset has no valuation events."""
    paths = 2_000
    shocked = private(volatility=0.8, horizon=63, shocks=[{"day": 0, "asset": "s", "change": -0.7}])
    result = margincall.simulate(shocked, paths=paths, seed=SEED)
    loan = result.loans["l"]
    assert loan.p_margin_call == 1.0
    assert set(loan.first_call_day.values()) == {1.0}
    counts = first_call_counts(result)
    assert counts[1] == paths
    # LTV on day 0 is principal / (0.3 V0)
    assert loan.ltv_quantiles["p50"][0] == pytest.approx(50.0 / 30.0, rel=0.05)


@pytest.mark.slow
def test_later_shock_on_private_asset_is_a_valuation_event():
    """A -70% shock on day 10 is seen on day 10 (not earlier, not at the next scheduled mark)."""
    paths = 2_000
    shocked = private(
        volatility=0.8, horizon=63, marks={"every_days": 63}, shocks=[{"day": 10, "asset": "s", "change": -0.7}]
    )
    result = margincall.simulate(shocked, paths=paths, seed=SEED)
    counts = first_call_counts(result)
    assert result.loans["l"].p_margin_call == 1.0
    assert counts[10] == paths
