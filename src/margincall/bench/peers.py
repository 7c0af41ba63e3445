"""Peers on workload (a), computing the same P(margin call): plain vectorised numpy in chunks of
paths (the way most people would write it), and QuantLib's Python path generator."""

from __future__ import annotations

import math
import time

import numpy as np

from margincall.bench.workloads import A_BARRIER, A_DAYS, A_SIGMA


def numpy_peer(paths: int, seed: int = 1, chunk: int = 2_000) -> dict[str, float]:
    """Daily-monitored GBM first passage below the barrier, written the way most people would: a
    chunk of paths x days of normals, cumulated, exponentiated, and the minimum compared."""
    rng = np.random.Generator(np.random.SFC64(seed))
    dt = 1.0 / 252
    drift = -0.5 * A_SIGMA**2 * dt
    vol = A_SIGMA * math.sqrt(dt)
    hits = 0
    started = time.perf_counter()
    for start in range(0, paths, chunk):
        n = min(chunk, paths - start)
        values = np.exp(np.cumsum(drift + vol * rng.standard_normal((n, A_DAYS)), axis=1))
        hits += int((values.min(axis=1) <= A_BARRIER).sum())
    wall = time.perf_counter() - started
    p = hits / paths
    return {"wall_s": wall, "paths": paths, "path_days": paths * A_DAYS, "p_margin_call": p,
            "p_margin_call_se": math.sqrt(p * (1 - p) / paths)}


def numpy_streaming(paths: int, seed: int = 1, chunk: int = 100_000) -> dict[str, float]:
    """The same, tuned: streaming over days on a chunk that stays in cache, in log space."""
    rng = np.random.Generator(np.random.SFC64(seed))
    dt = 1.0 / 252
    drift = -0.5 * A_SIGMA**2 * dt
    vol = A_SIGMA * math.sqrt(dt)
    log_barrier = math.log(A_BARRIER)
    hits = 0
    started = time.perf_counter()
    for start in range(0, paths, chunk):
        n = min(chunk, paths - start)
        log_value = np.zeros(n)
        hit = np.zeros(n, dtype=bool)
        for _ in range(A_DAYS):
            log_value += drift + vol * rng.standard_normal(n)
            hit |= log_value <= log_barrier
        hits += int(hit.sum())
    wall = time.perf_counter() - started
    p = hits / paths
    return {"wall_s": wall, "paths": paths, "path_days": paths * A_DAYS, "p_margin_call": p,
            "p_margin_call_se": math.sqrt(p * (1 - p) / paths)}


def quantlib_peer(paths: int, seed: int = 1) -> dict[str, float] | None:
    """The same with QuantLib's GaussianPathGenerator (None if QuantLib is not installed)."""
    try:
        import QuantLib as ql
    except ImportError:
        return None
    today = ql.Date(2, 1, 2026)
    ql.Settings.instance().evaluationDate = today
    day_count = ql.Actual365Fixed()
    spot = ql.QuoteHandle(ql.SimpleQuote(1.0))
    flat = ql.YieldTermStructureHandle(ql.FlatForward(today, 0.0, day_count))
    vol = ql.BlackVolTermStructureHandle(ql.BlackConstantVol(today, ql.NullCalendar(), A_SIGMA, day_count))
    process = ql.BlackScholesMertonProcess(spot, flat, flat, vol)
    horizon = A_DAYS / 252
    generator = ql.GaussianPathGenerator(
        process, horizon, A_DAYS, ql.GaussianRandomSequenceGenerator(ql.UniformRandomSequenceGenerator(A_DAYS, ql.UniformRandomGenerator(seed))), False
    )
    hits = 0
    started = time.perf_counter()
    for _ in range(paths):
        path = generator.next().value()
        if min(path[i] for i in range(1, len(path))) <= A_BARRIER:
            hits += 1
    wall = time.perf_counter() - started
    p = hits / paths
    return {"wall_s": wall, "paths": paths, "path_days": paths * A_DAYS, "p_margin_call": p,
            "p_margin_call_se": math.sqrt(p * (1 - p) / paths)}
