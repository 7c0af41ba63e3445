"""One trading day of the market on one path: correlated GBM with jumps, or replayed history (a
block bootstrap) with jumps, and private marks.

`step_market` is the one market-day function: the full day and every quiet-stretch loop draw the
same numbers in the same order (diffusion normals asset by asset, then each jumping asset's
Poisson count and sizes, then each unlisted private asset's valuation-event uniform), so a path's
outcome does not depend on which loop ran a day.
"""

from __future__ import annotations

import numpy as np

from margincall._jit import inline
from margincall.market.columns import (
    AP_DRIFT_DT,
    AP_JUMP_LOG_MEAN,
    AP_JUMP_LOG_STDEV,
    AP_JUMP_MEAN_PER_DAY,
    AP_JUMP_P0,
    AP_VOL_SQRT_DT,
    MS_JUMPED,
    MS_LOGV,
    MS_Z,
)
from margincall.market.rng import normal, poisson_small, uniform


@inline
def add_jumps(market: np.ndarray, asset_p: np.ndarray, jump_rng: np.ndarray) -> None:
    """Add today's compound Poisson log jumps to every asset's fair log value; market[a, MS_JUMPED]
    says whether asset a jumped."""
    for a in range(market.shape[0]):
        market[a, MS_JUMPED] = 0.0
        if asset_p[a, AP_JUMP_MEAN_PER_DAY] > 0.0:
            count = poisson_small(jump_rng, asset_p[a, AP_JUMP_MEAN_PER_DAY], asset_p[a, AP_JUMP_P0])
            if count > 0:
                market[a, MS_JUMPED] = 1.0
                for _ in range(count):
                    market[a, MS_LOGV] += asset_p[a, AP_JUMP_LOG_MEAN] + asset_p[a, AP_JUMP_LOG_STDEV] * normal(jump_rng)


@inline
def replay_returns(
    market: np.ndarray, history: np.ndarray, block_days: int, day: int, diffusion_rng: np.ndarray, cursor: np.ndarray, sign: float
) -> None:
    """Day `day` of a block bootstrap: days 1 .. block_days replay rows cursor .. cursor +
    block_days - 1 of `history` [T, A] (daily log returns, all assets on one row), and so on; on
    days 1, 1 + block_days, ... the block start `cursor[0]` jumps to a row drawn uniformly from
    0 .. T - block_days with the diffusion stream. `sign` -1 replays negated returns (the
    antithetic partner)."""
    offset = (day - 1) % block_days
    if offset == 0:
        starts = history.shape[0] - block_days + 1
        start = int(uniform(diffusion_rng) * starts)
        cursor[0] = start if start < starts else starts - 1
    row = cursor[0] + offset
    for a in range(market.shape[0]):
        market[a, MS_LOGV] += sign * history[row, a]


@inline
def step_market(
    day: int,
    market: np.ndarray,
    asset_p: np.ndarray,
    chol: np.ndarray,
    history: np.ndarray,
    block_days: int,
    cursor: np.ndarray,
    diffusion_rng: np.ndarray,
    jump_rng: np.ndarray,
    sign: float,
) -> None:
    """Advance every asset's fair log value, market[:, MS_LOGV], by one day of the scenario's
    market model, jumps included:

    ln V(t+1) = ln V(t) + (mu - sigma^2/2) dt + sigma sqrt(dt) (L z)_a + sum of log jumps

    with z standard normals and L the correlation's factor (GBM), or the day's replayed returns
    when `history` has rows. `sign` -1 gives the antithetic path."""
    n = market.shape[0]
    if history.shape[0] > 0:
        replay_returns(market, history, block_days, day, diffusion_rng, cursor, sign)
    else:
        for a in range(n):
            market[a, MS_Z] = sign * normal(diffusion_rng)
        for a in range(n):
            eps = 0.0
            for b in range(a + 1):
                eps += chol[a, b] * market[b, MS_Z]
            market[a, MS_LOGV] += asset_p[a, AP_DRIFT_DT] + asset_p[a, AP_VOL_SQRT_DT] * eps
    add_jumps(market, asset_p, jump_rng)


@inline
def valuation_event(day: int, every_days: int, event_prob_per_day: float, event_rng: np.ndarray) -> bool:
    """Whether a private asset's fair value is observed today from its scheduled or random events.

    The random draw is taken every day for every unlisted private asset, whatever the outcome, so
    that the event stream stays aligned across scenario variants (common random numbers)."""
    u = uniform(event_rng)
    if every_days > 0 and day % every_days == 0:
        return True
    return u < event_prob_per_day
