"""Scenario builders, closed forms and a rich scenario shared by the statistical validation suite.

Every statistical test here runs with a fixed seed and compares the engine with an exact or
closed-form value within a tolerance of 4 standard errors (the SE the engine reports), widened by
the known bias of an approximation where one is used.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
import yaml
from scipy.stats import norm

import margincall

Z = 4.0  # tolerance in standard errors


def scenario_from(data: dict[str, Any]) -> margincall.Scenario:
    """A validated scenario from a plain dict, through the same YAML path users take."""
    return margincall.parse_scenario(yaml.safe_dump(data, sort_keys=False))


def single_asset_loan(
    *,
    kind: str = "public",
    value: float = 100.0,
    volatility: float = 0.3,
    drift: float = 0.0,
    barrier: float = 0.8,
    horizon: int = 252,
    principal: float = 50.0,
    jumps: dict[str, float] | None = None,
    marks: dict[str, Any] | None = None,
    shocks: list[dict[str, Any]] | None = None,
    liquidation_ltv: float = 1000.0,
    pledge: float = 1.0,
    haircut: float | None = None,
) -> dict[str, Any]:
    """One asset, pledged (fully by default) to one loan at rate 0 (constant debt), no cash, no
    response.

    The call opens once the asset's value falls to `barrier` times its day-0 value:
    margin_call_ltv = principal / (barrier * value * pledge * (1 - haircut)).
    The loan matures after the horizon, so no maturity event falls inside it, and the liquidation
    trigger is far away (a call is never pre-empted by a same-day default) unless asked for.
    """
    call_ltv = principal / (barrier * value * pledge * (1.0 - (haircut or 0.0)))
    asset: dict[str, Any] = {"kind": kind, "value": value, "volatility": volatility, "drift": drift}
    if kind == "public":
        asset["adv"] = 1.0e9
    if jumps is not None:
        asset["jumps"] = jumps
    if marks is not None:
        asset["marks"] = marks
    data: dict[str, Any] = {
        "name": "validation",
        "horizon_days": horizon,
        "assets": {"s": asset},
        "borrower": {"cash": 0.0, "response": []},
        "loans": {
            "l": {
                "principal": principal,
                "rate": 0.0,
                "term_days": horizon + 10,
                "collateral": {"s": pledge},
                "margin_call_ltv": call_ltv,
                "cure_ltv": 0.5 * call_ltv,
                "cure_days": 5,
                "liquidation_ltv": liquidation_ltv,
            }
        },
    }
    if haircut is not None:
        data["loans"]["l"]["haircuts"] = {"s": haircut}
    if shocks:
        data["shocks"] = shocks
    return data


# -- closed forms ---------------------------------------------------------------------------------


def continuous_first_passage(sigma: float, mu: float, barrier: float, years: float) -> float:
    """P(min_{0<=s<=T} V_s <= B) for GBM started at 1 with a down barrier B < 1 monitored
    continuously: Phi((b - nu T)/(sigma sqrt T)) + exp(2 nu b / sigma^2) Phi((b + nu T)/(sigma sqrt T)),
    b = ln B, nu = mu - sigma^2 / 2."""
    nu = mu - 0.5 * sigma**2
    b = math.log(barrier)
    s = sigma * math.sqrt(years)
    return float(norm.cdf((b - nu * years) / s) + math.exp(2.0 * nu * b / sigma**2) * norm.cdf((b + nu * years) / s))


BGK_BETA = 0.5826  # -zeta(1/2) / sqrt(2 pi), Broadie, Glasserman & Kou (1997)


def bgk_first_passage(sigma: float, mu: float, barrier: float, days: int, days_per_year: int = 252) -> float:
    """Daily-monitored first passage by the Broadie–Glasserman–Kou continuity correction: the
    continuous formula with the down barrier moved away from the start by exp(-0.5826 sigma sqrt(dt))."""
    dt = 1.0 / days_per_year
    shifted = barrier * math.exp(-BGK_BETA * sigma * math.sqrt(dt))
    return continuous_first_passage(sigma, mu, shifted, days * dt)


def discrete_first_passage(
    sigma: float, mu: float, barrier: float, days: int, days_per_year: int = 252, cells_per_sd: int = 40
) -> float:
    """P(min_{t=1..days} V_t <= B) for daily-monitored GBM, computed without Monte Carlo: the
    density of ln V on the surviving side of the barrier is propagated day by day on a fine grid
    (cell-averaged Gaussian transition kernel, barrier on a cell edge, start on a cell centre).
    Converges as O(h^2); at 40 cells per daily SD it is accurate to about 1e-5 here, so it serves
    to measure the bias of the BGK correction."""
    dt = 1.0 / days_per_year
    nu = mu - 0.5 * sigma**2
    sd = sigma * math.sqrt(dt)
    b = math.log(barrier)
    m = math.ceil(-b / (sd / cells_per_sd) - 0.5)
    h = -b / (m + 0.5)  # cell j spans [b + j h, b + (j + 1) h]; the start 0 is the centre of cell m
    top = abs(nu) * days * dt + 9.0 * sigma * math.sqrt(days * dt)
    n = m + int(top / h) + 1
    density = np.zeros(n)
    density[m] = 1.0
    w = math.ceil(9.0 * sd / h)
    k = np.arange(-w, w + 1) * h
    kernel = norm.cdf(k + h / 2 - nu * dt, scale=sd) - norm.cdf(k - h / 2 - nu * dt, scale=sd)
    for _ in range(days):
        density = np.convolve(density, kernel)[w : w + n]
    return float(1.0 - density.sum())


# -- helpers ---------------------------------------------------------------------------------------


def first_call_counts(result: margincall.SimulationResult, loan: str = "l") -> np.ndarray:
    """Number of paths whose first call fell on each day 0..H (from the cumulative curve; needs
    every day recorded, i.e. H <= 252)."""
    curve = np.asarray(result.loans[loan].p_margin_call_by_day) * result.paths
    assert len(curve) == result.horizon_days + 1, "every day must be recorded"
    return np.rint(np.diff(curve, prepend=0.0)).astype(np.int64)


def rich_scenario_data() -> dict[str, Any]:
    """A fresh copy of RICH, a scenario that exercises everything at once: two public assets with
    price impact (one with jumps), a private asset with jumps, scheduled and random marks, a
    correlation matrix, day-0 and later shocks (one spread over days), cash flows in and out (a big
    tranche), interest, a recourse + cross-default margin loan with an extension and a second
    accepted asset to pledge, a loan on the private asset, and an unsecured bridge that may be
    refinanced; the borrower answers calls with cash, then pledges, then sells."""
    return copy.deepcopy(RICH)


RICH: dict[str, Any] = {
    "name": "rich",
    "horizon_days": 504,
    "assets": {
        "alpha": {
            "kind": "public",
            "value": 400.0,
            "volatility": 0.55,
            "drift": -0.05,
            "adv": 200.0,
            "impact": 0.9,
            "impact_permanent": 0.6,
            "jumps": {"rate": 0.5, "mean": -0.5, "stdev": 0.2},
        },
        "beta": {"kind": "public", "value": 150.0, "volatility": 0.35, "adv": 100.0, "impact": 0.6},
        "gamma": {
            "kind": "private",
            "value": 600.0,
            "volatility": 0.4,
            "drift": 0.02,
            "jumps": {"rate": 0.4, "mean": -0.5, "stdev": 0.3},
            "marks": {"every_days": 63, "rounds_per_year": 2.0},
            "sale_delay_days": 40,
            "sale_discount": 0.3,
        },
    },
    "correlation": [["alpha", "beta", 0.6], ["alpha", "gamma", 0.4], ["beta", "gamma", 0.2]],
    "shocks": [
        {"day": 0, "asset": "gamma", "change": -0.15},
        {"day": 40, "asset": "alpha", "change": -0.2, "over_days": 5},
        {"day": 150, "asset": "gamma", "change": -0.2},
    ],
    "borrower": {
        "cash": 250.0,
        "cash_reserve": 10.0,
        "response": ["cash", "pledge", "sell"],
        "max_participation": 0.2,
        "cash_flows": [
            {"day": 30, "amount": 15.0, "label": "dividend"},
            {"day": 120, "amount": -120.0, "label": "investment tranche"},
            {"day": 300, "amount": -40.0, "label": "commitment"},
        ],
    },
    "loans": {
        "alpha-margin": {
            "principal": 90.0,
            "rate": {"index": 0.035, "spread": 0.03},
            "term_days": 300,
            "extension_days": 126,
            "extension_max_ltv": 0.6,
            "collateral": {"alpha": 0.6},
            "haircuts": {"alpha": 0.1, "beta": 0.2},
            "margin_call_ltv": 0.6,
            "cure_ltv": 0.45,
            "cure_days": 3,
            "liquidation_ltv": 0.8,
            "recourse": True,
            "cross_default": True,
            "interest_every_days": 21,
            "liquidation_participation": 0.25,
        },
        "gamma-loan": {
            "principal": 120.0,
            "rate": 0.08,
            "term_days": 378,
            "extension_days": 63,
            "collateral": {"gamma": 0.7},
            "haircuts": {"gamma": 0.3},
            "margin_call_ltv": 0.6,
            "cure_ltv": 0.5,
            "cure_days": 20,
            "liquidation_ltv": 0.9,
        },
        "bridge": {
            "principal": 80.0,
            "rate": 0.06,
            "term_days": 189,
            "refinance_probability": 0.7,
            "refinance_days": 126,
            "recovery_rate": 0.4,
            "cross_default": True,
        },
    },
}
