"""The accounting invariant and the logical consistency of every result.

On every path and day, the balance sheet (cash + holdings at the lender's prices - debt - claims)
equals day-0 equity plus the P&L booked so far; the kernel records the largest gap as
`borrower.max_ledger_residual`, which must be zero up to rounding. Event probabilities must be
ordered as the event logic implies (a liquidation needs a default, a loss needs a default, a
cure needs a call, ...).
"""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from validation_support import rich_scenario_data, scenario_from

import margincall

RELATIVE_RESIDUAL = 1e-9


def total_value(scenario: margincall.Scenario) -> float:
    return scenario.borrower.cash + sum(a.value for a in scenario.assets.values() if a.value is not None)


def check_result(result: margincall.SimulationResult, scenario: margincall.Scenario) -> None:
    """Everything that must hold for any scenario, seed and path count."""
    n = result.paths
    horizon = result.horizon_days
    dt = 1.0 / scenario.days_per_year
    borrower = result.borrower
    scale = total_value(scenario)

    assert math.isfinite(borrower.max_ledger_residual)
    assert borrower.max_ledger_residual <= RELATIVE_RESIDUAL * scale, (
        f"ledger residual {borrower.max_ledger_residual:.3g} on a scenario worth {scale:.6g}"
    )
    principal = sum(loan.principal for loan in scenario.loans.values())
    assert borrower.equity_day0 == pytest.approx(scale - principal, rel=1e-12)

    def probability(p: float, se: float) -> None:
        assert 0.0 <= p <= 1.0
        assert se == pytest.approx(math.sqrt(p * (1.0 - p) / n), rel=1e-9, abs=1e-15)

    for loan_id, loan in result.loans.items():
        spec = scenario.loans[loan_id]
        ev = loan.events
        probability(loan.p_margin_call, loan.p_margin_call_se)
        probability(loan.p_default, loan.p_default_se)
        probability(loan.p_loss, loan.p_loss_se)
        assert all(0.0 <= v <= 1.0 for v in ev.values())
        assert ev["called"] == loan.p_margin_call
        assert ev["defaulted"] == loan.p_default
        assert ev["loss"] == loan.p_loss
        # what needs what
        assert ev["liquidated"] <= ev["defaulted"]
        assert ev["recourse"] <= ev["defaulted"]
        assert loan.p_loss <= loan.p_default
        for response in ("cured", "pledged", "sold_to_cure"):
            assert ev[response] <= ev["called"], (loan_id, response)
        if not spec.secured:
            assert loan.p_margin_call == 0.0 and ev["liquidated"] == 0.0
        if not spec.recourse:
            assert ev["recourse"] == 0.0
        if spec.extension_days == 0:
            assert ev["extended"] == 0.0
        if spec.refinance_probability == 0.0:
            assert ev["refinanced"] == 0.0
        # losses: never negative, never more than the debt could have grown to
        max_debt = spec.principal * (1.0 + spec.annual_rate * horizon * dt)
        assert loan.expected_loss >= 0.0
        assert loan.expected_loss <= loan.p_loss * max_debt * (1.0 + 1e-9) + 1e-12
        # curves: cumulative shares of paths, ending at the probability
        for curve, p in ((loan.p_margin_call_by_day, loan.p_margin_call), (loan.p_default_by_day, loan.p_default)):
            assert all(b >= a for a, b in itertools.pairwise(curve))
            assert curve[0] == 0.0
            assert curve[-1] == pytest.approx(p, abs=1e-12)
        days = [loan.first_call_day[k] for k in ("p5", "p25", "p50", "p75", "p95")]
        if loan.p_margin_call > 0.0:
            assert all(1 <= d <= horizon for d in days)
            assert days == sorted(days)
        else:
            assert all(d is None for d in days)
        assert result.borrower.called_together[loan_id][loan_id] == pytest.approx(loan.p_margin_call, abs=1e-15)

    loans = list(result.loans)
    together = borrower.called_together
    pairs = [together[a][b] for a, b in itertools.combinations(loans, 2)]
    for a, b in itertools.combinations(loans, 2):
        assert together[a][b] == together[b][a]
        assert together[a][b] <= min(result.loans[a].p_margin_call, result.loans[b].p_margin_call)
    probability(borrower.p_cascade, borrower.p_cascade_se)
    assert borrower.p_cascade >= max(pairs, default=0.0)
    assert borrower.p_cascade <= sum(pairs) + 1e-15
    probability(borrower.p_default, borrower.p_default_se)
    probability(borrower.p_forced_sale, borrower.p_forced_sale_se)
    for loan in result.loans.values():
        assert borrower.p_forced_sale >= loan.events["liquidated"]
        assert borrower.p_forced_sale >= loan.events["sold_to_cure"]
    assert 0.0 <= borrower.liquidity_at_risk_50 <= borrower.liquidity_at_risk_95 <= borrower.liquidity_at_risk_99
    assert borrower.expected_liquidity_used >= 0.0
    assert borrower.expected_sold_value >= 0.0
    assert borrower.expected_discount_cost >= 0.0
    assert borrower.expected_impact_cost >= -1e-9 * scale
    assert borrower.expected_discount_cost <= borrower.expected_sold_value + 1e-9 * scale
    if borrower.p_forced_sale == 0.0:
        assert borrower.expected_sold_value == 0.0


# -- a rich scenario -------------------------------------------------------------------------------


def rich(listing: bool) -> margincall.Scenario:
    data = rich_scenario_data()
    if listing:
        data["assets"]["gamma"]["listing"] = {"day": 200, "adv": 300.0, "lockup_days": 30}
    return scenario_from(data)


@pytest.mark.slow
@pytest.mark.parametrize("listing", [False, True], ids=["private", "listing"])
@pytest.mark.parametrize("seed", [1, 2, 2**40 + 17])
def test_rich_scenario_books_balance(seed, listing):
    scenario = rich(listing)
    result = margincall.simulate(scenario, paths=2_048, seed=seed)
    check_result(result, scenario)


@pytest.mark.slow
def test_rich_scenario_exercises_every_mechanism():
    """The invariant test above is only as good as the paths it sees: on this scenario every
    mechanism happens on a fair share of paths."""
    scenario = rich(False)
    result = margincall.simulate(scenario, paths=2_048, seed=1)
    loans = result.loans
    for event in ("called", "cured", "pledged", "sold_to_cure", "defaulted", "liquidated", "loss", "extended"):
        assert max(loan.events[event] for loan in loans.values()) > 0.01, event
    assert loans["alpha-margin"].events["recourse"] > 0.001
    assert loans["bridge"].events["refinanced"] > 0.1
    assert max(loan.events["repaid"] for loan in loans.values()) > 0.01
    assert max(loan.events["maturity_default"] for loan in loans.values()) > 0.01
    b = result.borrower
    assert 0.05 < b.p_default < 0.95
    assert b.p_forced_sale > 0.05 and b.p_cascade > 0.05
    assert b.expected_impact_cost > 0.0 and b.expected_discount_cost > 0.0
    assert result.system.sold_value_by_asset["gamma"] > 0.0  # the private pool was sold by its lender
    events = {e.event for e in margincall.trace(scenario, paths=200, seed=1, max_events=200_000)}
    assert {"mark", "cash_flow", "interest", "sell", "pledge", "liquidation_sale", "borrower_default"} <= events


@pytest.mark.slow
def test_listing_scenario_lists():
    events = margincall.trace(rich(True), paths=20, seed=1, max_events=100_000)
    listings = [e for e in events if e.event == "listing"]
    assert {e.day for e in listings} == {200}
    assert {e.path for e in listings} == set(range(20))


# -- random scenarios ------------------------------------------------------------------------------


@st.composite
def scenarios(draw) -> dict:
    horizon = draw(st.integers(21, 252))
    assets: dict[str, dict] = {}
    n_public = draw(st.integers(1, 2))
    for i in range(n_public):
        asset = {
            "kind": "public",
            "value": draw(st.floats(10.0, 1000.0)),
            "volatility": draw(st.floats(0.0, 1.5)),
            "drift": draw(st.floats(-0.5, 0.5)),
            "adv": draw(st.floats(1.0, 500.0)),
            "impact": draw(st.floats(0.0, 1.5)),
        }
        if draw(st.booleans()):
            asset["jumps"] = {"rate": draw(st.floats(0.0, 3.0)), "mean": draw(st.floats(-1.5, 0.3)), "stdev": draw(st.floats(0.0, 0.5))}
        assets[f"p{i}"] = asset
    if draw(st.booleans()):
        asset = {
            "kind": "private",
            "value": draw(st.floats(10.0, 1000.0)),
            "volatility": draw(st.floats(0.0, 1.5)),
            "marks": {"every_days": draw(st.integers(1, 126)), "rounds_per_year": draw(st.floats(0.0, 6.0))},
            "sale_delay_days": draw(st.integers(0, 60)),
            "sale_discount": draw(st.floats(0.0, 0.6)),
        }
        if draw(st.booleans()):
            asset["jumps"] = {"rate": draw(st.floats(0.0, 2.0)), "mean": draw(st.floats(-2.0, 0.0))}
        if draw(st.booleans()):
            asset["listing"] = {
                "day": draw(st.integers(1, horizon)),
                "adv": draw(st.floats(1.0, 500.0)),
                "lockup_days": draw(st.integers(0, 60)),
            }
        assets["q"] = asset
    ids = list(assets)
    correlation = []
    if len(ids) >= 2 and draw(st.booleans()):
        correlation.append([ids[0], ids[1], draw(st.floats(-0.9, 0.9))])

    pledged_id = draw(st.sampled_from(ids))
    pledge = draw(st.floats(0.2, 1.0))
    ltv0 = draw(st.floats(0.1, 0.9))
    call = ltv0 * draw(st.floats(1.02, 2.0))
    loans = {
        "secured": {
            "principal": ltv0 * pledge * assets[pledged_id]["value"],
            "rate": draw(st.floats(0.0, 0.15)),
            "term_days": draw(st.integers(10, 300)),
            "extension_days": draw(st.sampled_from([0, 21, 63])),
            "collateral": {pledged_id: pledge},
            "margin_call_ltv": call,
            "cure_ltv": call * draw(st.floats(0.5, 0.98)),
            "cure_days": draw(st.integers(0, 20)),
            "liquidation_ltv": call * draw(st.floats(1.02, 2.0)),
            "recourse": draw(st.booleans()),
            "cross_default": draw(st.booleans()),
            "interest_every_days": draw(st.integers(1, 126)),
            "liquidation_participation": draw(st.floats(0.01, 1.0)),
        }
    }
    if draw(st.booleans()):
        # a second secured loan, possibly on the same holding (sharing prices: contagion)
        other_id = draw(st.sampled_from(ids))
        room = 1.0 - (pledge if other_id == pledged_id else 0.0)
        if room > 0.05:
            pledge2 = room * draw(st.floats(0.1, 1.0))
            ltv2 = draw(st.floats(0.1, 0.9))
            call2 = ltv2 * draw(st.floats(1.02, 2.0))
            extra = draw(st.sampled_from(ids))  # an asset the lender also accepts (for pledging)
            loans["secured2"] = {
                "principal": ltv2 * pledge2 * assets[other_id]["value"],
                "rate": draw(st.floats(0.0, 0.15)),
                "term_days": draw(st.integers(10, 300)),
                "collateral": {other_id: pledge2},
                "haircuts": {other_id: draw(st.floats(0.0, 0.5)), extra: draw(st.floats(0.0, 0.5))},
                "margin_call_ltv": call2,
                "cure_ltv": call2 * draw(st.floats(0.5, 0.98)),
                "cure_days": draw(st.integers(0, 20)),
                "liquidation_ltv": call2 * draw(st.floats(1.02, 2.0)),
                "recourse": draw(st.booleans()),
                "cross_default": draw(st.booleans()),
            }
    if draw(st.booleans()):
        loans["unsecured"] = {
            "principal": draw(st.floats(1.0, 300.0)),
            "rate": draw(st.floats(0.0, 0.1)),
            "term_days": draw(st.integers(10, 300)),
            "refinance_probability": draw(st.floats(0.0, 1.0)),
            "recovery_rate": draw(st.floats(0.0, 1.0)),
            "cross_default": draw(st.booleans()),
        }
    shocks = []
    if draw(st.booleans()):
        shocks.append(
            {
                "day": draw(st.integers(0, horizon)),
                "asset": draw(st.sampled_from(ids)),
                "change": draw(st.floats(-0.95, 0.5)),
                "over_days": draw(st.integers(1, 5)),
            }
        )
    cash = draw(st.floats(0.0, 500.0))
    flows = []
    if draw(st.booleans()):
        flows.append({"day": draw(st.integers(1, horizon)), "amount": draw(st.floats(-600.0, 200.0))})
    response = draw(st.permutations(["cash", "pledge", "sell"]))[: draw(st.integers(0, 3))]
    return {
        "horizon_days": horizon,
        "assets": assets,
        "correlation": correlation,
        "shocks": shocks,
        "borrower": {
            "cash": cash,
            "cash_reserve": cash * draw(st.floats(0.0, 1.0)),
            "response": list(response),
            "max_participation": draw(st.floats(0.01, 1.0)),
            "cash_flows": flows,
        },
        "loans": loans,
    }


@pytest.mark.slow
@settings(deadline=None, max_examples=15, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=scenarios(), seed=st.integers(0, 2**63 - 1))
def test_random_scenarios_books_balance(data, seed):
    scenario = scenario_from(data)
    result = margincall.simulate(scenario, paths=1_024, seed=seed)
    check_result(result, scenario)
