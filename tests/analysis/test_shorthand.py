"""The one-borrower shorthand is the same book as its explicit form: the same numbers, seed for seed."""

from __future__ import annotations

import copy
from typing import Any

import margincall
from margincall.analysis.loading import builtin_scenario_text
from margincall.analysis.yamlsafe import read_yaml
from margincall.model.scenario import Scenario

PATHS = 2048
SEED = 11


def explicit_book(shorthand: dict[str, Any], borrower_id: str = "sbg") -> dict[str, Any]:
    """The shorthand written out as a book: an asset's `value` becomes one unit held at that price
    (or value / price units when a price is given), the borrower gets an id, and each loan's lender
    label becomes a lender named by it."""
    book = copy.deepcopy(shorthand)
    borrower = book.pop("borrower")
    holdings = {}
    for asset_id, asset in book["assets"].items():
        value = asset.pop("value", None)
        if value is None:
            continue
        if "price" in asset:
            holdings[asset_id] = value / asset["price"]
        else:
            asset["price"] = value
            holdings[asset_id] = 1.0
    borrower["holdings"] = holdings
    book["borrowers"] = {borrower_id: borrower}
    lenders: dict[str, dict[str, Any]] = {}
    for loan_id, loan in book["loans"].items():
        label = loan.get("lender", loan_id)
        lender_id = next((k for k, v in lenders.items() if v["name"] == label), f"lender-{len(lenders) + 1}")
        lenders.setdefault(lender_id, {"name": label})
        loan["lender"] = lender_id
        loan["borrower"] = borrower_id
    book["lenders"] = lenders
    return book


def test_the_default_scenario_gives_the_same_numbers_as_its_explicit_book() -> None:
    shorthand, _ = read_yaml(builtin_scenario_text())
    short = margincall.simulate(Scenario.model_validate(shorthand), paths=PATHS, seed=SEED).to_dict()
    book = explicit_book(shorthand)
    assert "borrower" not in book and set(book["borrowers"]) == {"sbg"}
    full = margincall.simulate(Scenario.model_validate(book), paths=PATHS, seed=SEED).to_dict()

    for key in ("loans", "system"):
        a, b = short[key], full[key]
        if key == "loans":
            for block in (*a.values(), *b.values()):
                block.pop("borrower"), block.pop("lender")
        assert a == b, key
    (short_borrower,) = short["borrowers"].values()
    assert short_borrower == full["borrowers"]["sbg"]
    assert list(short["lenders"].values()) == list(full["lenders"].values())  # keyed by label, then by id
