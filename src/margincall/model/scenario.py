"""The scenario schema: a book of markets, borrowers, lenders and loans, as frozen pydantic models.

Money is in the scenario's currency (one currency per scenario), time in trading days counted
from day 0 (the valuation date), rates and volatilities per year. Field descriptions carry the
units; `margincall schema` prints them.

Two forms, one meaning:
- a **book**: `assets` priced per unit (`price`), `borrowers:` with their holdings in units,
  `lenders:`, and loans that name their borrower and lender;
- the **one-borrower shorthand**: `borrower:` and assets whose `value` is the borrower's whole
  holding; a loan's `lender` is then a label, and each label becomes a lender with default terms.
`Scenario.book()` turns either into the same normalised `Book`.

Field-level checks (types, signs, bounds) are pydantic's; checks that relate several fields
(ids, trigger order, a positive semi-definite correlation matrix, dates, the horizon) are in
`scenario_problems`, which names the offending field by its path. `Scenario(...)` built in
Python runs both, like a file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import numpy as np
from pydantic import Field, model_validator

from margincall.model._base import CorrelationPair, Day, Frozen, PositiveDays
from margincall.model.book import Book, build_book
from margincall.model.loan import CrossDefault, IndexRate, Loan
from margincall.model.market import (
    Asset,
    Jumps,
    Listing,
    MarketAccess,
    MarketModel,
    Marks,
    Shock,
)
from margincall.model.parties import Borrower, CashFlow, Lender
from margincall.model.problems import Loc, bound_problems, scenario_problems

SHORTHAND_BORROWER = "borrower"  # the id of the one-borrower shorthand's borrower


class ScenarioProblems(ValueError):
    """Cross-field problems of a scenario built in Python: (field path, message) pairs."""

    def __init__(self, problems: list[tuple[Loc, str]]):
        self.problems = problems
        super().__init__("; ".join(f"{'.'.join(map(str, loc)) or 'scenario'}: {message}" for loc, message in problems))


class Scenario(Frozen):
    """A book: markets (assets), borrowers with holdings, lenders, and loans linking them."""

    name: str | None = Field(default=None, max_length=200, description="Scenario name; default: the file's stem.")
    description: str | None = Field(default=None, max_length=10_000, description="What the scenario is, in words.")
    currency: str = Field(default="USD", max_length=10, description="The one currency of every amount.")
    start_date: dt.date | None = Field(
        default=None, description="Calendar date of day 0; needed where days are given as dates."
    )
    horizon_days: PositiveDays | None = Field(
        default=None, description="Trading days simulated; default: the longest term with its extension."
    )
    days_per_year: int = Field(default=252, ge=1, le=366, description="Trading days per year.")
    assets: dict[str, Asset] = Field(min_length=1, description="Assets (markets) by id.")
    correlation: list[CorrelationPair] = Field(
        default_factory=list, description="Pairs [asset, asset, rho] of daily return correlation; pairs not listed are 0."
    )
    shocks: list[Shock] = Field(default_factory=list, description="Instantaneous moves.")
    market: MarketModel | None = Field(
        default=None, description="The market model: gbm (default) or historical (a block bootstrap of real returns)."
    )
    market_access: MarketAccess | None = Field(
        default=None,
        description="The refinancing market's state, shared by every loan on a path; always open if omitted.",
    )
    borrower: Borrower | None = Field(
        default=None, description="One-borrower shorthand: the borrower (whose holdings are the assets' values)."
    )
    borrowers: dict[str, Borrower] | None = Field(
        default=None, description="A book's borrowers by id, each with its holdings in units."
    )
    lenders: dict[str, Lender] | None = Field(
        default=None, description="Lenders by id; default: one lender per distinct loan `lender` label, with default terms."
    )
    loans: dict[str, Loan] = Field(min_length=1, description="Loans by id.")

    @model_validator(mode="before")
    @classmethod
    def _within_bounds(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            problems = bound_problems(data)
            if problems:
                raise ScenarioProblems(problems)
        return data

    @model_validator(mode="after")
    def _cross_field(self) -> Scenario:
        problems = scenario_problems(self)
        if problems:
            raise ScenarioProblems(problems)
        return self

    # -- derived ----------------------------------------------------------------------------------

    @property
    def shorthand(self) -> bool:
        """Whether the file uses the one-borrower shorthand (`borrower:` and asset values)."""
        return self.borrowers is None

    def day_number(self, day: Day) -> int:
        """A trading-day number, from an int or from a date on the business-day calendar."""
        if isinstance(day, int):
            return day
        if self.start_date is None:
            raise ValueError("a date needs the scenario's start_date")
        return int(np.busday_count(self.start_date, day))

    def date_of(self, day: int) -> dt.date | None:
        """The calendar date of a trading-day number (business days from start_date), if dated."""
        if self.start_date is None:
            return None
        return np.busday_offset(self.start_date, day, roll="forward").astype(dt.date)

    @property
    def horizon(self) -> int:
        """Trading days simulated."""
        if self.horizon_days is not None:
            return self.horizon_days
        return max(loan.term_days + loan.extension_days for loan in self.loans.values())

    @property
    def asset_ids(self) -> list[str]:
        return list(self.assets)

    @property
    def historical(self) -> bool:
        """Whether the market replays real returns (market.model: historical)."""
        return self.market is not None and self.market.model == "historical"

    def history_columns(self) -> dict[str, str]:
        """The prices-file column replayed for each asset (historical model), in asset order."""
        mapping = (self.market.columns if self.market is not None else None) or {}
        return {asset_id: mapping.get(asset_id, asset_id) for asset_id in self.assets}

    def correlation_matrix(self) -> np.ndarray:
        """The full correlation matrix over assets in scenario order."""
        ids = self.asset_ids
        index = {a: i for i, a in enumerate(ids)}
        matrix = np.eye(len(ids))
        for a, b, rho in self.correlation:
            if a in index and b in index and a != b:
                matrix[index[a], index[b]] = matrix[index[b], index[a]] = rho
        return matrix

    def book(self) -> Book:
        """The scenario as a normalised book (the shorthand's borrower becomes borrower 'borrower')."""
        return build_book(self, SHORTHAND_BORROWER)


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
