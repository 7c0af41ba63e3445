"""The day loop over one path, and the parallel loop over blocks of paths.

A path streams over days with its state in a few small arrays; nothing of size paths x days is
ever allocated. Each path's random numbers come from streams keyed by (seed, path index), so a
path's outcome does not depend on the block, thread or worker that runs it. Per-block sums are
summed in path order inside the block; histograms are integer counts. Both merge exactly.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit, prange

from margincall._jit import inline_kernel, kernel

from margincall.engine import codes as c
from margincall.engine.bins import (
    AMOUNT_BINS,
    AMOUNT_DECADES,
    LTV_BINS,
    LTV_HI,
    LTV_LO,
    SIGNED_BINS,
    log_bin,
    ltv_bin_of_log,
    signed_bin,
)
from margincall.engine.phases import loan_terms, resolve_day, sale_market
from margincall.engine.state import (
    A_BSOLD,
    A_LOGV,
    A_PERM,
    A_PRE,
    A_PRICE,
    A_SOLD,
    A_UNITS,
    B_CASH,
    B_CLAIMS,
    B_DISCOUNT_COST,
    B_EQUITY0,
    B_EXEC_COST,
    B_LAR,
    B_LEDGER_MAX,
    B_PNL_EXEC,
    B_PNL_FLOWS,
    B_PNL_FORGIVEN,
    B_PNL_INTEREST,
    B_PNL_MARKET,
    B_SOLD_NOMINAL,
    BI_DEFAULTED,
    BI_FLAGS,
    I_FIRST_CALL,
    I_GATE_ASSET,
    I_WAKE_DAY,
    I_DEFAULT_DAY,
    I_FIRST_DEFAULT,
    I_FLAGS,
    I_MATURITY,
    I_STATUS,
    L_ACCRUED,
    L_DEBT_LOGGED,
    L_LOG_BARRIER,
    L_LOG_DEBT,
    L_LOG_POOL,
    L_CURE_PAID,
    L_EXPOSURE,
    L_LOSS,
    L_PRINCIPAL,
    L_RECOVERED,
    N_ASSET_F,
    N_BORROWER_F,
    N_BORROWER_I,
    N_LOAN_F,
    N_LOAN_I,
    TINY,
    debt,
    lending_value,
    log_event,
    loan_to_value,
    revalue,
)
from margincall.market.impact import impact_fraction
from margincall.market.paths import step_historical_returns, step_market, valuation_event
from margincall.market.rng import (
    STREAM_DIFFUSION,
    STREAM_EVENTS,
    STREAM_JUMPS,
    normal,
    normal_words,
    poisson_of_uniform,
    poisson_small,
    seed_stream,
    uniform,
)

REFINANCE_DRAWS = 8

# loan_sums[block, loan, column]
LS_LOSS = 0
LS_LOSS_SQ = 1
LS_CURE_PAID = 2
LS_RECOVERED = 3
LS_EXPOSURE = 4
N_LOAN_SUMS = 5

# borrower_sums[block, column]
BS_LAR = 0
BS_LAR_SQ = 1
BS_SOLD = 2
BS_EXEC_COST = 3
BS_DISCOUNT_COST = 4
BS_EQUITY = 5
BS_EQUITY_SQ = 6
BS_SOLD_SQ = 7
N_BORROWER_SUMS = 8


class Outputs(NamedTuple):
    """Mergeable statistics. Axis 0 is the block (sums, exact per block) or the slot (counts)."""

    loan_counts: np.ndarray  # [B, L, N_LOAN_FLAGS] paths with each loan event
    borrower_counts: np.ndarray  # [B, N_BORROWER_FLAGS] paths with each borrower event
    cocall: np.ndarray  # [B, L, L] paths on which both loans were called
    loan_sums: np.ndarray  # [B, L, N_LOAN_SUMS]
    borrower_sums: np.ndarray  # [B, N_BORROWER_SUMS]
    sold_interval: np.ndarray  # [B, R, A] value sold, by recorded interval and asset
    ledger_max: np.ndarray  # [B] largest accounting residual, currency
    pair_loan_both: np.ndarray  # [B, L, N_LOAN_FLAGS] antithetic pairs with the event on both paths
    pair_borrower_both: np.ndarray  # [B, N_BORROWER_FLAGS]
    pair_loss_sq: np.ndarray  # [B, L] sum over pairs of (loss_2k + loss_2k+1)^2
    pair_sold_sq: np.ndarray  # [B] sum over pairs of (sold_2k + sold_2k+1)^2
    first_call: np.ndarray  # [S, L, H + 2] day of the first call (H + 1: never)
    first_default: np.ndarray  # [S, L, H + 2]
    loss_hist: np.ndarray  # [S, L, AMOUNT_BINS + 2]
    lar_hist: np.ndarray  # [S, AMOUNT_BINS + 2]
    equity_hist: np.ndarray  # [S, SIGNED_BINS + 2]
    # fan charts: [.., bin, recorded day], so that one path's successive records share cache lines
    ltv_hist: np.ndarray  # [S, L, LTV_BINS + 2, R]
    cash_hist: np.ndarray  # [S, AMOUNT_BINS + 2, R]


def allocate_outputs(n_blocks: int, n_slots: int, n_assets: int, n_loans: int, horizon: int, n_recorded: int) -> Outputs:
    return Outputs(
        loan_counts=np.zeros((n_blocks, n_loans, c.N_LOAN_FLAGS), dtype=np.int64),
        borrower_counts=np.zeros((n_blocks, c.N_BORROWER_FLAGS), dtype=np.int64),
        cocall=np.zeros((n_blocks, n_loans, n_loans), dtype=np.int64),
        loan_sums=np.zeros((n_blocks, n_loans, N_LOAN_SUMS)),
        borrower_sums=np.zeros((n_blocks, N_BORROWER_SUMS)),
        sold_interval=np.zeros((n_blocks, n_recorded, n_assets)),
        ledger_max=np.zeros(n_blocks),
        pair_loan_both=np.zeros((n_blocks, n_loans, c.N_LOAN_FLAGS), dtype=np.int64),
        pair_borrower_both=np.zeros((n_blocks, c.N_BORROWER_FLAGS), dtype=np.int64),
        pair_loss_sq=np.zeros((n_blocks, n_loans)),
        pair_sold_sq=np.zeros(n_blocks),
        first_call=np.zeros((n_slots, n_loans, horizon + 2), dtype=np.int64),
        first_default=np.zeros((n_slots, n_loans, horizon + 2), dtype=np.int64),
        loss_hist=np.zeros((n_slots, n_loans, AMOUNT_BINS + 2), dtype=np.int64),
        lar_hist=np.zeros((n_slots, AMOUNT_BINS + 2), dtype=np.int64),
        equity_hist=np.zeros((n_slots, SIGNED_BINS + 2), dtype=np.int64),
        ltv_hist=np.zeros((n_slots, n_loans, LTV_BINS + 2, n_recorded), dtype=np.int32),
        cash_hist=np.zeros((n_slots, AMOUNT_BINS + 2, n_recorded), dtype=np.int32),
    )


@inline_kernel
def _equity(asset_f, loan_f, b_f) -> float:
    value = b_f[B_CASH] - b_f[B_CLAIMS]
    for a in range(asset_f.shape[0]):
        if asset_f[a, A_UNITS] != 0.0:
            value += asset_f[a, A_UNITS] * asset_f[a, A_PRICE]
    for l in range(loan_f.shape[0]):
        value -= loan_f[l, L_PRINCIPAL] + loan_f[l, L_ACCRUED]
    return value


@inline_kernel
def _check_ledger(asset_f, loan_f, b_f) -> None:
    expected = (
        b_f[B_EQUITY0]
        + b_f[B_PNL_MARKET]
        + b_f[B_PNL_EXEC]
        + b_f[B_PNL_INTEREST]
        + b_f[B_PNL_FLOWS]
        + b_f[B_PNL_FORGIVEN]
    )
    residual = abs(_equity(asset_f, loan_f, b_f) - expected)
    if not residual <= b_f[B_LEDGER_MAX]:  # also records NaN
        b_f[B_LEDGER_MAX] = residual if residual == residual else math.inf


@inline_kernel
def _needs_resolution(t, obligation_day, secured, haircut, first_trigger, asset_f, pledged, loan_f, loan_i) -> bool:
    """Whether anything but prices can happen today: an obligation falls due, a loan matures,
    a call is open or a pool is being sold, or a secured loan's LTV reached a trigger."""
    if obligation_day[t]:
        return True
    for l in range(loan_f.shape[0]):
        status = loan_i[l, I_STATUS]
        if status == c.CALLED or status == c.DEFAULTED:
            return True
        if status == c.ACTIVE:
            if loan_i[l, I_MATURITY] == t:
                return True
            if secured[l]:
                value = 0.0
                for a in range(asset_f.shape[0]):
                    if pledged[l, a] > 0.0:
                        value += pledged[l, a] * asset_f[a, A_PRICE] * (1.0 - haircut[l, a])
                if loan_f[l, L_PRINCIPAL] + loan_f[l, L_ACCRUED] >= first_trigger[l] * value:
                    return True
    return False


GATE_DAYS = 64  # the quiet-day gates allow for this many days of interest accrual
GATE_STATIC = -2  # I_GATE_ASSET of a pool of unlisted private assets whose LTV is below its trigger
GATE_WAIT = -3  # I_GATE_ASSET of a defaulted loan whose private pool waits for its sale delay


@inline_kernel
def _sync_prices(t, listing_day, asset_f, b_f) -> None:
    """Materialise today's market prices of listed assets (exp of the log price) and revalue."""
    for a in range(asset_f.shape[0]):
        if t >= listing_day[a]:
            new_price = math.exp(asset_f[a, A_LOGV] + asset_f[a, A_PERM])
            revalue(a, new_price, asset_f, b_f)
            asset_f[a, A_PRE] = new_price


@inline_kernel
def _next_due_day(t, horizon, next_busy_day, loan_i) -> int:
    """The first day from t that needs the full machinery whatever prices do: an obligation, a
    shock, a listing or a scheduled mark, a maturity, a waiting pool's first sale day, or the day
    after the horizon."""
    due = min(next_busy_day[t], horizon + 1)
    for l in range(loan_i.shape[0]):
        status = loan_i[l, I_STATUS]
        if status == c.ACTIVE and loan_i[l, I_MATURITY] < due:
            due = loan_i[l, I_MATURITY]
        elif status == c.DEFAULTED and loan_i[l, I_GATE_ASSET] == GATE_WAIT and loan_i[l, I_WAKE_DAY] < due:
            due = loan_i[l, I_WAKE_DAY]
    return due


@inline_kernel
def _sale_wake_day(t, l, listing_day, sale_delay, pledged, loan_i) -> int:
    """For a defaulted loan whose remaining pool is unlisted private assets still in their sale
    delay, the first day the lender may sell one; else t (the loan needs the full day)."""
    wake = 1 << 62
    for a in range(pledged.shape[1]):
        if pledged[l, a] > 0.0:
            first_sale = loan_i[l, I_DEFAULT_DAY] + sale_delay[a]
            if t >= listing_day[a] or t >= first_sale:
                return t
            wake = min(wake, first_sale)
    return wake if wake < (1 << 62) else t


@inline_kernel
def _accrues(status) -> bool:
    """Whether a loan in this status accrues interest (any loan that is neither repaid nor closed)."""
    return status == c.ACTIVE or status == c.CALLED or status == c.DEFAULTED


@inline_kernel
def _accrue_day(rate, dt, loan_f, loan_i, b_f) -> None:
    """A day's interest on every loan that accrues, owed by the borrower."""
    for l in range(loan_f.shape[0]):
        if rate[l] != 0.0 and _accrues(loan_i[l, I_STATUS]):
            accrual = loan_f[l, L_PRINCIPAL] * rate[l] * dt
            loan_f[l, L_ACCRUED] += accrual
            b_f[B_PNL_INTEREST] -= accrual


@kernel
def _refresh_gates(
    t, secured, rate, haircut, first_trigger, dt, listing_day, sale_delay, asset_f, pledged, loan_f, loan_i
) -> bool:
    """For each active loan whose pool is one listed asset, the log price at or below which its
    LTV may reach the first trigger within GATE_DAYS (debt grows by accrual meanwhile):
    log P <= log(D_then / (trigger * units * (1 - haircut))).

    A pool of unlisted private assets only is gated statically (GATE_STATIC) when its LTV stays
    below the trigger at the marks it has: only a valuation event can change them.

    A defaulted loan whose private pool waits for its sale delay (GATE_WAIT) only accrues until
    its wake day, which ends a quiet stretch.

    Returns whether the path is quiet: every loan is repaid or closed, or active and unsecured,
    or active with a gated pool, or waiting (so quiet days can run in `_quiet_days`)."""
    quiet = True
    for l in range(loan_f.shape[0]):
        loan_i[l, I_GATE_ASSET] = -1
        status = loan_i[l, I_STATUS]
        if status == c.DEFAULTED and secured[l]:
            wake = _sale_wake_day(t, l, listing_day, sale_delay, pledged, loan_i)
            if wake > t:
                loan_i[l, I_GATE_ASSET] = GATE_WAIT
                loan_i[l, I_WAKE_DAY] = wake
                continue
        if status == c.CALLED or status == c.DEFAULTED:
            quiet = False
            continue
        if status != c.ACTIVE or not secured[l]:
            continue
        only = -1
        count = 0
        unlisted = 0
        for a in range(asset_f.shape[0]):
            if pledged[l, a] > 0.0:
                only = a
                count += 1
                if t < listing_day[a]:
                    unlisted += 1
        debt_then = debt(loan_f, l) + loan_f[l, L_PRINCIPAL] * rate[l] * dt * (GATE_DAYS + 1)
        if count > 0 and unlisted == count:
            # marks of unlisted assets stay put until a valuation event, which ends a quiet stretch
            if debt_then < first_trigger[l] * lending_value(l, pledged, haircut, asset_f):
                loan_i[l, I_GATE_ASSET] = GATE_STATIC
            else:
                quiet = False
            continue
        units = pledged[l, only] * (1.0 - haircut[l, only]) if count == 1 else 0.0
        if count != 1 or t < listing_day[only] or units <= 0.0 or debt_then <= 0.0 or not first_trigger[l] < math.inf:
            quiet = False
            continue
        loan_i[l, I_GATE_ASSET] = only
        loan_f[l, L_LOG_POOL] = math.log(units)
        loan_f[l, L_LOG_BARRIER] = math.log(debt_then / first_trigger[l]) - loan_f[l, L_LOG_POOL]
    return quiet


@kernel
def _quiet_days(
    t, stop, rec_of_day, dt, rate, secured, haircut, asset_f, pledged, loan_f, loan_i, b_f, z, jumped, sign, drift_dt,
    vol_sqrt_dt, chol, jump_mean_per_day, jump_p0, jump_log_mean, jump_log_stdev, diffusion_rng, jump_rng, listing_day,
    cash_bin, ltv_hist, cash_hist, slot, history, block_days, cursor, mark_prob, event_rng, pending_event,
) -> int:
    """Days t .. stop - 1 of a quiet path: the market moves, interest accrues, fan charts record,
    and each gated pool's log price is compared with its gate. Returns `stop` when every day
    passed quietly, or -d when a gate tripped on day d (after its market move: the caller
    finishes that day with the full covenant machinery, using the valuation events drawn here,
    `pending_event[a]` 1 or 0, rather than drawing them again).

    The same draws in the same order as `step_market` and `valuation_event`. The diffusion
    stream's state is held in words (registers) for the stretch and written back on return; the
    jump and event streams stay in their arrays (all three in words spilled registers: 1.6x slower)."""
    n_assets = asset_f.shape[0]
    n_loans = loan_f.shape[0]
    replay = history.shape[0] > 0
    d0, d1, d2, d3 = diffusion_rng[0], diffusion_rng[1], diffusion_rng[2], diffusion_rng[3]
    # listings and accrual changes end a stretch: these hold throughout it
    unlisted = False
    for a in range(n_assets):
        jumped[a] = False
        if t < listing_day[a]:
            unlisted = True
    accruing = False
    for l in range(n_loans):
        if rate[l] != 0.0 and _accrues(loan_i[l, I_STATUS]):
            accruing = True
    result = stop
    for day in range(t, stop):
        if replay:
            # a block bootstrap draws its block starts from the diffusion stream's array; the
            # words follow it, as they are written back on return
            step_historical_returns(asset_f, A_LOGV, history, block_days, day, diffusion_rng, cursor, sign)
            d0, d1, d2, d3 = diffusion_rng[0], diffusion_rng[1], diffusion_rng[2], diffusion_rng[3]
        else:
            for a in range(n_assets):
                u, d0, d1, d2, d3 = normal_words(d0, d1, d2, d3, diffusion_rng)
                z[a] = sign * u
            for a in range(n_assets):
                eps = 0.0
                for b in range(a + 1):
                    eps += chol[a, b] * z[b]
                asset_f[a, A_LOGV] += drift_dt[a] + vol_sqrt_dt[a] * eps
        for a in range(n_assets):
            if jump_mean_per_day[a] > 0.0:
                count = poisson_of_uniform(uniform(jump_rng), jump_mean_per_day[a], jump_p0[a])
                jumped[a] = count > 0
                for _ in range(count):
                    asset_f[a, A_LOGV] += jump_log_mean[a] + jump_log_stdev[a] * normal(jump_rng)
        tripped = False
        if unlisted:  # today's valuation-event draws, kept for the full day if one happens
            for a in range(n_assets):
                if day < listing_day[a]:
                    # scheduled marks are due days (`next_busy_day`): none falls inside a stretch
                    happened = uniform(event_rng) < mark_prob[a] or jumped[a]
                    pending_event[a] = 1 if happened else 0
                    tripped = tripped or happened
        for l in range(n_loans):
            a = loan_i[l, I_GATE_ASSET]
            if a >= 0 and asset_f[a, A_LOGV] + asset_f[a, A_PERM] <= loan_f[l, L_LOG_BARRIER]:
                tripped = True
        if tripped:
            result = -day
            break
        if unlisted:
            for a in range(n_assets):
                pending_event[a] = -1
        if accruing:
            _accrue_day(rate, dt, loan_f, loan_i, b_f)
        r = rec_of_day[day]
        if r >= 0:
            _record_ltv(day, r, secured, haircut, listing_day, asset_f, pledged, loan_f, loan_i, b_f, ltv_hist, slot)
            cash_hist[slot, cash_bin, r] += 1
    diffusion_rng[0], diffusion_rng[1], diffusion_rng[2], diffusion_rng[3] = d0, d1, d2, d3
    return result


@inline_kernel
def _log_debt(loan_f, l) -> float:
    """The log of a loan's debt, refreshed only when the debt changed."""
    d = debt(loan_f, l)
    if d != loan_f[l, L_DEBT_LOGGED]:
        loan_f[l, L_DEBT_LOGGED] = d
        loan_f[l, L_LOG_DEBT] = math.log(d)
    return loan_f[l, L_LOG_DEBT]


@inline_kernel
def _gated_ltv_bin(loan_f, l, log_price) -> int:
    """Fan-chart bin of a gated loan's LTV from its pool's log price: log LTV = log debt - log of
    the lending units - log price."""
    return ltv_bin_of_log(_log_debt(loan_f, l) - loan_f[l, L_LOG_POOL] - log_price)


@kernel
def _quiet_days_single(
    t, stop, drift_dt, vol_sqrt_dt, chol00, jump_mean_per_day, jump_p0, jump_log_mean, jump_log_stdev,
    diffusion_rng, jump_rng, sign, asset_f, jumped, loan_f, loan_i, rate, dt, secured, b_f, rec_of_day,
    interval_of_day, rec_log_price, ltv_hist, cash_hist, cash_bin, slot,
) -> int:
    """`_quiet_days` for the commonest book, one listed asset under GBM (a single-stock margin
    loan): the same draws in the same order and the same arithmetic, with the asset's log value
    and the diffusion stream's state in registers and the loans' gates folded into one barrier.
    The caller has checked that every secured loan is gated on the asset or owes nothing, so the
    fan charts need no prices. Returns `stop`, or -d when the gate tripped on day d (after its
    market move).

    The market loop only moves the price and keeps the log price of recorded days in
    `rec_log_price`; interest and fan charts follow in a second loop over the same days. Neither
    depends on the other within a stretch (the barrier holds for its accrual), and done inside the
    market loop they pushed the generator's state out of registers (1.3x slower)."""
    n_loans = loan_f.shape[0]
    log_v = asset_f[0, A_LOGV]
    perm = asset_f[0, A_PERM]
    barrier = -math.inf
    accruing = False
    for l in range(n_loans):
        if loan_i[l, I_GATE_ASSET] == 0 and loan_f[l, L_LOG_BARRIER] > barrier:
            barrier = loan_f[l, L_LOG_BARRIER]
        if rate[l] != 0.0 and _accrues(loan_i[l, I_STATUS]):
            accruing = True
    result = stop
    jumped_today = False
    s0, s1, s2, s3 = diffusion_rng[0], diffusion_rng[1], diffusion_rng[2], diffusion_rng[3]
    for day in range(t, stop):
        z, s0, s1, s2, s3 = normal_words(s0, s1, s2, s3, diffusion_rng)
        eps = 0.0 + chol00 * (sign * z)
        log_v += drift_dt + vol_sqrt_dt * eps
        jumped_today = False
        if jump_mean_per_day > 0.0:
            count = poisson_small(jump_rng, jump_mean_per_day, jump_p0)
            if count > 0:
                jumped_today = True
                for _ in range(count):
                    log_v += jump_log_mean + jump_log_stdev * normal(jump_rng)
        log_price = log_v + perm
        if log_price <= barrier:
            result = -day
            break
        r = rec_of_day[day]
        if r >= 0:
            rec_log_price[r] = log_price
    diffusion_rng[0], diffusion_rng[1], diffusion_rng[2], diffusion_rng[3] = s0, s1, s2, s3
    asset_f[0, A_LOGV] = log_v
    jumped[0] = jumped_today

    # the quiet days' interest and fan charts (a tripped day is finished by the caller)
    end = -result if result < 0 else stop
    if accruing:
        for day in range(t, end):
            _accrue_day(rate, dt, loan_f, loan_i, b_f)
            r = rec_of_day[day]
            if r >= 0:
                _record_single(loan_f, loan_i, secured, rec_log_price[r], ltv_hist, cash_hist, cash_bin, slot, r)
    elif end > t:
        # the debt stands still: one loan at a time over the recorded days, in tight loops
        lo = interval_of_day[t]
        hi = interval_of_day[end - 1] + (1 if rec_of_day[end - 1] >= 0 else 0)
        for l in range(n_loans):
            if not secured[l]:
                continue
            hist = ltv_hist[slot, l]
            if loan_i[l, I_GATE_ASSET] == 0:
                offset = _log_debt(loan_f, l) - loan_f[l, L_LOG_POOL]
                for r in range(lo, hi):
                    hist[ltv_bin_of_log(offset - rec_log_price[r]), r] += 1
            else:
                for r in range(lo, hi):
                    hist[0, r] += 1
        cash = cash_hist[slot, cash_bin]
        for r in range(lo, hi):
            cash[r] += 1
    return result


@inline_kernel
def _record_single(loan_f, loan_i, secured, log_price, ltv_hist, cash_hist, cash_bin, slot, r) -> None:
    """A recorded day of `_quiet_days_single`: each secured loan's LTV bin and the cash bin."""
    for l in range(loan_f.shape[0]):
        if secured[l]:
            k = _gated_ltv_bin(loan_f, l, log_price) if loan_i[l, I_GATE_ASSET] == 0 else 0
            ltv_hist[slot, l, k, r] += 1
    cash_hist[slot, cash_bin, r] += 1


@inline_kernel
def _single_quiet_ok(t, n_assets, history, listing_day, secured, loan_f, loan_i) -> bool:
    """Whether `_quiet_days_single` may run the stretch from day t: one asset, listed, under GBM,
    and every secured loan gated on it or owing nothing."""
    if n_assets != 1 or history.shape[0] > 0 or t < listing_day[0]:
        return False
    for l in range(loan_f.shape[0]):
        if secured[l] and loan_i[l, I_GATE_ASSET] != 0 and debt(loan_f, l) > TINY:
            return False
    return True


@inline_kernel
def _record_ltv(t, r, secured, haircut, listing_day, asset_f, pledged, loan_f, loan_i, b_f, ltv_hist, slot) -> None:
    """Add each secured loan's LTV to the day's fan-chart histogram; a gated single-asset pool's
    log LTV comes from the log price, other pools' LTV from materialised prices.
    (Arrays, not the lowered namedtuples, are passed: copying those on every call costs more
    than the recording.)"""
    synced = False
    for l in range(loan_f.shape[0]):
        if not secured[l]:
            continue
        a = loan_i[l, I_GATE_ASSET]
        if debt(loan_f, l) <= TINY:  # repaid or closed: no debt, LTV 0
            k = 0
        elif a >= 0:
            k = _gated_ltv_bin(loan_f, l, asset_f[a, A_LOGV] + asset_f[a, A_PERM])
        else:
            # pools of unlisted assets (GATE_STATIC, GATE_WAIT) are valued at their marks already
            if not synced and a != GATE_STATIC and a != GATE_WAIT:
                _sync_prices(t, listing_day, asset_f, b_f)
                synced = True
            k = log_bin(loan_to_value(l, loan_f, pledged, haircut, asset_f), LTV_LO, LTV_HI, LTV_BINS)
        ltv_hist[slot, l, k, r] += 1


@inline_kernel
def simulate_path(
    path, seed, mk, ln, bw, rec, asset_f, loan_f, loan_i, b_f, b_i, pledged, lender_sold, z, jumped, shocked,
    rng, refinance_u, pair_i, pair_f, out, block, slot, log, log_n, cursor, pending_event, rec_log_price,
) -> None:
    """Simulate one path from day 0 to the horizon and add its outcome to the statistics.

    A quiet day (no obligation, no open call or liquidation, every LTV below its triggers) only
    moves prices and accrues interest; the covenant machinery runs on the other days, after which
    the accounting identity is checked.

    Under the historical market model (`mk.history` has rows) the market replays blocks of real
    returns instead of drawing GBM moves; `cursor` (int64[1]) holds the path's current block start.
    """
    n_assets = asset_f.shape[0]
    n_loans = loan_f.shape[0]
    horizon = rec.horizon
    diffusion_rng = rng[0]
    jump_rng = rng[1]
    event_rng = rng[2]
    key = path
    sign = 1.0
    # the pair (2k, 2k + 1) shares stream k; the odd path mirrors the diffusion (historical: replays
    # the same blocks with the opposite sign)
    if rec.antithetic:
        key = path >> 1
        if path & 1:
            sign = -1.0
    seed_stream(diffusion_rng, seed, key, STREAM_DIFFUSION)
    seed_stream(jump_rng, seed, key, STREAM_JUMPS)
    seed_stream(event_rng, seed, key, STREAM_EVENTS)
    for l in range(n_loans):
        for k in range(refinance_u.shape[1]):
            refinance_u[l, k] = uniform(event_rng)
    log_n[1] = path
    sold_interval = out.sold_interval[block]
    # hoisted: numba would otherwise re-bind these arrays every day
    drift_dt, vol_sqrt_dt, chol = mk.drift_dt, mk.vol_sqrt_dt, mk.chol
    jump_mean_per_day, jump_p0, jump_log_mean, jump_log_stdev = mk.jump_mean_per_day, mk.jump_p0, mk.jump_log_mean, mk.jump_log_stdev
    listing_day, mark_every, mark_prob, sale_delay = mk.listing_day, mk.mark_every, mk.mark_prob, mk.sale_delay
    shock_day, shock_asset, shock_log = mk.shock_day, mk.shock_asset, mk.shock_log
    history, block_days = mk.history, mk.block_days
    cursor[0] = 0
    for a in range(n_assets):
        pending_event[a] = -1
    obligation_day, rec_of_day, interval_of_day = rec.obligation_day, rec.rec_of_day, rec.interval_of_day
    secured, haircut, first_trigger, rate = ln.secured, ln.haircut, ln.first_trigger, ln.rate
    dt = rec.dt
    phase_mk, phase_ln = sale_market(mk), loan_terms(ln)  # what resolve_day needs: cheaper to pass
    single = rec.single_asset_loop
    shortcuts = rec.shortcuts
    ltv_hist = out.ltv_hist
    cash_lo = rec.money_scale * 1e-7
    cash_hi = cash_lo * 10.0**AMOUNT_DECADES

    # day 0: holdings, loans and day-0 shocks
    b_f[:] = 0.0
    b_i[:] = 0
    b_f[B_CASH] = bw.cash0
    for a in range(n_assets):
        asset_f[a, A_LOGV] = math.log(mk.value0[a])
        asset_f[a, A_PERM] = 0.0
        asset_f[a, A_UNITS] = 1.0
        asset_f[a, A_SOLD] = 0.0
        asset_f[a, A_BSOLD] = 0.0
        shocked[a] = False
    shock = 0
    while shock < shock_day.shape[0] and shock_day[shock] == 0:
        asset_f[shock_asset[shock], A_LOGV] += shock_log[shock]
        shock += 1
    for a in range(n_assets):
        asset_f[a, A_PRICE] = math.exp(asset_f[a, A_LOGV])
        asset_f[a, A_PRE] = asset_f[a, A_PRICE]
    for l in range(n_loans):
        loan_f[l, :] = 0.0
        loan_i[l, :] = 0
        loan_f[l, L_PRINCIPAL] = ln.principal[l]
        loan_i[l, I_STATUS] = c.ACTIVE
        loan_i[l, I_MATURITY] = ln.term[l]
        loan_i[l, I_FIRST_CALL] = horizon + 1
        loan_i[l, I_FIRST_DEFAULT] = horizon + 1
        for a in range(n_assets):
            pledged[l, a] = ln.pledge[l, a]
            lender_sold[l, a] = 0.0
    b_f[B_EQUITY0] = _equity(asset_f, loan_f, b_f)
    cash_seen = b_f[B_CASH]
    cash_bin = log_bin(cash_seen, cash_lo, cash_hi, AMOUNT_BINS)
    quiet = _refresh_gates(
        0, secured, rate, haircut, first_trigger, dt, listing_day, sale_delay, asset_f, pledged, loan_f, loan_i
    )
    gate_day = 0
    # the gates allow for GATE_DAYS of accrual; without accrual they hold until the state changes
    gate_span = horizon + 1
    for l in range(n_loans):
        if rate[l] != 0.0:
            gate_span = GATE_DAYS
    if rec_of_day[0] >= 0:
        _record_ltv(0, rec_of_day[0], secured, haircut, listing_day, asset_f, pledged, loan_f, loan_i, b_f, ltv_hist, slot)
        out.cash_hist[slot, cash_bin, rec_of_day[0]] += 1

    t = 1
    while t <= horizon:
        stepped = False
        if quiet and shortcuts:
            # a stretch of quiet days runs in a tight loop until an event is due or a gate trips
            if b_f[B_CASH] != cash_seen:  # cash moved on a day that was not recorded
                cash_seen = b_f[B_CASH]
                cash_bin = log_bin(cash_seen, cash_lo, cash_hi, AMOUNT_BINS)
            due = _next_due_day(t, horizon, rec.next_busy_day, loan_i)
            stop = min(due, gate_day + gate_span)
            ran = stop > t
            if ran and single and _single_quiet_ok(t, n_assets, history, listing_day, secured, loan_f, loan_i):
                t = _quiet_days_single(
                    t, stop, drift_dt[0], vol_sqrt_dt[0], chol[0, 0], jump_mean_per_day[0], jump_p0[0], jump_log_mean[0],
                    jump_log_stdev[0], diffusion_rng, jump_rng, sign, asset_f, jumped, loan_f, loan_i, rate, dt, secured,
                    b_f, rec_of_day, interval_of_day, rec_log_price, ltv_hist, out.cash_hist, cash_bin, slot,
                )
            elif ran:
                t = _quiet_days(
                    t, stop, rec_of_day, dt, rate, secured, haircut, asset_f, pledged, loan_f, loan_i, b_f, z, jumped, sign,
                    drift_dt, vol_sqrt_dt, chol, jump_mean_per_day, jump_p0, jump_log_mean, jump_log_stdev, diffusion_rng,
                    jump_rng, listing_day, cash_bin, ltv_hist, out.cash_hist, slot, history, block_days, cursor, mark_prob,
                    event_rng, pending_event,
                )
            if ran:
                if t < 0:  # a gate tripped on day -t after the market moved: finish that day below
                    t = -t
                    stepped = True
                elif t > horizon:
                    break
                elif t < due:
                    # only the gates ran out: renew them from yesterday's state and stay quiet
                    gate_day = t - 1
                    quiet = _refresh_gates(
                        gate_day, secured, rate, haircut, first_trigger, dt, listing_day, sale_delay, asset_f, pledged, loan_f, loan_i
                    )
                    if quiet:
                        continue
        if not stepped:
            # the market moves (public prices are materialised lazily: see _sync_prices)
            step_market(
                asset_f, A_LOGV, t, history, block_days, cursor, drift_dt, vol_sqrt_dt, chol, jump_mean_per_day,
                jump_p0, jump_log_mean, jump_log_stdev, diffusion_rng, jump_rng, z, jumped, sign,
            )
        busy = obligation_day[t] or not shortcuts
        any_shock = False
        while shock < shock_day.shape[0] and shock_day[shock] == t:
            asset_f[shock_asset[shock], A_LOGV] += shock_log[shock]
            shocked[shock_asset[shock]] = True
            any_shock = True
            shock += 1
        for a in range(n_assets):
            if t < listing_day[a]:  # private: the mark moves only at valuation events
                if pending_event[a] >= 0:  # drawn by the quiet loop before it handed this day over
                    event = pending_event[a] == 1
                    pending_event[a] = -1
                else:
                    event = valuation_event(t, mark_every[a], mark_prob[a], event_rng)
                if event or jumped[a] or shocked[a]:
                    new_price = math.exp(asset_f[a, A_LOGV])
                    revalue(a, new_price, asset_f, b_f)
                    asset_f[a, A_PRE] = new_price
                    log_event(log, log_n, t, c.E_MARK, -1, a, new_price)
                    busy = True
            elif t == listing_day[a]:
                log_event(log, log_n, t, c.E_LISTING, -1, a, math.exp(asset_f[a, A_LOGV] + asset_f[a, A_PERM]))
                busy = True
        if any_shock:
            for a in range(n_assets):
                shocked[a] = False
        for l in range(n_loans):
            status = loan_i[l, I_STATUS]
            if status == c.CALLED or status == c.DEFAULTED or (status == c.ACTIVE and loan_i[l, I_MATURITY] == t):
                busy = True
        _accrue_day(rate, dt, loan_f, loan_i, b_f)

        # is a trigger within reach? single public-asset pools answer in log space, without exp
        if not busy:
            if t - gate_day >= gate_span:
                quiet = _refresh_gates(
                    t, secured, rate, haircut, first_trigger, dt, listing_day, sale_delay, asset_f, pledged, loan_f, loan_i
                )
                gate_day = t
            exact = False
            for l in range(n_loans):
                if loan_i[l, I_STATUS] == c.ACTIVE and secured[l]:
                    a = loan_i[l, I_GATE_ASSET]
                    if a < 0:
                        exact = True
                    elif asset_f[a, A_LOGV] + asset_f[a, A_PERM] <= loan_f[l, L_LOG_BARRIER]:
                        busy = True
            if exact and not busy:
                _sync_prices(t, listing_day, asset_f, b_f)
                busy = _needs_resolution(t, obligation_day, secured, haircut, first_trigger, asset_f, pledged, loan_f, loan_i)

        # obligations, covenants, responses, liquidations
        if busy:
            _sync_prices(t, listing_day, asset_f, b_f)
            if _needs_resolution(t, obligation_day, secured, haircut, first_trigger, asset_f, pledged, loan_f, loan_i):
                resolve_day(
                    t, refinance_u, phase_mk, phase_ln, bw, asset_f, pledged, lender_sold, loan_f, loan_i, b_f, b_i,
                    sold_interval, interval_of_day[t], log, log_n,
                )
                # today's impact: part of it stays in tomorrow's price; the day's sale counters reset
                for a in range(n_assets):
                    if asset_f[a, A_SOLD] > 0.0:
                        moved = impact_fraction(mk.impact_y[a], mk.sigma_daily[a], asset_f[a, A_SOLD], mk.adv[a])
                        asset_f[a, A_PERM] += math.log(1.0 - mk.impact_permanent[a] * moved)
                        asset_f[a, A_SOLD] = 0.0
                        asset_f[a, A_BSOLD] = 0.0
                        for l in range(n_loans):
                            lender_sold[l, a] = 0.0
                _check_ledger(asset_f, loan_f, b_f)
            quiet = _refresh_gates(
                t, secured, rate, haircut, first_trigger, dt, listing_day, sale_delay, asset_f, pledged, loan_f, loan_i
            )
            gate_day = t
        r = rec_of_day[t]
        if r >= 0:
            _record_ltv(t, r, secured, haircut, listing_day, asset_f, pledged, loan_f, loan_i, b_f, ltv_hist, slot)
            if b_f[B_CASH] != cash_seen:
                cash_seen = b_f[B_CASH]
                cash_bin = log_bin(cash_seen, cash_lo, cash_hi, AMOUNT_BINS)
            out.cash_hist[slot, cash_bin, r] += 1
        t += 1
    _sync_prices(horizon, listing_day, asset_f, b_f)
    _check_ledger(asset_f, loan_f, b_f)

    # the horizon: a pool still being sold is valued at today's prices (private: less the discount)
    for l in range(n_loans):
        if loan_i[l, I_STATUS] == c.DEFAULTED and ln.secured[l]:
            recoverable = 0.0
            for a in range(n_assets):
                if pledged[l, a] > 0.0:
                    price = asset_f[a, A_PRICE]
                    if horizon < mk.listing_day[a]:
                        price = math.exp(asset_f[a, A_LOGV]) * (1.0 - mk.sale_discount[a])
                    recoverable += pledged[l, a] * price
            shortfall = debt(loan_f, l) - recoverable
            if ln.recourse[l] and b_i[BI_DEFAULTED] == 0:
                shortfall -= b_f[B_CASH]
            if shortfall > TINY:
                loan_f[l, L_LOSS] += shortfall
                loan_i[l, I_FLAGS] |= c.F_LOSS

    # add the path's outcome to the statistics
    for l in range(n_loans):
        flags = loan_i[l, I_FLAGS]
        for k in range(c.N_LOAN_FLAGS):
            if flags & (1 << k):
                out.loan_counts[block, l, k] += 1
        if flags & c.F_CALLED:
            for m in range(n_loans):
                if loan_i[m, I_FLAGS] & c.F_CALLED:
                    out.cocall[block, l, m] += 1
        loss = loan_f[l, L_LOSS]
        out.loan_sums[block, l, LS_LOSS] += loss
        out.loan_sums[block, l, LS_LOSS_SQ] += loss * loss
        out.loan_sums[block, l, LS_CURE_PAID] += loan_f[l, L_CURE_PAID]
        out.loan_sums[block, l, LS_RECOVERED] += loan_f[l, L_RECOVERED]
        out.loan_sums[block, l, LS_EXPOSURE] += loan_f[l, L_EXPOSURE]
        out.first_call[slot, l, loan_i[l, I_FIRST_CALL]] += 1
        out.first_default[slot, l, loan_i[l, I_FIRST_DEFAULT]] += 1
        lo = ln.principal[l] * 1e-7
        out.loss_hist[slot, l, log_bin(loss, lo, lo * 10.0**AMOUNT_DECADES, AMOUNT_BINS)] += 1
    flags = b_i[BI_FLAGS]
    for k in range(c.N_BORROWER_FLAGS):
        if flags & (1 << k):
            out.borrower_counts[block, k] += 1
    lar = b_f[B_LAR]
    equity = _equity(asset_f, loan_f, b_f)
    out.borrower_sums[block, BS_LAR] += lar
    out.borrower_sums[block, BS_LAR_SQ] += lar * lar
    out.borrower_sums[block, BS_SOLD] += b_f[B_SOLD_NOMINAL]
    out.borrower_sums[block, BS_SOLD_SQ] += b_f[B_SOLD_NOMINAL] * b_f[B_SOLD_NOMINAL]
    out.borrower_sums[block, BS_EXEC_COST] += b_f[B_EXEC_COST]
    out.borrower_sums[block, BS_DISCOUNT_COST] += b_f[B_DISCOUNT_COST]
    out.borrower_sums[block, BS_EQUITY] += equity
    out.borrower_sums[block, BS_EQUITY_SQ] += equity * equity
    lo = rec.money_scale * 1e-7
    out.lar_hist[slot, log_bin(lar, lo, lo * 10.0**AMOUNT_DECADES, AMOUNT_BINS)] += 1
    out.equity_hist[slot, signed_bin(equity, rec.equity_scale, SIGNED_BINS)] += 1
    if b_f[B_LEDGER_MAX] > out.ledger_max[block]:
        out.ledger_max[block] = b_f[B_LEDGER_MAX]
    if rec.antithetic:
        _pair_statistics(path, loan_i, loan_f, b_i, b_f, pair_i, pair_f, out, block)


@inline_kernel
def _pair_statistics(path, loan_i, loan_f, b_i, b_f, pair_i, pair_f, out, block) -> None:
    """Antithetic pairs: remember the even path, add the pair's joint outcome at the odd one."""
    n_loans = loan_f.shape[0]
    if path & 1 == 0:
        for l in range(n_loans):
            pair_i[l] = loan_i[l, I_FLAGS]
            pair_f[l] = loan_f[l, L_LOSS]
        pair_i[n_loans] = b_i[BI_FLAGS]
        pair_f[n_loans] = b_f[B_SOLD_NOMINAL]
        return
    for l in range(n_loans):
        both = pair_i[l] & loan_i[l, I_FLAGS]
        for k in range(c.N_LOAN_FLAGS):
            if both & (1 << k):
                out.pair_loan_both[block, l, k] += 1
        total = pair_f[l] + loan_f[l, L_LOSS]
        out.pair_loss_sq[block, l] += total * total
    total = pair_f[n_loans] + b_f[B_SOLD_NOMINAL]
    out.pair_sold_sq[block] += total * total
    both = pair_i[n_loans] & b_i[BI_FLAGS]
    for k in range(c.N_BORROWER_FLAGS):
        if both & (1 << k):
            out.pair_borrower_both[block, k] += 1


@kernel
def simulate_block(
    start, stop, seed, mk, ln, bw, rec, asset_f, loan_f, loan_i, b_f, b_i, pledged, lender_sold, z, jumped, shocked,
    rng, refinance_u, pair_i, pair_f, out, block, slot, log, log_n, cursor, pending_event, rec_log_price,
) -> None:
    """Paths start .. stop - 1 of a block, one after the other. (The path's day loop is inlined
    here: passing the lowered inputs to a call copies every array's descriptor, which per path
    cost more than a hundred of its quiet days.)"""
    for path in range(start, stop):
        simulate_path(
            path, seed, mk, ln, bw, rec, asset_f, loan_f, loan_i, b_f, b_i, pledged, lender_sold, z,
            jumped, shocked, rng, refinance_u, pair_i, pair_f, out, block, slot, log, log_n, cursor, pending_event,
            rec_log_price,
        )


def _run_blocks_python(mk, ln, bw, rec, seed, first_block, n_blocks, block_paths, n_paths, n_slots, out, log, log_n):
    """Simulate blocks first_block .. first_block + n_blocks - 1; slot s takes every n_slots-th block."""
    n_assets = mk.value0.shape[0]
    n_loans = ln.principal.shape[0]
    for s in prange(n_slots):
        asset_f = np.zeros((n_assets, N_ASSET_F))
        loan_f = np.zeros((n_loans, N_LOAN_F))
        loan_i = np.zeros((n_loans, N_LOAN_I), dtype=np.int64)
        b_f = np.zeros(N_BORROWER_F)
        b_i = np.zeros(N_BORROWER_I, dtype=np.int64)
        pledged = np.zeros((n_loans, n_assets))
        lender_sold = np.zeros((n_loans, n_assets))
        z = np.zeros(n_assets)
        jumped = np.zeros(n_assets, dtype=np.bool_)
        shocked = np.zeros(n_assets, dtype=np.bool_)
        rng = np.zeros((3, 4), dtype=np.uint64)
        refinance_u = np.zeros((n_loans, REFINANCE_DRAWS))
        pair_i = np.zeros(n_loans + 1, dtype=np.int64)
        pair_f = np.zeros(n_loans + 1)
        cursor = np.zeros(1, dtype=np.int64)  # historical model: the path's block start in the history
        pending_event = np.zeros(n_assets, dtype=np.int64)  # valuation events drawn by a quiet stretch
        rec_log_price = np.zeros(rec.rec_days.shape[0])  # a quiet stretch's log prices on recorded days
        for j in range(s, n_blocks, n_slots):
            start = (first_block + j) * block_paths
            simulate_block(
                start, min(start + block_paths, n_paths), seed, mk, ln, bw, rec, asset_f, loan_f, loan_i, b_f, b_i,
                pledged, lender_sold, z, jumped, shocked, rng, refinance_u, pair_i, pair_f, out, j, s, log, log_n,
                cursor, pending_event, rec_log_price,
            )


run_blocks = njit(cache=True, parallel=True)(_run_blocks_python)
