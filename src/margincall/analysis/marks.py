"""Today's prices and marks: a CSV with one row per asset and date.

    date,asset,price
    2026-11-27,acme,61.5
    2026-11-30,acme,58.2
    2026-09-30,co,55.0          # a private mark, as published

`price` is the price (or published mark) of one unit, a share, as the scenario's asset `price`.
A one-borrower scenario may instead give `value`: the currency value of the borrower's whole
holding (as the scenario's asset `value`). A file may have both columns; a row uses its price
when it has one. The latest row on or before the as-of date applies; older rows make the history
that open calls are found in.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from margincall.errors import MarginCallError

COLUMNS = ("date", "asset")  # and price or value
QUOTES = ("price", "value")


class MarksError(MarginCallError, ValueError):
    """A marks file that cannot be used; the message names the line and column and the fix."""


@dataclass(frozen=True)
class Mark:
    """A price or mark of `asset` on `date`: of one unit (`quote` price) or of the one borrower's
    whole holding (`quote` value), in currency."""

    asset: str
    date: dt.date
    amount: float
    quote: str = "price"


def read_marks(text: str, *, source: str = "marks") -> list[Mark]:
    """Marks from CSV text (header date,asset and price and/or value; other columns are ignored),
    in file order."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(reader, None)
    expected = "date,asset,price (or date,asset,value)"
    if header is None:
        raise MarksError(f"{source}: empty; give a CSV with the header {expected} and one row per asset and date")
    names = [h.strip().lower() for h in header]
    missing = [c for c in COLUMNS if c not in names]
    quotes = [q for q in QUOTES if q in names]
    if missing or not quotes:
        lacking = ", ".join([*missing, *([] if quotes else ["price"])])
        raise MarksError(f"{source}: line 1: no column {lacking}; the header must name {expected} (got {','.join(header)})")
    at = {c: names.index(c) for c in (*COLUMNS, *quotes)}
    marks = []
    for line, row in enumerate(reader, start=2):
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) < len(names):
            raise MarksError(f"{source}: line {line}: {len(row)} cells, the header has {len(names)}")
        date_text, asset = row[at["date"]].strip(), row[at["asset"]].strip()
        try:
            date = dt.date.fromisoformat(date_text)
        except ValueError:
            raise MarksError(f"{source}: line {line}, column date: '{date_text}' is not a date; write YYYY-MM-DD") from None
        if not asset:
            raise MarksError(f"{source}: line {line}, column asset: empty; give the scenario's asset id")
        quote = next((q for q in quotes if row[at[q]].strip()), None)
        if quote is None:
            raise MarksError(f"{source}: line {line}: no {' or '.join(quotes)}; give the price of one unit")
        amount_text = row[at[quote]].strip()
        try:
            amount = float(amount_text)
        except ValueError:
            raise MarksError(f"{source}: line {line}, column {quote}: '{amount_text}' is not a number") from None
        if not math.isfinite(amount) or amount < 0.0:
            raise MarksError(f"{source}: line {line}, column {quote}: {amount_text} must be a finite amount >= 0 (currency)")
        marks.append(Mark(asset, date, amount, quote))
    if not marks:
        raise MarksError(f"{source}: no rows after the header; give one row per asset and date")
    return marks


def latest_on(marks: Iterable[Mark], as_of: dt.date) -> dict[str, Mark]:
    """For each asset, its latest mark on or before `as_of` (the last row of a date listed twice)."""
    chosen: dict[str, Mark] = {}
    for mark in marks:
        if mark.date > as_of:
            continue
        current = chosen.get(mark.asset)
        if current is None or mark.date >= current.date:
            chosen[mark.asset] = mark
    return chosen


def check_assets(marks: Sequence[Mark], asset_ids: Sequence[str], as_of: dt.date, *, source: str = "marks") -> None:
    """`MarksError` naming rows for assets the scenario does not hold, and assets with no mark on
    or before `as_of`."""
    known = set(asset_ids)
    unknown = sorted({m.asset for m in marks} - known)
    if unknown:
        raise MarksError(f"{source}: unknown asset {', '.join(repr(a) for a in unknown)}; the scenario's assets are "
                         f"{', '.join(asset_ids)}")
    present = latest_on(marks, as_of)
    absent = [a for a in asset_ids if a not in present]
    if absent:
        raise MarksError(f"{source}: no mark on or before {as_of} for {', '.join(absent)}; add a row "
                         f"'{as_of},{absent[0]},PRICE' (PRICE: the price of one unit in currency)")


def latest_date(marks: Iterable[Mark]) -> dt.date:
    """The newest date in the marks (the default as-of date)."""
    return max(m.date for m in marks)


def history(marks: Iterable[Mark]) -> Mapping[str, list[Mark]]:
    """Marks by asset, oldest first."""
    out: dict[str, list[Mark]] = {}
    for mark in sorted(marks, key=lambda m: m.date):
        out.setdefault(mark.asset, []).append(mark)
    return out
