"""The reality check: a borrower's model P(default) beside what ratings and CDS say.

Historical default rates are S&P's global corporate average cumulative default rates, 1981-2020
(S&P 2020 Annual Global Corporate Default and Rating Transition Study, table 24), by rating
category; a notch (BB+, BB-) uses its category's row. The CDS-implied probability takes a
constant hazard rate lambda = spread / (1 - recovery): P(default by t) = 1 - exp(-lambda t). It is
risk-neutral (it carries a risk premium), so it sits above historical rates.
"""

from __future__ import annotations

import math
from typing import Any

SOURCE = (
    "S&P Global Ratings, 2020 Annual Global Corporate Default and Rating Transition Study, table 24: "
    "global corporate average cumulative default rates, 1981-2020"
)
YEARS = (1, 2, 3, 4, 5)
CUMULATIVE_DEFAULT = {  # by rating category, years 1..5
    "BBB": (0.0016, 0.0043, 0.0075, 0.0114, 0.0154),
    "BB": (0.0063, 0.0193, 0.0346, 0.0499, 0.0643),
    "B": (0.0334, 0.0780, 0.1175, 0.1489, 0.1735),
}
SHOWN_YEARS = (1, 3, 5)


def rating_category(rating: str | None) -> str | None:
    """The table row of a rating (BB+ -> BB), or None when the table has no row for it."""
    if rating is None:
        return None
    category = rating.rstrip("+-")
    return category if category in CUMULATIVE_DEFAULT else None


def cds_implied(spread_bp: float, recovery: float, years: float) -> float:
    hazard = spread_bp / 1e4 / (1.0 - recovery)
    return 1.0 - math.exp(-hazard * years)


def reality_check(
    *, rating: str | None, cds_bp: float | None, cds_recovery: float, default_curve: list[float], default_se: list[float],
    days_per_year: int,
) -> dict[str, Any] | None:
    """The model's P(default) by 1, 3 and 5 years (None beyond the horizon) beside the rating's
    historical rate and the CDS-implied one; None when the borrower states neither."""
    if rating is None and cds_bp is None:
        return None
    horizon = len(default_curve) - 1
    model: list[float | None] = []
    model_se: list[float | None] = []
    for years in SHOWN_YEARS:
        day = years * days_per_year
        model.append(default_curve[day] if day <= horizon else None)
        model_se.append(default_se[day] if day <= horizon else None)
    category = rating_category(rating)
    historical = [CUMULATIVE_DEFAULT[category][y - 1] for y in SHOWN_YEARS] if category else None
    cds = [cds_implied(cds_bp, cds_recovery, y) for y in SHOWN_YEARS] if cds_bp is not None else None
    return {
        "years": list(SHOWN_YEARS),
        "model": model,
        "model_se": model_se,
        "rating": rating,
        "rating_category": category,
        "historical": historical,
        "historical_source": SOURCE if category else None,
        "cds_bp": cds_bp,
        "cds_recovery": cds_recovery if cds_bp is not None else None,
        "cds_implied": cds,
    }
