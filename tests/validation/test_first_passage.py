"""P(margin call) for one GBM asset against the first-passage probability of GBM below a barrier.

Setting (DESIGN.md section 3): one public asset fully pledged, rate 0 (constant debt), no cash and an
empty response, so a call opens on the first covenant test (days 1..H) at which the value is at or
below the barrier B = principal / margin_call_ltv. The reference is the continuous-monitoring
closed form with the Broadie–Glasserman–Kou continuity correction for daily monitoring (the barrier
moved away from the start by exp(-0.5826 sigma sqrt(dt))). The tolerance is 4 of the engine's
reported standard errors plus the bias of the BGK approximation, which is measured against an exact
(non-Monte Carlo) computation of the daily-monitored probability.
"""

from __future__ import annotations

import functools
import math

import pytest
from validation_support import (
    Z,
    bgk_first_passage,
    continuous_first_passage,
    discrete_first_passage,
    scenario_from,
    single_asset_loan,
)

import margincall

PATHS = 200_000
SEED = 20240611
GRID_ERROR = 1e-4  # bound on the error of the exact grid computation (measured: ~1e-5)

# (sigma, mu, barrier as a fraction of V0, horizon in trading days)
CASES = [
    (0.3, 0.0, 0.80, 252),
    (0.6, 0.1, 0.70, 252),
    (0.6, 0.0, 0.85, 126),
    (0.3, 0.1, 0.75, 126),
]


def _case_id(case: tuple[float, float, float, int]) -> str:
    sigma, mu, barrier, horizon = case
    return f"sigma{sigma}-mu{mu}-B{barrier}-H{horizon}"


@functools.cache
def run_case(sigma: float, mu: float, barrier: float, horizon: int) -> margincall.SimulationResult:
    scenario = scenario_from(single_asset_loan(volatility=sigma, drift=mu, barrier=barrier, horizon=horizon))
    return margincall.simulate(scenario, paths=PATHS, seed=SEED)


@pytest.fixture(params=CASES, ids=_case_id)
def case(request):
    return request.param, run_case(*request.param)


def test_barrier_is_where_the_scenario_puts_it():
    """The scenario builder's barrier: the LTV at barrier * V0 equals margin_call_ltv."""
    scenario = scenario_from(single_asset_loan(barrier=0.8))
    loan = scenario.loans["l"]
    assert loan.principal / (0.8 * scenario.assets["s"].value) == pytest.approx(loan.margin_call_ltv, rel=1e-12)


@pytest.mark.slow
def test_ltv_uses_pledged_fraction_and_haircut():
    """LTV = debt / (pledged fraction x value x (1 - haircut)). With zero volatility and drift -2
    a year the value is 100 exp(-2 t / 252); half the holding pledged at a 30% haircut, principal
    20 and a call at 0.625 put the barrier at 20 / (0.5 x 0.7 x 0.625) = 91.43, first reached on day
    12 (day 57 if the haircut were ignored, never within the horizon if the fraction were)."""
    data = single_asset_loan(volatility=0.0, drift=-2.0, principal=20.0, pledge=0.5, haircut=0.3, horizon=63)
    data["loans"]["l"]["margin_call_ltv"] = 0.625
    data["loans"]["l"]["cure_ltv"] = 0.55
    level = 20.0 / (0.5 * 0.7 * 0.625)
    day = math.ceil(math.log(level / 100.0) / (-2.0 / 252))
    assert day == 12
    result = margincall.simulate(scenario_from(data), paths=1_024, seed=SEED)
    loan = result.loans["l"]
    assert loan.p_margin_call == 1.0
    assert set(loan.first_call_day.values()) == {float(day)}
    # the fan chart's LTV on day 0 is 20 / (0.5 x 100 x 0.7)
    assert loan.ltv_quantiles["p50"][0] == pytest.approx(20.0 / 35.0, rel=0.02)


@pytest.mark.slow
def test_call_probability_matches_corrected_first_passage(case):
    (sigma, mu, barrier, horizon), result = case
    loan = result.loans["l"]
    p, se = loan.p_margin_call, loan.p_margin_call_se
    expected = bgk_first_passage(sigma, mu, barrier, horizon)
    exact = discrete_first_passage(sigma, mu, barrier, horizon)
    bias = abs(expected - exact) + GRID_ERROR
    assert se > 0.0
    assert abs(p - expected) <= Z * se + bias, (
        f"P(call) = {p:.5f} +- {se:.5f}; BGK-corrected first passage {expected:.5f} "
        f"(exact daily {exact:.5f}); |diff| = {abs(p - expected):.5f} > {Z} SE + bias = {Z * se + bias:.5f}"
    )
    # the same against the exact daily-monitored value, without the BGK bias
    assert abs(p - exact) <= Z * se + GRID_ERROR, f"P(call) = {p:.5f} +- {se:.5f}; exact daily {exact:.5f}"


@pytest.mark.slow
def test_call_curve_matches_first_passage_by_day(case):
    """The cumulative share of paths called by day d is the first-passage probability over d
    days: checks the time scale (dt, the first covenant day) along the horizon, not just at H."""
    (sigma, mu, barrier, horizon), result = case
    curve = result.loans["l"].p_margin_call_by_day
    for day in (horizon // 4, horizon // 2):
        p = curve[day]
        exact = discrete_first_passage(sigma, mu, barrier, day)
        se = math.sqrt(exact * (1.0 - exact) / PATHS)
        assert abs(p - exact) <= Z * se + GRID_ERROR, f"P(call by day {day}) = {p:.5f}; exact {exact:.5f} +- {se:.5f}"


@pytest.mark.slow
def test_nothing_but_the_call_happens(case):
    """With nothing to pay with, a call is never cured; the books balance; the call curve ends at
    P(call) and first calls only fall on days 1..H."""
    (_sigma, _mu, _barrier, horizon), result = case
    loan = result.loans["l"]
    assert loan.events["cured"] == 0.0
    assert loan.events["pledged"] == 0.0 and loan.events["sold_to_cure"] == 0.0
    assert loan.p_margin_call_by_day[0] == 0.0
    assert loan.p_margin_call_by_day[-1] == pytest.approx(loan.p_margin_call, abs=1e-12)
    assert all(1 <= d <= horizon for d in loan.first_call_day.values())
    assert result.borrower.max_ledger_residual <= 1e-9 * 100.0


@pytest.mark.slow
def test_uncorrected_formula_is_rejected():
    """The test can tell daily from continuous monitoring: for at least one case the continuous
    formula lies outside the tolerance that the corrected one meets."""
    rejected = []
    for sigma, mu, barrier, horizon in CASES:
        loan = run_case(sigma, mu, barrier, horizon).loans["l"]
        continuous = continuous_first_passage(sigma, mu, barrier, horizon / 252)
        corrected = bgk_first_passage(sigma, mu, barrier, horizon)
        exact = discrete_first_passage(sigma, mu, barrier, horizon)
        tolerance = Z * loan.p_margin_call_se + abs(corrected - exact) + GRID_ERROR
        if abs(continuous - corrected) < 2.0 * tolerance:
            continue  # this case cannot discriminate at this path count
        rejected.append(abs(loan.p_margin_call - continuous) > tolerance)
    assert rejected, "no case can discriminate continuous from daily monitoring at this path count"
    assert any(rejected)


@pytest.mark.slow
def test_call_probability_does_not_depend_on_liquidation_trigger():
    """DESIGN.md section 3: P(margin call within H) is the probability that the daily-monitored
    value falls to debt / call level, wherever the liquidation trigger is. With the liquidation
    trigger 5% above the call trigger, a daily move often carries the LTV past both at once; that
    day the call level was crossed too, so P(call) must still match the first-passage value."""
    sigma, mu, barrier, horizon = CASES[2]
    data = single_asset_loan(volatility=sigma, drift=mu, barrier=barrier, horizon=horizon)
    data["loans"]["l"]["liquidation_ltv"] = 1.05 * data["loans"]["l"]["margin_call_ltv"]
    loan = margincall.simulate(scenario_from(data), paths=PATHS, seed=SEED).loans["l"]
    exact = discrete_first_passage(sigma, mu, barrier, horizon)
    assert loan.p_default >= run_case(*CASES[2]).loans["l"].p_default
    assert abs(loan.p_margin_call - exact) <= Z * loan.p_margin_call_se + GRID_ERROR, (
        f"P(call) = {loan.p_margin_call:.5f} +- {loan.p_margin_call_se:.5f} with liquidation_ltv = 1.05 x call, "
        f"but the daily first passage to the call level is {exact:.5f} (P(default) = {loan.p_default:.5f})"
    )
