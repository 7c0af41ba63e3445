"""What changed between two scenario texts, value by value: `loans.acme-loan.principal: 50.0 → 60.0`.

Both texts are read as YAML (the same faithful reader as scenario files) and compared as data, so
a change of comments, order or layout is no change; a key present on one side only is one
change at its path, whatever it holds.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any, Literal

import yaml

from margincall.analysis.yamlsafe import YamlError, read_yaml


@dataclass(frozen=True)
class ValueChange:
    """One difference: at `path` (keys and list positions from the top), `old` in run A and `new`
    in run B. `kind` is "changed", "added" (only in B) or "removed" (only in A)."""

    path: tuple[str, ...]
    kind: Literal["changed", "added", "removed"]
    old: Any = None
    new: Any = None

    @property
    def where(self) -> str:
        return ".".join(self.path) or "(the whole scenario)"

    def text(self) -> str:
        """`path: old → new`, values in compact YAML; "—" stands for absent."""
        old = "—" if self.kind == "added" else compact(self.old)
        new = "—" if self.kind == "removed" else compact(self.new)
        return f"{self.where}: {old} → {new}"


def compact(value: Any, width: int = 120) -> str:
    """A value as one line of flow-style YAML, cut at `width` characters."""
    if isinstance(value, dt.date):
        text = value.isoformat()
    else:
        text = yaml.safe_dump(value, default_flow_style=True, sort_keys=False, width=math.inf, allow_unicode=True).strip()
        text = text.removesuffix("...").strip()
    return text if len(text) <= width else text[: width - 3] + "..."


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return bool(a == b)


def _diff(a: Any, b: Any, path: tuple[str, ...], out: list[ValueChange]) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in [*a, *(k for k in b if k not in a)]:
            here = (*path, str(key))
            if key not in b:
                out.append(ValueChange(here, "removed", old=a[key]))
            elif key not in a:
                out.append(ValueChange(here, "added", new=b[key]))
            else:
                _diff(a[key], b[key], here, out)
    elif (isinstance(a, list) and isinstance(b, list) and len(a) == len(b)
          and any(isinstance(x, dict | list) for x in (*a, *b))):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _diff(x, y, (*path, str(i)), out)
    elif not _same(a, b):
        out.append(ValueChange(path, "changed", old=a, new=b))


def scenario_changes(text_a: str, text_b: str) -> list[ValueChange]:
    """The value changes from scenario text A to B (empty when they hold the same values). Raises
    `ValueError` when either text cannot be read as YAML."""
    try:
        a, _ = read_yaml(text_a)
        b, _ = read_yaml(text_b)
    except YamlError as exc:
        raise ValueError(f"a scenario text cannot be read as YAML ({exc})") from None
    out: list[ValueChange] = []
    _diff(a, b, (), out)
    return out
