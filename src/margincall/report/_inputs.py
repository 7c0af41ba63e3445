"""Every input of a scenario as tables, each value with its unit and the schema's description.

Rows come from the pydantic fields themselves, so a field added to the schema appears here
without a change; units come from `margincall.model.units`, as in `margincall schema`. An input
left unset shows the value the engine uses in its place (a horizon of 756 days, not a dash).
"""

from __future__ import annotations

import datetime as dt
import re
import typing
from dataclasses import dataclass, field

from pydantic import BaseModel

from margincall.model.scenario import Asset, Borrower, IndexRate, Lender, Loan, Scenario
from margincall.model.units import unit_of
from margincall.report._format import money_exact, number

# Inputs left unset whose value the engine derives: (model, field) -> the value it uses, in words.
def _derived(model: str, path: str, scenario: Scenario, entity: BaseModel, key: str) -> str | None:
    if model == "Scenario" and path == "horizon_days":
        return f"{scenario.horizon:,} (the longest term with its extension)"
    if model == "Scenario" and path == "name":
        return scenario.name
    if model == "Loan" and isinstance(entity, Loan):
        if path == "lender":
            return f"{key} (the loan's id)"
        if path == "extension_max_ltv" and entity.secured and entity.extension_days:
            return f"below {show(entity.margin_call_ltv)} (the call level)"
        if path == "refinance_days":
            return f"{entity.term_days:,} (the term)"
        if path == "haircuts" and entity.secured:
            return show(entity.accepted_haircuts) + " (0 on each pledged asset)"
    if model == "Scenario" and path.startswith("market."):
        return "gbm (the default)" if path == "market.model" else "not used by gbm"
    if model == "Loan" and isinstance(entity, Loan) and path == "borrower":
        book = scenario.book()
        return f"{book.loan_borrower[key]} (the only borrower)"
    if model == "Asset" and isinstance(entity, Asset) and path == "price" and entity.value is not None:
        return "the value: the holding is one unit"
    return None


_DEFAULT = re.compile(r"\b[Dd]efault:\s*([^;.]+)")


def _unset(description: str) -> str:
    """What an input left unset means, from its description (`default: the term`), else `none`."""
    match = _DEFAULT.search(description)
    return f"not set: {match.group(1).strip()}" if match else "none"


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
    """Tables of the whole scenario: run settings, assets, correlation, shocks, borrowers, cash flows,
    lenders, loans (a one-borrower file shows its borrower, and the lenders its loans name, with
    their default terms)."""
    book = scenario.book()
    parts = frozenset({"assets", "correlation", "shocks", "borrower", "borrowers", "lenders", "loans"})  # tables of their own
    settings = _entity_table("Run settings", {"scenario": scenario}, Scenario, scenario, skip=parts)
    assets = "Assets (the borrower's holdings)" if scenario.shorthand else "Assets (markets)"
    lenders = "Lenders" + (" (the loans' lender labels, with default terms)" if scenario.lenders is None else "")
    tables = [
        settings,
        _entity_table(assets, dict(scenario.assets), Asset, scenario, css_id="inputs-assets"),
        _correlation_table(scenario),
        _shocks_table(scenario),
        _entity_table("Borrower" if len(book.borrowers) == 1 else "Borrowers", dict(book.borrowers), Borrower, scenario,
                      skip=frozenset({"cash_flows"})),
        _cash_flow_table(scenario),
        _entity_table(lenders, dict(book.lenders), Lender, scenario),
        _entity_table("Loans and their covenants", dict(scenario.loans), Loan, scenario, css_id="inputs-loans"),
    ]
    return tables


def _nested_model(annotation: object) -> type[BaseModel] | None:
    """The pydantic model of a nested field that holds a model or nothing (`Jumps | None` -> Jumps);
    None for any other field, one that may also hold a number or a switch (`bool | CrossDefault`)."""
    args = [a for a in (typing.get_args(annotation) or (annotation,)) if a is not type(None)]
    if len(args) == 1 and isinstance(args[0], type) and issubclass(args[0], BaseModel):
        return args[0]
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
    if isinstance(value, BaseModel):
        return show(dict(value))
    if isinstance(value, dict):
        return ", ".join(f"{k}: {show(v)}" for k, v in value.items()) if value else "none"
    if isinstance(value, list | tuple):
        return ", ".join(show(v) for v in value) if value else "none"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return number(value, 6)
    return number(value)


def _entity_table(title: str, entities: dict[str, BaseModel], model: type[BaseModel], scenario: Scenario, *,
                  skip: frozenset[str] = frozenset(), css_id: str = "") -> Table:
    cur = scenario.currency
    rows = []
    for path, name, nested, description in _rows_of(model, skip):
        unit = unit_of(nested, path.split(".", 1)[1], cur) if nested is not None else unit_of(model, name, cur)
        values = []
        for key, entity in entities.items():
            value = _value(entity, path)
            derived = _derived(model.__name__, path, scenario, entity, key) if value is None else None
            if value is None:
                values.append(derived if derived is not None else _unset(description))
            elif unit.startswith(cur) and isinstance(value, int | float) and not isinstance(value, bool):
                values.append(money_exact(value, cur))
            else:
                values.append(show(value))
        rows.append([path, *values, unit or "—", description])
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
    from margincall.model.scenario import Shock

    units = {name: unit_of(Shock, name, scenario.currency) for name in ("day", "change", "over_days")}
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
    """Every borrower's scheduled cash flows (with a borrower column in a book of several), with
    their grace periods."""
    from margincall.model.scenario import CashFlow

    units = {name: unit_of(CashFlow, name, scenario.currency) for name in ("day", "amount", "grace_days")}
    book = scenario.book()
    several = len(book.borrowers) > 1
    rows = []
    for borrower_id, borrower in book.borrowers.items():
        for f in borrower.cash_flows:
            rows.append([str(len(rows) + 1), *([borrower_id] if several else []), show(f.day), str(scenario.day_number(f.day)),
                         money_exact(f.amount, scenario.currency), number(f.grace_days), f.label or "none"])
    return Table(
        title="Scheduled cash flows" if several else "Borrower's scheduled cash flows",
        header=["#", *(["borrower"] if several else []), f"day ({units['day']})", "trading day",
                f"amount ({units['amount']})", f"grace ({units['grace_days']})", "label"],
        rows=rows,
        note="" if rows else "No scheduled cash flows.",
    )
