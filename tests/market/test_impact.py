"""The price-impact laws: their formulas, that each is increasing in the amount sold up to its cap,
and that the generic inverse gives back the amount of any fraction."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from margincall.market.impact import LAW_CODES, LAW_EXPONENTIAL, LAW_POWER, LAW_SQRT, MAX_IMPACT, impact_fraction, impact_inverse

LAWS = [LAW_SQRT, LAW_POWER, LAW_EXPONENTIAL]


def test_square_root_law():
    y, sigma_daily, volume = 0.7, 0.02, 1e6
    assert impact_fraction(LAW_SQRT, y, sigma_daily, 0.6, 0.0, volume) == 0.0
    assert math.isclose(impact_fraction(LAW_SQRT, y, sigma_daily, 0.6, 0.25e6, volume), y * sigma_daily * 0.5)
    # four times the volume, twice the move
    ratio = impact_fraction(LAW_SQRT, y, sigma_daily, 0.6, 4e5, volume) / impact_fraction(LAW_SQRT, y, sigma_daily, 0.6, 1e5, volume)
    assert math.isclose(ratio, 2.0)


def test_power_law_is_almgren_et_al():
    """Almgren, Thum, Hauptmann and Li (2005): Y sigma (q / V)^(3/5)."""
    y, sigma_daily, volume = 0.9, 0.03, 2e6
    q = 5e5
    assert math.isclose(impact_fraction(LAW_POWER, y, sigma_daily, 0.6, q, volume), y * sigma_daily * (q / volume) ** 0.6)
    ratio = impact_fraction(LAW_POWER, y, sigma_daily, 0.6, 8 * q, volume) / impact_fraction(LAW_POWER, y, sigma_daily, 0.6, q, volume)
    assert math.isclose(ratio, 8**0.6)


def test_exponential_law_is_cifuentes_ferrucci_shin():
    """The price after selling q is exp(-alpha q) of the price before it: 1 - I(q) = exp(-Y q / V);
    two sales in a row compound to one of their sum."""
    y, volume = 0.3, 1e6
    q = 2.5e5
    assert math.isclose(1.0 - impact_fraction(LAW_EXPONENTIAL, y, 0.0, 0.6, q, volume), math.exp(-y * q / volume))
    both = 1.0 - impact_fraction(LAW_EXPONENTIAL, y, 0.0, 0.6, 2 * q, volume)
    assert math.isclose(both, (1.0 - impact_fraction(LAW_EXPONENTIAL, y, 0.0, 0.6, q, volume)) ** 2)


@pytest.mark.parametrize("law", LAWS)
def test_impact_off_and_capped(law: int):
    assert impact_fraction(law, 0.0, 0.02, 0.6, 1e12, 1.0) == 0.0
    assert impact_fraction(law, 1.0, 0.05, 0.6, 0.0, 1.0) == 0.0
    assert impact_fraction(law, 50.0, 0.5, 0.6, 1e12, 1.0) == MAX_IMPACT


@pytest.mark.parametrize("law", LAWS)
def test_each_law_increases_with_the_amount_sold(law: int):
    amounts = np.geomspace(1e-3, 1e9, 400)
    moves = np.array([impact_fraction(law, 0.8, 0.04, 0.6, q, 1e6) for q in amounts])
    assert np.all(np.diff(moves) >= 0.0)
    assert moves[0] > 0.0 and moves[-1] == MAX_IMPACT


@settings(deadline=None, max_examples=200)
@given(
    law=st.sampled_from(LAWS),
    y=st.floats(0.05, 5.0),
    sigma=st.floats(0.005, 0.2),
    exponent=st.floats(0.2, 1.0),
    volume=st.floats(1.0, 1e9),
    fraction=st.floats(1e-6, 0.98),
)
def test_the_inverse_round_trips(law: int, y: float, sigma: float, exponent: float, volume: float, fraction: float):
    q = impact_inverse(law, y, sigma, exponent, fraction, volume)
    assert math.isfinite(q) and q > 0.0
    assert math.isclose(impact_fraction(law, y, sigma, exponent, q, volume), fraction, rel_tol=1e-9, abs_tol=1e-12)


def test_the_inverse_at_its_ends():
    assert impact_inverse(LAW_SQRT, 0.7, 0.02, 0.6, 0.0, 1e6) == 0.0
    assert impact_inverse(LAW_SQRT, 0.7, 0.02, 0.6, MAX_IMPACT, 1e6) == math.inf
    assert impact_inverse(LAW_SQRT, 0.0, 0.02, 0.6, 0.1, 1e6) == math.inf  # no impact: no amount moves the price


def test_the_schema_names_every_law():
    from margincall.model.market import ImpactLaw

    assert set(LAW_CODES) == set(ImpactLaw.__args__)  # type: ignore[attr-defined]
