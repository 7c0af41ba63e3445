"""Numbers as the report prints them: money in the scenario's currency, probabilities in percent."""

from __future__ import annotations

import math


def is_number(x: object) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def money(x: float | None, currency: str) -> str:
    """`USD 1.25bn`, `USD 340m`, `USD 12.5`; a dash for a missing value."""
    if x is None or not is_number(x):
        return "—"
    sign = "−" if x < 0 else ""
    a = abs(float(x))
    for size, suffix in ((1e12, "tn"), (1e9, "bn"), (1e6, "m"), (1e3, "k")):
        if a >= size:
            return f"{sign}{currency} {a / size:.3g}{suffix}"
    return f"{sign}{currency} {a:.4g}"


def percent(p: float | None, digits: int = 2) -> str:
    """A fraction as a percentage: 0.0123 -> `1.23%`."""
    if p is None or not is_number(p):
        return "—"
    return f"{100.0 * p:.{digits}f}%"


def probability(p: float | None, se: float | None) -> str:
    """`12.34% ± 0.47%`: a probability with its standard error."""
    if not is_number(p):
        return "—"
    return f"{percent(p)} ± {percent(se)}"


def money_se(x: float | None, se: float | None, currency: str) -> str:
    """`USD 12.5 ± 0.3`: a mean in currency with its standard error."""
    if not is_number(x):
        return "—"
    return f"{money(x, currency)} ± {money(se, '').strip()}"


def number(x: object, digits: int = 4) -> str:
    """A plain number, an int as is, a dash for nothing."""
    if x is None:
        return "—"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int):
        return f"{x:,}"
    if isinstance(x, float):
        return f"{x:.{digits}g}" if math.isfinite(x) else "—"
    return str(x)


def binomial_se(p: float, paths: int) -> float:
    """Standard error of a share of `paths` paths: sqrt(p (1 - p) / paths)."""
    return math.sqrt(max(p * (1.0 - p), 0.0) / max(paths, 1))
