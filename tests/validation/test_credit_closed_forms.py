"""Credit mechanics against closed forms (issue 11), at fixed seeds within 4 standard errors:
a maturity repaid by selling its collateral loses exactly where GBM ends below the debt (N(-d2),
the put's value), refinancing is refused where the LTV is above its ceiling or the market-access
gauge is in a drawdown (the drawdown of a random walk has the law of its running minimum), and a
facility is drawn up to its LTV cap (a lognormal tail)."""

from __future__ import annotations

import math
from typing import Any

from scipy.stats import norm
from validation_support import Z, discrete_first_passage, scenario_from

import margincall

SEED = 11


def within(measured: float, expected: float, se: float, what: str) -> None:
    assert se > 0.0, f"{what}: a positive standard error is needed to compare"
    assert abs(measured - expected) <= Z * se, f"{what}: {measured:.5f} vs {expected:.5f} (SE {se:.5f})"


def public(value: float, volatility: float) -> dict[str, Any]:
    return {"kind": "public", "value": value, "volatility": volatility, "adv": 1.0e9}


def secured(principal: float, term: int, **terms: Any) -> dict[str, Any]:
    """A non-recourse loan on `s` at rate 0 whose covenants never trigger."""
    loan: dict[str, Any] = {
        "principal": principal, "rate": 0.0, "term_days": term, "collateral": {"s": 1.0},
        "margin_call_ltv": 50.0, "cure_ltv": 40.0, "cure_days": 5, "liquidation_ltv": 60.0,
    }
    loan.update(terms)
    return loan


def test_maturity_loss_is_the_gbm_put():
    """Debt 90 against a pool of 100 (vol 0.4), no cash, no response, maturity in a year: the pool
    is sold at maturity and the loan loses exactly where it is worth less than the debt, with
    P = N(-d2) and expected loss D N(-d2) - V N(-d1) (the undiscounted put); each such path is a
    default for `maturity_unpaid`, every other a repayment."""
    debt, value, sigma, years = 90.0, 100.0, 0.4, 1.0
    data = {
        "name": "maturity",
        "horizon_days": 257,  # past the principal grace period (3 days)
        "assets": {"s": public(value, sigma)},
        "borrower": {"cash": 0.0, "response": []},
        "loans": {"l": secured(debt, 252)},
    }
    result = margincall.simulate(scenario_from(data), paths=4000, seed=SEED, threads=1)
    loan = result.loans["l"]
    d1 = (math.log(value / debt) + 0.5 * sigma**2 * years) / (sigma * math.sqrt(years))
    d2 = d1 - sigma * math.sqrt(years)
    within(loan.p_loss, norm.cdf(-d2), loan.p_loss_se, "P(loss) vs N(-d2)")
    within(loan.expected_loss, debt * norm.cdf(-d2) - value * norm.cdf(-d1), loan.expected_loss_se, "E[loss] vs the put")
    assert loan.p_default == loan.p_loss
    assert loan.p_default_by_cause["maturity_unpaid"] == loan.p_default
    assert loan.events["repaid"] == 1.0 - loan.p_default
    assert loan.p_margin_call == 0.0


def refinancing_case(loan: dict[str, Any]) -> dict[str, Any]:
    """The loan matures on day 126 and may be refinanced (probability 1) while the independent gauge
    g (vol 0.3) is within 20% of its running peak."""
    return {
        "name": "refinancing",
        "horizon_days": 130,
        "assets": {"s": public(100.0, 0.3), "g": public(100.0, 0.3)},
        "market_access": {"asset": "g", "max_drawdown": 0.2},
        "borrower": {"cash": 0.0, "response": []},
        "loans": {"l": loan},
    }


def test_refinancing_refused_above_the_ceiling_or_in_a_drawdown():
    """A secured loan of 60 with a refinancing ceiling of 0.8: P(refused) = 1 - (1 - P(V_126 < 75))
    (1 - P(drawdown of g > 20% on day 126)); the drawdown part is the daily-monitored first passage
    of the walk to 0.8 (time reversal), computed on a grid. Refusals are counted on traced paths."""
    paths = 3000
    data = refinancing_case(secured(60.0, 126, refinance_probability=1.0, refinance_days=400, refinance_max_ltv=0.8))
    events = margincall.trace(scenario_from(data), paths=paths, seed=SEED)
    refused = {e.path for e in events if e.event == "refinance_refused"}
    rolled = {e.path for e in events if e.event == "refinance"}
    assert refused.isdisjoint(rolled) and len(refused) + len(rolled) == paths
    sigma, years = 0.3, 126 / 252
    p_ltv = norm.cdf((math.log(0.75) + 0.5 * sigma**2 * years) / (sigma * math.sqrt(years)))
    p_closed = discrete_first_passage(sigma, 0.0, 0.8, 126)
    expected = 1.0 - (1.0 - p_ltv) * (1.0 - p_closed)
    within(len(refused) / paths, expected, math.sqrt(expected * (1.0 - expected) / paths), "P(refused)")


def test_unsecured_refusal_is_the_drawdown_probability():
    """An unsecured loan of 60 the borrower cannot repay: it defaults for `refinancing_refused`
    exactly where the gauge is in its drawdown on the maturity day; without a gauge it is rolled
    on every path."""
    loan = {"principal": 60.0, "rate": 0.0, "term_days": 126, "refinance_probability": 1.0, "refinance_days": 400}
    result = margincall.simulate(scenario_from(refinancing_case(loan)), paths=4000, seed=SEED, threads=1)
    default = result.loans["l"]
    within(default.p_default, discrete_first_passage(0.3, 0.0, 0.8, 126), default.p_default_se, "P(default) vs P(drawdown)")
    assert default.p_default_by_cause["refinancing_refused"] == default.p_default
    open_market = refinancing_case(loan)
    del open_market["market_access"]
    always = margincall.simulate(scenario_from(open_market), paths=1000, seed=SEED, threads=1)
    assert always.loans["l"].p_default == 0.0 and always.loans["l"].events["refinanced"] == 1.0


def test_draws_up_to_the_cap_pay_an_outflow_where_the_pool_allows():
    """A facility of 60 with 20 drawn on a pool of 100 (vol 0.4), draw cap 0.4; an outflow of 20 on
    day 20 with no grace, no cash, response [draw]: the borrower defaults exactly where
    0.4 V_20 - 20 < 20, P(V_20 < 100), a lognormal tail."""
    data = {
        "name": "draw",
        "horizon_days": 25,
        "assets": {"s": public(100.0, 0.4)},
        "borrower": {"cash": 0.0, "response": ["draw"], "cash_flows": [{"day": 20, "amount": -20.0, "grace_days": 0}]},
        "loans": {
            "facility": secured(20.0, 1000, limit=60.0, draw_max_ltv=0.4, margin_call_ltv=0.6, cure_ltv=0.45, liquidation_ltv=0.8),
        },
    }
    result = margincall.simulate(scenario_from(data), paths=4000, seed=SEED, threads=1)
    sigma, years = 0.4, 20 / 252
    expected = norm.cdf((math.log(1.0) + 0.5 * sigma**2 * years) / (sigma * math.sqrt(years)))
    within(result.borrower.p_default, expected, result.borrower.p_default_se, "P(default) vs P(V < 100)")
    assert result.borrower.p_default_by_cause["unpaid_outflow"] == result.borrower.p_default
    assert result.loans["facility"].p_default == 0.0  # the facility itself is in good standing
