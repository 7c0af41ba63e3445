"""The benchmark's workloads."""

from __future__ import annotations


from margincall.analysis.loading import default_scenario, parse_scenario
from margincall.model.scenario import Scenario

WORKLOAD_A = """
name: workload-a
horizon_days: 504
assets:
  stock: {kind: public, value: 100.0, volatility: 0.3, adv: 1.0e+6}
borrower: {cash: 0.0, response: []}
loans:
  loan:
    principal: 50.0
    rate: 0.0
    term_days: 504
    collateral: {stock: 1.0}
    margin_call_ltv: 0.7
    cure_ltv: 0.6
    cure_days: 0
    liquidation_ltv: 0.95
    liquidation_participation: 1.0
"""
"""(a) One public asset, one loan, no cure capacity: a call defaults at once and the lender sells
the pool that day. P(margin call) is the daily-monitored first passage below 50 / 0.7."""

A_SIGMA = 0.3
A_DAYS = 504
A_BARRIER = 50.0 / 0.7 / 100.0  # as a fraction of the day-0 value


def workload(name: str) -> Scenario:
    """'a' (the single-stock workload) or 'b' (the built-in default scenario)."""
    if name == "a":
        return parse_scenario(WORKLOAD_A, source="workload a")
    if name == "b":
        return default_scenario()
    raise ValueError(f"unknown workload {name!r}; use 'a' or 'b'")


def assets_in(name: str) -> int:
    return len(workload(name).assets)


__all__ = ["A_BARRIER", "A_DAYS", "A_SIGMA", "WORKLOAD_A", "assets_in", "workload"]
