from __future__ import annotations

import numpy as np
import pytest

from margincall.engine.bins import (
    AMOUNT_BINS,
    log_bin,
    quantiles_from_log_hist,
    quantiles_from_signed_hist,
    signed_bin,
    tail_mean_from_log_hist,
)


def _hist_log(values, lo, hi, n):
    counts = np.zeros(n + 2, dtype=np.int64)
    for v in values:
        counts[log_bin(v, lo, hi, n)] += 1
    return counts


def test_log_hist_quantiles_match_sample_quantiles_within_bin_width():
    rng = np.random.default_rng(1)
    x = rng.lognormal(0.0, 1.0, 50_000)
    lo, hi, n = 1e-7, 1e2, AMOUNT_BINS
    q = quantiles_from_log_hist(_hist_log(x, lo, hi, n), lo, hi, np.array([0.05, 0.5, 0.95, 0.99]))
    exact = np.quantile(x, [0.05, 0.5, 0.95, 0.99])
    width = (hi / lo) ** (1 / n) - 1  # relative width of one bin
    assert np.all(np.abs(q / exact - 1) < width)


def test_zeros_have_their_own_bin():
    counts = _hist_log([0.0] * 96 + [5.0] * 4, 1e-3, 1e6, 900)
    q = quantiles_from_log_hist(counts, 1e-3, 1e6, np.array([0.5, 0.95, 0.99]))
    assert q[0] == 0.0 and q[1] == 0.0
    assert q[2] == pytest.approx(5.0, rel=0.03)


def test_expected_shortfall_is_at_least_var_and_matches_sample():
    rng = np.random.default_rng(2)
    x = np.where(rng.random(100_000) < 0.9, 0.0, rng.exponential(10.0, 100_000))
    lo, hi, n = 1e-5, 1e4, AMOUNT_BINS
    counts = _hist_log(x, lo, hi, n)
    for p in (0.95, 0.99):
        var = quantiles_from_log_hist(counts, lo, hi, np.array([p]))[0]
        es = tail_mean_from_log_hist(counts, lo, hi, p)
        tail = np.sort(x)[int(p * x.size):]
        assert es >= var
        assert es == pytest.approx(tail.mean(), rel=0.02)


def test_signed_hist_quantiles():
    rng = np.random.default_rng(3)
    x = rng.normal(100.0, 50.0, 50_000)
    scale, n = 1e-2, 2400
    counts = np.zeros(n + 2, dtype=np.int64)
    for v in x:
        counts[signed_bin(v, scale, n)] += 1
    q = quantiles_from_signed_hist(counts, scale, np.array([0.05, 0.5, 0.95]))
    assert np.allclose(q, np.quantile(x, [0.05, 0.5, 0.95]), rtol=0.02)
