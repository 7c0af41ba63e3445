"""Daily monitoring: today's marks applied to the book, what is due, open calls, and the chance
of a call or a default within 1, 5 and 20 trading days from a short simulation that starts from
today's state; alert rules checked against each loan.

    report = daily_monitor(scenario, read_marks(text), as_of=date(2026, 11, 30), rules=["headroom<10%"])
    report.to_dict()        # the layout of monitor.json
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from margincall.analysis.alerts import (
    AlertRule,
    check_rule_loans,
    crossings,
    parse_rule,
)
from margincall.analysis.marks import Mark, check_assets, latest_date
from margincall.analysis.monitor import (
    BookToday,
    DueItem,
    OpenCall,
    book_today,
    due_within,
    open_calls,
    scenario_from_today,
)
from margincall.analysis.simulate import Progress, check_run_args, simulate
from margincall.errors import SimulationError
from margincall.model.scenario import Scenario

HORIZONS = (1, 5, 20)  # trading days ahead
DUE_CALENDAR_DAYS = 30


@dataclass(frozen=True)
class MonitorReport:
    """One day's monitoring (`to_dict()` is monitor.json). Probabilities carry their standard error
    sqrt(p (1 - p) / paths); headroom is a fraction of the pool's value."""

    scenario: str
    as_of: dt.date
    computed_at: dt.datetime
    paths: int
    seed: int
    currency: str
    book: BookToday
    probabilities: dict[str, dict[str, float]]  # loan -> p_call_1d, p_call_1d_se, ... p_default_20d_se
    calls: list[OpenCall]
    due: list[DueItem]
    alerts: list[dict[str, Any]]
    pledges: dict[str, list[str]]  # loan -> the assets of its pool
    notes: list[str] = field(default_factory=list)

    def loan_metrics(self) -> dict[str, dict[str, float | None]]:
        """The metrics alert rules read, by loan."""
        out = {}
        for loan_id, today in self.book.loans.items():
            pledged = self.pledges.get(loan_id, []) if today.secured else []
            ages = [(self.as_of - self.book.mark_dates[a]).days for a in pledged if a in self.book.mark_dates]
            out[loan_id] = {
                "ltv": today.ltv if today.ltv is not None and math.isfinite(today.ltv) else None,
                "headroom": today.headroom_call,
                "headroom_liquidation": today.headroom_liquidation,
                "headroom_sigma": today.headroom_call_sigma,
                "headroom_liquidation_sigma": today.headroom_liquidation_sigma,
                "mark_age_days": float(max(ages)) if ages else None,
                **{k: v for k, v in self.probabilities.get(loan_id, {}).items() if not k.endswith("_se")},
            }
        return out

    def to_dict(self) -> dict[str, Any]:
        metrics = self.loan_metrics()
        loans = {}
        for loan_id, today in self.book.loans.items():
            entry = {k: _plain(v) for k, v in dataclasses.asdict(today).items()}
            entry.update({k: v for k, v in self.probabilities.get(loan_id, {}).items()})
            entry["mark_age_days"] = metrics[loan_id]["mark_age_days"]
            entry["collateral"] = self.pledges.get(loan_id, [])
            call = next((c for c in self.calls if c.loan == loan_id), None)
            entry["open_call"] = None if call is None else {k: _plain(v) for k, v in dataclasses.asdict(call).items()}
            loans[loan_id] = entry
        return {
            "scenario": self.scenario,
            "as_of": self.as_of.isoformat(),
            "computed_at": self.computed_at.isoformat(),
            "start_date": self.book.start_date.isoformat(),
            "day": self.book.day,
            "currency": self.currency,
            "paths": self.paths,
            "seed": self.seed,
            "horizons_days": list(HORIZONS),
            "prices": self.book.prices,
            "mark_dates": {a: d.isoformat() for a, d in self.book.mark_dates.items()},
            "loans": loans,
            "open_calls": [{k: _plain(v) for k, v in dataclasses.asdict(c).items()} for c in self.calls],
            "due_30d": [{k: _plain(v) for k, v in dataclasses.asdict(d).items()} for d in self.due],
            "alerts": self.alerts,
            "notes": self.notes,
        }


def _plain(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def daily_monitor(
    scenario: Scenario,
    marks: Sequence[Mark],
    *,
    as_of: dt.date | None = None,
    rules: Sequence[str | AlertRule] = (),
    paths: int = 20_000,
    seed: int = 0,
    cash: float | None = None,
    threads: int | None = None,
    progress: Progress | None = None,
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
) -> MonitorReport:
    """Monitor the scenario's book on `as_of` (default: the newest date in the marks)."""
    check_run_args(paths, seed)
    parsed = [parse_rule(r) if isinstance(r, str) else r for r in rules]
    check_rule_loans(parsed, list(scenario.loans))
    as_of = as_of or latest_date(marks)
    check_assets(marks, scenario.asset_ids, as_of)
    if scenario.start_date is not None and as_of < scenario.start_date:
        raise SimulationError(f"the as-of date {as_of} is before the scenario's start_date {scenario.start_date}")
    book = book_today(scenario, marks, as_of)
    calls = open_calls(scenario, marks, as_of)
    try:
        today, notes = scenario_from_today(scenario, book, horizon_days=max(HORIZONS), cash=cash, calls=calls)
    except ValueError as exc:
        raise SimulationError(f"cannot monitor on {as_of}: {exc}") from None
    result = simulate(today, paths=paths, seed=seed, threads=threads, progress=progress)
    probabilities: dict[str, dict[str, float]] = {}
    for loan_id, r in result.loans.items():
        row: dict[str, float] = {}
        for h in HORIZONS:
            for name, curve in (("call", r.p_margin_call_by_day), ("default", r.p_default_by_day)):
                p = float(curve[min(h, len(curve) - 1)])
                row[f"p_{name}_{h}d"] = p
                row[f"p_{name}_{h}d_se"] = math.sqrt(max(p * (1.0 - p), 0.0) / result.paths)
        if not r.secured:
            for h in HORIZONS:
                row.pop(f"p_call_{h}d"), row.pop(f"p_call_{h}d_se")
        probabilities[loan_id] = row
    computed = now()
    report = MonitorReport(
        scenario=scenario.name or "scenario", as_of=as_of, computed_at=computed, paths=result.paths, seed=seed,
        currency=scenario.currency, book=book, probabilities=probabilities, calls=calls,
        due=due_within(scenario, as_of, DUE_CALENDAR_DAYS), alerts=[], notes=[*book.notes, *notes],
        pledges={loan_id: list(loan.collateral or {}) for loan_id, loan in scenario.loans.items()},
    )
    alerts = [
        {"loan": loan, "rule": rule.text, "metric": rule.metric, "op": rule.op, "threshold": rule.threshold,
         "value": value, "raised_at": computed.isoformat()}
        for loan, rule, value in crossings(parsed, report.loan_metrics())
    ]
    return dataclasses.replace(report, alerts=alerts)
