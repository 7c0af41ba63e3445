"""The scenario schema (imports nothing else of margincall)."""

from margincall.model.scenario import (
    Asset,
    Borrower,
    CashFlow,
    IndexRate,
    Jumps,
    Listing,
    Loan,
    Marks,
    Scenario,
    Shock,
    scenario_problems,
)

__all__ = [
    "Asset",
    "Borrower",
    "CashFlow",
    "IndexRate",
    "Jumps",
    "Listing",
    "Loan",
    "Marks",
    "Scenario",
    "Shock",
    "scenario_problems",
]
