"""The scenario reference (`margincall schema`, docs/scenario.md) is read from the pydantic models:
every field appears with its type, unit, default and meaning, and the docs file is current."""

from __future__ import annotations

import datetime as dt
import typing
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from margincall.model.reference import MARKDOWN_COMMAND, reference_markdown, scenario_reference
from margincall.model.scenario import Scenario
from margincall.model.units import unit_of

DOCS = Path(__file__).parents[2] / "docs" / "scenario.md"


def _all_models(root: type[BaseModel]) -> set[type[BaseModel]]:
    """Every model class reachable from root through its fields' annotations."""
    seen: set[type[BaseModel]] = set()
    pending: list[object] = [root]
    while pending:
        tp = pending.pop()
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            if tp in seen:
                continue
            seen.add(tp)
            pending.extend(info.annotation for info in tp.model_fields.values())
        else:
            pending.extend(typing.get_args(tp))
    return seen


def test_every_field_of_every_model_is_documented_once() -> None:
    sections = scenario_reference()
    documented = {(s.model, f.name) for s in sections for f in s.fields}
    expected = {(m.__name__, name) for m in _all_models(Scenario) for name in m.model_fields}
    assert documented == expected
    paths = [f.path for s in sections for f in s.fields]
    assert len(paths) == len(set(paths))
    models = [s.model for s in sections]
    assert len(models) == len(set(models)), "a model at several paths is documented at its first"


def test_every_number_has_a_unit_and_every_field_a_meaning() -> None:
    """A numeric field without a unit (from the field, UNITS or a naming rule) fails here: add it
    to margincall/model/units.py or to the field's json_schema_extra={"unit": ...}."""
    missing_unit, missing_meaning = [], []
    for model in _all_models(Scenario):
        for name, info in model.model_fields.items():
            leaves = {a for a in _leaf_types(info.annotation)}
            if leaves & {int, float} and not unit_of(model, name):
                missing_unit.append(f"{model.__name__}.{name}")
            if not info.description and not _is_model_field(info.annotation):
                missing_meaning.append(f"{model.__name__}.{name}")
    assert missing_unit == []
    assert missing_meaning == []


def _leaf_types(tp: object) -> set[object]:
    args = typing.get_args(tp)
    if typing.get_origin(tp) is Annotated:
        return _leaf_types(args[0])
    if args:
        return set().union(*(_leaf_types(a) for a in args))
    return {tp}


def _is_model_field(tp: object) -> bool:
    return any(isinstance(t, type) and issubclass(t, BaseModel) for t in _leaf_types(tp))


def test_rows_carry_paths_types_units_defaults_and_meanings() -> None:
    rows = {f.path: f for s in scenario_reference() for f in s.fields}
    vol = rows["assets.<asset>.volatility"]
    assert vol.type.startswith("number ") and "0" in vol.type  # with its bounds, e.g. `number in [0, 10]`
    assert (vol.unit, vol.default) == ("per year (0.3 = 30%)", "required")
    assert "Annual volatility" in vol.meaning
    assert rows["assets.<asset>.impact_permanent"].type == "number in [0, 1]"
    assert rows["loans.<loan>.principal"].unit == "currency"
    assert rows["loans.<loan>.principal"].type.startswith("number in ")
    assert rows["loans.<loan>.haircuts"].type == "mapping: id → number in [0, 1)"
    assert rows["loans.<loan>.rate.spread"].unit.startswith("per year")  # the {index, spread} form
    assert rows["borrower.response"].default == "[cash, pledge, sell]"
    assert rows["borrower.cash_flows[].amount"].unit == "currency, negative = out"
    assert rows["shocks[].change"].type.startswith("number in [−1, ")
    assert rows["assets"].type == "mapping: asset id → Asset (at least 1 entry)"
    assert "`assets.<asset>`" in rows["assets"].meaning


class _Pledge(BaseModel):
    """A pledge of a holding to a loan."""

    fraction: Annotated[float, Field(gt=0.0, le=1.0)] = Field(description="Share pledged.")


class _Lender(BaseModel):
    """A lender."""

    capital: float = Field(ge=0.0, description="Capital.", json_schema_extra={"unit": "EUR"})
    kind: Literal["bank", "fund"] = Field(default="bank", description="Kind.")
    pledges: list[_Pledge] = Field(default_factory=list, description="Pledges held.")


class _Book(BaseModel):
    """A book of lenders."""

    start: dt.date | None = Field(default=None, description="Day 0.")
    lenders: dict[str, _Lender] = Field(description="Lenders by id.")
    backup: _Lender | None = Field(default=None, description="A spare lender.")


def test_the_walk_is_generic_over_models() -> None:
    """Any model tree (the scenario as a book of borrowers and lenders, say) is documented the same way."""
    sections = scenario_reference(_Book)
    assert [s.path for s in sections] == ["", "lenders.<lender>", "lenders.<lender>.pledges[]"]
    rows = {f.path: f for s in sections for f in s.fields}
    assert "the same as under `lenders.<lender>`" in rows["backup"].meaning  # one model, documented once
    assert rows["lenders"].type == "mapping: lender id → _Lender"
    assert rows["lenders.<lender>.capital"].unit == "EUR"  # the field's own unit wins
    assert rows["lenders.<lender>.kind"].type == "one of bank, fund" and rows["lenders.<lender>.kind"].default == "bank"
    assert rows["lenders.<lender>.pledges[].fraction"].type == "number in (0, 1]"
    assert rows["lenders.<lender>.pledges"].default == "[]"
    assert rows["start"].type == "date (YYYY-MM-DD)" and rows["start"].default == "none"
    assert sections[1].summary == "A lender."


def test_docs_scenario_md_is_current() -> None:
    assert DOCS.read_text(encoding="utf-8") == reference_markdown(), f"docs/scenario.md is stale; regenerate it: {MARKDOWN_COMMAND}"


def test_markdown_tables_are_well_formed() -> None:
    text = reference_markdown()
    for line in text.splitlines():
        if line.startswith("| ") and not line.startswith("| ---"):
            cells = line.replace("\\|", "").split("|")
            assert len(cells) == 7, line  # five cells between the outer bars
    assert "| `loans.<loan>.margin_call_ltv` |" in text
