"""Jumps alone: zero volatility, zero drift, and jumps of log-size -5 (a fall of 99.3%).

The value is constant until the first jump, which takes the LTV from 0.5 to about 74 and so opens
a call on its day. Jumps arrive as a Poisson process of `rate` per year, so the first call day D is
geometric on the trading days with daily probability q = 1 - exp(-rate dt):
P(D <= d) = 1 - exp(-rate d dt), in particular P(call within T years) = 1 - exp(-rate T).
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest
from validation_support import Z, first_call_counts, scenario_from, single_asset_loan

import margincall

RATE = 0.6  # jumps per year
HORIZON = 252
PATHS = 100_000
SEED = 314159
JUMPS = {"rate": RATE, "mean": -5.0, "stdev": 0.0}
DT = 1.0 / 252


def jump_scenario(liquidation_ltv: float = 1000.0) -> margincall.Scenario:
    return scenario_from(
        single_asset_loan(volatility=0.0, drift=0.0, jumps=JUMPS, horizon=HORIZON, liquidation_ltv=liquidation_ltv)
    )


@functools.cache
def jump_result() -> margincall.SimulationResult:
    return margincall.simulate(jump_scenario(), paths=PATHS, seed=SEED)


def p_first_call_by(day: int) -> float:
    return 1.0 - math.exp(-RATE * day * DT)


def conditional_cdf(day: int) -> float:
    """P(D <= day | D <= H)."""
    return p_first_call_by(day) / p_first_call_by(HORIZON)


def conditional_mean() -> float:
    """E[D | D <= H] for D geometric on 1, 2, ... with success probability q."""
    days = np.arange(1, HORIZON + 1)
    q = 1.0 - math.exp(-RATE * DT)
    pmf = q * (1.0 - q) ** (days - 1)
    return float((days * pmf).sum() / pmf.sum())


@pytest.mark.slow
def test_call_probability_is_poisson_arrival():
    loan = jump_result().loans["l"]
    expected = 1.0 - math.exp(-RATE * HORIZON * DT)
    assert abs(loan.p_margin_call - expected) <= Z * loan.p_margin_call_se, (
        f"P(call) = {loan.p_margin_call:.5f} +- {loan.p_margin_call_se:.5f}, expected 1 - exp(-rate T) = {expected:.5f}"
    )


@pytest.mark.slow
def test_call_curve_follows_exponential_arrival():
    loan = jump_result().loans["l"]
    for day in (21, 63, 126, 189, 252):
        p = loan.p_margin_call_by_day[day]
        expected = p_first_call_by(day)
        se = math.sqrt(expected * (1.0 - expected) / PATHS)
        assert abs(p - expected) <= Z * se, f"P(first call <= {day}) = {p:.5f}, expected {expected:.5f} +- {se:.5f}"


@pytest.mark.slow
def test_mean_first_call_day_is_truncated_geometric():
    counts = first_call_counts(jump_result())
    days = np.arange(len(counts))
    called = counts.sum()
    mean = float((days * counts).sum() / called)
    sd = math.sqrt(float((counts * (days - mean) ** 2).sum() / (called - 1)))
    se = sd / math.sqrt(called)
    expected = conditional_mean()
    assert counts[0] == 0, "no covenant test on day 0"
    assert abs(mean - expected) <= Z * se, f"mean first-call day {mean:.2f} +- {se:.2f}, expected {expected:.2f}"


@pytest.mark.slow
def test_first_call_day_quantiles():
    """Each reported quantile day d of the first call satisfies, within 4 SE of a proportion,
    F(d - 1) <= p <= F(d) for the closed-form conditional CDF F (the median of a truncated
    geometric first arrival, and its other quantiles)."""
    result = jump_result()
    loan = result.loans["l"]
    called = loan.p_margin_call * PATHS
    for key, value in loan.first_call_day.items():
        p = int(key[1:]) / 100
        se = math.sqrt(p * (1.0 - p) / called)
        assert value is not None and value == int(value)
        d = int(value)
        assert conditional_cdf(d) >= p - Z * se, f"{key} = day {d}: F(d) = {conditional_cdf(d):.4f} < {p}"
        assert conditional_cdf(d - 1) <= p + Z * se, f"{key} = day {d}: F(d - 1) = {conditional_cdf(d - 1):.4f} > {p}"
    # the closed-form median day, for the record: the reported p50 is within a few days of it
    median = math.ceil(-math.log(1.0 - 0.5 * p_first_call_by(HORIZON)) / (RATE * DT))
    assert abs(loan.first_call_day["p50"] - median) <= 8


@pytest.mark.slow
def test_traced_first_calls_agree():
    """`trace`: the call opens on a jump day at LTV = principal / (V0 e^-5), once per path, and the
    mean first-call day of the traced paths matches the closed form."""
    scenario = jump_scenario()
    k = 4000
    events = margincall.trace(scenario, paths=k, seed=SEED, max_events=200_000)
    calls = [e for e in events if e.event == "call"]
    paths_called = {e.path for e in calls}
    assert len(paths_called) == len(calls), "a call that is never cured opens only once"
    assert all(0 <= e.path < k for e in events)
    for e in calls:
        # LTV 0.5 e^(5k) after k jumps on the call day (two in one day happen, rarely)
        jumps_that_day = round(math.log(e.amount / 0.5) / 5.0)
        assert jumps_that_day >= 1
        assert e.amount == pytest.approx(0.5 * math.exp(5.0 * jumps_that_day), rel=1e-9)
        assert 1 <= e.day <= HORIZON
    days = np.array([e.day for e in calls], dtype=float)
    se = days.std(ddof=1) / math.sqrt(len(days))
    assert abs(days.mean() - conditional_mean()) <= Z * se, f"{days.mean():.2f} +- {se:.2f} vs {conditional_mean():.2f}"
    p = len(calls) / k
    expected = p_first_call_by(HORIZON)
    assert abs(p - expected) <= Z * math.sqrt(expected * (1 - expected) / k)


@pytest.mark.slow
def test_gap_through_liquidation_trigger_still_counts_as_call():
    """DESIGN.md section 3: P(margin call within H) is the probability that the daily-monitored
    value falls to debt / call level. A jump that carries the LTV past both the call and the
    liquidation trigger in one day still crosses the call level, so moving the liquidation
    trigger must not change P(call): with common random numbers the counts are identical."""
    far = jump_result().loans["l"]
    near = margincall.simulate(jump_scenario(liquidation_ltv=1.0), paths=PATHS, seed=SEED).loans["l"]
    assert near.p_default >= far.p_default
    assert near.p_margin_call == far.p_margin_call, (
        f"P(call) = {near.p_margin_call} with liquidation_ltv 1.0 (jump to LTV 74 defaults at once) "
        f"but {far.p_margin_call} with liquidation_ltv 1000: a gap through both triggers is not counted as a call"
    )
