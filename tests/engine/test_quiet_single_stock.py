"""The one-asset quiet loop takes a leaner loop when the stretch has no jumps, no decaying price
impact and no market-access gauge to follow: a one-stock book with price impact and a gauge on the
stock must still give the statistics of the general loop and of the full machinery, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from margincall.analysis.loading import parse_scenario
from margincall.analysis.simulate import run_statistics
from margincall.engine.lower import lower

# no jumps; the lender's sales move the price (impact that then decays in the quiet days after
# them); the refinancing market follows the stock's drawdown from its running peak
IMPACT_AND_GAUGE = """
name: one-stock-impact-gauge
horizon_days: 300
assets:
  stock: {kind: public, value: 100.0, volatility: 0.45, adv: 20.0, impact: 0.5}
market_access: {asset: stock, max_drawdown: 0.15}
borrower: {cash: 0.0, response: []}
loans:
  loan:
    principal: 40.0
    rate: 0.0
    term_days: 120
    refinance_probability: 0.9
    collateral: {stock: 1.0}
    margin_call_ltv: 0.7
    cure_ltv: 0.6
    cure_days: 0
    liquidation_ltv: 0.95
    liquidation_participation: 0.1
"""


def _statistics(single_asset_loop: bool = True, shortcuts: bool = True) -> dict:
    inputs = lower(parse_scenario(IMPACT_AND_GAUGE, source="test"))
    inputs = inputs.with_settings(single_loop=single_asset_loop, shortcuts=shortcuts)
    stats = run_statistics(inputs, paths=2000, seed=11, threads=1)
    return {**stats.blocks, **stats.hists}


@pytest.mark.parametrize("reference", ["general-loop", "full-machinery"])
def test_one_stock_with_impact_and_gauge(reference: str):
    single = _statistics()
    if reference == "general-loop":
        other = _statistics(single_asset_loop=False)
    else:
        other = _statistics(shortcuts=False)
    assert single.keys() == other.keys()
    for key in single:
        # only the ledger's rounding residual may differ, as prices are materialised on other days
        if key != "ledger":
            np.testing.assert_array_equal(single[key], other[key], err_msg=key)
    # the lender sold, so price impact decayed through the quiet days after the sales
    assert single["sold"].sum() > 0.0
