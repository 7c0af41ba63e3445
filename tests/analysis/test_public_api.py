"""The public surface changes only on purpose."""

from __future__ import annotations

import json

import pytest

import margincall


def test_all_is_pinned():
    assert sorted(margincall.__all__) == [
        "Book",
        "BorrowerResult",
        "LenderResult",
        "LoanResult",
        "MarginCallError",
        "Scenario",
        "ScenarioError",
        "SimulationError",
        "SimulationResult",
        "SystemResult",
        "__version__",
        "default_scenario",
        "load_scenario",
        "parse_scenario",
        "simulate",
        "trace",
    ]


def test_result_json_has_the_documented_fields(single_stock, tmp_path):
    result = margincall.simulate(single_stock, paths=2000, seed=4)
    data = json.loads(result.write_json(tmp_path / "result.json").read_text())
    assert {"scenario", "paths", "seed", "horizon_days", "loans", "borrower"} <= data.keys()
    assert data["paths"] == 2000 and data["seed"] == 4 and data["horizon_days"] == 252
    loan = data["loans"]["acme-loan"]
    for key in (
        "p_margin_call", "p_margin_call_se", "p_default", "p_default_se", "p_loss", "expected_loss",
        "loss_var_95", "loss_es_95", "loss_var_99", "loss_es_99", "first_call_day", "ltv_quantiles",
    ):
        assert key in loan, key
    assert set(loan["ltv_quantiles"]) == {"day", "p5", "p25", "p50", "p75", "p95"}
    assert len(loan["ltv_quantiles"]["p50"]) == len(loan["ltv_quantiles"]["day"])
    borrower = data["borrower"]
    for key in (
        "liquidity_at_risk_50", "liquidity_at_risk_95", "liquidity_at_risk_99", "p_forced_sale",
        "expected_sold_value", "expected_impact_cost", "p_cascade", "equity_quantiles", "breakeven_growth",
        "p_default", "p_default_se", "cash_quantiles",
    ):
        assert key in borrower, key
    # a fan chart is ordered
    q = loan["ltv_quantiles"]
    for k in range(len(q["day"])):
        assert q["p5"][k] <= q["p25"][k] <= q["p50"][k] <= q["p75"][k] <= q["p95"][k]


def test_bad_arguments_raise_clear_errors(single_stock):
    with pytest.raises(margincall.SimulationError, match="paths must be a positive"):
        margincall.simulate(single_stock, paths=0)
    with pytest.raises(margincall.SimulationError, match="seed"):
        margincall.simulate(single_stock, paths=10, seed=-1)
    for bad in ("5", 0, -3, 2.5, True):
        with pytest.raises(margincall.SimulationError, match="batch_blocks must be a positive whole number"):
            margincall.simulate(single_stock, paths=10, batch_blocks=bad)


def test_breakeven_growth_pays_the_interest(single_stock):
    from margincall.analysis.results import breakeven_growth

    g = breakeven_growth(100.0, 12.0, 2.0)
    assert 100.0 * ((1 + g) ** 2 - 1) == pytest.approx(12.0)
    result = margincall.simulate(single_stock, paths=1024, seed=1)
    loan = single_stock.loans["acme-loan"]
    years = loan.term_days / 252
    expected = breakeven_growth(100.0, loan.principal * 0.06 * years, years)
    assert result.loans["acme-loan"].breakeven_growth == pytest.approx(expected)


def test_default_scenario_runs_and_balances():
    scenario = margincall.default_scenario()
    assert scenario.name == "softbank-openai"
    result = margincall.simulate(scenario, paths=2048, seed=7)
    assert set(result.loans) == set(scenario.loans)
    total = sum(a.value for a in scenario.assets.values() if a.value is not None)  # held, not gauges
    assert result.borrower.max_ledger_residual < 1e-12 * total
