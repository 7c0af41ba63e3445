"""One number format for the report: `USD 1.25 bn`, `USD 350 m`, percentages with stated digits."""

from __future__ import annotations

import pytest

from margincall.report._format import money, money_exact, money_scale, money_se, percent, points, probability, rounded


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.2e9, "USD 1.2 bn"), (1.25e9, "USD 1.25 bn"), (3.5e8, "USD 350 m"), (12_500.0, "USD 12.5 k"),
        (950.0, "USD 950"), (0.0, "USD 0"), (-2e6, "−USD 2 m"), (1.0076e11, "USD 101 bn"), (4.2e12, "USD 4.2 tn"),
        (999_700.0, "USD 1 m"), (999_400.0, "USD 999 k"), (None, "—"), (float("nan"), "—"),
    ],
)
def test_money(value, text):
    assert money(value, "USD") == text


def test_amounts_with_errors_inputs_and_axes():
    assert money_se(1.58e8, 5.8e6, "USD") == "USD 158 m ± 5.8 m"
    assert money_se(0.0, 0.0, "USD") == "USD 0 ± 0"
    assert money_exact(1.0076e11, "USD") == "USD 100.76 bn"
    assert money_exact(2.47098e9, "EUR") == "EUR 2.47098 bn"
    assert money_scale([3e8, -2e9, None, float("inf")]) == (1e9, "bn")
    assert money_scale([]) == (1.0, "")


def test_probabilities_and_changes():
    assert percent(0.0123) == "1.23%" and percent(0.2, 1) == "20.0%"
    assert probability(0.4990, 0.0078) == "49.90% ± 0.78%"
    assert points(0.0343, 0.0021) == "+3.43 pp ± 0.21 pp" and points(-0.0306) == "−3.06 pp"


def test_rounded_keeps_significant_digits():
    assert rounded([123456.0, 0.000123456, None, float("nan"), 0]) == [123500.0, 0.0001235, None, None, 0.0]
