"""Every input of a scenario as tables, each value with its unit and the schema's description.

Rows come from the pydantic fields themselves, so a field added to the schema appears here
without a change (with no unit until `UNITS` names one).
"""

from __future__ import annotations

import datetime as dt
import typing
from dataclasses import dataclass, field

from pydantic import BaseModel

from margincall.model.scenario import Asset, Borrower, IndexRate, Loan, Scenario
from margincall.report._format import number

# Unit of each input; `{cur}` is the scenario's currency. Keys: model name, then field path.
UNITS: dict[str, dict[str, str]] = {
    "Scenario": {
        "currency": "ISO code", "start_date": "date of day 0", "horizon_days": "trading days",
        "days_per_year": "trading days / year",
    },
    "Asset": {
        "kind": "public | private", "value": "{cur}", "volatility": "per year (0.3 = 30%)",
        "drift": "per year (0.05 = 5%)", "adv": "{cur} / day", "impact": "Y, dimensionless",
        "impact_permanent": "fraction of a day's impact", "jumps.rate": "jumps / year",
        "jumps.mean": "log jump size", "jumps.stdev": "log jump size", "marks.every_days": "trading days",
        "marks.rounds_per_year": "events / year", "listing.day": "trading day (or date)",
        "listing.adv": "{cur} / day", "listing.lockup_days": "trading days", "sale_delay_days": "trading days",
        "sale_discount": "fraction of fair value",
    },
    "Loan": {
        "principal": "{cur}", "rate": "per year (0.06 = 6%)", "term_days": "trading days",
        "extension_days": "trading days", "extension_max_ltv": "LTV (debt / lending value)",
        "collateral": "fraction of each holding", "haircuts": "fraction of value",
        "margin_call_ltv": "LTV (debt / lending value)", "cure_ltv": "LTV (debt / lending value)",
        "cure_days": "trading days", "liquidation_ltv": "LTV (debt / lending value)", "recourse": "yes / no",
        "cross_default": "yes / no", "interest_every_days": "trading days", "refinance_probability": "probability",
        "refinance_days": "trading days", "recovery_rate": "fraction of principal",
        "liquidation_participation": "fraction of adv per day",
    },
    "Borrower": {
        "cash": "{cur}", "cash_reserve": "{cur}", "response": "actions, in order",
        "max_participation": "fraction of adv per day",
    },
    "CashFlow": {"day": "trading day (or date)", "amount": "{cur}, negative = out"},
    "Shock": {"day": "trading day (or date)", "change": "relative (−0.4 = −40%)", "over_days": "trading days"},
}


@dataclass(frozen=True)
class Table:
    """A titled table of strings; `key_columns` leading columns are headers of their row."""

    title: str
    header: list[str]
    rows: list[list[str]]
    note: str = ""
    key_columns: int = 1
    css_id: str = field(default="")


def input_tables(scenario: Scenario) -> list[Table]:
    """Tables of the whole scenario: run settings, assets, correlation, shocks, borrower, cash flows, loans."""
    cur = scenario.currency
    parts = frozenset({"assets", "correlation", "shocks", "borrower", "loans"})  # tables of their own
    settings = _entity_table("Run settings", {"scenario": scenario}, Scenario, cur, skip=parts)
    tables = [
        settings,
        _entity_table("Assets (the borrower's holdings)", dict(scenario.assets), Asset, cur, css_id="inputs-assets"),
        _correlation_table(scenario),
        _shocks_table(scenario),
        _entity_table("Borrower", {"borrower": scenario.borrower}, Borrower, cur, skip=frozenset({"cash_flows"})),
        _cash_flow_table(scenario),
        _entity_table("Loans and their covenants", dict(scenario.loans), Loan, cur, css_id="inputs-loans"),
    ]
    return tables


def _nested_model(annotation: object) -> type[BaseModel] | None:
    """The pydantic model of an optional nested field (`Jumps | None` -> Jumps), else None."""
    for arg in typing.get_args(annotation) or (annotation,):
        if isinstance(arg, type) and issubclass(arg, BaseModel) and arg is not IndexRate:
            return arg
    return None


def _rows_of(model: type[BaseModel], skip: frozenset[str]) -> list[tuple[str, str, type[BaseModel] | None, str]]:
    """(path, field name, nested model, description) for each field, nested models flattened."""
    rows: list[tuple[str, str, type[BaseModel] | None, str]] = []
    for name, info in model.model_fields.items():
        if name in skip:
            continue
        nested = _nested_model(info.annotation)
        if nested is None:
            rows.append((name, name, None, info.description or ""))
        else:
            for sub, sub_info in nested.model_fields.items():
                rows.append((f"{name}.{sub}", name, nested, sub_info.description or ""))
    return rows


def _value(obj: BaseModel, path: str) -> object:
    value: object = obj
    for part in path.split("."):
        if value is None:
            return None
        if not isinstance(value, BaseModel):  # a field that is a model or a plain value (cross_default: true)
            return None
        value = getattr(value, part)
    return value


def show(value: object) -> str:
    """An input value as text: exact numbers, `a: 1, b: 0.5` for maps, `index + spread` for a floating rate."""
    if isinstance(value, IndexRate):
        return f"{number(value.index, 6)} + {number(value.spread, 6)} = {number(value.annual, 6)} (index + spread)"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {show(v)}" for k, v in value.items()) if value else "—"
    if isinstance(value, list | tuple):
        return ", ".join(show(v) for v in value) if value else "—"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return number(value, 6)
    return number(value)


def _entity_table(title: str, entities: dict[str, BaseModel], model: type[BaseModel], cur: str, *,
                  skip: frozenset[str] = frozenset(), css_id: str = "") -> Table:
    units = UNITS.get(model.__name__, {})
    rows = []
    for path, _name, _nested, description in _rows_of(model, skip):
        values = [show(_value(entity, path)) for entity in entities.values()]
        rows.append([path, *values, units.get(path, "").format(cur=cur), description])
    header = ["input", *entities.keys(), "unit", "meaning"]
    return Table(title=title, header=header, rows=rows, css_id=css_id)


def _correlation_table(scenario: Scenario) -> Table:
    ids = scenario.asset_ids
    matrix = scenario.correlation_matrix()
    rows = [[a, *(f"{matrix[i, j]:.3g}" for j in range(len(ids)))] for i, a in enumerate(ids)]
    return Table(
        title="Correlation of daily returns",
        header=["", *ids],
        rows=rows,
        note="Pairs the scenario does not list are 0; dimensionless.",
    )


def _shocks_table(scenario: Scenario) -> Table:
    units = UNITS["Shock"]
    rows = [
        [str(i + 1), show(s.day), str(scenario.day_number(s.day)), s.asset, number(s.change, 6), number(s.over_days)]
        for i, s in enumerate(scenario.shocks)
    ]
    return Table(
        title="Shocks",
        header=["#", f"day ({units['day']})", "trading day", "asset", f"change ({units['change']})",
                f"over ({units['over_days']})"],
        rows=rows,
        note="" if rows else "No shocks: every path starts from the day-0 values.",
    )


def _cash_flow_table(scenario: Scenario) -> Table:
    units = UNITS["CashFlow"]
    rows = [
        [str(i + 1), show(f.day), str(scenario.day_number(f.day)), number(f.amount, 6), f.label or "—"]
        for i, f in enumerate(scenario.borrower.cash_flows)
    ]
    return Table(
        title="Borrower's scheduled cash flows",
        header=["#", f"day ({units['day']})", "trading day",
                f"amount ({units['amount'].format(cur=scenario.currency)})", "label"],
        rows=rows,
        note="" if rows else "No scheduled cash flows.",
    )
