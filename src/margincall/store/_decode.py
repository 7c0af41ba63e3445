"""A `SimulationResult` back from its `to_dict()` layout (result.json, or a stored run's result)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, fields
from typing import Any, TypeVar

from margincall.analysis.results import BorrowerResult, LenderResult, LoanResult, SimulationResult, SystemResult
from margincall.store._errors import ResultFormatError

T = TypeVar("T")


def result_from_dict(data: Mapping[str, Any]) -> SimulationResult:
    """The inverse of `SimulationResult.to_dict()`: `result_from_dict(r.to_dict()) == r`.

    Keys this version does not know (written by a newer margincall) are ignored; a missing key
    raises `ResultFormatError` naming it.
    """
    if not isinstance(data, Mapping):
        raise ResultFormatError(f"a result is a mapping in the result.json layout; got {type(data).__name__}")
    built: dict[str, Any] = {}
    for key, cls in (("loans", LoanResult), ("borrowers", BorrowerResult), ("lenders", LenderResult)):
        group = data.get(key)
        if not isinstance(group, Mapping):
            hint = " (a result written before results had borrowers and lenders)" if key != "loans" and "borrower" in data else ""
            raise ResultFormatError(f"result: '{key}' is missing or not a mapping of id to result{hint}")
        built[key] = {str(k): _build(cls, v, f"{key}.{k}") for k, v in group.items()}
    built["system"] = _build(SystemResult, data.get("system"), "system")
    return _build(SimulationResult, {**data, **built}, "result")


def _build(cls: type[T], data: object, where: str) -> T:
    if not isinstance(data, Mapping):
        raise ResultFormatError(f"{where}: expected a mapping, got {type(data).__name__}")
    known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    required = {f.name for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING}  # type: ignore[arg-type]
    missing = sorted(required - data.keys())
    if missing:
        raise ResultFormatError(f"{where}: missing {', '.join(missing)} (a result from an older margincall?)")
    return cls(**{k: v for k, v in data.items() if k in known})
