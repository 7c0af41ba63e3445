"""One trading day of the market on one path: correlated GBM with jumps, or replayed history
(a block bootstrap) with jumps, and private marks.

Kernels work on one path's state (arrays over assets) so the caller can stream over days
without storing a path's history.
"""

from __future__ import annotations

import numpy as np
from margincall._jit import inline_kernel

from margincall.market.rng import normal, poisson_small, uniform


@inline_kernel
def step_log_values(
    asset_state: np.ndarray,
    column: int,
    drift_dt: np.ndarray,
    vol_sqrt_dt: np.ndarray,
    chol: np.ndarray,
    jump_mean_per_day: np.ndarray,
    jump_p0: np.ndarray,
    jump_log_mean: np.ndarray,
    jump_log_stdev: np.ndarray,
    diffusion_rng: np.ndarray,
    jump_rng: np.ndarray,
    z: np.ndarray,
    jumped: np.ndarray,
    sign: float,
) -> None:
    """Advance every asset's fair log value, `asset_state[:, column]`, by one day, in place.

    ln V(t+1) = ln V(t) + (mu - sigma^2/2) dt + sigma sqrt(dt) (L z)_a + sum of log jumps,
    with z standard normals, L the correlation's factor and jumps compound Poisson.
    `jumped[a]` is set to whether asset a jumped today; `sign` -1 gives the antithetic path.
    """
    n = asset_state.shape[0]
    for a in range(n):
        z[a] = sign * normal(diffusion_rng)
    for a in range(n):
        eps = 0.0
        for b in range(a + 1):
            eps += chol[a, b] * z[b]
        asset_state[a, column] += drift_dt[a] + vol_sqrt_dt[a] * eps
    add_jumps(asset_state, column, jump_mean_per_day, jump_p0, jump_log_mean, jump_log_stdev, jump_rng, jumped)


@inline_kernel
def add_jumps(
    asset_state: np.ndarray,
    column: int,
    jump_mean_per_day: np.ndarray,
    jump_p0: np.ndarray,
    jump_log_mean: np.ndarray,
    jump_log_stdev: np.ndarray,
    jump_rng: np.ndarray,
    jumped: np.ndarray,
) -> None:
    """Add today's compound Poisson log jumps to every asset's log value; `jumped[a]` says
    whether asset a jumped."""
    for a in range(asset_state.shape[0]):
        jumped[a] = False
        if jump_mean_per_day[a] > 0.0:
            count = poisson_small(jump_rng, jump_mean_per_day[a], jump_p0[a])
            if count > 0:
                jumped[a] = True
                for _ in range(count):
                    asset_state[a, column] += jump_log_mean[a] + jump_log_stdev[a] * normal(jump_rng)


@inline_kernel
def step_historical(
    asset_state: np.ndarray,
    column: int,
    history: np.ndarray,
    block_days: int,
    day: int,
    diffusion_rng: np.ndarray,
    cursor: np.ndarray,
    jump_mean_per_day: np.ndarray,
    jump_p0: np.ndarray,
    jump_log_mean: np.ndarray,
    jump_log_stdev: np.ndarray,
    jump_rng: np.ndarray,
    jumped: np.ndarray,
    sign: float,
) -> None:
    """Advance every asset's log value by one day of replayed history (a block bootstrap), in place.

    Days 1 .. block_days replay rows cursor .. cursor + block_days - 1 of `history` [T, A] (daily
    log returns, all assets on the same row), and so on: on days 1, 1 + block_days, 1 + 2 block_days,
    ... `cursor[0]` (the path's block start) jumps to a row drawn uniformly from 0 .. T - block_days
    with the path's diffusion stream. Jumps are added on top as under GBM; `sign` -1 replays the
    negated returns (the antithetic partner of a path).
    """
    step_historical_returns(asset_state, column, history, block_days, day, diffusion_rng, cursor, sign)
    add_jumps(asset_state, column, jump_mean_per_day, jump_p0, jump_log_mean, jump_log_stdev, jump_rng, jumped)


@inline_kernel
def step_historical_returns(
    asset_state: np.ndarray,
    column: int,
    history: np.ndarray,
    block_days: int,
    day: int,
    diffusion_rng: np.ndarray,
    cursor: np.ndarray,
    sign: float,
) -> None:
    """`step_historical` without the jumps: the day's replayed returns."""
    offset = (day - 1) % block_days
    if offset == 0:
        starts = history.shape[0] - block_days + 1
        start = int(uniform(diffusion_rng) * starts)
        cursor[0] = start if start < starts else starts - 1
    row = cursor[0] + offset
    for a in range(asset_state.shape[0]):
        asset_state[a, column] += sign * history[row, a]


@inline_kernel
def valuation_event(day: int, every_days: int, event_prob_per_day: float, event_rng: np.ndarray) -> bool:
    """Whether a private asset's fair value is observed today from its scheduled or random events.

    The random draw is taken every day for every private asset, whatever the outcome, so that the
    event stream stays aligned across scenario variants (common random numbers).
    """
    u = uniform(event_rng)
    if every_days > 0 and day % every_days == 0:
        return True
    return u < event_prob_per_day


@inline_kernel
def step_market(
    asset_state: np.ndarray,
    column: int,
    day: int,
    history: np.ndarray,
    block_days: int,
    cursor: np.ndarray,
    drift_dt: np.ndarray,
    vol_sqrt_dt: np.ndarray,
    chol: np.ndarray,
    jump_mean_per_day: np.ndarray,
    jump_p0: np.ndarray,
    jump_log_mean: np.ndarray,
    jump_log_stdev: np.ndarray,
    diffusion_rng: np.ndarray,
    jump_rng: np.ndarray,
    z: np.ndarray,
    jumped: np.ndarray,
    sign: float,
) -> None:
    """One day of the scenario's market model: replayed history when `history` has rows, else
    correlated GBM; jumps on top either way."""
    if history.shape[0] > 0:
        step_historical(
            asset_state, column, history, block_days, day, diffusion_rng, cursor, jump_mean_per_day, jump_p0,
            jump_log_mean, jump_log_stdev, jump_rng, jumped, sign,
        )
    else:
        step_log_values(
            asset_state, column, drift_dt, vol_sqrt_dt, chol, jump_mean_per_day, jump_p0,
            jump_log_mean, jump_log_stdev, diffusion_rng, jump_rng, z, jumped, sign,
        )
