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


def test_quantiles_at_once_equal_each_alone_and_keep_their_edges():
    """The quantiles of many levels are computed together; each equals the one computed alone, so
    that expected shortfall (an average over levels) and VaR (one level) agree where they should.
    Levels below the first count, into the overflow bin, and with an empty bin give the edges."""
    rng = np.random.default_rng(4)
    counts = rng.integers(0, 5, size=AMOUNT_BINS + 2)
    counts[0], counts[7], counts[-1] = 3, 0, 2
    lo, hi = 1e-3, 1e6
    levels = np.concatenate(([0.0, 1e-9], np.linspace(0.01, 0.99, 997), [1.0 - 1e-9, 1.0]))
    together = quantiles_from_log_hist(counts, lo, hi, levels)
    alone = np.array([quantiles_from_log_hist(counts, lo, hi, np.array([p]))[0] for p in levels])
    np.testing.assert_array_equal(together, alone)
    assert together[0] == 0.0 and together[1] == 0.0  # within the zeros' bin
    assert np.isinf(together[-1])  # the overflow bin: above the top edge
    assert np.all(together[1:] >= together[:-1])
    signed = quantiles_from_signed_hist(counts, 1e-2, levels)
    assert signed[0] == quantiles_from_signed_hist(counts, 1e-2, np.array([0.0]))[0]
    assert np.all(signed[1:] >= signed[:-1])
    assert np.all(np.isnan(quantiles_from_log_hist(np.zeros(12, dtype=np.int64), lo, hi, levels)))
