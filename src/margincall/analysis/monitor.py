"""The book as it stands today: every part of daily monitoring that depends on the scenario's
shape (its holdings, loans, pools and schedules) — pure functions, no simulation, no I/O.

The scenario is read through its normalised book (`Scenario.book()`), so a book of several
borrowers and lenders and the one-borrower shorthand are monitored alike: a loan's pool is the
pledged fraction of its borrower's units of each asset, at today's price of a unit.

Conventions: day 0 of the scenario is its `start_date` (without one, the as-of date is day 0);
days are trading days on the business-day calendar; `prices` are today's prices of one unit of
each asset (in the shorthand without an asset `price`, one unit is the whole holding). Interest
accrues daily on the principal and is paid every `interest_every_days` from day 0, so on trading
day d the accrued unpaid interest is principal x rate x (d mod interest_every_days) / days_per_year.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pydantic import ValidationError

from margincall.analysis.marks import Mark, MarksError, latest_on
from margincall.model.scenario import Book, Loan, Scenario


@dataclass(frozen=True)
class LoanToday:
    """One loan on the as-of date. Headroom is the fall in the pool's value (a fraction, 0.1 =
    10%) that takes the LTV to the trigger, and the same distance in daily standard deviations of
    the pool's log value; negative when the trigger is already reached. None where not defined
    (unsecured loans; no volatility)."""

    loan: str
    borrower: str
    lender: str
    secured: bool
    principal: float
    accrued_interest: float
    debt: float
    pool_value: float | None
    lending_value: float | None
    ltv: float | None
    margin_call_ltv: float | None
    cure_ltv: float | None
    liquidation_ltv: float | None
    headroom_call: float | None
    headroom_liquidation: float | None
    pool_sigma_daily: float | None
    headroom_call_sigma: float | None
    headroom_liquidation_sigma: float | None
    maturity: dt.date
    days_to_maturity: int
    matured: bool


@dataclass(frozen=True)
class OpenCall:
    """A margin call open on the as-of date: the LTV reached the call level on `opened` and has
    not been back at or below the cure level since; it must be cured by `deadline`."""

    loan: str
    opened: dt.date
    deadline: dt.date
    ltv_at_open: float
    ltv_today: float
    overdue: bool


@dataclass(frozen=True)
class DueItem:
    """A payment that falls due: interest, a maturity, or a scheduled cash flow (negative: out)."""

    date: dt.date
    day: int
    kind: str  # interest | maturity | cash_flow
    loan: str | None
    borrower: str
    amount: float
    label: str = ""


@dataclass(frozen=True)
class BookToday:
    as_of: dt.date
    start_date: dt.date
    day: int  # trading days from the scenario's day 0 to the as-of date
    prices: dict[str, float]  # of one unit of each asset, today
    mark_dates: dict[str, dt.date]
    loans: dict[str, LoanToday]
    notes: list[str] = field(default_factory=list)


# -- the calendar ---------------------------------------------------------------------------------


def start_of(scenario: Scenario, as_of: dt.date) -> dt.date:
    """The date of the scenario's day 0 (the as-of date when it has no start_date)."""
    return scenario.start_date if scenario.start_date is not None else as_of


def trading_day(start: dt.date, date: dt.date) -> int:
    """Trading days from `start` to `date` (negative before it)."""
    return int(np.busday_count(start, date))


def date_of(start: dt.date, day: int) -> dt.date:
    """The date of trading day `day` counted from `start`."""
    return np.busday_offset(np.datetime64(start, "D"), day, roll="forward").astype(dt.date)


# -- prices, loans on a day ----------------------------------------------------------------------


def unit_price(scenario: Scenario, book: Book, mark: Mark) -> float:
    """A mark as the price of one unit: a `value` mark (the shorthand's whole holding) is divided
    by the units held; a `price` mark needs the unit to be a share (the asset has a `price`)."""
    asset = scenario.assets[mark.asset]
    if mark.quote == "price":
        if scenario.shorthand and asset.price is None:
            raise MarksError(f"marks: {mark.asset} has no price in the scenario (its unit is the whole holding): give its "
                             "marks as value (the holding's value), or set the asset's price (of one share)")
        return mark.amount
    if not scenario.shorthand:
        raise MarksError(f"marks: {mark.asset}: a book's borrowers hold different amounts, so marks are prices of one unit: "
                         "use a price column")
    units = book.holdings[next(iter(book.borrowers))].get(mark.asset, 0.0)
    if units <= 0.0:
        raise MarksError(f"marks: the borrower holds no {mark.asset}: give its price, not a value")
    return mark.amount / units


def accrued_interest(loan: Loan, day: int, days_per_year: int) -> float:
    """Interest accrued and unpaid at the end of trading day `day`."""
    if day <= 0:
        return 0.0
    return loan.principal * loan.annual_rate * (day % loan.interest_every_days) / days_per_year


def _pledged(book: Book, loan_id: str, prices: Mapping[str, float]) -> dict[str, tuple[float, float]]:
    """Asset -> (pledged value, lending value) of a secured loan's pool at `prices`."""
    loan = book.loans[loan_id]
    units = book.holdings[book.loan_borrower[loan_id]]
    cuts = loan.accepted_haircuts
    out = {}
    for asset_id, fraction in (loan.collateral or {}).items():
        value = fraction * units.get(asset_id, 0.0) * prices[asset_id]
        out[asset_id] = (value, value * (1.0 - cuts.get(asset_id, 0.0)))
    return out


def pledged_value(book: Book, loan_id: str, prices: Mapping[str, float]) -> tuple[float, float]:
    """(pool value, lending value) of a secured loan at `prices`."""
    parts = _pledged(book, loan_id, prices).values()
    return sum(v for v, _ in parts), sum(w for _, w in parts)


def pool_sigma_daily(scenario: Scenario, book: Book, loan_id: str, prices: Mapping[str, float]) -> float | None:
    """Daily standard deviation of the log lending value of the loan's pool (weights: each
    asset's share of the lending value; the scenario's volatilities and correlation)."""
    ids = scenario.asset_ids
    weights = np.zeros(len(ids))
    for asset_id, (_value, lending) in _pledged(book, loan_id, prices).items():
        weights[ids.index(asset_id)] = lending
    total = weights.sum()
    if total <= 0.0:
        return None
    weights /= total
    vol = np.array([scenario.assets[a].volatility for a in ids])
    covariance = scenario.correlation_matrix() * np.outer(vol, vol)
    variance = float(weights @ covariance @ weights)
    return math.sqrt(max(variance, 0.0) / scenario.days_per_year)


def _headroom(ltv: float | None, trigger: float | None, sigma: float | None) -> tuple[float | None, float | None]:
    if ltv is None or trigger is None:
        return None, None
    if ltv <= 0.0:
        return 1.0, None
    fall = 1.0 - ltv / trigger
    in_sigma = math.log(trigger / ltv) / sigma if sigma else None
    return fall, in_sigma


def loan_on(scenario: Scenario, book: Book, loan_id: str, prices: Mapping[str, float], day: int, start: dt.date) -> LoanToday:
    """A loan on trading day `day` with units priced at `prices`."""
    loan = book.loans[loan_id]
    accrued = accrued_interest(loan, day, scenario.days_per_year)
    debt = loan.principal + accrued
    pool = lending = ltv = sigma = None
    if loan.secured:
        pool, lending = pledged_value(book, loan_id, prices)
        ltv = debt / lending if lending > 0.0 else math.inf
        sigma = pool_sigma_daily(scenario, book, loan_id, prices)
    finite = ltv if ltv is not None and math.isfinite(ltv) else None
    call, call_sigma = _headroom(finite, loan.margin_call_ltv, sigma)
    liq, liq_sigma = _headroom(finite, loan.liquidation_ltv, sigma)
    return LoanToday(
        loan=loan_id, borrower=book.loan_borrower[loan_id], lender=book.lender_name(book.loan_lender[loan_id]),
        secured=loan.secured, principal=loan.principal,
        accrued_interest=accrued, debt=debt, pool_value=pool, lending_value=lending, ltv=ltv,
        margin_call_ltv=loan.margin_call_ltv, cure_ltv=loan.cure_ltv, liquidation_ltv=loan.liquidation_ltv,
        headroom_call=call, headroom_liquidation=liq, pool_sigma_daily=sigma,
        headroom_call_sigma=call_sigma, headroom_liquidation_sigma=liq_sigma,
        maturity=date_of(start, loan.term_days), days_to_maturity=loan.term_days - day, matured=loan.term_days <= day,
    )


def book_today(scenario: Scenario, marks: Sequence[Mark], as_of: dt.date) -> BookToday:
    """Every loan on the as-of date, at the latest mark of each asset on or before it (every asset
    needs one: see `marks.check_assets`)."""
    book = scenario.book()
    start = start_of(scenario, as_of)
    day = trading_day(start, as_of)
    latest = latest_on(marks, as_of)
    prices = {a: unit_price(scenario, book, latest[a]) for a in scenario.asset_ids}
    notes = []
    if scenario.start_date is None:
        notes.append(f"the scenario has no start_date: {as_of} is taken as its day 0 (no interest accrued, full terms left)")
    loans = {loan_id: loan_on(scenario, book, loan_id, prices, day, start) for loan_id in book.loans}
    return BookToday(as_of=as_of, start_date=start, day=day, prices=prices,
                     mark_dates={a: latest[a].date for a in scenario.asset_ids}, loans=loans, notes=notes)


def holding_values(book: Book, prices: Mapping[str, float]) -> dict[str, dict[str, float]]:
    """Borrower -> asset -> value of the holding at `prices` (currency)."""
    return {b: {a: u * prices[a] for a, u in units.items()} for b, units in book.holdings.items()}


def open_calls(scenario: Scenario, marks: Sequence[Mark], as_of: dt.date) -> list[OpenCall]:
    """Calls open on the as-of date, found in the LTV history the marks give (each trading day
    from the first date at which every pledged asset has a mark, at the latest marks then)."""
    book = scenario.book()
    start = start_of(scenario, as_of)
    calls = []
    for loan_id, loan in book.loans.items():
        if not loan.secured:
            continue
        pledged = list(loan.collateral or {})
        own = [m for m in marks if m.asset in pledged and m.date <= as_of]
        firsts = [min((m.date for m in own if m.asset == a), default=None) for a in pledged]
        if any(f is None for f in firsts):
            continue
        first = max(d for d in firsts if d is not None)
        opened: tuple[dt.date, float] | None = None
        ltv = math.nan
        for date in _business_days(first, as_of):
            latest = latest_on(own, date)
            prices = {a: unit_price(scenario, book, latest[a]) for a in pledged}
            debt = loan.principal + accrued_interest(loan, trading_day(start, date), scenario.days_per_year)
            _pool, lending = pledged_value(book, loan_id, prices)
            ltv = debt / lending if lending > 0.0 else math.inf
            if opened is None and ltv >= loan.margin_call_ltv:  # type: ignore[operator]
                opened = (date, ltv)
            elif opened is not None and ltv <= loan.cure_ltv:  # type: ignore[operator]
                opened = None
        if opened is not None:
            deadline = date_of(opened[0], loan.cure_days or 0)
            calls.append(OpenCall(loan_id, opened[0], deadline, opened[1], ltv, overdue=as_of > deadline))
    return calls


def _cure_days_left(call: OpenCall, as_of: dt.date) -> int:
    """The cure period of a call that opens again on day 1 and keeps `call`'s deadline (0 when the
    deadline is today or past: it must be cured on day 1)."""
    left = int(np.busday_count(np.datetime64(as_of, "D"), np.datetime64(call.deadline, "D")))  # trading days after as_of
    return max(left - 1, 0)


def _open_call_note(call: OpenCall, margin_call_ltv: float, as_of: dt.date) -> str:
    opened = f"{call.loan}: the call open since {call.opened} (cure by {call.deadline}{', overdue' if call.overdue else ''})"
    if call.ltv_today < margin_call_ltv:
        return (f"{opened} is below the call level today (LTV {call.ltv_today:.1%}) but not cured: the simulation opens "
                "no call until the LTV reaches the call level again, so its P(default) may be understated")
    return (f"{opened} keeps its deadline: the simulation calls it on day 1 with {_cure_days_left(call, as_of)} trading "
            "days to cure (and so does any new call in the simulation)")


def _business_days(first: dt.date, last: dt.date) -> list[dt.date]:
    if first > last:
        return []
    days = np.arange(np.datetime64(first, "D"), np.datetime64(last, "D") + 1)
    return [d.astype(dt.date) for d in days[np.is_busday(days)]]


def due_within(scenario: Scenario, as_of: dt.date, calendar_days: int = 30) -> list[DueItem]:
    """Interest payments, maturities and scheduled cash flows due after the as-of date and within
    `calendar_days` of it, in date order."""
    book = scenario.book()
    start = start_of(scenario, as_of)
    today = trading_day(start, as_of)
    last = trading_day(start, as_of + dt.timedelta(days=calendar_days + 1)) - 1  # on or before as_of + calendar_days
    items: list[DueItem] = []
    for loan_id, loan in book.loans.items():
        borrower = book.loan_borrower[loan_id]
        period = loan.principal * loan.annual_rate * loan.interest_every_days / scenario.days_per_year
        for day in range(today + 1, min(last, loan.term_days) + 1):
            if day == loan.term_days:
                amount = loan.principal + accrued_interest(loan, day, scenario.days_per_year) + (
                    period if day % loan.interest_every_days == 0 else 0.0)
                items.append(DueItem(date_of(start, day), day, "maturity", loan_id, borrower, -amount,
                                     "principal and accrued interest"))
            elif day % loan.interest_every_days == 0 and loan.annual_rate != 0.0:
                items.append(DueItem(date_of(start, day), day, "interest", loan_id, borrower, -period,
                                     f"{loan.interest_every_days} days' interest"))
    for borrower_id, borrower in book.borrowers.items():
        for flow in borrower.cash_flows:
            day = trading_day(start, flow.day) if isinstance(flow.day, dt.date) else flow.day
            if today < day <= last:
                items.append(DueItem(date_of(start, day), day, "cash_flow", None, borrower_id, flow.amount, flow.label))
    return sorted(items, key=lambda item: (item.day, item.kind, item.loan or ""))


# -- the scenario that starts today ---------------------------------------------------------------


def scenario_from_today(scenario: Scenario, book: BookToday, *, horizon_days: int, cash: float | None = None,
                        calls: Sequence[OpenCall] = ()) -> tuple[Scenario, list[str]]:
    """A scenario whose day 0 is the as-of date: assets at today's prices, each loan's principal
    its debt today (interest accrued to date included), remaining terms, the cash flows still to
    come moved to their new day numbers; loans past maturity and the scenario's shocks left out.
    `cash` is the borrower's cash today (one borrower only). A loan with an open call (`calls`)
    keeps the call's deadline: the call opens again at the first covenant test (day 1) while the
    LTV is at or above the call level, so its cure period there is the trading days left to the
    deadline less that day. Returns it and notes on what changed."""
    data: dict[str, Any] = scenario.model_dump(mode="python", exclude_unset=True)
    normal = scenario.book()
    shift = book.day
    notes: list[str] = []
    data["name"] = f"{scenario.name or 'scenario'} as of {book.as_of}"
    data["start_date"] = book.as_of
    # at least `horizon_days`, and long enough for every grace period (the schema's rule); the
    # probabilities are read by day, so a longer horizon does not change them
    graces = [max(loan.interest_grace_days, loan.principal_grace_days) for loan in normal.loans.values()]
    graces += [flow.grace_days for b in normal.borrowers.values() for flow in b.cash_flows]
    horizon = max([horizon_days, *graces])
    data["horizon_days"] = horizon
    if data.get("shocks"):
        notes.append("the scenario's shocks are left out: today's marks are the state; the simulation follows the market law")
    data["shocks"] = []
    shorthand_units = normal.holdings[next(iter(normal.borrowers))] if scenario.shorthand else {}
    for asset_id, asset in data["assets"].items():
        price = max(book.prices[asset_id], 1e-9 * normal.prices[asset_id])  # a positive price: a mark of 0 is a near-total loss
        if scenario.shorthand and asset.get("value") is not None:
            asset["value"] = shorthand_units[asset_id] * price
            if asset.get("price") is not None:
                asset["price"] = price
        else:
            asset["price"] = price
        listing = asset.get("listing")
        if listing is not None:
            day = listing["day"] if isinstance(listing["day"], int) else trading_day(book.start_date, listing["day"])
            listing["day"] = day - shift
            if listing["day"] <= 0:
                asset.update(kind="public", adv=listing["adv"])
                asset.pop("marks", None)
                asset.pop("listing", None)
                notes.append(f"{asset_id} listed before {book.as_of}: it is public today")
    kept = {}
    for loan_id, loan in data["loans"].items():
        today = book.loans[loan_id]
        if today.matured:
            notes.append(f"{loan_id} matured on {today.maturity}: left out of the simulation")
            continue
        loan["principal"] = today.debt
        if loan.get("limit") is not None:
            loan["limit"] = max(loan["limit"], today.debt)
        loan["term_days"] = today.days_to_maturity
        call = next((c for c in calls if c.loan == loan_id), None)
        terms = normal.loans[loan_id]
        if call is not None and terms.margin_call_ltv is not None:
            notes.append(_open_call_note(call, terms.margin_call_ltv, book.as_of))
            if terms.cure_days is not None:
                loan["cure_days"] = min(terms.cure_days, _cure_days_left(call, book.as_of))
        kept[loan_id] = loan
    if not kept:
        raise ValueError(f"every loan matured on or before {book.as_of}: nothing to monitor")
    data["loans"] = kept
    parties = {"borrower": data["borrower"]} if scenario.shorthand else data["borrowers"]
    for party in parties.values():
        flows = []
        for flow in party.get("cash_flows", []):
            day = flow["day"] if isinstance(flow["day"], int) else trading_day(book.start_date, flow["day"])
            if 1 <= day - shift <= horizon:  # later flows fall after the simulated days
                flows.append({**flow, "day": day - shift})
        party["cash_flows"] = flows
    if cash is not None:
        if len(parties) != 1:
            raise ValueError("the book has several borrowers: today's cash cannot be given as one amount")
        next(iter(parties.values()))["cash"] = cash
    else:
        notes.append("the borrowers' cash is the scenario's day-0 cash (give today's cash to override it)")
    if shift > 0 and any(loan.annual_rate for loan in scenario.loans.values()):
        notes.append("interest in the simulation accrues on today's debt and is paid on the scenario's schedule from today")
    try:
        return Scenario.model_validate(data), notes
    except ValidationError as exc:
        raise ValueError("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())) from None
