"""Correlated returns: over one day, P(two loans both called) is a bivariate normal probability.

Three public assets, each fully pledged to its own loan (rate 0, no cash, no response), a horizon of
one trading day: loan i is called when ln V_i(1) - ln V_i(0) = nu_i dt + sigma_i sqrt(dt) eps_i falls
to ln(B_i / V_i(0)), with corr(eps_i, eps_j) = rho_ij as the scenario says. So P(call i) is a normal
probability and P(calls i and j) the bivariate normal probability with correlation rho_ij.
"""

from __future__ import annotations

import functools
import itertools
import math

import numpy as np
import pytest
from scipy.stats import multivariate_normal, norm
from validation_support import Z, scenario_from

import margincall

PATHS = 200_000
SEED = 8128
ASSETS = {"a": (0.5, 0.0), "b": (0.3, 0.1), "c": (0.8, -0.2)}  # (sigma, mu)
RHO = {("a", "b"): 0.8, ("a", "c"): -0.5, ("b", "c"): -0.3}
Z_BARRIER = -0.5  # each barrier sits at this many daily SDs below the expected log value
DT = 1.0 / 252


def barrier_log(asset: str) -> float:
    sigma, mu = ASSETS[asset]
    return (mu - 0.5 * sigma**2) * DT + Z_BARRIER * sigma * math.sqrt(DT)


@functools.cache
def result() -> margincall.SimulationResult:
    assets, loans = {}, {}
    for asset, (sigma, mu) in ASSETS.items():
        assets[asset] = {"kind": "public", "value": 100.0, "volatility": sigma, "drift": mu, "adv": 1.0e9}
        call = 50.0 / (100.0 * math.exp(barrier_log(asset)))
        loans[asset] = {
            "principal": 50.0,
            "rate": 0.0,
            "term_days": 20,
            "collateral": {asset: 1.0},
            "margin_call_ltv": call,
            "cure_ltv": 0.5 * call,
            "cure_days": 5,
            "liquidation_ltv": 1000.0,
        }
    data = {
        "horizon_days": 1,
        "assets": assets,
        "correlation": [[a, b, rho] for (a, b), rho in RHO.items()],
        "borrower": {"cash": 0.0, "response": []},
        "loans": loans,
    }
    return margincall.simulate(scenario_from(data), paths=PATHS, seed=SEED)


@pytest.mark.slow
@pytest.mark.parametrize("asset", list(ASSETS))
def test_single_call_probability(asset):
    loan = result().loans[asset]
    expected = norm.cdf(Z_BARRIER)
    assert abs(loan.p_margin_call - expected) <= Z * loan.p_margin_call_se, (
        f"P(call {asset}) = {loan.p_margin_call:.5f} +- {loan.p_margin_call_se:.5f}, expected {expected:.5f}"
    )


@pytest.mark.slow
@pytest.mark.parametrize(("pair", "rho"), list(RHO.items()), ids=[f"{a}{b}" for a, b in RHO])
def test_joint_call_probability_has_the_scenario_correlation(pair, rho):
    a, b = pair
    p = result().borrower.called_together[a][b]
    se = math.sqrt(p * (1.0 - p) / PATHS)
    expected = float(multivariate_normal(mean=[0.0, 0.0], cov=[[1.0, rho], [rho, 1.0]]).cdf([Z_BARRIER, Z_BARRIER]))
    independent = norm.cdf(Z_BARRIER) ** 2
    assert abs(p - expected) <= Z * se + 1e-5, f"P(calls {a} and {b}) = {p:.5f} +- {se:.5f}, expected {expected:.5f}"
    # the test can tell the correlation from independence
    assert abs(expected - independent) > 2 * Z * se


@pytest.mark.slow
def test_cascade_is_two_or_more_calls():
    """P(two or more loans called) by inclusion–exclusion over the pairs and the triple."""
    res = result()
    pairs = sum(res.borrower.called_together[a][b] for a, b in itertools.combinations(ASSETS, 2))
    cov = np.eye(3)
    names = list(ASSETS)
    for (a, b), rho in RHO.items():
        i, j = names.index(a), names.index(b)
        cov[i, j] = cov[j, i] = rho
    triple = float(multivariate_normal(mean=np.zeros(3), cov=cov).cdf(np.full(3, Z_BARRIER)))
    pair_probs = [
        float(multivariate_normal(mean=[0.0, 0.0], cov=[[1.0, rho], [rho, 1.0]]).cdf([Z_BARRIER, Z_BARRIER]))
        for rho in RHO.values()
    ]
    expected = sum(pair_probs) - 2.0 * triple
    p, se = res.borrower.p_cascade, res.borrower.p_cascade_se
    assert abs(p - expected) <= Z * se + 1e-4, f"P(cascade) = {p:.5f} +- {se:.5f}, expected {expected:.5f}"
    assert p <= pairs
