"""Results as pandas DataFrames, and their CSV and Parquet files: where analysts work.

Every table holds the result's own numbers, unrounded, under the names of `result.json` (the
metrics registry, `margincall.analysis.metrics`, gives the order and each column's unit):

    loans       one row per loan: every scalar metric, each followed by its standard error
                (`p_default`, `p_default_se`, ...), P(default) by cause (`p_default_<cause>`,
                `p_default_<cause>_se`), the quantiles of the first call's day, P(each event)
    borrowers   one row per borrower; lenders: one row per lender; system: one row
    fan         long format: scope, who, quantity (ltv, cash, relative_price), day, date (when the
                scenario has a start date), quantile, value
    curves      long format: P(call) and P(default) by day, sold value by day
    loss_distribution  long: each loan's and lender's P(loss <= x) (the CDF of result.json)
    called_together    long: P(both loans of a pair are called), per borrower

Ids are ordinary columns (`loan`, `borrower`, `lender`), not the index, so that a table reads
back from CSV or Parquet as it was written. `frame.attrs["units"]` maps each column to its unit
(probability, money in `frame.attrs["currency"]`, days, ...). pandas is imported when a table is
asked for, never by the engine.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from margincall.analysis.metrics import Scope, metrics_of
from margincall.errors import MarginCallError

if TYPE_CHECKING:
    import pandas as pd

    from margincall.analysis.results import (
        BorrowerResult,
        LenderResult,
        LoanResult,
        SimulationResult,
    )
    from margincall.analysis.search import FirstCall, SearchResult
    from margincall.analysis.sensitivities import DebtService, SensitivityReport
    from margincall.analysis.stress import StressRun
    from margincall.analysis.sweep import SweepRow

RESULT_TABLES = ("loans", "borrowers", "lenders", "system", "fan", "curves", "loss_distribution", "called_together")
STRESS_TABLES = ("loans", "borrowers", "lenders")
SWEEP_TABLES = ("loans", "borrowers")
FORMATS = ("csv", "parquet")
PARQUET_FIX = "pip install 'margincall[parquet]' (or pip install 'pyarrow>=14.0.1')"

# dict fields of the results spread over one column per key: field -> (column prefix, unit)
_SPREAD = {
    "p_default_by_cause": ("p_default_", "probability"),
    "events": ("p_event_", "probability"),
    "first_call_day": ("first_call_day_", "days"),
    "equity_quantiles": ("equity_", "money"),
    "p_loss_over_capital": ("p_loss_over_capital_", "probability"),
    "borrowers_in_default": ("p_borrowers_in_default_", "probability"),
    "sold_value_by_asset": ("sold_value_", "money"),
}
# units of the scalar fields the registry does not hold
_UNITS = {
    "principal": "money", "limit": "money", "capital": "money", "expected_recovered": "money",
    "expected_liquidity_used": "money", "expected_drawn": "money", "equity_day0": "money",
    "breakeven_growth": "rate", "max_ledger_residual": "money", "loss_var_95": "money", "loss_es_95": "money",
}
_ID_UNITS = {"loan": "id", "borrower": "id", "lender": "id", "name": "text", "secured": "flag", "loans": "ids"}
# fields shown right after the id, before the metrics: what the row is
_HEAD = {"loan": ("borrower", "lender", "secured", "principal", "limit"), "borrower": ("name",),
         "lender": ("name", "capital"), "system": ()}
_NUMERIC_UNITS = ("probability", "money", "days", "ltv", "count", "rate", "number")
# units of the `value` column of the long tables, by quantity
QUANTITY_UNITS = {"ltv": "ltv", "cash": "money", "relative_price": "ratio to the day-0 price",
                  "p_margin_call_by_day": "probability", "p_default_by_day": "probability", "sold_value_by_day": "money"}


class FrameFormatError(MarginCallError):
    """A table format that cannot be written (unknown, or Parquet without pyarrow)."""


def _pandas() -> Any:
    import pandas as pd

    return pd


# -- one row per loan, borrower or lender ---------------------------------------------------------


def _row(obj: Any, scope: Scope, ids: Mapping[str, Any], units: dict[str, str]) -> dict[str, Any]:
    """The scalar fields of one result object: the scope's registry metrics first, each followed
    by its standard error, then the other scalars, then the spread dicts (each key followed by
    its standard error where the result has one)."""
    row: dict[str, Any] = dict(ids)
    units.update({k: _unit(k) for k in ids})
    names = {f.name for f in fields(obj)}

    def put(name: str, value: Any, unit: str) -> None:
        row[name] = value
        units[name] = unit

    for name in _HEAD[scope]:
        put(name, getattr(obj, name), _unit(name))
    for metric in metrics_of(scope):
        if metric.name in names:
            put(metric.name, getattr(obj, metric.name), metric.unit)
            if metric.se is not None and metric.se in names:
                put(metric.se, getattr(obj, metric.se), metric.unit)
    for f in fields(obj):
        scalar = not str(f.type).startswith(("dict", "list"))
        if not scalar or f.name in row or f.name.endswith("_se") and f.name[:-3] in names:
            continue  # a table of its own, already placed, or placed beside its metric
        unit = _unit(f.name)
        put(f.name, getattr(obj, f.name), unit)
        if f"{f.name}_se" in names:
            put(f"{f.name}_se", getattr(obj, f"{f.name}_se"), unit)
    for field_name, (prefix, unit) in _SPREAD.items():
        spread = getattr(obj, field_name, None) if field_name in names else None
        if not isinstance(spread, dict):
            continue
        errors = getattr(obj, f"{field_name}_se", None) or {}
        for key, value in spread.items():
            put(f"{prefix}{key}", value, unit)
            if key in errors:
                put(f"{prefix}{key}_se", errors[key], unit)
    return row


def _unit(name: str) -> str:
    return _UNITS.get(name) or _ID_UNITS.get(name) or ("probability" if name.startswith("p_") else "number")


def _frame(rows: Sequence[dict[str, Any]], units: dict[str, str], currency: str, **attrs: Any) -> pd.DataFrame:
    pd = _pandas()
    frame = pd.DataFrame.from_records(list(rows), columns=list(dict.fromkeys(k for r in rows for k in r)) or list(units))
    for column in frame.columns:  # a number that is None in every row (a lender without capital) is NaN, not an object
        if units.get(column) in _NUMERIC_UNITS and frame[column].dtype == object and frame[column].isna().all():
            frame[column] = frame[column].astype(float)
    frame.attrs.update({"units": {k: units[k] for k in frame.columns if k in units}, "currency": currency, **attrs})
    return frame


def loan_row(loan_id: str, loan: LoanResult, units: dict[str, str] | None = None) -> dict[str, Any]:
    return _row(loan, "loan", {"loan": loan_id}, {} if units is None else units)


def borrower_row(borrower_id: str, borrower: BorrowerResult, units: dict[str, str] | None = None) -> dict[str, Any]:
    return _row(borrower, "borrower", {"borrower": borrower_id}, {} if units is None else units)


def lender_row(lender_id: str, lender: LenderResult, units: dict[str, str] | None = None) -> dict[str, Any]:
    row = _row(lender, "lender", {"lender": lender_id}, {} if units is None else units)
    row["loans"] = ";".join(lender.loans)
    return row


def _meta(result: SimulationResult) -> dict[str, Any]:
    return {"scenario": result.scenario, "paths": result.paths, "seed": result.seed, "start_date": result.start_date}


def loans_frame(result: SimulationResult) -> pd.DataFrame:
    units: dict[str, str] = {}
    rows = [loan_row(k, v, units) for k, v in result.loans.items()]
    return _frame(rows, units, result.currency, **_meta(result))


def borrowers_frame(result: SimulationResult) -> pd.DataFrame:
    units: dict[str, str] = {}
    rows = [borrower_row(k, v, units) for k, v in result.borrowers.items()]
    return _frame(rows, units, result.currency, **_meta(result))


def lenders_frame(result: SimulationResult) -> pd.DataFrame:
    units: dict[str, str] = {"loans": "ids"}
    rows = [lender_row(k, v, units) for k, v in result.lenders.items()]
    return _frame(rows, units, result.currency, **_meta(result))


def system_frame(result: SimulationResult) -> pd.DataFrame:
    units: dict[str, str] = {}
    return _frame([_row(result.system, "system", {}, units)], units, result.currency, **_meta(result))


# -- by day: fans and curves ----------------------------------------------------------------------


def _dates(start_date: str | None, days: Sequence[int]) -> list[Any] | None:
    """Calendar dates of trading days: business days from the start date (`Scenario.date_of`)."""
    if start_date is None:
        return None
    import numpy as np

    return np.busday_offset(np.datetime64(start_date, "D"), np.asarray(days, dtype=np.int64), roll="forward").tolist()


def _long(result: SimulationResult, series: Iterable[tuple[str, str, str, Sequence[int], dict[str, Any]]], quantile: bool) -> pd.DataFrame:
    from margincall.analysis.results import FAN_KEYS, FAN_PROBS

    rows: list[dict[str, Any]] = []
    for scope, who, quantity, days, values in series:
        dates = _dates(result.start_date, days)
        keys = zip(FAN_KEYS, FAN_PROBS.tolist()) if quantile else [("value", None)]
        for key, prob in keys:
            for k, day in enumerate(days):
                row: dict[str, Any] = {"scope": scope, "who": who, "quantity": quantity, "day": int(day)}
                if dates is not None:
                    row["date"] = dates[k]
                if quantile:
                    row["quantile"] = prob
                value = values[key][k]
                row["value"] = float("nan") if value is None else value
                rows.append(row)
    units = {"scope": "text", "who": "id", "quantity": "text", "day": "days", "date": "date", "quantile": "probability",
             "value": "per quantity"}
    frame = _frame(rows, units, result.currency, quantity_units=QUANTITY_UNITS, **_meta(result))
    if "date" in frame.columns:
        frame["date"] = _pandas().to_datetime(frame["date"])
    return frame


def fan_frame(result: SimulationResult) -> pd.DataFrame:
    """Quantiles by day, long: each secured loan's LTV, each borrower's cash, each asset's price
    over its day-0 value (quantity relative_price); quantile 0.05 ... 0.95."""
    def series():
        for loan_id, loan in result.loans.items():
            if loan.ltv_quantiles is not None:
                yield "loan", loan_id, "ltv", loan.ltv_quantiles["day"], loan.ltv_quantiles
        for borrower_id, borrower in result.borrowers.items():
            yield "borrower", borrower_id, "cash", borrower.cash_quantiles["day"], borrower.cash_quantiles
        for asset, fan in result.system.price_quantiles.items():
            yield "asset", asset, "relative_price", fan["day"], fan

    return _long(result, series(), quantile=True)


def curves_frame(result: SimulationResult) -> pd.DataFrame:
    """Curves by day, long: P(first call by day t) and P(default by day t) of each loan, P(default
    by day t) of each borrower, the expected value sold of each asset on day t."""
    def series():
        for loan_id, loan in result.loans.items():
            days = range(len(loan.p_margin_call_by_day))
            yield "loan", loan_id, "p_margin_call_by_day", days, {"value": loan.p_margin_call_by_day}
            yield "loan", loan_id, "p_default_by_day", range(len(loan.p_default_by_day)), {"value": loan.p_default_by_day}
        for borrower_id, borrower in result.borrowers.items():
            yield "borrower", borrower_id, "p_default_by_day", range(len(borrower.p_default_by_day)), {"value": borrower.p_default_by_day}
        sold = result.system.sold_value_by_day
        for asset in result.system.sold_value_by_asset:
            yield "asset", asset, "sold_value_by_day", sold["day"], {"value": sold[asset]}

    return _long(result, series(), quantile=False)


def loss_distribution_frame(result: SimulationResult) -> pd.DataFrame:
    """The loss's distribution function of each loan and lender, long: scope, who, loss (money),
    cdf = P(loss <= loss), at the points of result.json's `loss_distribution`."""
    rows = [
        {"scope": scope, "who": who, "loss": loss, "cdf": cdf}
        for scope, members in (("loan", result.loans), ("lender", result.lenders))
        for who, r in members.items()
        for loss, cdf in zip(r.loss_distribution["loss"], r.loss_distribution["cdf"], strict=True)
    ]
    units = {"scope": "text", "who": "id", "loss": "money", "cdf": "probability"}
    return _frame(rows, units, result.currency, **_meta(result))


def called_together_frame(result: SimulationResult) -> pd.DataFrame:
    """P(both loans are called within the horizon), for each pair of a borrower's loans (a loan with
    itself: P(it is called)), long: borrower, loan, other_loan, p_called_together."""
    rows = [
        {"borrower": b, "loan": loan, "other_loan": other, "p_called_together": p}
        for b, borrower in result.borrowers.items()
        for loan, row in borrower.called_together.items()
        for other, p in row.items()
    ]
    units = {"borrower": "id", "loan": "id", "other_loan": "id", "p_called_together": "probability"}
    return _frame(rows, units, result.currency, **_meta(result))


_RESULT_BUILDERS = {
    "loans": loans_frame, "borrowers": borrowers_frame, "lenders": lenders_frame, "system": system_frame,
    "fan": fan_frame, "curves": curves_frame, "loss_distribution": loss_distribution_frame, "called_together": called_together_frame,
}


def result_frame(result: SimulationResult, table: str = "loans") -> pd.DataFrame:
    return _RESULT_BUILDERS[_table(table, RESULT_TABLES)](result)


def _table(table: str, allowed: Sequence[str]) -> str:
    if table not in allowed:
        raise FrameFormatError(f"no table '{table}'; tables: {', '.join(allowed)}")
    return table


# -- several runs: stresses, sweeps, sensitivities, searches ---------------------------------------


def stress_frame(run: StressRun, table: str = "loans") -> pd.DataFrame:
    """One row per (run, loan), (run, borrower) or (run, lender): `run` is base or the stress's
    name, `stress_id` its short id; every run has the same seed and paths."""
    build = {"loans": loans_frame, "borrowers": borrowers_frame, "lenders": lenders_frame}[_table(table, STRESS_TABLES)]
    pd = _pandas()
    parts = []
    for name, result in {"base": run.base, **run.results}.items():
        part = build(result)
        part.insert(0, "stress_id", run.applied[name].stress.id if name in run.applied else None)
        part.insert(0, "run", name)
        parts.append(part)
    frame = pd.concat(parts, ignore_index=True)
    frame.attrs.update(parts[0].attrs)
    frame.attrs["units"] = {"run": "text", "stress_id": "text", **parts[0].attrs["units"]}
    frame.attrs["scenario"] = run.base.scenario
    return frame


def sweep_frame(rows: Sequence[SweepRow], table: str = "loans", currency: str = "USD") -> pd.DataFrame:
    """One row per (point, loan) or (point, borrower): `point` numbers the grid's points from 0,
    then one column per swept field (its dotted path) with the point's value."""
    _table(table, SWEEP_TABLES)
    units: dict[str, str] = {"point": "index"}
    out = []
    for k, point in enumerate(rows):
        head = {"point": k, **point.values}
        units.update({path: "value set" for path in point.values})
        if table == "loans":
            out += [{**head, **loan_row(loan_id, loan, units)} for loan_id, loan in point.loans.items()]
        else:  # a sweep's book has one borrower: its name, not an id, is what the point holds
            out.append({**head, **_row(point.borrower, "borrower", {}, units)})
    return _frame(out, units, currency)


def sensitivities_frame(report: SensitivityReport, table: str = "sensitivities") -> pd.DataFrame:
    """sensitivities: one row per (bump, metric), with the change on each side ± SE and the swing;
    debt_service: one row per loan (and the borrower)."""
    if _table(table, ("sensitivities", "debt_service")) == "debt_service":
        return debt_service_frame(report.debt_service, report.currency, scenario=report.scenario)
    rows = [{**asdict(r), "swing": r.swing} for r in report.rows]
    return _frame(rows, {}, report.currency, scenario=report.scenario, paths=report.paths, seed=report.seed)


def debt_service_frame(rows: Sequence[DebtService], currency: str, **attrs: Any) -> pd.DataFrame:
    """One row per loan (and the borrower): term, collateral, interest, the breakeven growth a year
    and P(the collateral beats it) ± SE."""
    units = {"who": "id", "years": "years", "collateral": "money", "interest": "money", "breakeven_growth": "rate",
             "p_beats": "probability", "p_beats_se": "probability", "method": "text"}
    return _frame([asdict(d) for d in rows], units, currency, **attrs)


def search_frame(result: SearchResult | FirstCall) -> pd.DataFrame:
    """A search's points (its `curve`), one row each: the value tried (shock or the
    field's value), the target's metric there ± SE, whether it meets the target, and whether it
    is the answer. The deterministic first call (`reverse --target call`) is one row: the shock
    and each asset's move."""
    from margincall.analysis import search

    if isinstance(result, search.FirstCall):
        row = {k: v for k, v in result.to_dict().items() if not isinstance(v, dict | list)}
        row.update({f"move_{asset}": move for asset, move in result.moves.items()})
        return _frame([row], {}, "")
    x = "shock" if result.kind == "reverse" else "value"
    metric = result.target.metric
    rows = [
        {"field": result.field, x: p.x, metric: p.metric, f"{metric}_se": p.se, "met": p.met, "answer": p.x == result.value}
        for p in result.curve
    ]
    return _frame(rows, {}, "", target=result.target.text, paths=result.paths, seed=result.seed)


# -- files ----------------------------------------------------------------------------------------


def parse_formats(values: Iterable[str] | None) -> list[str]:
    """`--format` values, repeated or comma-separated, checked: [] for none. Parquet needs
    pyarrow; without it the error names the fix."""
    chosen: list[str] = []
    for text in values or ():
        for token in text.split(","):
            name = token.strip().lower()
            if not name:
                continue
            if name not in FORMATS:
                raise FrameFormatError(f"unknown table format '{token.strip()}'; formats: {', '.join(FORMATS)}")
            if name not in chosen:
                chosen.append(name)
    if "parquet" in chosen:
        try:
            import pyarrow  # noqa: F401  (pandas writes Parquet through it)
        except ImportError:
            raise FrameFormatError(f"--format parquet needs pyarrow, which is not installed: {PARQUET_FIX}") from None
    return chosen


def write_frames(frames: Mapping[str, pd.DataFrame], folder: str | Path, formats: Sequence[str]) -> list[Path]:
    """Each table as `<name>.csv` and/or `<name>.parquet` in `folder` (created if needed). CSV
    floats are written at full precision (they read back to the same numbers); a Parquet file
    also keeps `frame.attrs` (each column's unit, the currency, the run's seed and paths)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in parse_formats(formats):
        for name, frame in frames.items():
            path = folder / f"{name}.{fmt}"
            if fmt == "csv":
                frame.to_csv(path, index=False, float_format=None)
            else:
                frame.to_parquet(path, index=False)  # with frame.attrs (units, currency) in its metadata
            written.append(path)
    return written


__all__ = [
    "FORMATS",
    "RESULT_TABLES",
    "FrameFormatError",
    "borrower_row",
    "borrowers_frame",
    "curves_frame",
    "debt_service_frame",
    "fan_frame",
    "lender_row",
    "lenders_frame",
    "loan_row",
    "loans_frame",
    "parse_formats",
    "result_frame",
    "search_frame",
    "sensitivities_frame",
    "stress_frame",
    "sweep_frame",
    "system_frame",
    "write_frames",
]
