"""The normalised book: what the engine lowers, whichever form the scenario file used.

In the one-borrower shorthand an asset's `value` is the borrower's holding: the book prices that
asset at `price` when given (holding `value / price` units), else at `value` per unit (holding one
unit); an asset with only a price is a market the borrower does not hold. Each distinct loan
`lender` label becomes a lender with default terms.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from margincall.model.loan import Loan
from margincall.model.market import Asset
from margincall.model.parties import Borrower, Lender

if TYPE_CHECKING:
    from margincall.model.scenario import Scenario


@dataclass(frozen=True)
class Book:
    """Markets, parties and loans by id, in the scenario's order."""

    assets: dict[str, Asset]
    prices: dict[str, float]  # price of one unit on day 0, currency
    borrowers: dict[str, Borrower]
    holdings: dict[str, dict[str, float]]  # borrower id -> asset id -> units held on day 0
    lenders: dict[str, Lender]
    loans: dict[str, Loan]
    loan_borrower: dict[str, str]  # loan id -> borrower id
    loan_lender: dict[str, str]  # loan id -> lender id

    def borrower_name(self, borrower_id: str) -> str:
        return self.borrowers[borrower_id].name or borrower_id

    def lender_name(self, lender_id: str) -> str:
        return self.lenders[lender_id].name or lender_id

    def holding_value(self, borrower_id: str, asset_id: str) -> float:
        """Day-0 currency value of a borrower's holding of an asset."""
        return self.holdings[borrower_id].get(asset_id, 0.0) * self.prices[asset_id]


def build_book(scenario: Scenario, shorthand_id: str) -> Book:
    """The normalised book of a validated scenario."""
    prices: dict[str, float] = {}
    if scenario.borrowers is None:
        borrower = scenario.borrower
        assert borrower is not None  # validated: one of the two forms
        units: dict[str, float] = {}
        for asset_id, asset in scenario.assets.items():
            price = asset.price if asset.price is not None else asset.value
            prices[asset_id] = float(price)  # type: ignore[arg-type]
            if asset.value is not None:
                units[asset_id] = asset.value / prices[asset_id]
        borrowers = {shorthand_id: borrower}
        holdings = {shorthand_id: units}
    else:
        prices = {asset_id: float(asset.price) for asset_id, asset in scenario.assets.items()}  # type: ignore[arg-type]
        borrowers = dict(scenario.borrowers)
        holdings = {b_id: {a: float(u) for a, u in (b.holdings or {}).items()} for b_id, b in borrowers.items()}
    only = next(iter(borrowers))
    loan_borrower = {loan_id: loan.borrower or only for loan_id, loan in scenario.loans.items()}
    loan_lender = {loan_id: loan.lender or loan_id for loan_id, loan in scenario.loans.items()}
    if scenario.lenders is not None:
        lenders = dict(scenario.lenders)
    else:
        lenders = {}
        for lender_id in loan_lender.values():
            lenders.setdefault(lender_id, Lender())
    return Book(
        assets=dict(scenario.assets),
        prices=prices,
        borrowers=borrowers,
        holdings=holdings,
        lenders=lenders,
        loans=dict(scenario.loans),
        loan_borrower=loan_borrower,
        loan_lender=loan_lender,
    )
