"""Named stresses: the shipped library, how a stress maps onto a scenario, and runs with common
random numbers."""

from __future__ import annotations

import json
import math

import pytest
import yaml

import margincall
from margincall.analysis.stress import (
    apply_stress,
    builtin_stresses,
    expand_path,
    load_stress,
    load_stresses,
    parse_stress,
    run_stresses,
    select_assets,
)

TWO_ASSETS = """
name: two-assets
horizon_days: 126
assets:
  acme: {kind: public, value: 100.0, volatility: 0.3, adv: 1.0e9}
  other: {kind: private, value: 50.0, volatility: 0.5}
borrower: {cash: 0.0, response: []}
loans:
  l:
    principal: 50.0
    rate: 0.0
    term_days: 200
    collateral: {acme: 1.0}
    margin_call_ltv: 0.7
    cure_ltv: 0.6
    cure_days: 2
    liquidation_ltv: 5.0
"""


@pytest.fixture(scope="module")
def two_assets() -> margincall.Scenario:
    return margincall.parse_scenario(TWO_ASSETS)


def test_the_library_holds_s1_to_s10_with_sources():
    names = builtin_stresses()
    stresses = load_stresses()
    assert [s.name for s in stresses] == names  # a stress's name is its file stem
    assert [s.id for s in stresses] == [f"S{k}" for k in range(1, 11)]
    for s in stresses:
        assert s.sources and s.description, s.name
        assert all("R" in source for source in s.sources), s.name  # tagged with facts.md references
    assert load_stress("s5").name == load_stress("s05-zero-value-tail").name  # ids work, any case


def test_every_stress_maps_onto_the_default_scenario_without_skips():
    scenario = margincall.default_scenario()
    for stress in load_stresses():
        applied = apply_stress(scenario, stress)
        assert applied.notes == [], (stress.name, applied.notes)
        assert applied.changes
        assert len(applied.scenario.shocks) >= len(scenario.shocks)


def test_s1_is_a_47_percent_fall_of_the_private_stake_on_day_0():
    scenario = margincall.default_scenario()
    applied = apply_stress(scenario, load_stress("S1"))
    (shock,) = applied.scenario.shocks[len(scenario.shocks):]
    assert (shock.asset, shock.change, shock.day, shock.over_days) == ("openai", -0.47, 0, 1)


def test_s10_withdraws_eligibility_of_top_ups_only():
    scenario = margincall.default_scenario()
    variant = apply_stress(scenario, load_stress("S10")).scenario
    assert variant.loans["openai-margin-loan"].haircuts == {"openai": 0.0, "arm": 0.99}  # Arm top-ups refused
    assert variant.loans["arm-margin-loan"].accepted_haircuts == {"arm": 0.0}  # the pledged pool is unchanged


def test_s9_cuts_every_secured_loans_cure_period(rich_scenario):
    variant = apply_stress(rich_scenario, load_stress("S9")).scenario
    for loan_id, loan in variant.loans.items():
        assert loan.cure_days == (1 if loan.secured else None), loan_id


def test_s6_scales_take_out_odds_and_haircuts_the_private_pool():
    scenario = margincall.default_scenario()
    variant = apply_stress(scenario, load_stress("S6")).scenario
    base = scenario.loans["bridge-loan"].refinance_probability
    assert variant.loans["bridge-loan"].refinance_probability == pytest.approx(base * 0.6)
    assert variant.loans["openai-margin-loan"].haircuts["openai"] == 0.40
    assert variant.loans["arm-margin-loan"].refinance_probability == scenario.loans["arm-margin-loan"].refinance_probability  # secured


def test_set_operators(two_assets):
    stress = parse_stress(
        "name: ops\nset:\n  loans.l.principal: {times: 1.5}\n  loans.l.cure_days: {plus: 3}\n"
        "  loans.l.cure_ltv: {at_most: 0.65}\n  loans.l.margin_call_ltv: {at_least: 0.75}\n  loans.l.recourse: true\n"
    )
    loan = apply_stress(two_assets, stress).scenario.loans["l"]
    assert (loan.principal, loan.cure_days, loan.cure_ltv, loan.margin_call_ltv, loan.recourse) == (75.0, 5, 0.6, 0.75, True)
    with pytest.raises(margincall.ScenarioError, match="one operator"):
        apply_stress(two_assets, parse_stress("name: x\nset:\n  loans.l.principal: {times: 2, plus: 1}\n"))


def test_class_selectors_and_skipped_names(rich_scenario, two_assets):
    assert select_assets(rich_scenario, "*public") == ["alpha", "beta"]
    assert select_assets(rich_scenario, "*private") == ["gamma"]
    assert select_assets(rich_scenario, "*") == ["alpha", "beta", "gamma"]
    assert select_assets(rich_scenario, "arm") == []
    stress = parse_stress("name: t\nshocks:\n  - {asset: arm, change: -0.2}\n  - {asset: '*public', change: -0.1}\n")
    applied = apply_stress(two_assets, stress)
    assert [n for n in applied.notes if "'arm'" in n]  # named asset missing: skipped with a note
    assert [s.asset for s in applied.scenario.shocks] == ["acme"]


def test_a_stress_of_which_nothing_applies_is_an_error(two_assets):
    with pytest.raises(margincall.ScenarioError) as info:
        apply_stress(two_assets, load_stress("S8"))  # Arm only
    message = str(info.value)
    assert "s08-ai-capex-scare" in message and "acme (public)" in message and "other (private)" in message


def test_set_paths_expand_wildcards(rich_scenario):
    assert expand_path(rich_scenario, "loans.*secured.cure_days") == ["loans.gamma-loan.cure_days", "loans.alpha-loan.cure_days"]
    assert expand_path(rich_scenario, "loans.*unsecured.refinance_probability") == ["loans.bridge.refinance_probability"]
    assert expand_path(rich_scenario, "loans.*.haircuts.*public") == ["loans.gamma-loan.haircuts.alpha", "loans.gamma-loan.haircuts.beta"]
    assert expand_path(rich_scenario, "loans.nope.principal") == []


def test_bad_stress_files_name_the_field_and_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nshocks:\n  - {asset: acme, change: -1.5}\n  - {asset: acme, chnage: -0.1}\n")
    with pytest.raises(margincall.ScenarioError) as info:
        load_stress(bad)
    text = str(info.value)
    assert "shocks.0.change (line 3)" in text and "greater than or equal to -1" in text
    assert "shocks.1" in text and "line 4" in text
    with pytest.raises(margincall.ScenarioError, match="no built-in stress 'S99'"):
        load_stress("S99")
    with pytest.raises(margincall.ScenarioError, match="after the stress's horizon_days"):
        parse_stress("name: x\nhorizon_days: 2\nshocks:\n  - {asset: '*', change: -0.1, day: 1, over_days: 5}\n")


def test_runs_share_their_random_numbers(two_assets):
    unrelated = parse_stress("name: unrelated\nshocks:\n  - {asset: other, change: -0.5}\n")
    pledged = parse_stress("name: pledged\nshocks:\n  - {asset: acme, change: -0.15}\n")
    run = run_stresses(two_assets, [unrelated, pledged], paths=4000, seed=11)
    base, moved, hit = run.base.loans["l"], run.results["unrelated"].loans["l"], run.results["pledged"].loans["l"]
    # the unpledged, uncorrelated asset does not touch the loan: with the same draws, the same numbers
    assert moved.p_margin_call == base.p_margin_call and moved.p_margin_call_by_day == base.p_margin_call_by_day
    # a 15% fall of the collateral on day 0 calls the loan on every path that the base calls, and more:
    # the closed form of the (daily-monitored) barrier gives the size of the rise
    assert hit.p_margin_call > base.p_margin_call
    expected = _bgk(0.3, 100.0 * 0.85, 50.0, 126) - _bgk(0.3, 100.0, 50.0, 126)
    se = math.sqrt(hit.p_margin_call * (1 - hit.p_margin_call) / 4000)  # a bound on the SE of the CRN difference
    assert abs((hit.p_margin_call - base.p_margin_call) - expected) < 4 * se + 0.005


def _bgk(sigma: float, value: float, barrier_debt: float, days: int) -> float:
    """P(call within `days`) for GBM (no drift) when the call opens at value <= debt / call-LTV,
    daily monitoring by the Broadie–Glasserman–Kou shift."""
    from scipy.stats import norm

    dt = 1 / 252
    barrier = barrier_debt / 0.7 / value * math.exp(-0.5826 * sigma * math.sqrt(dt))
    nu, t = -0.5 * sigma**2, days * dt
    b = math.log(barrier)
    s = sigma * math.sqrt(t)
    return float(norm.cdf((b - nu * t) / s) + math.exp(2 * nu * b / sigma**2) * norm.cdf((b + nu * t) / s))


@pytest.mark.slow
def test_all_stresses_on_the_default_scenario():
    scenario = margincall.default_scenario()
    run = run_stresses(scenario, paths=2000, seed=3)
    data = run.to_dict()
    assert list(data) == ["base", *builtin_stresses()]
    for entry in data.values():
        assert set(entry) >= {"loans", "borrower"}
        assert set(entry["loans"]) == set(scenario.loans)
    json.dumps(data, allow_nan=False)
    zero = run.results["s05-zero-value-tail"].loans["openai-margin-loan"]
    # the stake is worth nothing: called on every path, and SBG (full recourse, its cash, the Arm
    # facility's undrawn limit and blocks of Arm) repays the $10 bn inside the cure period
    assert zero.p_margin_call == 1.0 and zero.p_default == 0.0
    assert zero.expected_cure_paid >= scenario.loans["openai-margin-loan"].principal
    assert run.results["s05-zero-value-tail"].borrower.p_forced_sale == 1.0
    base = run.base.loans["openai-margin-loan"]
    for name in ("s01-openai-stripe-down-round", "s02-openai-klarna-wework-collapse", "s03-rate-shock-2022", "s04-dot-com-replay"):
        # a markdown calls the loan more often and costs the borrower more cash to cure. Its P(default)
        # need not rise: a day-0 call is cured while SBG is liquid, which pays the loan down early
        stressed = run.results[name].loans["openai-margin-loan"]
        assert stressed.p_margin_call > base.p_margin_call, name
        assert stressed.expected_cure_paid > base.expected_cure_paid, name
    for name in ("s03-rate-shock-2022", "s04-dot-com-replay"):  # market-wide: Arm falls too
        stressed_b, base_b = run.results[name].borrower, run.base.borrower
        assert stressed_b.p_default - base_b.p_default > 4 * math.hypot(stressed_b.p_default_se, base_b.p_default_se), name
    assert data["s10-pledge-spiral"]["stress"]["id"] == "S10"
    assert yaml.safe_load(yaml.safe_dump(data["s06-ipo-delay-lender-pullback"]["stress"]))["changes"]


def test_a_spread_shock_past_the_horizon_keeps_the_days_within_it():
    """S4 spreads its fall over many days; on a 63-day scenario only the first days apply, at the
    same daily log move, and the variant validates."""
    scenario = margincall.parse_scenario(
        "horizon_days: 63\nassets:\n  acme: {kind: public, value: 100.0, volatility: 0.3, adv: 1.0e+6}\n"
        "borrower: {cash: 10.0}\nloans:\n  l: {principal: 40.0, rate: 0.05, term_days: 63, collateral: {acme: 1.0},"
        " margin_call_ltv: 0.6, cure_ltv: 0.5, cure_days: 2, liquidation_ltv: 0.8}\n", default_name="short")
    stress = load_stress("S4")
    applied = apply_stress(scenario, stress)
    spread = [s for s in stress.shocks if s.day + s.over_days - 1 > 63]
    assert spread, "S4 has a shock longer than 63 days"
    added = applied.scenario.shocks[len(scenario.shocks):]
    for original in spread:
        for shock in (s for s in added if s.day == original.day and s.over_days != original.over_days):
            assert shock.day + shock.over_days - 1 == 63
            daily = math.log1p(original.change) / original.over_days
            assert math.log1p(shock.change) / shock.over_days == pytest.approx(daily, rel=1e-12)
    assert any("only the days within it apply" in note for note in applied.notes)
