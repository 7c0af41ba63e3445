"""Numbers as the report prints them, one format throughout (tables, axes, hover text):

- amounts: the currency, three significant digits and a scale word: `USD 1.25 bn`, `USD 350 m`,
  `USD 12.5 k`, `USD 950` (k thousand, m million, bn billion, tn trillion);
- probabilities: percent with two decimals, `12.34%`, with their standard error `± 0.35%`;
- LTVs and other fractions: percent with one decimal, `20.0%`.

Charts plot amounts divided by one scale per axis (`money_scale`) with the unit in the axis
title (`loss (USD bn)`) and the same three significant digits in hover text (`MONEY_HOVER`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

FORMAT_NOTE = (
    "Amounts in {cur} with three significant digits (k thousand, m million, bn billion, tn trillion); "
    "probabilities in percent with two decimals, ± one standard error; LTVs in percent with one decimal."
)
SCALES: tuple[tuple[float, str], ...] = ((1e12, "tn"), (1e9, "bn"), (1e6, "m"), (1e3, "k"), (1.0, ""))
MONEY_DIGITS = 3
HOVER_DIGITS = ".3~r"  # d3-format: three significant digits, trailing zeros dropped (as `money`)


def is_number(x: object) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def _scale_of(a: float) -> tuple[float, str]:
    """The scale for an absolute amount: the largest one not above it, moved up when rounding
    to three digits would print 1000 (999,700 is `1 m`, not `1e+03 k`)."""
    for k, (size, suffix) in enumerate(SCALES):
        if a >= size or size == 1.0:
            if k > 0 and float(f"{a / size:.{MONEY_DIGITS}g}") >= 1000.0:
                return SCALES[k - 1]
            return size, suffix
    return SCALES[-1]  # pragma: no cover


def _digits(value: float, digits: int = MONEY_DIGITS) -> str:
    text = f"{value:.{digits}g}"
    if "e" in text:  # below 1e-4 of the unit: plain decimals
        text = f"{value:.{digits + 6}f}".rstrip("0").rstrip(".")
    return text


def money(x: float | None, currency: str) -> str:
    """`USD 1.25 bn`, `USD 340 m`, `USD 12.5`; `−USD 2 m` below zero; a dash for a missing value."""
    if x is None or not is_number(x):
        return "—"
    sign = "−" if x < 0 else ""
    a = abs(float(x))
    size, suffix = _scale_of(a)
    text = f"{currency} {_digits(a / size)} {suffix}".strip()
    return f"{sign}{text}".strip()


def money_exact(x: float | None, currency: str) -> str:
    """An input amount in the same form, to six significant digits: `USD 100.76 bn`."""
    if x is None or not is_number(x):
        return "—"
    a = abs(float(x))
    size, suffix = _scale_of(a)
    return ("−" if x < 0 else "") + f"{currency} {_digits(a / size, 6)} {suffix}".strip()


def money_se(x: float | None, se: float | None, currency: str) -> str:
    """`USD 158 m ± 5.8 m`: a mean and its standard error, in the mean's scale."""
    if not is_number(x):
        return "—"
    text = money(x, currency)
    if not is_number(se):
        return text
    size, suffix = _scale_of(abs(float(x))) if x else _scale_of(abs(float(se)))  # type: ignore[arg-type]
    return f"{text} ± {_digits(float(se) / size, 2)} {suffix}".rstrip()  # type: ignore[arg-type]


def money_scale(values: Iterable[float | None]) -> tuple[float, str]:
    """(divisor, scale word) for an axis of amounts: the scale of the largest absolute value."""
    top = max((abs(float(v)) for v in values if is_number(v)), default=0.0)
    return _scale_of(top)


def money_axis_title(label: str, currency: str, suffix: str) -> str:
    """`loss (USD bn)`."""
    return f"{label} ({currency} {suffix})".replace(" )", ")")


def money_hover(currency: str, suffix: str, field: str = "y") -> str:
    """Hover text of a scaled amount: `USD %{y:.3~r} bn`."""
    return f"{currency} %{{{field}:{HOVER_DIGITS}}} {suffix}".rstrip()


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


def points(change: float | None, se: float | None = None) -> str:
    """A change of a probability in percentage points: `+1.23 pp ± 0.10 pp`."""
    if not is_number(change):
        return "—"
    text = f"{100.0 * change:+.2f} pp".replace("-", "−")  # type: ignore[operator]
    return text if not is_number(se) else f"{text} ± {100.0 * se:.2f} pp"  # type: ignore[operator]


def money_change(change: float | None, se: float | None, currency: str) -> str:
    """A change of an amount: `+USD 12.5 m ± 2.9 m`."""
    if not is_number(change):
        return "—"
    text = money_se(abs(change), se, currency)  # type: ignore[arg-type]
    return ("+" if change >= 0 else "−") + text  # type: ignore[operator]


def number(x: object, digits: int = 4) -> str:
    """A plain number, an int as is, a dash for nothing."""
    if x is None:
        return "—"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int):
        return f"{x:,}"
    if isinstance(x, float):
        if not math.isfinite(x):
            return "—"
        if x.is_integer() and abs(x) >= 1e4:
            return f"{int(x):,}"  # 100,000,000 shares, not 1e+08
        return f"{x:.{digits}g}"
    return str(x)


def binomial_se(p: float, paths: int) -> float:
    """Standard error of a share of `paths` paths: sqrt(p (1 - p) / paths)."""
    return math.sqrt(max(p * (1.0 - p), 0.0) / max(paths, 1))


def rounded(values: Sequence[float | None], digits: int = 4) -> list[float | None]:
    """Values to `digits` significant digits (None and non-finite as None): chart data carries no
    more precision than a reader can see, which keeps the report small."""
    out: list[float | None] = []
    for v in values:
        if v is None or not is_number(v):
            out.append(None)
        elif v == 0:
            out.append(0.0)
        else:
            out.append(float(f"{float(v):.{digits}g}"))
    return out
