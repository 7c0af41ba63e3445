"""A `SimulationResult` back from its `to_dict()` layout (result.json, or a stored run's result)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, fields
from typing import Any, TypeVar

from margincall.analysis.results import BorrowerResult, LoanResult, SimulationResult
from margincall.store._errors import ResultFormatError

T = TypeVar("T")


def result_from_dict(data: Mapping[str, Any]) -> SimulationResult:
    """The inverse of `SimulationResult.to_dict()`: `result_from_dict(r.to_dict()) == r`.

    Keys this version does not know (written by a newer margincall) are ignored; a missing key
    raises `ResultFormatError` naming it.
    """
    if not isinstance(data, Mapping):
        raise ResultFormatError(f"a result is a mapping in the result.json layout; got {type(data).__name__}")
    loans = data.get("loans")
    if not isinstance(loans, Mapping):
        raise ResultFormatError("result: 'loans' is missing or not a mapping of loan id to loan result")
    built_loans = {str(k): _build(LoanResult, v, f"loans.{k}") for k, v in loans.items()}
    borrower = _build(BorrowerResult, data.get("borrower"), "borrower")
    return _build(SimulationResult, {**data, "loans": built_loans, "borrower": borrower}, "result")


def _build(cls: type[T], data: object, where: str) -> T:
    if not isinstance(data, Mapping):
        raise ResultFormatError(f"{where}: expected a mapping, got {type(data).__name__}")
    known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    required = {f.name for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING}  # type: ignore[arg-type]
    missing = sorted(required - data.keys())
    if missing:
        raise ResultFormatError(f"{where}: missing {', '.join(missing)} (a result from an older margincall?)")
    return cls(**{k: v for k, v in data.items() if k in known})
