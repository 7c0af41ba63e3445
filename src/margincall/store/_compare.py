"""Two runs side by side: each headline metric per loan and for the borrower, its difference, and
whether the difference exceeds the combined standard error where the metric has one."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from margincall.analysis.results import SimulationResult

# (metric, its standard-error field or None); probabilities are fractions, the rest currency.
LOAN_METRICS: tuple[tuple[str, str | None], ...] = (
    ("p_margin_call", "p_margin_call_se"),
    ("p_default", "p_default_se"),
    ("p_loss", "p_loss_se"),
    ("expected_loss", "expected_loss_se"),
    ("loss_var_95", None),
    ("loss_es_95", None),
    ("loss_var_99", None),
    ("loss_es_99", None),
    ("expected_cure_paid", None),
)
BORROWER_METRICS: tuple[tuple[str, str | None], ...] = (
    ("p_default", "p_default_se"),
    ("p_forced_sale", "p_forced_sale_se"),
    ("p_cascade", "p_cascade_se"),
    ("expected_sold_value", "expected_sold_value_se"),
    ("liquidity_at_risk_50", None),
    ("liquidity_at_risk_95", None),
    ("liquidity_at_risk_99", None),
    ("expected_impact_cost", None),
    ("expected_equity", None),
)


class _HasResult(Protocol):
    @property
    def result(self) -> dict[str, Any] | None: ...


@dataclass(frozen=True)
class ComparisonRow:
    """One metric of two runs. `scope` is "loan" (then `subject` is the loan id) or "borrower" (subject
    "borrower"); values are None where a run lacks them.
    `significant` (None where the metric has no SE): |difference| > combined_se = sqrt(se_a² + se_b²)."""

    scope: str
    subject: str
    metric: str
    a: float | None
    b: float | None
    difference: float | None
    combined_se: float | None
    significant: bool | None


def _as_dict(run: _HasResult | SimulationResult | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(run, SimulationResult):
        return run.to_dict()
    if isinstance(run, Mapping):
        return run
    if run.result is None:
        raise ValueError(f"run {getattr(run, 'id', '?')} has no result (status {getattr(run, 'status', '?')})")
    return run.result


def _number(x: object) -> float | None:
    return float(x) if isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x) else None


def _rows(scope: str, subject: str, a: Mapping[str, Any] | None, b: Mapping[str, Any] | None,
          metrics: tuple[tuple[str, str | None], ...]) -> list[ComparisonRow]:
    rows = []
    for metric, se_field in metrics:
        va = _number(a.get(metric)) if a is not None else None
        vb = _number(b.get(metric)) if b is not None else None
        diff = vb - va if va is not None and vb is not None else None
        combined = significant = None
        if se_field is not None and a is not None and b is not None:
            sa, sb = _number(a.get(se_field)), _number(b.get(se_field))
            if sa is not None and sb is not None:
                combined = math.hypot(sa, sb)
                significant = diff is not None and abs(diff) > combined
        rows.append(ComparisonRow(scope, subject, metric, va, vb, diff, combined, significant))
    return rows


def compare_runs(a: _HasResult | SimulationResult | Mapping[str, Any],
                 b: _HasResult | SimulationResult | Mapping[str, Any]) -> list[ComparisonRow]:
    """Rows comparing run `b` with run `a` (difference = b − a): every loan of either run (in a's
    order, then b's new ones), then the borrower. Takes stored runs (`RunRecord`), results, or
    result dicts."""
    da, db = _as_dict(a), _as_dict(b)
    loans_a, loans_b = da.get("loans") or {}, db.get("loans") or {}
    rows: list[ComparisonRow] = []
    for loan_id in [*loans_a, *(k for k in loans_b if k not in loans_a)]:
        rows += _rows("loan", loan_id, loans_a.get(loan_id), loans_b.get(loan_id), LOAN_METRICS)
    rows += _rows("borrower", "borrower", da.get("borrower"), db.get("borrower"), BORROWER_METRICS)
    return rows
