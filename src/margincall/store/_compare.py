"""Two runs side by side: every figure with a standard error, its difference, and whether that
difference is beyond a stated number of combined standard errors; and what changed in the
scenario, value by value.

The figures are found generically (`_figures.se_figures`: a field X with a sibling X_se), so a
result field added later is compared without a change here. A difference is flagged when
|B − A| > sigmas × sqrt(se_A² + se_B²), 3 standard errors by default. Two runs with the same seed
share their random draws (common random numbers), so their difference is less noisy than that
combined SE says: the flag is then conservative.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from margincall.analysis.results import SimulationResult
from margincall.store._errors import StoreError
from margincall.store._figures import Figure, is_probability, se_figures

DEFAULT_SIGMAS = 3.0


class _HasResult(Protocol):
    @property
    def result(self) -> dict[str, Any] | None: ...


@dataclass(frozen=True)
class ComparisonRow:
    """One figure of two runs (difference = B − A); values are None where a run lacks the figure.

    `path` is the field's path in the result (e.g. ("loans", "acme-loan", "p_default")); `scope`
    is its collection in the singular ("loan", "borrower", "lender", ...), `subject` the entity
    (a loan id, or the scope itself for a single entity such as "system"), `metric` the rest of
    the path ("p_default", or "p_default_by_cause.uncured_call").
    `significant` is |difference| > `sigmas` × `combined_se` (None where either run lacks an SE)."""

    scope: str
    subject: str
    metric: str
    a: float | None
    b: float | None
    difference: float | None
    combined_se: float | None
    significant: bool | None
    path: tuple[str, ...] = ()
    sigmas: float = DEFAULT_SIGMAS

    @property
    def probability(self) -> bool:
        """A probability (shown in percent, differences in percentage points)."""
        return is_probability(self.path)

    @property
    def z(self) -> float | None:
        """|difference| in combined standard errors (inf for a difference of runs without noise)."""
        if self.difference is None or self.combined_se is None:
            return None
        if self.combined_se == 0.0:
            return 0.0 if self.difference == 0.0 else math.inf
        return abs(self.difference) / self.combined_se


def _as_dict(run: _HasResult | SimulationResult | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(run, SimulationResult):
        return run.to_dict()
    if isinstance(run, Mapping):
        return run
    if run.result is None:
        run_id, status = getattr(run, "id", "?"), getattr(run, "status", "?")
        raise StoreError(f"run {run_id} is {status}: it has no result to compare; `margincall runs --status complete` lists those that have")
    return run.result


def _scope_subject(path: tuple[str, ...]) -> tuple[str, str, str]:
    """(scope, subject, metric) of a figure's path: ("loans", "x", "p_default") is a loan's,
    ("borrower", "p_default") the borrower's, ("loans", "x", "p_default_by_cause", "gap") a
    loan's metric p_default_by_cause.gap."""
    if len(path) >= 3 and path[0].endswith("s"):
        return path[0][:-1], path[1], ".".join(path[2:])
    if len(path) >= 2:
        return path[0], path[0], ".".join(path[1:])
    return "", "", ".".join(path)


def compare_figures(a: list[Figure], b: list[Figure], *, sigmas: float = DEFAULT_SIGMAS) -> list[ComparisonRow]:
    """Rows for the union of two runs' figures, in A's order, then B's new ones."""
    if not (math.isfinite(sigmas) and sigmas > 0):
        raise ValueError(f"sigmas is a positive number of standard errors; got {sigmas!r}")
    by_a = {f.path: f for f in a}
    by_b = {f.path: f for f in b}
    rows = []
    for path in [*by_a, *(p for p in by_b if p not in by_a)]:
        fa, fb = by_a.get(path), by_b.get(path)
        va = fa.value if fa else None
        vb = fb.value if fb else None
        diff = vb - va if va is not None and vb is not None else None
        combined = significant = None
        if fa is not None and fb is not None and fa.se is not None and fb.se is not None:
            combined = math.hypot(fa.se, fb.se)
            significant = diff is not None and abs(diff) > sigmas * combined
        scope, subject, metric = _scope_subject(path)
        rows.append(ComparisonRow(scope, subject, metric, va, vb, diff, combined, significant, path, sigmas))
    return rows


def compare_runs(a: _HasResult | SimulationResult | Mapping[str, Any], b: _HasResult | SimulationResult | Mapping[str, Any],
                 *, sigmas: float = DEFAULT_SIGMAS) -> list[ComparisonRow]:
    """Rows comparing run `b` with run `a` (difference = b − a) for every figure with a standard
    error in either. Takes stored runs (`RunRecord`), results, or result dicts; a stored run
    without a result (failed or running) is a `StoreError` naming it."""
    return compare_figures(se_figures(_as_dict(a)), se_figures(_as_dict(b)), sigmas=sigmas)
