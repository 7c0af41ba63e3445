"""Histogram bins for mergeable statistics: integer counts add exactly across blocks, threads
and workers, so quantiles do not depend on how the paths were split.

Two bin families:
- log bins for non-negative amounts (LTV, loss, liquidity at risk, cash): bin 0 holds exact
  zeros, bins 1..n are log-spaced between `lo` and `hi` (values in (0, lo) go to bin 1), bin n+1
  holds values >= hi (and infinity);
- asinh bins for signed amounts (equity): u = asinh(x / s) on [-u_max, u_max] in n bins, with an
  underflow bin 0 and an overflow bin n+1.
"""

from __future__ import annotations

import math

import numpy as np

from margincall._jit import inline

LTV_BINS = np.int64(360)  # 1e-4 .. 1e2, 60 bins a decade (3.9% wide, interpolated)
LTV_LO = 1e-4
LTV_HI = 1e2
AMOUNT_BINS = np.int64(1800)  # lo .. hi = 1e9 * lo, 200 bins a decade (1.2% wide)
AMOUNT_DECADES = 9.0
FAN_AMOUNT_BINS = np.int64(540)  # the same range, 60 bins a decade (3.9% wide): fan charts of cash by day
SIGNED_BINS = np.int64(2400)
SIGNED_UMAX = math.asinh(1e7)


@inline
def log_bin(x: float, lo: float, hi: float, n: int) -> int:
    """Bin of a non-negative value x in the log-bin family."""
    if x <= 0.0:
        return 0
    if x >= hi:
        return n + 1
    if x < lo:
        return 1
    k = int(n * math.log(x / lo) / math.log(hi / lo))
    return 1 + (k if k < n else n - 1)


LOG_LTV_LO = math.log(LTV_LO)
LTV_BINS_PER_LOG = LTV_BINS / math.log(LTV_HI / LTV_LO)


@inline
def ltv_bin_of_log(log_x: float) -> int:
    """`log_bin(x, LTV_LO, LTV_HI, LTV_BINS)` of x = exp(log_x), from its log (no exp or log taken)."""
    n = LTV_BINS
    if log_x == -math.inf:
        return 0
    position = (log_x - LOG_LTV_LO) * LTV_BINS_PER_LOG
    if position >= n:
        return n + 1
    if position < 0.0:
        return 1
    return 1 + int(position)


@inline
def signed_bin(x: float, scale: float, n: int) -> int:
    """Bin of a signed value x in the asinh family."""
    u = math.asinh(x / scale)
    if u <= -SIGNED_UMAX:
        return 0
    if u >= SIGNED_UMAX:
        return n + 1
    k = int(n * (u + SIGNED_UMAX) / (2.0 * SIGNED_UMAX))
    return 1 + (k if k < n else n - 1)


def log_edges(lo: float, hi: float, n: int) -> np.ndarray:
    """Edges of bins 1..n of the log family (n + 1 values)."""
    return lo * (hi / lo) ** (np.arange(n + 1) / n)


def signed_edges(scale: float, n: int) -> np.ndarray:
    """Edges of bins 1..n of the asinh family (n + 1 values)."""
    return scale * np.sinh(np.linspace(-SIGNED_UMAX, SIGNED_UMAX, n + 1))


def quantiles_from_log_hist(counts: np.ndarray, lo: float, hi: float, probs: np.ndarray) -> np.ndarray:
    """Quantiles (F^-1(p) = inf{x: F(x) >= p}) of a log-binned histogram, interpolated
    geometrically within a bin; NaN where the histogram is empty."""
    n = counts.shape[-1] - 2
    edges = log_edges(lo, hi, n)
    return _quantiles(counts, probs, edges, geometric=True)


def quantiles_from_signed_hist(counts: np.ndarray, scale: float, probs: np.ndarray) -> np.ndarray:
    n = counts.shape[-1] - 2
    return _quantiles(counts, probs, signed_edges(scale, n), geometric=False, signed=True)


def _quantiles(counts: np.ndarray, probs: np.ndarray, edges: np.ndarray, geometric: bool, signed: bool = False) -> np.ndarray:
    """All of `probs` at once: the bin k holding F^-1(p) of the counts, then the share of that bin
    below p, clipped to [0, 1]; bins 0 and n + 1 (under and over the edges) give the edge, or 0 and
    inf for a loss."""
    counts = np.asarray(counts, dtype=np.int64)
    probs = np.asarray(probs, dtype=np.float64)
    total = counts.sum()
    if total == 0:
        return np.full(len(probs), np.nan)
    cumulative = np.cumsum(counts)
    n = counts.shape[0] - 2
    target = probs * total
    k = np.minimum(np.searchsorted(cumulative, target, side="left"), n + 1)
    inner = np.clip(k, 1, n)
    width = counts[inner]
    frac = np.divide(target - cumulative[inner - 1], width, out=np.zeros(len(probs)), where=width > 0)
    frac = np.clip(frac, 0.0, 1.0)
    left, right = edges[inner - 1], edges[inner]
    out = left * (right / left) ** frac if geometric else left + (right - left) * frac
    out[k == 0] = edges[0] if signed else 0.0
    out[k == n + 1] = edges[-1] if signed else math.inf
    return out


def tail_mean_from_log_hist(counts: np.ndarray, lo: float, hi: float, prob: float, points: int = 4096) -> float:
    """Expected shortfall: the mean of the worst (1 - prob) share of outcomes, as the average of
    the same interpolated quantile function that gives VaR over (prob, 1), so ES >= VaR always."""
    if np.asarray(counts).sum() == 0:
        return math.nan
    levels = prob + (1.0 - prob) * (np.arange(points) + 0.5) / points
    return float(np.mean(quantiles_from_log_hist(counts, lo, hi, levels)))
