"""Why paths default: pick telling paths and tell their story day by day.

`explain` runs the scenario keeping each path's outcome, then traces two paths again (a path's
events depend only on its index and the seed):
- a *typical defaulting path*: among the paths on which the borrower (or, where no borrower
  defaults, a loan) defaults, one with the commonest first cause, at the median default day;
- the *path behind the 99% loss*: the path whose total loss to lenders is the 99% quantile.
`select_paths` picks paths by an event (`default:openai-margin-loan`, `call:LOAN`,
`default:borrower`) for `--trace`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from margincall.analysis.metrics import money
from margincall.analysis.results import CAUSE_NAMES, LOAN_FLAG_NAMES
from margincall.analysis.simulate import TracedEvent, prepare, run_statistics, trace
from margincall.engine import codes as c
from margincall.engine.outputs import (
    PB_CAUSE,
    PB_DEFAULT_DAY,
    PB_FLAGS,
    PL_CAUSE,
    PL_DEFAULT_DAY,
    PL_FLAGS,
    PL_LOSS,
)
from margincall.errors import MarginCallError
from margincall.model.scenario import Scenario

DEFAULT_PATHS = 20_000


class ExplainError(MarginCallError, ValueError):
    """A selection that cannot be read or matches nothing."""


@dataclass(frozen=True)
class Story:
    """One path told day by day: its events, the sentences of each day, and its prices."""

    title: str
    why: str  # why this path was chosen
    path: int
    lines: list[tuple[int, str | None, str]]  # (day, date, sentence)
    events: list[TracedEvent]
    prices: dict[str, list[tuple[int, float]]]  # asset -> (day, price) of every day
    markers: list[tuple[int, str, str]]  # (day, event, who) to mark on the chart

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "why": self.why,
            "path": self.path,
            "lines": [{"day": d, "date": date, "text": text} for d, date, text in self.lines],
            "prices": {a: [[d, p] for d, p in series] for a, series in self.prices.items()},
            "markers": [{"day": d, "event": e, "who": w} for d, e, w in self.markers],
        }


@dataclass(frozen=True)
class Explanation:
    scenario: str
    paths: int
    seed: int
    currency: str
    p_default: float  # the borrowers' (any) default probability in this run
    causes: dict[str, float]  # first causes of the borrowers' (or loans') defaults, share of defaulting paths
    stories: list[Story] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "paths": self.paths,
            "seed": self.seed,
            "currency": self.currency,
            "p_default": self.p_default,
            "causes": dict(self.causes),
            "stories": [s.to_dict() for s in self.stories],
        }


def _outcomes(scenario: Scenario, paths: int, seed: int, threads: int | None) -> tuple[Any, np.ndarray, np.ndarray]:
    inputs, _ = prepare(scenario)
    stats = run_statistics(inputs, paths=paths, seed=seed, threads=threads, record_paths=True)
    return inputs, stats.paths["path_loans"], stats.paths["path_borrowers"]


def select_paths(scenario: Scenario, where: str, *, count: int, paths: int = DEFAULT_PATHS, seed: int = 0,
                 threads: int | None = None) -> list[int]:
    """The first `count` path indices (of a run of `paths` paths with `seed`) on which the event
    `where` happens: `EVENT:LOAN` with EVENT a loan event (call, default, loss, liquidated, cured,
    accelerated, ...), or `default:BORROWER` (`default:borrower` in a one-borrower book)."""
    event, _, who = where.partition(":")
    event, who = event.strip().lower(), who.strip()
    book = scenario.book()
    borrowers = {"borrower": next(iter(book.borrowers))} if len(book.borrowers) == 1 else {}
    borrowers.update({b: b for b in book.borrowers})
    names = {"call": "called", "default": "defaulted", "cure": "cured", "liquidation": "liquidated", "accelerate": "accelerated"}
    flag_name = names.get(event, event)
    inputs, loans, borrowers_out = _outcomes(scenario, paths, seed, threads)
    if who in scenario.loans:
        if flag_name not in LOAN_FLAG_NAMES:
            raise ExplainError(f"--where {where}: unknown loan event '{event}'; events: {', '.join(sorted(set(LOAN_FLAG_NAMES) | set(names)))}")
        bit = 1 << LOAN_FLAG_NAMES.index(flag_name)
        hits = np.nonzero(loans[:, inputs.loan_ids.index(who), PL_FLAGS].astype(np.int64) & bit)[0]
    elif who in borrowers and event == "default":
        b = inputs.borrower_ids.index(borrowers[who])
        hits = np.nonzero(borrowers_out[:, b, PB_FLAGS].astype(np.int64) & int(c.B_DEFAULT))[0]
    else:
        raise ExplainError(
            f"--where {where}: give EVENT:LOAN (loans: {', '.join(scenario.loans)}) or default:BORROWER "
            f"(borrowers: {', '.join(borrowers)})"
        )
    if hits.size == 0:
        raise ExplainError(f"--where {where}: no path of {paths:,} (seed {seed}) has that event; try more --paths")
    return [int(p) for p in hits[:count]]


def _date(scenario: Scenario, day: int) -> str | None:
    date = scenario.date_of(day)
    return date.isoformat() if isinstance(date, dt.date) else None


def explain(scenario: Scenario, *, paths: int = DEFAULT_PATHS, seed: int = 0, threads: int | None = None) -> Explanation:
    """The stories of a typical defaulting path and of the path behind the 99% loss."""
    _inputs, loans, borrowers = _outcomes(scenario, paths, seed, threads)
    n = loans.shape[0]
    defaulted = borrowers[:, :, PB_FLAGS].astype(np.int64) & int(c.B_DEFAULT)
    any_default = defaulted.any(axis=1)
    stories: list[Story] = []
    causes: dict[str, float] = {}
    if any_default.any():
        b_of = np.argmax(defaulted != 0, axis=1)  # the first defaulting borrower of each path
        rows = np.nonzero(any_default)[0]
        cause = borrowers[rows, b_of[rows], PB_CAUSE].astype(int)
        day = borrowers[rows, b_of[rows], PB_DEFAULT_DAY]
        who_kind = "borrower"
    else:
        loan_default = loans[:, :, PL_FLAGS].astype(np.int64) & int(c.F_DEFAULTED)
        rows = np.nonzero(loan_default.any(axis=1))[0]
        first = np.argmax(loan_default[rows] != 0, axis=1)
        cause = loans[rows, first, PL_CAUSE].astype(int)
        day = loans[rows, first, PL_DEFAULT_DAY]
        who_kind = "loan"
    if rows.size:
        counts = Counter(cause.tolist())
        causes = {CAUSE_NAMES.get(k, str(k)): v / rows.size for k, v in counts.most_common()}
        common = counts.most_common(1)[0][0]
        pick = rows[cause == common]
        days = day[cause == common]
        median = pick[np.argsort(days, kind="stable")[len(days) // 2]]
        stories.append(
            _story(
                scenario, int(median), seed, "A typical defaulting path",
                f"{rows.size / n:.2%} of {n:,} paths have a {who_kind} default; its commonest first cause is "
                f"'{CAUSE_NAMES.get(common, common).replace('_', ' ')}' ({counts[common] / rows.size:.0%} of them); "
                f"this path defaults on the median day of those ({int(np.median(days))}).",
            )
        )
    total = loans[:, :, PL_LOSS].sum(axis=1)
    if np.any(total > 0.0):
        k = min(n - 1, max(0, math.ceil(0.99 * n) - 1))
        order = np.argsort(total, kind="stable")
        tail = int(order[k])
        stories.append(
            _story(
                scenario, tail, seed, "The path behind the 99% loss",
                f"the total loss to lenders on this path, {money(float(total[tail]), scenario.currency)}, is the 99% quantile "
                f"over {n:,} paths (the worst 1% lose at least this much).",
            )
        )
    return Explanation(
        scenario=scenario.name or "scenario", paths=n, seed=seed, currency=scenario.currency,
        p_default=float(any_default.mean()), causes=causes, stories=stories,
    )


def _story(scenario: Scenario, path: int, seed: int, title: str, why: str) -> Story:
    events = trace(scenario, paths=[path], seed=seed, prices=True)
    prices: dict[str, list[tuple[int, float]]] = {a: [] for a in scenario.assets}
    book = scenario.book()
    for a in scenario.assets:
        prices[a].append((0, book.prices[a]))
    told = [e for e in events if e.event != "price"]
    for e in events:
        if e.event == "price" and e.asset is not None:
            prices[e.asset].append((e.day, e.amount))
    lines = _sentences(scenario, told)
    markers = [(e.day, e.event, e.loan or e.borrower or "") for e in told if e.event in ("call", "notice", "default", "borrower_default", "cure", "accelerate", "loss")]
    return Story(title=title, why=why, path=path, lines=lines, events=told, prices=prices, markers=markers)


def _sentences(scenario: Scenario, events: Sequence[TracedEvent]) -> list[tuple[int, str | None, str]]:
    """Each day's events in words (interest paid on time, as it is every quarter, is left out)."""
    cur = scenario.currency
    book = scenario.book()
    day0 = {a: book.prices[a] for a in scenario.assets}
    by_day: dict[int, list[str]] = {}
    sales: dict[int, dict[tuple[str, str, str], float]] = {}  # day -> (kind, seller, asset) -> amount sold
    interest_paid = {(e.day, e.loan) for e in events if e.event == "interest"}
    for e in events:
        if e.event == "due" and (e.day, e.loan) in interest_paid:
            continue  # interest falling due and paid the same day is routine
        text = _sentence(e, cur, day0, book)
        if not text:
            continue
        by_day.setdefault(e.day, []).append(text)
        if e.event in ("sell", "liquidation_sale") and e.asset is not None:
            key = (e.event, e.loan or e.borrower or "", e.asset)
            day_sales = sales.setdefault(e.day, {})
            day_sales[key] = day_sales.get(key, 0.0) + e.amount
    lines: list[tuple[int, str | None, str]] = []
    days = sorted(by_day)
    i = 0
    while i < len(days):
        d = days[i]
        keys = set(sales.get(d, {}))
        routine = bool(keys) and len(by_day[d]) == sum(1 for _ in sales[d])  # nothing but market sales that day
        j = i
        while routine and j + 1 < len(days) and set(sales.get(days[j + 1], {})) == keys and len(by_day[days[j + 1]]) == len(keys):
            j += 1
        if j - i >= 2:  # three or more days of the same sales and nothing else: one line
            last = days[j]
            parts = []
            for kind, seller, asset in sorted(keys):
                total = sum(sales[days[k]][(kind, seller, asset)] for k in range(i, j + 1))
                who = f"{seller}'s lender" if kind == "liquidation_sale" else (book.borrower_name(seller) if seller in book.borrowers else seller)
                parts.append(f"{who} sells {asset} in the market, {money(total, cur)} in all")
            date = _date(scenario, last)
            lines.append((d, _date(scenario, d), f"to day {last}{f' ({date})' if date else ''}, on each of {j - i + 1} trading days: " + "; ".join(parts)))
        else:
            j = i
            lines.append((d, _date(scenario, d), "; ".join(by_day[d])))
        i = j + 1
    return lines


def _sentence(e: TracedEvent, cur: str, day0: dict[str, float], book: Any) -> str | None:
    m = lambda x: money(x, cur)
    who = book.borrower_name(e.borrower) if e.borrower in book.borrowers else (e.borrower or "the borrower")
    match e.event:
        case "mark":
            change = e.amount / day0[e.asset] - 1.0 if e.asset in day0 else 0.0
            return f"{e.asset} marked at {m(e.amount)} a unit ({change:+.0%} from day 0)"
        case "listing":
            return f"{e.asset} lists"
        case "call":
            return f"{e.loan} is called at LTV {e.amount:.1%}"
        case "notice":
            return f"{e.loan}'s LTV gaps past its liquidation level ({e.amount:.1%}): a liquidation notice is served"
        case "cure":
            return f"{e.loan}'s call is cured (LTV {e.amount:.1%})"
        case "pay_cash":
            return f"{who} pays {m(e.amount)} in cash to {e.loan}"
        case "pledge":
            return f"{who} pledges {e.asset} worth {m(e.amount)} of lending value to {e.loan}"
        case "release":
            return f"{e.loan}'s lenders release collateral worth {m(e.amount)} above their cure level"
        case "draw":
            return f"{who} draws {m(e.amount)} on {e.loan}"
        case "block":
            return f"{who} sells a block of {e.asset} for {m(e.amount)}"
        case "sell":
            return f"{who} sells {e.asset} in the market for {m(e.amount)}"
        case "due":
            what = e.loan or "a scheduled outflow"
            return f"{m(e.amount)} falls due on {what}" if e.loan is None or e.amount > 1e-9 else None
        case "interest" | "cash_flow":
            return None if e.event == "interest" else (f"{who} pays an outflow of {m(-e.amount)}" if e.amount < 0 else f"{who} receives {m(e.amount)}")
        case "repay":
            return f"{who} pays {m(e.amount)} of what is due on {e.loan}" if e.amount > 0 else f"{e.loan} is repaid in full"
        case "extend":
            return f"{e.loan} is extended"
        case "refinance":
            return f"{e.loan} is refinanced"
        case "refinance_refused":
            reasons = {1: "the borrower is in default", 2: "the loan is called", 3: "its LTV is above the refinancing ceiling",
                       4: "the refinancing market is closed", 5: "the lenders decline"}
            return f"{e.loan}'s refinancing is refused: {reasons.get(int(e.amount), 'refused')}"
        case "accelerate":
            return f"{e.loan} is accelerated by cross-default: {m(e.amount)} due within its grace period"
        case "default":
            return f"{e.loan} defaults with {m(e.amount)} outstanding"
        case "borrower_default":
            cause = CAUSE_NAMES.get(int(e.amount), "").replace("_", " ")
            return f"{who} defaults ({cause})"
        case "liquidation_sale" | "liquidation_block":
            how = "in a block" if e.event == "liquidation_block" else "in the market"
            return f"{e.loan}'s lender sells {e.asset} {how} for {m(e.amount)}"
        case "loss":
            return f"{e.loan}'s lender loses {m(e.amount)}"
        case "recourse":
            return f"{e.loan}'s shortfall of {m(e.amount)} is due from {who} under its guarantee"
        case _:
            return None
