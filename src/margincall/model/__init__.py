"""The scenario schema (imports nothing else of margincall)."""

from margincall.model.book import Book
from margincall.model.scenario import (
    Asset,
    Borrower,
    CashFlow,
    CrossDefault,
    IndexRate,
    Jumps,
    Lender,
    Listing,
    Loan,
    MarketAccess,
    MarketModel,
    Marks,
    Scenario,
    ScenarioProblems,
    Shock,
    scenario_problems,
)

__all__ = [
    "Asset",
    "Book",
    "Borrower",
    "CashFlow",
    "CrossDefault",
    "IndexRate",
    "Jumps",
    "Lender",
    "Listing",
    "Loan",
    "MarketAccess",
    "MarketModel",
    "Marks",
    "Scenario",
    "ScenarioProblems",
    "Shock",
    "scenario_problems",
]
