"""Scenario variants: set any field by its dotted path (`loans.acme-loan.principal`), for
sweeps, stresses, sizing and sensitivities. Variants are re-validated like a file."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import ValidationError

from margincall.analysis.loading import _validation_problems
from margincall.errors import ScenarioError
from margincall.model.scenario import Scenario


def field_value(scenario: Scenario, path: str) -> Any:
    """The value at a dotted path; a clear error naming the path when there is none."""
    node: Any = scenario.model_dump(mode="python")
    for part in _parts(path):
        node = _child(node, part, path)
    return node


def with_values(scenario: Scenario, values: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> Scenario:
    """A copy of the scenario with each dotted path set to its value, validated."""
    data = scenario.model_dump(mode="python", exclude_unset=False)
    items = values.items() if isinstance(values, Mapping) else values
    for path, value in items:
        parts = _parts(path)
        node = data
        for part in parts[:-1]:
            node = _child(node, part, path)
        last = parts[-1]
        if isinstance(node, list):
            index = _index(node, last, path)
            node[index] = value
        elif isinstance(node, dict):
            if last not in node:
                raise ScenarioError(f"--set {path}", [(path, f"no field '{last}' here; fields: {', '.join(map(str, node))}")])
            node[last] = value
        else:
            raise ScenarioError(f"--set {path}", [(path, "is not a field that holds a value")])
    try:
        return Scenario.model_validate(copy.deepcopy(data))
    except ValidationError as exc:
        raise ScenarioError("scenario variant", _validation_problems(exc, None)) from None


def _parts(path: str) -> list[str]:
    parts = [p for p in path.split(".") if p]
    if not parts:
        raise ScenarioError("--set", [(path or "(empty)", "give a dotted field path such as loans.my-loan.principal")])
    return parts


def _index(node: list, part: str, path: str) -> int:
    try:
        index = int(part)
    except ValueError:
        raise ScenarioError(f"--set {path}", [(path, f"'{part}' must be a list index (0..{len(node) - 1})")]) from None
    if not 0 <= index < len(node):
        raise ScenarioError(f"--set {path}", [(path, f"index {index} is out of range (0..{len(node) - 1})")])
    return index


def _child(node: Any, part: str, path: str) -> Any:
    if isinstance(node, dict):
        if part not in node or node[part] is None and part not in node:
            raise ScenarioError(f"--set {path}", [(path, f"no field '{part}' here; fields: {', '.join(map(str, node))}")])
        child = node[part]
        if child is None:
            raise ScenarioError(f"--set {path}", [(path, f"'{part}' is not set in this scenario, so it has no fields to change")])
        return child
    if isinstance(node, list):
        return node[_index(node, part, path)]
    raise ScenarioError(f"--set {path}", [(path, f"'{part}' is below a value, not a field")])
