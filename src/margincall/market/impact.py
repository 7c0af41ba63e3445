"""Price-impact laws behind one function, with a generic inverse.

Selling q units of an asset within one day, against a daily volume of V units, moves its price
down by the fraction I(q):
- square root (the default; Toth et al. 2011): I = Y * sigma_daily * sqrt(q / V);
- power law (Almgren, Thum, Hauptmann and Li 2005: exponent 3/5): I = Y * sigma_daily * (q / V)^delta;
- exponential in the fraction of the market sold (Cifuentes, Ferrucci and Shin 2005; Cont and
  Schaanning 2017): I = 1 - exp(-Y * q / V).
Each is capped below 1 at MAX_IMPACT. `impact_inverse` gives the q of a fraction for any law by
bisection, so a new law needs no inverse of its own.
"""

from __future__ import annotations

import math

from margincall._jit import inline, kernel

MAX_IMPACT = 0.99
LAW_SQRT = 0
LAW_POWER = 1
LAW_EXPONENTIAL = 2
LAW_CODES = {"sqrt": LAW_SQRT, "power": LAW_POWER, "exponential": LAW_EXPONENTIAL}


@inline
def impact_fraction(law: int, y: float, sigma_daily: float, exponent: float, sold_units: float, volume: float) -> float:
    """Relative price fall after selling `sold_units` within a day (cumulative) against a daily
    volume of `volume` units."""
    if y <= 0.0 or sold_units <= 0.0 or volume <= 0.0:
        return 0.0
    x = sold_units / volume
    if law == LAW_EXPONENTIAL:
        move = 1.0 - math.exp(-y * x)
    elif law == LAW_POWER:
        move = y * sigma_daily * x**exponent
    else:
        move = y * sigma_daily * math.sqrt(x)
    return move if move < MAX_IMPACT else MAX_IMPACT


@kernel
def impact_inverse(law: int, y: float, sigma_daily: float, exponent: float, fraction: float, volume: float) -> float:
    """The units q with impact_fraction(q) = fraction (the law is increasing in q up to its cap);
    0 for a fraction of 0, infinity for one at or beyond the cap or a law that never reaches it."""
    if fraction <= 0.0:
        return 0.0
    if fraction >= MAX_IMPACT or y <= 0.0 or volume <= 0.0:
        return math.inf
    hi = volume
    for _ in range(2000):
        if impact_fraction(law, y, sigma_daily, exponent, hi, volume) >= fraction:
            break
        hi *= 2.0
        if hi > 1e300:
            return math.inf
    lo = 0.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if impact_fraction(law, y, sigma_daily, exponent, mid, volume) < fraction:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-15 * hi:
            break
    return hi
