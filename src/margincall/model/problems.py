"""Checks that relate several fields of a scenario: ids, the two forms (book or shorthand),
trigger order, a positive semi-definite correlation matrix, dates and the horizon.

`scenario_problems` returns (field path, message) pairs, empty when the scenario is valid; every
message says what to change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from margincall.model.limits import limits

if TYPE_CHECKING:
    from margincall.model.scenario import Scenario

Loc = tuple[str | int, ...]


def scenario_problems(scenario: Scenario) -> list[tuple[Loc, str]]:
    """Checks that relate several fields. Returns (field path, message) pairs; empty when valid."""
    problems: list[tuple[Loc, str]] = []
    _form(scenario, problems)
    _assets(scenario, problems)
    if not problems:  # loans refer to borrowers and lenders whose form must be right first
        _loans(scenario, problems)
    _correlation(scenario, problems)
    _market(scenario, problems)
    _days(scenario, problems)
    return problems


def _known(ids: list[str] | dict) -> str:
    return ", ".join(ids) or "(none)"


def _form(scenario: Scenario, problems: list[tuple[Loc, str]]) -> None:
    if scenario.borrower is None and scenario.borrowers is None:
        problems.append(((), "give `borrower:` (one borrower, whose holdings are the assets' values) or `borrowers:` (a book)"))
        return
    if scenario.borrower is not None and scenario.borrowers is not None:
        problems.append((("borrower",), "give either `borrower:` (the one-borrower shorthand) or `borrowers:` (a book), not both"))
        return
    if scenario.borrowers is not None and not scenario.borrowers:
        problems.append((("borrowers",), "a book needs at least one borrower"))
    for asset_id, asset in scenario.assets.items():
        loc: Loc = ("assets", asset_id)
        if scenario.shorthand:
            if asset.value is None and asset.price is None:
                problems.append((loc + ("value",), "give value (the borrower's whole holding, in currency) or price (a market it does not hold)"))
        else:
            if asset.value is not None:
                problems.append((loc + ("value",), "a book prices assets per unit: give price, and each borrower's holdings in units"))
            if asset.price is None:
                problems.append((loc + ("price",), "a book needs the price of one unit on day 0"))
    if scenario.shorthand:
        if scenario.borrower is not None and scenario.borrower.holdings is not None:
            problems.append(
                (("borrower", "holdings"), "the shorthand's holdings are the assets' values; use `borrowers:` and asset prices for holdings in units")
            )
        return
    for borrower_id, borrower in (scenario.borrowers or {}).items():
        for asset_id in borrower.holdings or {}:
            if asset_id not in scenario.assets:
                problems.append(
                    (("borrowers", borrower_id, "holdings", asset_id), f"unknown asset '{asset_id}'; the scenario's assets are: {_known(scenario.asset_ids)}")
                )


def _assets(scenario: Scenario, problems: list[tuple[Loc, str]]) -> None:
    for asset_id, asset in scenario.assets.items():
        loc: Loc = ("assets", asset_id)
        if asset.kind == "public":
            if asset.adv is None:
                problems.append((loc + ("adv",), "a public asset needs adv, its average daily traded value (currency/day)"))
            for field in ("marks", "listing"):
                if getattr(asset, field) is not None:
                    problems.append((loc + (field,), f"only a private asset has {field}; remove it or set kind: private"))
        elif asset.adv is not None:
            problems.append((loc + ("adv",), "a private asset has no market until it lists: give listing.adv instead"))
        if asset.listing is not None:
            _check_day(scenario, loc + ("listing", "day"), asset.listing.day, problems)


def _holding_units(scenario: Scenario, borrower_id: str, asset_id: str) -> float:
    if scenario.shorthand:
        return 1.0 if scenario.assets[asset_id].value is not None else 0.0
    borrower = (scenario.borrowers or {}).get(borrower_id)
    return float((borrower.holdings or {}).get(asset_id, 0.0)) if borrower is not None else 0.0


def _loans(scenario: Scenario, problems: list[tuple[Loc, str]]) -> None:
    ids = scenario.asset_ids
    borrower_ids = ["borrower"] if scenario.shorthand else list(scenario.borrowers or {})
    pledged_total: dict[tuple[str, str], float] = {}
    horizon = scenario.horizon
    for loan_id, loan in scenario.loans.items():
        loc: Loc = ("loans", loan_id)
        borrower_id = loan.borrower
        if scenario.shorthand:
            if borrower_id not in (None, "borrower"):
                problems.append((loc + ("borrower",), "the one-borrower shorthand has one borrower; remove borrower, or use `borrowers:`"))
            borrower_id = "borrower"
        elif borrower_id is None:
            if len(borrower_ids) == 1:
                borrower_id = borrower_ids[0]
            else:
                problems.append((loc + ("borrower",), f"name the loan's borrower, one of: {_known(borrower_ids)}"))
                continue
        elif borrower_id not in borrower_ids:
            problems.append((loc + ("borrower",), f"unknown borrower '{borrower_id}'; the borrowers are: {_known(borrower_ids)}"))
            continue
        if scenario.lenders is not None:
            if loan.lender is None:
                problems.append((loc + ("lender",), f"name the loan's lender, one of: {_known(scenario.lenders)}"))
            elif loan.lender not in scenario.lenders:
                problems.append((loc + ("lender",), f"unknown lender '{loan.lender}'; the lenders are: {_known(scenario.lenders)}"))
        for asset_id, fraction in (loan.collateral or {}).items():
            if asset_id not in scenario.assets:
                problems.append((loc + ("collateral", asset_id), f"unknown asset '{asset_id}'; the scenario's assets are: {_known(ids)}"))
                continue
            if fraction > 0.0 and _holding_units(scenario, borrower_id, asset_id) <= 0.0:
                problems.append((loc + ("collateral", asset_id), f"borrower '{borrower_id}' holds no '{asset_id}' to pledge"))
            key = (borrower_id, asset_id)
            pledged_total[key] = pledged_total.get(key, 0.0) + fraction
        for asset_id in loan.haircuts or {}:
            if asset_id not in scenario.assets:
                problems.append((loc + ("haircuts", asset_id), f"unknown asset '{asset_id}'; the scenario's assets are: {_known(ids)}"))
        if loan.haircuts is not None and loan.collateral is not None:
            for asset_id in loan.collateral:
                if asset_id not in loan.haircuts:
                    problems.append((loc + ("haircuts",), f"no haircut for the pledged asset '{asset_id}'; add one (0 for none)"))
        if loan.limit is not None and loan.limit < loan.principal:
            problems.append((loc + ("limit",), f"the facility limit ({loan.limit:g}) is below the drawn principal ({loan.principal:g}); raise it or omit it"))
        for field in ("interest_grace_days", "principal_grace_days"):
            if field in loan.model_fields_set and getattr(loan, field) > horizon:  # a default longer than a short horizon is fine
                problems.append((loc + (field,), f"{getattr(loan, field)} days is longer than the horizon ({horizon} trading days)"))
        covenants = ("margin_call_ltv", "cure_ltv", "cure_days", "liquidation_ltv")
        if loan.secured:
            if not loan.collateral:
                problems.append((loc + ("collateral",), "a secured loan pledges at least one asset"))
            for field in covenants:
                if getattr(loan, field) is None:
                    problems.append((loc + (field,), f"a secured loan needs {field}"))
            call, cure, liq = loan.margin_call_ltv, loan.cure_ltv, loan.liquidation_ltv
            if call is not None and cure is not None and not cure < call:
                problems.append((loc + ("cure_ltv",), f"must be below margin_call_ltv ({call}); got {cure}: order is cure < call < liquidation"))
            if call is not None and liq is not None and not call < liq:
                problems.append((loc + ("liquidation_ltv",), f"must be above margin_call_ltv ({call}); got {liq}: order is cure < call < liquidation"))
            if loan.draw_max_ltv is not None and liq is not None and not loan.draw_max_ltv < liq:
                problems.append((loc + ("draw_max_ltv",), f"a draw cap of {loan.draw_max_ltv} is not below liquidation_ltv ({liq}); a draw would default the loan"))
        else:
            for field in (*covenants, "haircuts", "extension_max_ltv", "draw_max_ltv"):
                if getattr(loan, field) is not None:
                    problems.append((loc + (field,), f"only a secured loan (one with collateral) has {field}"))
            if loan.liquidation_cure_days:
                problems.append((loc + ("liquidation_cure_days",), "only a secured loan (one with collateral) has liquidation_cure_days"))
            if loan.limit is not None and loan.limit > loan.principal:
                problems.append((loc + ("limit",), "draws are modelled on secured facilities only (their LTV caps a draw); omit limit"))
    for (borrower_id, asset_id), total in pledged_total.items():
        if total > 1.0 + 1e-12:
            where: Loc = ("assets", asset_id) if scenario.shorthand else ("borrowers", borrower_id, "holdings", asset_id)
            problems.append((where, f"loans pledge {total:.4g} of this holding in all; at most 1 (the whole holding)"))


def _correlation(scenario: Scenario, problems: list[tuple[Loc, str]]) -> None:
    seen: set[frozenset[str]] = set()
    before = len(problems)
    for i, (a, b, _rho) in enumerate(scenario.correlation):
        for j, asset_id in enumerate((a, b)):
            if asset_id not in scenario.assets:
                problems.append((("correlation", i, j), f"unknown asset '{asset_id}'; the scenario's assets are: {_known(scenario.asset_ids)}"))
        if a == b:
            problems.append((("correlation", i), f"pairs an asset with itself ('{a}'); list distinct assets"))
        pair = frozenset((a, b))
        if pair in seen:
            problems.append((("correlation", i), f"the pair {a}/{b} is listed twice"))
        seen.add(pair)
    if len(problems) == before:
        eigenvalues = np.linalg.eigvalsh(scenario.correlation_matrix())
        if eigenvalues.min() < -1e-10:
            problems.append(
                (
                    ("correlation",),
                    "the correlation matrix is not positive semi-definite (smallest eigenvalue "
                    f"{eigenvalues.min():.4g}); make the pairwise correlations consistent",
                )
            )


def _market(scenario: Scenario, problems: list[tuple[Loc, str]]) -> None:
    market = scenario.market
    if market is not None:
        if market.model == "historical":
            if market.prices is None:
                problems.append((("market", "prices"), "the historical model replays a prices CSV; give its path (relative to the scenario file)"))
        else:
            for field in ("prices", "columns"):
                if getattr(market, field) is not None:
                    problems.append((("market", field), f"only the historical model reads {field}; set model: historical or remove it"))
        for asset_id in market.columns or {}:
            if asset_id not in scenario.assets:
                problems.append((("market", "columns", asset_id), f"unknown asset '{asset_id}'; the scenario's assets are: {_known(scenario.asset_ids)}"))
    access = scenario.market_access
    if access is not None:
        if access.asset not in scenario.assets:
            problems.append((("market_access", "asset"), f"unknown asset '{access.asset}'; the scenario's assets are: {_known(scenario.asset_ids)}"))
        elif scenario.assets[access.asset].kind != "public":
            problems.append((("market_access", "asset"), f"'{access.asset}' is private; the gauge must be a public asset (priced every day)"))


def _days(scenario: Scenario, problems: list[tuple[Loc, str]]) -> None:
    """Shocks and cash flows fall inside the horizon (the same rule for both); dates need start_date."""
    horizon = scenario.horizon
    for i, shock in enumerate(scenario.shocks):
        if shock.asset not in scenario.assets:
            problems.append((("shocks", i, "asset"), f"unknown asset '{shock.asset}'; the scenario's assets are: {_known(scenario.asset_ids)}"))
        day = _check_day(scenario, ("shocks", i, "day"), shock.day, problems)
        if day is not None and day + shock.over_days - 1 > horizon:
            last = day + shock.over_days - 1
            problems.append((("shocks", i, "day"), f"the shock runs to day {last}, after the horizon ({horizon} trading days); move it or shorten over_days"))
    borrowers = {"borrower": scenario.borrower} if scenario.borrower is not None else (scenario.borrowers or {})
    for borrower_id, borrower in borrowers.items():
        base: Loc = ("borrower",) if scenario.shorthand else ("borrowers", borrower_id)
        for i, flow in enumerate(borrower.cash_flows):
            loc = base + ("cash_flows", i, "day")
            day = _check_day(scenario, loc, flow.day, problems)
            if day is None:
                continue
            if day == 0:
                problems.append((loc, "cash flows fall on days 1 and later; put day-0 cash in the borrower's cash"))
            elif day > horizon:
                problems.append((loc, f"day {day} is after the horizon ({horizon} trading days); move it inside or remove it"))
            if "grace_days" in flow.model_fields_set and flow.grace_days > horizon:
                problems.append((base + ("cash_flows", i, "grace_days"), f"{flow.grace_days} days is longer than the horizon ({horizon} trading days)"))


def _check_day(scenario: Scenario, loc: Loc, day: int | dt.date, problems: list[tuple[Loc, str]]) -> int | None:
    if isinstance(day, dt.date) and scenario.start_date is None:
        problems.append((loc, "a date needs the scenario's start_date (the date of day 0); or give a trading-day number"))
        return None
    number = scenario.day_number(day)
    if number < 0:
        problems.append((loc, f"falls before day 0 ({day}); days count from start_date"))
        return None
    return number


_COUNTED = (("assets", "assets"), ("loans", "loans"), ("borrowers", "borrowers"), ("lenders", "lenders"),
            ("shocks", "shocks"), ("correlation", "correlations"))


def bound_problems(data: Mapping[str, Any]) -> list[tuple[Loc, str]]:
    """A scenario document's counts of entities and the lengths of their ids against the stated
    bounds (`model.limits`), checked on the raw document before its parts are validated one by one,
    so that an oversized file fails at once and names the bound and its override."""
    bounds = limits()
    problems: list[tuple[Loc, str]] = []
    for field, name in _COUNTED:
        part = data.get(field)
        if not isinstance(part, Mapping | list):
            continue
        message = bounds.problem(name, len(part), f"the number of {field}")
        if message is not None:
            problems.append(((field,), message))
        for key in part if isinstance(part, Mapping) else ():
            if isinstance(key, str) and (too_long := bounds.problem("name_chars", len(key), f"the length of the id '{key[:40]}...'")):
                problems.append(((field, key), too_long))
    loans = data.get("loans")
    for loan_id, loan in loans.items() if isinstance(loans, Mapping) else ():
        for field in ("lender", "borrower"):  # a shorthand's lender label becomes a lender's id
            label = loan.get(field) if isinstance(loan, Mapping) else None
            if isinstance(label, str) and (too_long := bounds.problem("name_chars", len(label), f"the length of the {field} '{label[:40]}...'")):
                problems.append((("loans", loan_id, field), too_long))
    parties = [data.get("borrower")]
    if isinstance(data.get("borrowers"), Mapping):
        parties += list(data["borrowers"].values())
    flows = sum(len(p["cash_flows"]) for p in parties if isinstance(p, Mapping) and isinstance(p.get("cash_flows"), list))
    message = bounds.problem("cash_flows", flows, "the number of cash flows, in all")
    if message is not None:
        where: Loc = ("borrower", "cash_flows") if isinstance(data.get("borrower"), Mapping) else ("borrowers",)
        problems.append((where, message))
    return problems
