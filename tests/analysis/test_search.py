"""Reverse stress tests, loan sizing and trigger design: bisection with common random numbers,
checked against the closed form of a daily-monitored barrier."""

from __future__ import annotations

import json
import math

import pytest
from scipy.optimize import brentq
from scipy.stats import norm

import margincall
from margincall.analysis.variants import with_values
from margincall.analysis.search import (
    SearchError,
    TargetError,
    first_call_shock,
    parse_direction,
    parse_target,
    reverse_stress,
    size_loan,
    solve_field,
)

SIGMA, VALUE, DAYS, CALL = 0.3, 100.0, 126, 0.7

ONE_LOAN = f"""
name: one-loan
horizon_days: {DAYS}
assets:
  acme: {{kind: public, value: {VALUE}, volatility: {SIGMA}, adv: 1.0e9}}
  beta: {{kind: public, value: 40.0, volatility: 0.4, adv: 1.0e9}}
borrower: {{cash: 10.0, response: []}}  # pays its interest when due; cures nothing
loans:
  l:
    principal: 35.0
    rate: 0.05
    term_days: 200
    collateral: {{acme: 1.0}}
    margin_call_ltv: {CALL}
    cure_ltv: 0.6
    cure_days: 2
    liquidation_ltv: 5.0
  u:
    principal: 5.0
    rate: 0.05
    term_days: 200
"""


@pytest.fixture(scope="module")
def one_loan() -> margincall.Scenario:
    return margincall.parse_scenario(ONE_LOAN)


def p_call(principal: float, shock: float = 0.0, rate: float = 0.05) -> float:
    """P(the loan is called within DAYS): GBM without drift reaching debt / CALL, monitored daily
    (Broadie–Glasserman–Kou shift of the continuous formula); debt grows by its interest. The
    barrier is set with the debt at mid-horizon (interest is tiny against the barrier's distance)."""
    dt = 1 / 252
    debt = principal * (1 + rate * DAYS / 2 * dt)
    barrier = debt / CALL / (VALUE * (1 + shock)) * math.exp(-0.5826 * SIGMA * math.sqrt(dt))
    if barrier >= 1:
        return 1.0
    nu, t = -0.5 * SIGMA**2, DAYS * dt
    b, s = math.log(barrier), SIGMA * math.sqrt(DAYS * dt)
    return float(norm.cdf((b - nu * t) / s) + math.exp(2 * nu * b / SIGMA**2) * norm.cdf((b + nu * t) / s))


BIAS = 0.01  # the BGK shift and the mid-horizon debt are approximations at about this level


# -- targets --------------------------------------------------------------------------------------


def test_targets_parse():
    t = parse_target("p_default>=0.05")
    assert (t.scope, t.metric, t.op, t.value) == (None, "p_default", ">=", 0.05)
    t = parse_target("openai-margin-loan.p_margin_call <= 0.01")
    assert (t.scope, t.metric, t.op, t.value) == ("openai-margin-loan", "p_margin_call", "<=", 0.01)
    assert parse_target("borrower.liquidity_at_risk_95<5e9").value == 5e9
    assert parse_target("expected_loss=<1e8").op == "<="


@pytest.mark.parametrize(
    "text, message",
    [
        ("p_call<0.01", "unknown metric 'p_call'"),
        ("p_default", "cannot be read"),
        ("p_default>=abc", "'abc' is not a number"),
        ("p_default>=5", "between 0 and 1"),
        ("", "cannot be read"),
    ],
)
def test_malformed_targets_say_what_is_allowed(text, message):
    with pytest.raises(TargetError) as info:
        parse_target(text)
    assert message in str(info.value)
    if "unknown metric" in message or "cannot be read" in message:
        assert "p_margin_call" in str(info.value) and "liquidity_at_risk_95" in str(info.value)


def test_targets_resolve_against_the_scenario(one_loan):
    assert parse_target("p_default>=0.1").resolve(one_loan, "l").scope == "l"
    assert parse_target("p_cascade>=0.1").resolve(one_loan, "l").scope == "borrower"
    with pytest.raises(TargetError, match="unknown 'nope'"):
        parse_target("nope.p_default>=0.1").resolve(one_loan, "l")
    with pytest.raises(TargetError, match="not a borrower metric"):
        parse_target("borrower.p_margin_call>=0.1").resolve(one_loan, "l")
    with pytest.raises(TargetError, match="unsecured"):
        parse_target("u.p_margin_call>=0.1").resolve(one_loan, "l")


def test_directions(one_loan):
    assert parse_direction(one_loan, "acme") == {"acme": 1.0}
    assert parse_direction(one_loan, ["acme=2", "beta=1"]) == {"acme": 1.0, "beta": 0.5}
    assert parse_direction(one_loan, "*public") == {"acme": 1.0, "beta": 1.0}
    with pytest.raises(margincall.ScenarioError, match="acme \\(public\\), beta \\(public\\)"):
        parse_direction(one_loan, "openai")


# -- the deterministic first call -----------------------------------------------------------------


def test_first_call_is_exact_to_its_tolerance_and_triggers(one_loan):
    fc = first_call_shock(one_loan, "acme", tolerance=1e-6)
    debt = 35.0 * (1 + 0.05 / 252)  # one day of interest
    analytic = debt / (CALL * VALUE) - 1
    # the shock returned calls the loan, the next point of the bisection does not, and they
    # straddle the closed form within the tolerance
    assert fc.shock <= analytic + 1e-12 and analytic - 1e-12 <= fc.high and fc.high - fc.shock <= 1e-6  # 1e-12: rounding
    assert fc.checked and fc.event == "call" and "analytic day-1 crossing" in fc.method
    assert [(e.day, e.event) for e in fc.events if e.event == "call"] == [(1, "call")]
    # a move of the unpledged asset alone never calls the loan
    with pytest.raises(SearchError, match="does not make"):
        first_call_shock(one_loan, "beta")
    # both assets moving: only the pledged one counts
    assert first_call_shock(one_loan, "*public", tolerance=1e-6).shock == pytest.approx(fc.shock, abs=2e-6)


def test_first_default_is_the_twin_of_the_first_call(one_loan):
    """Without cure capacity a call defaults when its cure period ends: the first default is at
    the call level. With cash to cure every call, the loan defaults only at its liquidation level,
    the same day (no notice): the closed form of the liquidation LTV. Either way the shock
    returned itself defaults the loan and the milder end of its band does not."""
    loan = one_loan.loans["l"]
    debt = loan.principal * (1 + loan.annual_rate / 252)
    fd = first_call_shock(one_loan, "acme", event="default", tolerance=1e-7)
    call = debt / (CALL * VALUE) - 1
    assert fd.event == "default" and fd.shock <= call + 1e-12 and call - 1e-12 <= fd.high and fd.high - fd.shock <= 1e-7
    assert any(e.event == "default" and e.loan == "l" for e in fd.events)
    data = fd.to_dict()
    assert data["target"] == "l.default" and data["low"] == fd.shock and data["high"] == fd.high

    curable = with_values(one_loan, {"borrower.cash": 1000.0, "borrower.response": ["cash"], "loans.l.liquidation_ltv": 0.9})
    fd = first_call_shock(curable, "acme", event="default", tolerance=1e-7)
    liquidation = debt / (0.9 * VALUE) - 1
    assert fd.shock <= liquidation + 1e-12 and liquidation - 1e-12 <= fd.high and fd.high - fd.shock <= 1e-7
    assert fd.trigger_ltv == 0.9
    assert [(e.day, e.event) for e in fd.events if e.loan == "l" and e.event in ("call", "default")][:2] == [(1, "call"), (1, "default")]


def test_first_call_of_the_default_scenario():
    scenario = margincall.default_scenario()
    fc = first_call_shock(scenario, "openai", tolerance=1e-7)
    loan = scenario.loans["openai-margin-loan"]
    debt = loan.principal * (1 + loan.annual_rate / 252)
    analytic = debt / (loan.margin_call_ltv * scenario.assets["openai"].value) - 1
    assert fc.shock <= analytic + 1e-12 and analytic - 1e-12 <= fc.high and fc.high - fc.shock <= 1e-7  # 1e-12: rounding
    assert fc.checked and fc.to_dict()["shock"] == fc.shock


# -- reverse stress -------------------------------------------------------------------------------


@pytest.mark.slow
def test_reverse_stress_finds_the_closed_form_shock(one_loan):
    paths = 6000
    result = reverse_stress(one_loan, "p_margin_call>=0.5", "acme", paths=paths, seed=4, tolerance=0.001, trace_paths=2)
    exact = brentq(lambda x: p_call(35.0, x) - 0.5, -0.6, 0.0)
    se = math.sqrt(0.25 / paths)
    # the closed form at the shock found is the target, within the simulation error
    assert abs(p_call(35.0, result.value) - 0.5) < 4 * se + BIAS
    assert result.low <= result.value <= result.high
    assert result.high - result.low < 0.1
    assert abs(result.value - exact) < 0.05
    # common random numbers: the metric is monotone along the traced curve
    metrics = [p.metric for p in sorted(result.curve, key=lambda p: p.x)]
    assert metrics == sorted(metrics, reverse=True)
    assert result.moves == {"acme": result.value}
    assert {e.path for e in result.events} and any(e.event == "call" for e in result.events)
    data = result.to_dict()
    assert {"shock", "low", "high", "target", "curve"} <= set(data)
    json.dumps(data, allow_nan=False)


@pytest.mark.slow
def test_reverse_stress_met_without_a_shock(one_loan):
    result = reverse_stress(one_loan, "p_margin_call>=0.0005", "acme", paths=2000, seed=1, trace_paths=0)
    assert result.value == 0.0 and result.no_shock_needed and result.to_dict()["no_shock_needed"]
    assert "already holds without a shock" in result.note and result.metric >= 0.0005
    needs_one = reverse_stress(one_loan, "p_margin_call>=0.5", "acme", paths=2000, seed=1, trace_paths=0)
    assert needs_one.value < 0.0 and not needs_one.no_shock_needed


def test_reverse_stress_that_no_shock_reaches(one_loan):
    with pytest.raises(SearchError) as info:
        reverse_stress(one_loan, "p_margin_call>=0.9", "beta", paths=1000, seed=1, trace_paths=0)
    message = str(info.value)
    assert "no shock in [-100.00%, +0.00%]" in message and "at +0.00%" in message and "at -100.00%" in message


# -- sizing and trigger design --------------------------------------------------------------------


@pytest.mark.slow
def test_size_loan_finds_the_closed_form_principal(one_loan):
    paths = 6000
    result = size_loan(one_loan, "l", "p_margin_call<=0.1", paths=paths, seed=2)
    se = math.sqrt(0.1 * 0.9 / paths)
    assert abs(p_call(result.value) - 0.1) < 4 * se + BIAS
    assert result.metric <= 0.1
    assert result.low <= result.value <= result.high
    principals = [p.x for p in result.curve]
    assert min(principals) == pytest.approx(result.range[0]) and max(principals) == pytest.approx(result.range[1])
    data = result.to_dict()
    assert data["principal"] == result.value and {"low", "high", "curve"} <= set(data)


@pytest.mark.slow
def test_trigger_design_finds_the_crossing(one_loan):
    # P(call) falls as the call level rises: only the top of the range meets the bound, and the
    # answer is the lowest call level that does
    result = solve_field(one_loan, "loans.l.margin_call_ltv", "p_margin_call<=0.005", paths=3000, seed=5)
    assert result.range[0] < result.value < result.range[1]
    assert result.metric <= 0.005 and result.note is None
    below = max((p for p in result.curve if p.x < result.value), key=lambda p: p.x)
    assert below.metric > 0.005 and result.value - below.x <= (result.range[1] - result.range[0]) * 1e-3 + 1e-12


def test_whole_number_fields_are_searched_over_whole_numbers(one_loan):
    result = solve_field(one_loan, "loans.l.cure_days", "p_default<=0.5", paths=1000, seed=5)
    assert all(float(p.x).is_integer() for p in result.curve)


def test_quantile_bounds_get_a_batch_standard_error(one_loan):
    result = size_loan(one_loan, "l", "borrower.liquidity_at_risk_95<=1", paths=2000, seed=1)
    assert result.se_note is not None


def test_bad_fields_and_ranges(one_loan):
    with pytest.raises(SearchError, match="not a number"):
        solve_field(one_loan, "name", "l.p_default<=0.5", paths=500)
    with pytest.raises(SearchError, match="no default search range"):
        solve_field(one_loan, "loans.l.rate", "p_default<=0.5", paths=500)
    with pytest.raises(SearchError, match="not a valid scenario"):
        solve_field(one_loan, "loans.l.margin_call_ltv", "p_default<=0.5", search_range=(0.1, 0.9), paths=500)
    with pytest.raises(SearchError) as info:
        size_loan(one_loan, "l", "p_margin_call<=0.001", search_range=(60.0, 80.0), paths=500)
    assert "at 80" in str(info.value) and "at 60" in str(info.value)
    with pytest.raises(TargetError):
        size_loan(one_loan, "zz", "p_margin_call<=0.1")
