"""Figures with a standard error, found in any result dict without knowing its layout.

A figure is a numeric field `X` whose mapping also holds `X_se`: `loans.<id>.p_default` with
`p_default_se`, `borrower.p_cascade` with `p_cascade_se`, and any field a later result layout
adds (per borrower, per lender, system) in the same way. `compare` and the headline figures that
`runs` lists are built on this, so a new result field needs no change here.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

SE_SUFFIX = "_se"
# The metrics a run's headline shows, for the first entity of each collection (the first loan,
# the first borrower, ...) and for each single entity (the borrower, the system).
HEADLINE_METRICS = ("p_margin_call", "p_default")
NAMES = {"p_margin_call": "P(call)", "p_default": "P(default)", "p_loss": "P(loss)", "p_forced_sale": "P(forced sale)",
         "p_cascade": "P(cascade)"}


@dataclass(frozen=True)
class Figure:
    """One value and its standard error, at `path` (the keys from the result's root to it)."""

    path: tuple[str, ...]
    value: float | None
    se: float | None

    @property
    def metric(self) -> str:
        return self.path[-1]

    @property
    def probability(self) -> bool:
        """A probability (a fraction, shown in percent) rather than an amount of money: the field,
        or the mapping it is an entry of, is named p_... (p_default_by_cause.uncured_call)."""
        return is_probability(self.path)

    @property
    def label(self) -> str:
        """The entity and metric in words, e.g. "openai-margin-loan P(call)" or "borrower P(default)"."""
        name = NAMES.get(self.metric, self.metric)
        return f"{self.path[-2]} {name}" if len(self.path) >= 2 else name

    def to_dict(self) -> dict[str, Any]:
        return {"path": list(self.path), "value": self.value, "se": self.se}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Figure:
        return cls(tuple(str(p) for p in data.get("path") or ()), number(data.get("value")), number(data.get("se")))


def is_probability(path: tuple[str, ...]) -> bool:
    """Whether the figure at `path` is a probability: its field or an enclosing mapping is p_..."""
    return any(part.startswith("p_") for part in path[-2:])


def number(x: object) -> float | None:
    """A finite float, or None for anything else (None, NaN, text, a bool)."""
    if isinstance(x, bool) or not isinstance(x, int | float):
        return None
    value = float(x)
    return value if math.isfinite(value) else None


def se_figures(result: Mapping[str, Any]) -> list[Figure]:
    """Every field with a standard-error sibling, depth first in the result's key order: a number
    `X` with a number `X_se`, and each entry of a mapping `X` with the same entry of a mapping
    `X_se` (`p_default_by_cause` with `p_default_by_cause_se`). A single entity that repeats an
    entry of its plural collection (the one-borrower shorthand `borrower` beside `borrowers`) is
    listed once, under the collection."""
    return list(_walk(result, ()))


def _aliases(node: Mapping[str, Any]) -> set[str]:
    """Keys of `node` whose value is also an entry of the collection named by the key plus "s"."""
    out = set()
    for key, value in node.items():
        plural = node.get(f"{key}s")
        if isinstance(value, Mapping) and isinstance(plural, Mapping) and any(entry == value for entry in plural.values()):
            out.add(str(key))
    return out


def _paired(values: Mapping[str, Any], errors: Mapping[str, Any], path: tuple[str, ...]) -> Iterator[Figure]:
    for key, value in values.items():
        se = errors.get(key)
        if isinstance(value, Mapping) and isinstance(se, Mapping):
            yield from _paired(value, se, (*path, str(key)))
        elif not isinstance(value, Mapping | list) and key in errors:
            yield Figure((*path, str(key)), number(value), number(se))


def _walk(node: Any, path: tuple[str, ...]) -> Iterator[Figure]:
    if isinstance(node, Mapping):
        skip = _aliases(node)
        for key, value in node.items():
            name = str(key)
            if name in skip or name.endswith(SE_SUFFIX) or value is None:  # None: a figure that does not apply
                continue
            sibling = node.get(f"{name}{SE_SUFFIX}", _ABSENT)
            if sibling is not _ABSENT and not isinstance(value, Mapping | list):
                yield Figure((*path, name), number(value), number(sibling))
            elif isinstance(value, Mapping) and isinstance(sibling, Mapping):
                yield from _paired(value, sibling, (*path, name))
            elif isinstance(value, Mapping | list):
                yield from _walk(value, (*path, name))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, (*path, str(i)))


_ABSENT = object()


def headline_figures(result: Mapping[str, Any], metrics: Sequence[str] = HEADLINE_METRICS, limit: int = 8) -> list[Figure]:
    """The few figures a run is known by: `metrics` (P(call), P(default)) of the first entity of
    each collection (a mapping whose values are all mappings of one kind, such as `loans`) and of
    each single entity (`borrower`), at most `limit`."""
    found: list[Figure] = []

    def visit(node: Mapping[str, Any], path: tuple[str, ...]) -> None:
        for metric in metrics:
            if metric in node and f"{metric}{SE_SUFFIX}" in node:
                found.append(Figure((*path, metric), number(node[metric]), number(node[f"{metric}{SE_SUFFIX}"])))
        skip = _aliases(node)
        children = [(str(k), v) for k, v in node.items() if isinstance(v, Mapping) and str(k) not in skip]
        collection = bool(children) and len(children) == len(node) - len(skip) and _alike([v for _, v in children])
        for key, child in children[:1] if collection else children:
            visit(child, (*path, key))

    if isinstance(result, Mapping):
        visit(result, ())
    return found[:limit]


def _alike(children: list[Mapping[str, Any]]) -> bool:
    """Whether mappings are entities of one kind (loans by id): the first two share at least half
    of their keys. `{"loans": {...}, "borrower": {...}}` is not a collection; `{"a": loan, "b": loan}` is."""
    if len(children) < 2:
        return True
    first, second = set(children[0]), set(children[1])
    return len(first & second) * 2 >= min(len(first), len(second))


def shown(figure: Figure, *, money: Any = None) -> str:
    """A figure's value ± SE as text: probabilities in percent, amounts through `money`."""
    if figure.value is None:
        return "-"
    if figure.probability:
        return f"{figure.value:.2%}" + ("" if figure.se is None else f" ± {figure.se:.2%}")
    fmt = money or (lambda x: f"{x:,.4g}")
    return fmt(figure.value) + ("" if figure.se is None else f" ± {fmt(figure.se)}")
