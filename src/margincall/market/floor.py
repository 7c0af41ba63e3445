"""The machine's floor for path simulation: one standard normal and one exp per asset-day,
nothing else (no covenants, nothing stored), with the engine's fastest generator (its state in
registers). The engine cannot beat drawing its random numbers
and valuing its collateral; the benchmark measures how close it comes."""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from margincall.market.rng import STREAM_DIFFUSION, normal_words, seed_stream


@njit(cache=True, parallel=True)
def floor_kernel(paths: int, days: int, assets: int, seed: int, drift_dt: float, vol_sqrt_dt: float) -> float:
    """Simulate `paths` x `days` x `assets` log-values with the engine's generator; returns a sum
    of the values so that the work cannot be optimised away."""
    chunks = 256
    per_chunk = (paths + chunks - 1) // chunks
    partial = np.zeros(chunks)
    for chunk in prange(chunks):
        state = np.zeros(4, dtype=np.uint64)
        log_value = np.zeros(assets)
        total = 0.0
        for path in range(chunk * per_chunk, min((chunk + 1) * per_chunk, paths)):
            seed_stream(state, seed, path, STREAM_DIFFUSION)
            s0, s1, s2, s3 = state[0], state[1], state[2], state[3]
            for a in range(assets):
                log_value[a] = 0.0
            for _ in range(days):
                for a in range(assets):
                    z, s0, s1, s2, s3 = normal_words(s0, s1, s2, s3, state)
                    log_value[a] += drift_dt + vol_sqrt_dt * z
                    total += math.exp(log_value[a])
        partial[chunk] = total
    return partial.sum()
