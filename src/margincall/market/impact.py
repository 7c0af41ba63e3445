"""The price-impact law, behind one function so that other laws can be offered as a choice.

Square-root law: selling a cumulative currency amount Q of an asset within one day moves its
price down by the fraction Y * sigma_daily * sqrt(Q / adv), capped below 1.
"""

from __future__ import annotations

import math

from margincall._jit import inline_kernel

MAX_IMPACT = 0.95


@inline_kernel
def impact_fraction(y: float, sigma_daily: float, sold_today: float, adv: float) -> float:
    """Relative price drop after selling `sold_today` (currency, cumulative within the day)."""
    if y <= 0.0 or sold_today <= 0.0:
        return 0.0
    move = y * sigma_daily * math.sqrt(sold_today / adv)
    return move if move < MAX_IMPACT else MAX_IMPACT
