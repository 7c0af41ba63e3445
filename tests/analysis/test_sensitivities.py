"""Sensitivities by common-random-number finite differences, and the debt-service breakeven."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm

import margincall
from margincall.analysis.sensitivities import (
    DEFAULT_KINDS,
    DEFAULT_SIZES,
    bumps,
    debt_service,
    p_log_growth_at_least,
    sensitivities,
)

SIGMA, DAYS, CALL = 0.3, 126, 0.7

SINGLE = f"""
name: single
horizon_days: {DAYS}
assets:
  acme: {{kind: public, value: 100.0, volatility: {SIGMA}, adv: 1.0e9}}
borrower: {{cash: 0.0, response: []}}
loans:
  l:
    principal: 50.0
    rate: 0.0
    term_days: 200
    collateral: {{acme: 1.0}}
    margin_call_ltv: {CALL}
    cure_ltv: 0.6
    cure_days: 2
    liquidation_ltv: 5.0
"""

TRIANGLE = """
name: triangle
assets:
  a: {kind: public, value: 100.0, volatility: 0.0, adv: 1.0e9}
  b: {kind: public, value: 100.0, volatility: 0.3, adv: 1.0e9}
  c: {kind: private, value: 100.0, volatility: 0.5, jumps: {rate: 0.3, mean: -0.5, stdev: 0.2}}
correlation:
  - [a, b, 0.9]
  - [a, c, 0.9]
  - [b, c, 0.64]
shocks:
  - {day: 0, asset: c, change: -0.1}
borrower: {cash: 10.0}
loans:
  ab:
    principal: 60.0
    rate: 0.06
    term_days: 252
    collateral: {a: 1.0, b: 0.5}
    haircuts: {a: 0.0, b: 0.2, c: 0.5}
    margin_call_ltv: 0.6
    cure_ltv: 0.5
    cure_days: 2
    liquidation_ltv: 0.8
  c-loan:
    principal: 20.0
    rate: 0.08
    term_days: 504
    collateral: {c: 0.5}
    margin_call_ltv: 0.5
    cure_ltv: 0.4
    cure_days: 2
    liquidation_ltv: 0.9
"""


def p_call(sigma: float) -> float:
    """Daily-monitored barrier at debt / CALL (Broadie–Glasserman–Kou shift), no drift."""
    dt = 1 / 252
    barrier = 50.0 / CALL / 100.0 * math.exp(-0.5826 * sigma * math.sqrt(dt))
    nu, t = -0.5 * sigma**2, DAYS * dt
    b, s = math.log(barrier), sigma * math.sqrt(t)
    return float(norm.cdf((b - nu * t) / s) + math.exp(2 * nu * b / sigma**2) * norm.cdf((b + nu * t) / s))


def test_bumps_and_what_is_skipped():
    scenario = margincall.parse_scenario(TRIANGLE)
    found, notes = bumps(scenario)
    methods = {b.name: b.method for b in found}
    assert methods["volatility a"] == "forward"  # a volatility of 0 cannot go down
    assert methods["volatility b"] == "central"
    assert methods["haircut ab/a"] == "forward"
    assert methods["haircut ab/c"] == "central"  # an accepted top-up asset is bumped too
    # the correlation matrix sits near the edge of positive semi-definiteness
    assert methods["correlation a/b"] == "backward"
    assert methods["correlation b/c"] == "forward"
    assert any("correlation a/b" in n and "positive semi-definite" in n for n in notes)
    assert "margin_call_ltv c-loan" in methods and "liquidation_ltv ab" in methods
    assert "cure_ltv c-loan" not in methods  # the cure level is bumped when asked for
    assert all(b.kind == "trigger" for b in found if "ltv" in b.name)
    sizes = {b.kind: b.size for b in found}
    assert sizes == {k: DEFAULT_SIZES[k] for k in DEFAULT_KINDS}
    cures, _ = bumps(scenario, kinds=["cure"])
    assert [b.name for b in cures] == ["cure_ltv ab", "cure_ltv c-loan"] and {b.kind for b in cures} == {"cure"}
    vol_b = next(b for b in found if b.name == "volatility b")
    assert (vol_b.field, vol_b.value) == ("assets.b.volatility", 0.3)
    assert vol_b.up.assets["b"].volatility == pytest.approx(0.35) and vol_b.down.assets["b"].volatility == pytest.approx(0.25)
    with pytest.raises(margincall.ScenarioError, match="unknown kind"):
        bumps(scenario, kinds=["vega"])


def test_a_historical_market_is_not_bumped_in_what_it_ignores(tmp_path):
    rng = np.random.default_rng(0)
    days = np.busday_offset(np.datetime64("2020-01-01"), np.arange(300), roll="forward")
    prices = 100 * np.exp(np.cumsum(0.02 * rng.standard_normal(300)))
    (tmp_path / "prices.csv").write_text("date,acme\n" + "".join(f"{d},{p:.4f}\n" for d, p in zip(days, prices)))
    (tmp_path / "s.yaml").write_text(SINGLE + "market: {model: historical, prices: prices.csv}\n")
    scenario = margincall.load_scenario(tmp_path / "s.yaml")
    found, notes = bumps(scenario)
    assert not {b.kind for b in found} & {"volatility", "drift", "correlation"} and "trigger" in {b.kind for b in found}
    assert any("historical" in n and "volatility" in n for n in notes)


def test_a_volatility_bump_matches_the_closed_form():
    scenario = margincall.parse_scenario(SINGLE)
    paths = 16_384
    report = sensitivities(scenario, paths=paths, seed=7, kinds=["volatility", "trigger"])
    h = DEFAULT_SIZES["volatility"]
    row = report.table()["volatility acme"]["l.p_margin_call"]
    assert row.method == "central" and row.se > 0.0
    exact = (p_call(SIGMA + h) - p_call(SIGMA - h)) / 2
    assert abs(row.change - exact) < 4 * row.se + 0.002
    for side, sigma in ((row.up_change, SIGMA + h), (row.down_change, SIGMA - h)):
        assert abs(side - (p_call(sigma) - p_call(SIGMA))) < 4 * max(row.up_se, row.down_se) + 0.002
    p = report.base["l.p_margin_call"]
    assert abs(p - p_call(SIGMA)) < 4 * report.base_se["l.p_margin_call"] + 0.002
    # common random numbers: for a small bump, far smaller an error than that of two independent runs
    small = sensitivities(scenario, paths=paths, seed=7, kinds=["volatility"], sizes={"volatility": 0.01})
    fine = small.table()["volatility acme"]["l.p_margin_call"]
    assert fine.se < 0.5 * math.sqrt(2 * p * (1 - p) / paths) / 2
    assert abs(fine.change - (p_call(SIGMA + 0.01) - p_call(SIGMA - 0.01)) / 2) < 4 * fine.se + 0.002
    # a higher call trigger calls less often
    trig = report.table()["margin_call_ltv l"]["l.p_margin_call"]
    assert trig.change < -4 * trig.se
    assert {"borrower.p_default", "borrower.p_cascade", "borrower.expected_liquidity_used", "l.expected_loss"} <= set(report.base)
    swings = [r.swing for r in report.ranked("l.p_margin_call")]
    assert swings == sorted(swings, reverse=True)
    data = report.to_dict()
    assert data["simulations"] == report.simulations == 1 + 2 + 4  # the base, volatility, call and liquidation LTV both ways
    assert data["sensitivities"] and data["debt_service"] and data["block_paths"] == 256
    with pytest.raises(margincall.ScenarioError, match="not a metric"):
        report.ranked("l.p_call")


@pytest.mark.slow
def test_standard_errors_match_the_spread_over_seeds():
    """The paired block SE of a change agrees with the spread of the change over independent seeds."""
    scenario = margincall.parse_scenario(SINGLE)
    changes, errors = [], []
    for seed in range(12):
        report = sensitivities(scenario, paths=4096, seed=100 + seed, kinds=["volatility"])
        row = report.table()["volatility acme"]["l.p_margin_call"]
        changes.append(row.change)
        errors.append(row.se)
    spread = float(np.std(changes, ddof=1))
    typical = float(np.sqrt(np.mean(np.square(errors))))
    # with 12 seeds the sample sd is within about ±40% of the truth at 2 sd
    assert 0.55 < spread / typical < 1.6, (spread, typical)


def test_too_few_paths_for_a_standard_error():
    scenario = margincall.parse_scenario(SINGLE)
    with pytest.raises(margincall.ScenarioError, match="at least 512 paths"):
        sensitivities(scenario, paths=300)


def _mc_log_growth(rng, n, drift, vol, years, rate=0.0, mean=0.0, stdev=0.0, shift=0.0):
    """The same law, drawn with numpy."""
    x = (drift - 0.5 * vol**2) * years + vol * math.sqrt(years) * rng.standard_normal(n) + shift
    if rate:
        k = rng.poisson(rate * years, n)
        x = x + k * mean + np.sqrt(k) * stdev * rng.standard_normal(n)
    return x


@pytest.mark.parametrize(
    "drift, vol, rate, mean, stdev, shift, threshold",
    [
        (0.05, 0.3, 0.0, 0.0, 0.0, 0.0, 0.02),
        (0.085, 0.6, 0.15, -0.916, 0.4, 0.0, 0.015),
        (0.0, 0.4, 2.0, -0.1, 0.05, math.log(0.9), -0.05),
    ],
)
def test_the_mixture_formula_matches_monte_carlo(drift, vol, rate, mean, stdev, shift, threshold):
    years, n = 2.0, 400_000
    exact = p_log_growth_at_least(drift, vol, years, threshold, jump_rate=rate, jump_mean=mean, jump_stdev=stdev, shift=shift)
    draws = _mc_log_growth(np.random.default_rng(1), n, drift, vol, years, rate, mean, stdev, shift)
    p = float((draws >= threshold).mean())
    assert abs(exact - p) < 4 * math.sqrt(p * (1 - p) / n)
    if rate == 0.0:
        nu = (drift - 0.5 * vol**2) * years + shift
        assert exact == pytest.approx(1 - norm.cdf((threshold - nu) / (vol * math.sqrt(years))), abs=1e-12)


def test_debt_service_per_loan_and_for_the_borrower():
    scenario = margincall.parse_scenario(TRIANGLE)
    rows = {d.who: d for d in debt_service(scenario, seed=3, draws=200_000)}
    result = margincall.simulate(scenario, paths=1024, seed=1)
    for loan_id in ("ab", "c-loan"):
        assert rows[loan_id].breakeven_growth == pytest.approx(result.loans[loan_id].breakeven_growth, rel=1e-12)
    assert rows["borrower"].breakeven_growth == pytest.approx(result.borrower.breakeven_growth, rel=1e-12)
    # one asset (with jumps and a day-0 shock of -10%): the closed form against numpy
    c = rows["c-loan"]
    assert c.method.startswith("closed form")
    draws = _mc_log_growth(np.random.default_rng(9), 400_000, 0.0, 0.5, 2.0, 0.3, -0.5, 0.2, math.log(0.9))
    p = float((draws >= 2.0 * math.log1p(c.breakeven_growth)).mean())
    assert abs(c.p_beats - p) < 4 * math.sqrt(p * (1 - p) / 400_000)
    # a pool of two correlated assets: the module's Monte Carlo against an independent one here
    ab = rows["ab"]
    assert ab.method.startswith("Monte Carlo") and ab.p_beats_se > 0
    rng = np.random.default_rng(11)
    n = 400_000
    z = rng.multivariate_normal([0, 0], [[1, 0.9], [0.9, 1]], n)
    years = 1.0
    a_t = 100.0 * np.exp(0.0 * z[:, 0])  # a has no volatility
    b_t = 50.0 * np.exp(-0.5 * 0.09 * years + 0.3 * math.sqrt(years) * z[:, 1])
    p = float(((a_t + b_t) >= 150.0 * (1 + ab.breakeven_growth) ** years).mean())
    assert abs(ab.p_beats - p) < 4 * math.hypot(ab.p_beats_se, math.sqrt(p * (1 - p) / n))


BOOK = """
name: two-holdcos
horizon_days: 252
assets:
  acme: {kind: public, price: 10.0, volatility: 0.6, adv: 5.0e8}
borrowers:
  alpha: {cash: 2.0e7, holdings: {acme: 1.0e8}, response: []}
  beta: {cash: 0.0, holdings: {acme: 2.0e7}, response: []}
lenders:
  bank: {}
  fund: {method: block}
loans:
  a1: {borrower: alpha, lender: bank, principal: 4.5e8, rate: 0.06, term_days: 504, collateral: {acme: 1.0}, recourse: true,
       margin_call_ltv: 0.6, cure_ltv: 0.5, cure_days: 2, liquidation_ltv: 0.8}
  b1: {borrower: beta, lender: fund, principal: 8.0e7, rate: 0.07, term_days: 504, collateral: {acme: 1.0}, recourse: true,
       margin_call_ltv: 0.5, cure_ltv: 0.4, cure_days: 2, liquidation_ltv: 0.7}
"""


def test_a_book_of_several_borrowers_ranks_by_the_systems_default_probability():
    """A book has no single `borrower`: its default metric is P(any borrower defaults), whose base
    is the run's own system figure (the same seed and paths), and E[borrowers in default] is there too."""
    book = margincall.parse_scenario(BOOK)
    report = sensitivities(book, paths=2048, seed=3, kinds=["volatility"])
    assert report.default_metric == "system.p_any_default"
    assert "borrower.p_default" not in report.base and {"alpha.p_default", "beta.p_default"} <= set(report.base)
    run = margincall.simulate(book, paths=2048, seed=3)
    assert report.base["system.p_any_default"] == pytest.approx(run.system.p_any_default, abs=1e-12)
    assert report.base["system.expected_defaults"] == pytest.approx(run.system.expected_defaults, abs=1e-12)
    assert 0.05 < run.system.p_any_default < run.system.expected_defaults  # both borrowers default on some paths
    ranked = report.ranked()
    assert ranked and all(row.metric == "system.p_any_default" for row in ranked)
    assert [row.swing for row in ranked] == sorted((row.swing for row in ranked), reverse=True)
