"""Quiet days are a speed-up, not a model: the engine with quiet stretches and log-price gates
must give the statistics of the engine that takes every day through the full covenant
machinery, and the one-asset stretch loop those of the general loop, bit for bit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from margincall.analysis.history import history_returns
from margincall.analysis.loading import default_scenario, load_scenario, parse_scenario
from margincall.analysis.simulate import run_statistics
from margincall.bench.workloads import WORKLOAD_A
from margincall.engine.lower import lower
from margincall.engine.codes import N_LOAN_FLAGS
from margincall.model.scenario import Scenario

# one stock with drift and jumps backing two loans with interest, a cure period, cash and a
# pledge-or-sell response: gates, accrual, obligation days, calls, cures and liquidations
TWO_LOANS = """
name: two-loans-one-stock
horizon_days: 378
assets:
  stock: {kind: public, value: 100.0, volatility: 0.45, drift: 0.03, adv: 20.0, impact: 0.5,
          jumps: {rate: 1.5, mean: -0.15, stdev: 0.1}}
borrower: {cash: 6.0, cash_reserve: 1.0, response: [cash, pledge, sell]}
loans:
  senior:
    principal: 30.0
    rate: 0.07
    term_days: 252
    extension_days: 126
    extension_max_ltv: 0.5
    collateral: {stock: 0.5}
    margin_call_ltv: 0.75
    cure_ltv: 0.6
    cure_days: 3
    liquidation_ltv: 0.9
  junior:
    principal: 15.0
    rate: 0.11
    term_days: 378
    collateral: {stock: 0.3}
    haircuts: {stock: 0.1}
    margin_call_ltv: 0.8
    cure_ltv: 0.65
    cure_days: 5
    liquidation_ltv: 0.95
    recourse: true
"""


def _statistics(
    scenario: Scenario | str, single_asset_loop: bool = True, shortcuts: bool = True, antithetic: bool = False, paths: int = 3000
) -> dict[str, np.ndarray]:
    if isinstance(scenario, str):
        scenario = parse_scenario(scenario, source="test")
    inputs = lower(scenario, antithetic=antithetic, history=history_returns(scenario))
    inputs = inputs.with_settings(single_loop=single_asset_loop, shortcuts=shortcuts)
    stats = run_statistics(inputs, paths=paths, seed=7, threads=1)
    return {**stats.blocks, **stats.hists}


@pytest.mark.parametrize("name", ["default", "rich", "single-stock", "two-loans", "two-loans-antithetic", "workload-a"])
def test_quiet_days_change_no_statistic(name: str, data_dir: Path):
    """Every day through the full machinery (no quiet stretches, no gates) gives the same counts,
    sums, histograms and fan charts; only the ledger's rounding residual may differ, as prices
    are materialised on other days."""
    scenario = {
        "default": default_scenario,
        "rich": lambda: load_scenario(data_dir / "rich.yaml"),
        "single-stock": lambda: load_scenario(data_dir / "single-stock.yaml"),
        "two-loans": lambda: parse_scenario(TWO_LOANS, source="test"),
        "two-loans-antithetic": lambda: parse_scenario(TWO_LOANS, source="test"),
        # a call defaults at once: the lender sells part of the pool, the rest is released
        "workload-a": lambda: parse_scenario(WORKLOAD_A, source="test"),
    }[name]()
    antithetic = name.endswith("antithetic")
    fast = _statistics(scenario, antithetic=antithetic, paths=2000)
    full = _statistics(scenario, shortcuts=False, antithetic=antithetic, paths=2000)
    assert fast.keys() == full.keys()
    for key in fast:
        if key != "ledger":
            np.testing.assert_array_equal(fast[key], full[key], err_msg=key)
    money = sum(loan.principal for loan in scenario.loans.values())
    assert fast["ledger"].max() <= 1e-9 * money and full["ledger"].max() <= 1e-9 * money
    assert full["counts"].sum() > 0


@pytest.mark.parametrize(
    ("text", "antithetic"), [(WORKLOAD_A, False), (TWO_LOANS, False), (TWO_LOANS, True)], ids=["workload-a", "two-loans", "two-loans-antithetic"]
)
def test_single_asset_loop_equals_general_loop(text: str, antithetic: bool):
    general = _statistics(text, single_asset_loop=False, antithetic=antithetic)
    single = _statistics(text, single_asset_loop=True, antithetic=antithetic)
    assert general.keys() == single.keys()
    for name in general:
        np.testing.assert_array_equal(single[name], general[name], err_msg=name)
    # the paths did call, cure or default, so the loop handed busy days back
    assert general["counts"].sum() > 0


def test_single_asset_loop_applies_to_a_gated_one_stock_book():
    from margincall.engine import codes as c
    from margincall.engine.layout import LF_PRINCIPAL, LS_GATE, LS_STATUS, N_LF, N_LS
    from margincall.engine.path import single_quiet_ok

    inputs = lower(parse_scenario(TWO_LOANS, source="test"))
    loan_f = np.zeros((2, N_LF))
    loan_f[:, LF_PRINCIPAL] = 1.0  # owes something
    loan_s = np.zeros((2, N_LS), dtype=np.int64)
    loan_s[:, LS_STATUS] = c.ACTIVE
    loan_s[:, LS_GATE] = 0
    check = single_quiet_ok.py_func
    assert check(1, inputs.settings, inputs.asset_i, inputs.history, inputs.loan_i, loan_f, loan_s)
    loan_s[1, LS_GATE] = -3  # a pool computed daily needs prices for its fan chart
    assert not check(1, inputs.settings, inputs.asset_i, inputs.history, inputs.loan_i, loan_f, loan_s)
    loan_s[1, LS_GATE] = 0
    two = np.vstack([inputs.asset_i, inputs.asset_i])
    assert not check(1, inputs.settings, two, inputs.history, inputs.loan_i, loan_f, loan_s)  # two assets


def test_quiet_days_change_no_statistic_under_replayed_history(tmp_path: Path):
    """The historical market model (a block bootstrap that draws its block starts from the
    diffusion stream), with jumps and a private asset's marks on top."""
    rng = np.random.default_rng(5)
    returns = rng.normal(-0.001, 0.025, size=(300, 3))
    levels = 100.0 * np.exp(np.vstack([np.zeros((1, 3)), np.cumsum(returns, axis=0)]))
    dates = np.busday_offset(np.datetime64("2020-01-01"), np.arange(levels.shape[0]), roll="forward")
    rows = ["date,acme,beta,venture"] + [f"{d}," + ",".join(map(repr, row)) for d, row in zip(dates, levels.tolist())]
    (tmp_path / "prices.csv").write_text("\n".join(rows) + "\n")
    text = f"""
name: replayed
horizon_days: 300
market: {{model: historical, prices: {tmp_path / "prices.csv"}, block_days: 10}}
assets:
  acme: {{kind: public, value: 100.0, volatility: 0.3, adv: 30.0, jumps: {{rate: 2.0, mean: -0.1, stdev: 0.05}}}}
  beta: {{kind: public, value: 60.0, volatility: 0.3, adv: 30.0}}
  venture: {{kind: private, value: 50.0, volatility: 0.5, marks: {{every_days: 63, rounds_per_year: 2.0}},
            sale_delay_days: 20, sale_discount: 0.3}}
borrower: {{cash: 5.0, response: [cash, pledge, sell]}}
loans:
  stock-loan:
    principal: 40.0
    rate: 0.05
    term_days: 300
    collateral: {{acme: 1.0}}
    margin_call_ltv: 0.55
    cure_ltv: 0.45
    cure_days: 3
    liquidation_ltv: 0.75
  venture-loan:
    principal: 12.0
    rate: 0.08
    term_days: 300
    collateral: {{venture: 1.0}}
    margin_call_ltv: 0.4
    cure_ltv: 0.3
    cure_days: 5
    liquidation_ltv: 0.6
"""
    scenario = parse_scenario(text, source="test")
    fast = _statistics(scenario, paths=2000)
    full = _statistics(scenario, shortcuts=False, paths=2000)
    for key in fast:
        if key != "ledger":
            np.testing.assert_array_equal(fast[key], full[key], err_msg=key)
    called = full["counts"][:, [0, N_LOAN_FLAGS]].sum(axis=0)  # the first flag (called) of each loan
    assert called.min() > 0  # both loans were called on some paths
