"""The dashboard's scenario editor: which terms a form shows (each loan's terms, each asset's
volatility), and a scenario text with the form's values applied, or the problems at each field."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from margincall.analysis.yamlsafe import read_yaml
from margincall.errors import ScenarioError
from margincall.model.scenario import Scenario
from margincall.web._scenarios import parse_uploaded, problems_of

LOAN_TERMS: tuple[tuple[str, str, bool, bool], ...] = (  # field, unit, whole number, secured loans only
    ("principal", "currency", False, False),
    ("rate", "per year (0.05 = 5%)", False, False),
    ("term_days", "trading days", True, False),
    ("margin_call_ltv", "LTV (0.6 = 60%)", False, True),
    ("cure_ltv", "LTV", False, True),
    ("cure_days", "trading days", True, True),
    ("liquidation_ltv", "LTV", False, True),
)


@dataclass(frozen=True)
class FormField:
    key: str  # dotted path in the scenario, e.g. loans.acme-loan.cure_ltv
    label: str
    unit: str
    value: Any
    integer: bool


@dataclass(frozen=True)
class FormGroup:
    title: str
    fields: list[FormField]


def form(scenario: Scenario) -> list[FormGroup]:
    """The editable terms: per loan its principal, rate, term and triggers; per asset its volatility."""
    groups = []
    for loan_id, loan in scenario.loans.items():
        fields = []
        for name, unit, integer, secured_only in LOAN_TERMS:
            if secured_only and not loan.secured:
                continue
            value = getattr(loan, name)
            if name == "rate" and not isinstance(value, int | float):
                continue  # an index + spread rate is edited in the YAML
            fields.append(FormField(f"loans.{loan_id}.{name}", name, unit, value, integer))
        for asset_id, cut in (loan.haircuts or {}).items():
            fields.append(FormField(f"loans.{loan_id}.haircuts.{asset_id}", f"haircut on {asset_id}", "fraction", cut, False))
        groups.append(FormGroup(f"Loan {loan_id}" + ("" if loan.secured else " (unsecured)"), fields))
    groups.append(FormGroup("Assets", [FormField(f"assets.{a}.volatility", f"{a} volatility", "per year (0.3 = 30%)",
                                                  asset.volatility, False) for a, asset in scenario.assets.items()]))
    return groups


def apply(text: str, changes: Mapping[str, str], *, name: str | None = None) -> tuple[str | None, dict[str, str], list[str]]:
    """The scenario text with `changes` (field key -> value typed) applied: (text, {}, []) when it
    is valid, else (None, problems by field key, problems elsewhere)."""
    data, _root = read_yaml(text)  # the reader every scenario goes through
    errors: dict[str, str] = {}
    for key, raw in changes.items():
        parts = key.split(".")
        node: Any = data
        for part in parts[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
        if not isinstance(node, dict) or (parts[-1] not in node and parts[0] != "loans"):
            errors[key] = "not a field of this scenario"
            continue
        value = _number(str(raw))
        if value is None:
            errors[key] = f"'{raw}' is not a number"
            continue
        integer = parts[-1].endswith("_days")
        if integer and value != int(value):
            errors[key] = f"{raw} is not a whole number of days"
            continue
        node[parts[-1]] = int(value) if integer else value
    if name:
        data["name"] = name
    new_text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    # the values that are numbers are applied and the scenario validated even when another value
    # is not a number, so that every bad value is shown at its field at once
    try:
        parse_uploaded(new_text)
    except ScenarioError as exc:
        general = []
        for problem in problems_of(exc):
            if problem.field in changes:
                errors.setdefault(problem.field, problem.message)
            else:
                owner = next((k for k in changes if problem.field.startswith(k + ".")), None)
                if owner:
                    errors.setdefault(owner, problem.message)
                else:
                    general.append(f"{problem.field}: {problem.message}")
        return None, errors, general
    if errors:
        return None, errors, []
    return new_text, {}, []


def _number(text: str) -> float | None:
    text = text.strip().replace(",", "").replace("_", "")
    percent = text.endswith("%")
    try:
        value = float(text.rstrip("%"))
    except ValueError:
        return None
    if not math.isfinite(value):
        return None
    return value / 100.0 if percent else value
