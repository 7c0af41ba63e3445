from __future__ import annotations

import math

from margincall.market.impact import MAX_IMPACT, impact_fraction


def test_square_root_law():
    y, sigma_daily, adv = 0.7, 0.02, 1e9
    assert impact_fraction(y, sigma_daily, 0.0, adv) == 0.0
    assert math.isclose(impact_fraction(y, sigma_daily, 0.25e9, adv), y * sigma_daily * 0.5)
    # four times the volume, twice the move
    ratio = impact_fraction(y, sigma_daily, 4e8, adv) / impact_fraction(y, sigma_daily, 1e8, adv)
    assert math.isclose(ratio, 2.0)


def test_impact_off_and_capped():
    assert impact_fraction(0.0, 0.02, 1e12, 1.0) == 0.0
    assert impact_fraction(1.0, 0.05, 1e12, 1.0) == MAX_IMPACT
