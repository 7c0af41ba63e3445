"""The scenario file's reference, read from the pydantic models themselves: every field with its
path, type (with its constraints), unit, default and meaning.

`scenario_reference()` walks the model classes from `Scenario` down (nested models, mappings of
models by id, lists of models), so a field added to the schema appears in `margincall schema` and
in docs/scenario.md without another edit. `reference_markdown()` is the text of docs/scenario.md.
"""

from __future__ import annotations

import datetime as dt
import inspect
import types
import typing
from dataclasses import dataclass, replace
from typing import Annotated, Any, Literal

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from margincall.model._base import Within
from margincall.model.scenario import Scenario
from margincall.model.units import unit_of

REQUIRED = "required"


@dataclass(frozen=True)
class FieldDoc:
    """One field: `path` as written in a file (`assets.<asset>.volatility`), and its documentation."""

    path: str
    name: str
    type: str
    unit: str
    default: str
    meaning: str


@dataclass(frozen=True)
class SectionDoc:
    """The fields of one model, found at `path` in a file ("" for the top level)."""

    path: str
    model: str
    summary: str
    fields: tuple[FieldDoc, ...]

    @property
    def title(self) -> str:
        return f"{self.path or 'top level'} ({self.model})"


def scenario_reference(root: type[BaseModel] = Scenario) -> list[SectionDoc]:
    """One section per model reachable from `root`, depth first, in field order."""
    sections: list[SectionDoc] = []
    _walk(root, "", sections, ())
    # a model found at several paths (the shorthand's `borrower` and a book's `borrowers.<id>`) is
    # documented once, at its first path; the others refer to it
    first: dict[str, str] = {}
    kept: list[SectionDoc] = []
    moved: dict[str, str] = {}
    for section in sections:
        if section.model in first and section.path:
            moved[section.path] = first[section.model]
        else:
            first.setdefault(section.model, section.path)
            kept.append(section)
    if not moved:
        return kept
    out = []
    for section in kept:
        if any(section.path.startswith(m + ".") or section.path.startswith(m + "[") for m in moved):
            continue  # below a model documented elsewhere
        fields = tuple(
            replace(f, meaning=_refer(f.meaning, moved)) for f in section.fields
        )
        out.append(replace(section, fields=fields))
    return out


def _refer(meaning: str, moved: dict[str, str]) -> str:
    for path, target in moved.items():
        meaning = meaning.replace(f"Fields under `{path}`.", f"Fields under `{path}`: the same as under `{target}`.")
    return meaning


def _walk(model: type[BaseModel], prefix: str, sections: list[SectionDoc], stack: tuple[type, ...]) -> None:
    rows: list[FieldDoc] = []
    children: list[tuple[str, type[BaseModel]]] = []
    for name, info in model.model_fields.items():
        path = f"{prefix}.{name}" if prefix else name
        text, kids = _type_text(info.annotation, path, name)
        constraint = _constraint_text(info.metadata)
        meaning = " ".join((info.description or "").split())
        if kids:
            where = ", ".join(f"`{p}`" for p, _ in kids)
            meaning = f"{meaning} Fields under {where}.".strip()
        rows.append(FieldDoc(
            path=path,
            name=name,
            type=" ".join(part for part in (text, constraint) if part),
            unit=unit_of(model, name, currency="currency"),
            default=_default_text(info),
            meaning=meaning,
        ))
        children.extend(kids)
    sections.append(SectionDoc(path=prefix, model=model.__name__, summary=_summary(model), fields=tuple(rows)))
    for path, child in children:
        if child not in stack:  # a model that contains itself is documented once
            _walk(child, path, sections, (*stack, model))


def _summary(model: type[BaseModel]) -> str:
    doc = model.__doc__ if "__doc__" in model.__dict__ else None
    if not doc:
        return ""
    first = inspect.cleandoc(doc).split("\n\n", 1)[0]
    return " ".join(first.split())


def _singular(name: str) -> str:
    return name[:-1] if name.endswith("s") and len(name) > 1 else f"{name}-id"


_PRIMITIVES: dict[Any, str] = {
    bool: "true/false", int: "integer", float: "number", str: "text", dt.date: "date (YYYY-MM-DD)", type(None): "none",
}


def _type_text(tp: Any, path: str, name: str) -> tuple[str, list[tuple[str, type[BaseModel]]]]:
    """A readable type (`mapping of asset → Asset`, `number in [0, 1]`) and the nested models
    with the path at which their fields are written."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is Annotated:
        text, kids = _type_text(args[0], path, name)
        constraint = _constraint_text(args[1:])
        return " ".join(part for part in (text, constraint) if part), kids
    if origin is typing.Union or origin is types.UnionType:
        parts = [_type_text(a, path, name) for a in args if a is not type(None)]
        return " or ".join(p[0] for p in parts), [k for p in parts for k in p[1]]
    if origin is Literal:
        return "one of " + ", ".join(str(a) for a in args), []
    if origin is dict:
        key = _singular(name)
        value, kids = _type_text(args[1], f"{path}.<{key}>", name)
        return (f"mapping: {key} id → {value}" if kids else f"mapping: id → {value}"), kids
    if origin is list:
        item, kids = _type_text(args[0], f"{path}[]", name)
        return f"list of {item}", kids
    if origin is tuple:
        parts = [_type_text(a, path, name) for a in args if a is not Ellipsis]
        return "[" + ", ".join(p[0] for p in parts) + "]", [k for p in parts for k in p[1]]
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return tp.__name__, [(path, tp)]
    if tp in _PRIMITIVES:
        return _PRIMITIVES[tp], []
    return getattr(tp, "__name__", str(tp)), []


def _constraint_text(metadata: typing.Iterable[Any]) -> str:
    """`in [0, 1]`, `≥ 0`, `> 0`, `at least 1 entry` from pydantic / annotated-types metadata."""
    lower = upper = ""
    low_open = high_open = False
    extra: list[str] = []
    items = list(metadata)
    while items:
        m = items.pop(0)
        if isinstance(m, FieldInfo):
            items.extend(m.metadata)
        elif isinstance(m, annotated_types.Ge):
            lower = _num(m.ge)
        elif isinstance(m, annotated_types.Gt):
            lower, low_open = _num(m.gt), True
        elif isinstance(m, annotated_types.Le):
            upper = _num(m.le)
        elif isinstance(m, Within):  # a size bound (its variable raises it): the default is shown
            upper = _num(m.default)
            if m.signed:
                lower = _num(-m.default)
        elif isinstance(m, annotated_types.Lt):
            upper, high_open = _num(m.lt), True
        elif isinstance(m, annotated_types.MinLen) and m.min_length > 0:
            extra.append(f"(at least {m.min_length} entr{'y' if m.min_length == 1 else 'ies'})")
    parts = []
    if lower and upper:
        parts.append(f"in {'(' if low_open else '['}{lower}, {upper}{')' if high_open else ']'}")
    elif lower:
        parts.append(f"{'>' if low_open else '≥'} {lower}")
    elif upper:
        parts.append(f"{'<' if high_open else '≤'} {upper}")
    return " ".join(parts + extra)


def _num(x: Any) -> str:
    return f"{x:g}".replace("-", "−") if isinstance(x, int | float) else str(x)


def _default_text(info: FieldInfo) -> str:
    if info.default_factory is not None:
        try:
            value = info.default_factory()  # type: ignore[call-arg]
        except TypeError:  # a factory of the validated data
            return "computed"
    elif info.default is PydanticUndefined:
        return REQUIRED
    else:
        value = info.default
    return show_default(value)


def show_default(value: Any) -> str:
    """A default as a file would write it: `none`, `[cash, pledge, sell]`, `0.5`, `true`."""
    if value is None:
        return "none"
    if value == "":
        return '""'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"{value:g}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(show_default(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {show_default(v)}" for k, v in value.items()) + "}"
    if isinstance(value, BaseModel):
        return show_default(value.model_dump())
    return str(value)


# -- docs/scenario.md -----------------------------------------------------------------------------

MARKDOWN_COMMAND = "margincall schema --markdown > docs/scenario.md"

_INTRO = """\
Every field of a scenario file, with its type, unit, default and meaning. Conventions: money in
the scenario's `currency`, time in trading days from day 0 (252 a year unless `days_per_year` says
otherwise), rates and volatilities per year as fractions (0.3 = 30%). `<asset>` and `<loan>` stand
for the ids you choose; `[]` marks the items of a list. `margincall schema` prints the same
reference in the terminal and `margincall schema --json` the JSON Schema."""


def reference_markdown(root: type[BaseModel] = Scenario) -> str:
    """docs/scenario.md: the reference as Markdown tables, one per model."""
    lines = [
        "# Scenario file reference",
        "",
        f"<!-- Generated from the scenario's pydantic models by `{MARKDOWN_COMMAND}`; a test checks that it is current. -->",
        "",
        _INTRO,
    ]
    for section in scenario_reference(root):
        lines += ["", f"## `{section.path or '(top level)'}` — {section.model}", ""]
        if section.summary:
            lines += [section.summary, ""]
        lines += ["| field | type | unit | default | meaning |", "| --- | --- | --- | --- | --- |"]
        for f in section.fields:
            cells = [f"`{f.path}`", f.type, f.unit or "—", f"`{f.default}`" if f.default != REQUIRED else "**required**",
                     f.meaning or "—"]
            lines.append("| " + " | ".join(_md_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


__all__ = ["FieldDoc", "MARKDOWN_COMMAND", "SectionDoc", "reference_markdown", "scenario_reference", "show_default"]
