"""The benchmark's workloads: (a) a single-stock loan, (b) the built-in default scenario, (c) a book
of 20 borrowers, 50 loans and 5 lenders on 10 correlated public assets over 756 days
(`book_workload`)."""

from __future__ import annotations

from typing import Any

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


C_ASSETS = 10
C_BORROWERS = 20
C_LOANS = 50
C_LENDERS = 5
C_DAYS = 756


def book_workload() -> dict[str, Any]:
    """(c) A book, as a scenario mapping: 10 public assets (volatility 25-61%/yr, pairwise
    correlation 0.3, price impact on ADV); 20 borrowers, each holding 3 of them and some cash; 50
    three-year loans at 6%, each secured by all of one holding at a day-0 LTV of 0.25-0.40 (call
    0.55, cure 0.45, liquidation 0.75, two days to cure), so that borrowers share markets and
    lenders sell into each other's prices; 5 lenders that differ in wait, method and participation.
    Built by a fixed rule (no random numbers), so that every run of the bench measures the same
    book."""
    assets = {
        f"s{a}": {
            "kind": "public",
            "price": 20.0 + 15.0 * a,
            "volatility": 0.25 + 0.04 * a,
            "adv": 2.0e8 + 1.0e8 * a,
            "impact": 0.5,
        }
        for a in range(C_ASSETS)
    }
    correlation = [[f"s{a}", f"s{b}", 0.3] for a in range(C_ASSETS) for b in range(a + 1, C_ASSETS)]
    lenders = {
        f"bank{k}": {"wait_days": k, "method": "block" if k % 2 else "market", "participation": 0.1 + 0.05 * k}
        for k in range(C_LENDERS)
    }
    borrowers: dict[str, Any] = {}
    holdings_of: list[list[str]] = []
    for b in range(C_BORROWERS):
        held = [f"s{(b + step) % C_ASSETS}" for step in (0, 3, 7)]
        holdings_of.append(held)
        borrowers[f"holdco{b}"] = {
            "cash": 2.0e7 * (1 + b % 4),
            "holdings": {asset: 1.0e6 * (1 + (b + i) % 5) for i, asset in enumerate(held)},
        }
    loans: dict[str, Any] = {}
    for k in range(C_LOANS):
        b = k % C_BORROWERS
        asset = holdings_of[b][k // C_BORROWERS]  # borrowers 0-9 pledge three holdings, 10-19 two
        value = borrowers[f"holdco{b}"]["holdings"][asset] * assets[asset]["price"]
        loans[f"loan{k}"] = {
            "borrower": f"holdco{b}",
            "lender": f"bank{k % C_LENDERS}",
            "principal": round(value * (0.25 + 0.05 * (k % 4))),
            "rate": 0.06,
            "term_days": C_DAYS,
            "collateral": {asset: 1.0},
            "margin_call_ltv": 0.55,
            "cure_ltv": 0.45,
            "cure_days": 2,
            "liquidation_ltv": 0.75,
        }
    return {
        "name": "workload-c",
        "horizon_days": C_DAYS,
        "assets": assets,
        "correlation": correlation,
        "borrowers": borrowers,
        "lenders": lenders,
        "loans": loans,
    }


def workload(name: str) -> Scenario:
    """'a' (the single-stock workload), 'b' (the built-in default scenario) or 'c' (the book)."""
    if name == "a":
        return parse_scenario(WORKLOAD_A, source="workload a")
    if name == "b":
        return default_scenario()
    if name == "c":
        return Scenario.model_validate(book_workload())
    raise ValueError(f"unknown workload {name!r}; use 'a', 'b' or 'c'")


def assets_in(name: str) -> int:
    return len(workload(name).assets)


__all__ = [
    "A_BARRIER", "A_DAYS", "A_SIGMA", "C_ASSETS", "C_BORROWERS", "C_DAYS", "C_LENDERS", "C_LOANS", "WORKLOAD_A",
    "assets_in", "book_workload", "workload",
]
