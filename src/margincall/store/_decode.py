"""A `SimulationResult` back from its `to_dict()` layout (result.json, or a stored run's result)."""

from __future__ import annotations

import typing
from collections.abc import Mapping
from dataclasses import MISSING, fields, is_dataclass
from typing import Any, TypeVar

from margincall.analysis.results import SimulationResult
from margincall.store._errors import ResultFormatError

T = TypeVar("T")


def result_from_dict(data: Mapping[str, Any]) -> SimulationResult:
    """The inverse of `SimulationResult.to_dict()`: `result_from_dict(r.to_dict()) == r`.

    Every field of `SimulationResult` that is a result dataclass (`system`), or a mapping of id to
    one (`loans`, `borrowers`, `lenders`), is rebuilt from its mapping, whatever the layout adds
    later. Keys this version does not know (written by a newer margincall, or the one-borrower
    shorthand `borrower`) are ignored; a missing key raises `ResultFormatError` naming it.
    """
    if not isinstance(data, Mapping):
        raise ResultFormatError(f"a result is a mapping in the result.json layout; got {type(data).__name__}")
    built: dict[str, Any] = dict(data)
    for name, hint in typing.get_type_hints(SimulationResult).items():
        if is_dataclass(hint):
            built[name] = _build(hint, data.get(name), name)
        elif typing.get_origin(hint) is dict and is_dataclass(typing.get_args(hint)[1]):
            entries = data.get(name)
            if not isinstance(entries, Mapping):
                raise ResultFormatError(f"result: '{name}' is missing or not a mapping of id to result (a result from an older margincall?)")
            cls = typing.get_args(hint)[1]
            built[name] = {str(k): _build(cls, v, f"{name}.{k}") for k, v in entries.items()}
    return _build(SimulationResult, built, "result")


def _build(cls: type[T], data: object, where: str) -> T:
    if not isinstance(data, Mapping):
        raise ResultFormatError(f"{where}: expected a mapping, got {type(data).__name__}")
    known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    required = {f.name for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING}  # type: ignore[arg-type]
    missing = sorted(required - data.keys())
    if missing:
        raise ResultFormatError(f"{where}: missing {', '.join(missing)} (a result from an older margincall?)")
    return cls(**{k: v for k, v in data.items() if k in known})
