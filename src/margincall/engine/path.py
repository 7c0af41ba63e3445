"""One path, day by day, and the loop over a block of paths.

A path streams over days with its state in a few small arrays; nothing of size paths x days is
allocated. A day is either quiet (prices move, interest accrues, fan charts record: no obligation
falls due, no call is open, no pool is being sold, every LTV is below its triggers) or busy, when
the full credit machinery of `engine.day` runs. Stretches of quiet days run in tight loops
(`quiet_days`, and `quiet_days_single` for one-asset books) that draw exactly the numbers, in
exactly the order, that the full day draws (`market.paths.step_market`): the reference mode
(settings[ST_SHORTCUTS] = 0) takes every day through the full machinery and gives the same
results bit for bit.

Each path's random numbers come from streams keyed by (seed, path index), so a path's outcome
does not depend on the block, thread or worker that runs it.
"""

from __future__ import annotations

import math

import numpy as np

from margincall._jit import inline, kernel
from margincall.engine import codes as c
from margincall.engine.accounts import (
    day_impact,
    debt,
    free_units,
    loan_to_value,
    log_event,
    revalue,
    sync_prices,
)
from margincall.engine.bins import (
    AMOUNT_BINS,
    AMOUNT_DECADES,
    FAN_AMOUNT_BINS,
    LTV_BINS,
    LTV_HI,
    LTV_LO,
    SIGNED_BINS,
    log_bin,
    ltv_bin_of_log,
    signed_bin,
)
from margincall.engine.layout import (
    AI_LISTING_DAY,
    AI_MARK_EVERY,
    AI_SALE_DELAY,
    AI_SELLABLE_DAY,
    AP_DRIFT_DT,
    AP_IMPACT_DECAY,
    AP_IMPACT_FLOOR,
    AP_IMPACT_PERMANENT,
    AP_JUMP_LOG_MEAN,
    AP_JUMP_LOG_STDEV,
    AP_JUMP_MEAN_PER_DAY,
    AP_JUMP_P0,
    AP_LOGP0,
    AP_MARK_PROB,
    AP_SALE_DISCOUNT,
    AP_VOL_SQRT_DT,
    BF_CASH,
    BF_CASH_BIN,
    BF_CASH_SEEN,
    BF_CLAIMS,
    BF_DISCOUNT_COST,
    BF_DRAWN,
    BF_EQUITY0,
    BF_EQUITY_NOW,
    BF_EXEC_COST,
    BF_LAR,
    BF_LEDGER_MAX,
    BF_PNL_EXEC,
    BF_PNL_FLOWS,
    BF_PNL_FORGIVEN,
    BF_PNL_INTEREST,
    BF_PNL_MARKET,
    BF_SOLD_NOMINAL,
    BI_RESPONSE,
    BP_CASH0,
    BP_EQUITY_SCALE,
    BP_MONEY_LO,
    BS_CAUSE,
    BS_DEFAULT_DAY,
    BS_DEFAULTED,
    BS_FLAGS,
    CA_INTERVAL,
    CA_NEXT_BUSY,
    CA_OBLIGATION,
    CA_RECORD,
    DAY0,
    GATE_EXACT,
    GATE_NONE,
    GATE_STATIC,
    GATE_WAIT,
    HS_BLOCKED,
    HS_SOLD,
    HS_UNITS,
    LF_ACCRUED,
    LF_CURE_PAID,
    LF_DEBT_LOGGED,
    LF_DRAWN,
    LF_EXPOSURE,
    LF_LOG_BARRIER,
    LF_LOG_DEBT,
    LF_LOG_POOL,
    LF_LOSS,
    LF_POOL_UNITS,
    LF_PRINCIPAL,
    LF_RECOVERED,
    LI_BORROWER,
    LI_LENDER,
    LI_RECOURSE,
    LI_SECURED,
    LI_TERM,
    LP_CALL,
    LP_FIRST_TRIGGER,
    LP_LIQUIDATION,
    LP_LOSS_LO,
    LP_PRINCIPAL,
    LP_RATE,
    LP_RECOVERY,
    LS_CAUSE,
    LS_DEFAULT_DAY,
    LS_DUE_DEADLINE,
    LS_DUE_KIND,
    LS_FIRST_CALL,
    LS_FIRST_DEFAULT,
    LS_FLAGS,
    LS_GATE,
    LS_MATURITY,
    LS_POOL_ASSET,
    LS_SLEEP,
    LS_STATUS,
    LS_WAKE,
    MS_GATE,
    MS_JUMPED,
    MS_LOG_MARK,
    MS_LOGV,
    MS_OPEN,
    MS_PEAK,
    MS_PENDING,
    MS_PERM_DECAY,
    MS_PERM_FIXED,
    MS_PRICE,
    MS_SHOCKED,
    MS_SOLD,
    NONE,
    NP_CAPITAL,
    NP_LOSS_LO,
    PL_HAIRCUT,
    PL_PLEDGE0,
    SH_ASSET,
    SH_DAY,
    SH_LOG,
    ST_ACCESS_ASSET,
    ST_ACCESS_DRAWDOWN,
    ST_ANTITHETIC,
    ST_BLOCK_DAYS,
    ST_DT,
    ST_HORIZON,
    ST_SHORTCUTS,
    ST_SINGLE_LOOP,
    TINY,
)
from margincall.engine.outputs import (
    AB_DISCOUNT_COST,
    AB_DRAWN,
    AB_EQUITY,
    AB_EXEC_COST,
    AB_LAR,
    AB_SOLD,
    AL_CURE_PAID,
    AL_DRAWN,
    AL_EXPOSURE,
    AL_LOSS,
    AL_RECOVERED,
    CAPITAL_LEVELS,
    N_AB,
    N_AL,
    PB_CAUSE,
    PB_DEFAULT_DAY,
    PB_EQUITY,
    PB_FLAGS,
    PL_CAUSE,
    PL_DEFAULT_DAY,
    PL_FLAGS,
    PL_LOSS,
)
from margincall.market.impact import impact_fraction  # noqa: F401 - the law behind day_impact
from margincall.market.paths import step_market, valuation_event
from margincall.market.rng import (
    STREAM_DIFFUSION,
    STREAM_EVENTS,
    STREAM_JUMPS,
    normal,
    normal_words,
    poisson_small,
    seed_stream,
    uniform,
)

GATE_DAYS = 64  # the quiet-day gates allow for this many days of interest accrual
N_CAPITAL_LEVELS = CAPITAL_LEVELS.shape[0]
_CAPITAL_LEVELS = CAPITAL_LEVELS.copy()


# ---------------------------------------------------------------------------------------------
# Market moves shared by the full day and the quiet loops
# ---------------------------------------------------------------------------------------------


@inline
def advance_market(
    day: int, market: np.ndarray, asset_p: np.ndarray, chol: np.ndarray, history: np.ndarray, block_days: int,
    cursor: np.ndarray, diffusion_rng: np.ndarray, jump_rng: np.ndarray, sign: float, access: int,
) -> None:
    """The day's market move (`step_market`), the decay of past price impact, and the running peak
    of the market-access gauge."""
    step_market(day, market, asset_p, chol, history, block_days, cursor, diffusion_rng, jump_rng, sign)
    for a in range(market.shape[0]):
        if market[a, MS_PERM_DECAY] != 0.0:
            market[a, MS_PERM_DECAY] *= asset_p[a, AP_IMPACT_DECAY]
    if access >= 0:
        log_price = market[access, MS_LOGV] + market[access, MS_PERM_FIXED] + market[access, MS_PERM_DECAY]
        if log_price > market[access, MS_PEAK]:
            market[access, MS_PEAK] = log_price


@inline
def log_price_now(t: int, a: int, market: np.ndarray, asset_i: np.ndarray) -> float:
    """Log of the price a holder sees now: the market price of a listed asset (fair value and the
    impact still in it), the last mark of an unlisted one. Changes no state."""
    if t >= asset_i[a, AI_LISTING_DAY]:
        return market[a, MS_LOGV] + market[a, MS_PERM_FIXED] + market[a, MS_PERM_DECAY]
    return market[a, MS_LOG_MARK]


@inline
def pool_value_now(t: int, l: int, market: np.ndarray, asset_i: np.ndarray, pledged: np.ndarray, pool: np.ndarray) -> float:
    """Loan l's lending value at today's prices, computed without materialising them."""
    value = 0.0
    for a in range(market.shape[0]):
        if pledged[l, a] > 0.0:
            value += pledged[l, a] * math.exp(log_price_now(t, a, market, asset_i)) * (1.0 - pool[l, a, PL_HAIRCUT])
    return value


@inline
def accrue_day(dt: float, loan_p: np.ndarray, loan_i: np.ndarray, loan_f: np.ndarray, loan_s: np.ndarray, borrower_f: np.ndarray) -> None:
    """A day's interest on every loan that accrues (active, called or in enforcement), owed by its borrower."""
    for l in range(loan_f.shape[0]):
        status = loan_s[l, LS_STATUS]
        if loan_p[l, LP_RATE] != 0.0 and (status == c.ACTIVE or status == c.CALLED or status == c.DEFAULTED):
            accrual = loan_f[l, LF_PRINCIPAL] * loan_p[l, LP_RATE] * dt
            loan_f[l, LF_ACCRUED] += accrual
            borrower_f[loan_i[l, LI_BORROWER], BF_PNL_INTEREST] -= accrual


@inline
def accruing(loan_p: np.ndarray, loan_s: np.ndarray) -> bool:
    """Whether any loan accrues interest (while none does, debts and gates stand still)."""
    for l in range(loan_s.shape[0]):
        status = loan_s[l, LS_STATUS]
        if loan_p[l, LP_RATE] != 0.0 and (status == c.ACTIVE or status == c.CALLED or status == c.DEFAULTED):
            return True
    return False


@inline
def market_is_open(settings: np.ndarray, market: np.ndarray) -> bool:
    """Whether the refinancing market is open: the gauge within its maximum drawdown of its peak."""
    access = int(settings[ST_ACCESS_ASSET])
    if access < 0:
        return True
    log_price = market[access, MS_LOGV] + market[access, MS_PERM_FIXED] + market[access, MS_PERM_DECAY]
    return log_price - market[access, MS_PEAK] >= math.log(1.0 - settings[ST_ACCESS_DRAWDOWN])


# ---------------------------------------------------------------------------------------------
# Gates: what a quiet day must watch
# ---------------------------------------------------------------------------------------------


@inline
def next_sale_day(t: int, l: int, asset_i: np.ndarray, pledged: np.ndarray, loan_s: np.ndarray) -> int:
    """The first day from t on which a defaulted loan's lender may sell something of its pool."""
    first = 1 << 62
    for a in range(pledged.shape[1]):
        if pledged[l, a] <= 0.0:
            continue
        if t >= asset_i[a, AI_LISTING_DAY]:
            day = max(loan_s[l, LS_WAKE], asset_i[a, AI_SELLABLE_DAY])
        else:
            day = max(loan_s[l, LS_WAKE], loan_s[l, LS_DEFAULT_DAY] + asset_i[a, AI_SALE_DELAY])
            day = min(day, max(asset_i[a, AI_LISTING_DAY], loan_s[l, LS_WAKE]))  # a listing can come first
        first = min(first, day)
    return max(first, t)


@inline
def scan_pool(t: int, l: int, asset_i: np.ndarray, pool: np.ndarray, market: np.ndarray, pledged: np.ndarray, loan_f: np.ndarray, loan_s: np.ndarray) -> tuple:
    """Loan l's pool: (its last pledged asset, how many assets, how many unlisted, lending units
    of a single asset). Sets LS_POOL_ASSET and, when the units changed, LF_LOG_POOL (the fan
    charts read a single-asset pool in log space)."""
    only = NONE
    count = 0
    unlisted = 0
    for a in range(market.shape[0]):
        if pledged[l, a] > 0.0:
            only = a
            count += 1
            if t < asset_i[a, AI_LISTING_DAY]:
                unlisted += 1
    loan_s[l, LS_POOL_ASSET] = NONE
    units = 0.0
    if count == 1:
        units = pledged[l, only] * (1.0 - pool[l, only, PL_HAIRCUT])
        if units > 0.0:
            loan_s[l, LS_POOL_ASSET] = only
            if units != loan_f[l, LF_POOL_UNITS]:
                loan_f[l, LF_POOL_UNITS] = units
                loan_f[l, LF_LOG_POOL] = math.log(units)
    return only, count, unlisted, units


@kernel
def refresh_gates(
    t: int, dt: float, asset_i: np.ndarray, loan_p: np.ndarray, loan_i: np.ndarray, pool: np.ndarray, market: np.ndarray,
    pledged: np.ndarray, loan_f: np.ndarray, loan_s: np.ndarray, flow_left: np.ndarray, pools_same: bool,
) -> bool:
    """Set each loan's gate for the quiet days after day t; returns whether the path is quiet.
    `pools_same`: no pool changed since the last call (only quiet or idle days), so a pool of
    one asset need not be scanned again.

    A single listed asset's pool: the log price at or below which the LTV may reach its first
    trigger within GATE_DAYS of accrual, log P <= log(D_then / (trigger * units * (1 - haircut))).
    The gates of the loans on one asset fold into one, the highest (market[a, MS_GATE]; each
    loan's LF_LOG_BARRIER is its asset's): a quiet day ends when any of them trips.
    A pool of unlisted assets below its trigger is static until a valuation event; a pool of
    several assets is computed daily; a defaulted loan that cannot sell yet waits for LS_SLEEP.
    A call, a pool being sold, or anything due makes the path busy."""
    quiet = True
    for k in range(flow_left.shape[0]):
        if flow_left[k] > TINY:
            quiet = False
    for a in range(market.shape[0]):
        market[a, MS_GATE] = 0.0  # until the logs below: the largest D_then / (trigger * units) gated on a
    for l in range(loan_i.shape[0]):
        only = loan_s[l, LS_POOL_ASSET]
        if pools_same and only >= 0:
            count = 1
            unlisted = 1 if t < asset_i[only, AI_LISTING_DAY] else 0
            units = loan_f[l, LF_POOL_UNITS]
        else:
            only, count, unlisted, units = scan_pool(t, l, asset_i, pool, market, pledged, loan_f, loan_s)
        loan_s[l, LS_GATE] = GATE_NONE
        status = loan_s[l, LS_STATUS]
        if status == c.REPAID or status == c.CLOSED:
            continue
        if loan_s[l, LS_DUE_KIND] != c.DUE_NONE or status == c.CALLED:
            quiet = False
            continue
        if status == c.DEFAULTED:
            sleep = next_sale_day(t + 1, l, asset_i, pledged, loan_s)
            if sleep > t + 1:
                loan_s[l, LS_GATE] = GATE_WAIT
                loan_s[l, LS_SLEEP] = sleep
            else:
                quiet = False
            continue
        if loan_i[l, LI_SECURED] == 0:
            continue
        d = debt(loan_f, l)
        if d <= TINY:
            continue
        trigger = loan_p[l, LP_FIRST_TRIGGER]
        debt_then = d + loan_f[l, LF_PRINCIPAL] * loan_p[l, LP_RATE] * dt * (GATE_DAYS + 1)
        if count == 0:
            quiet = False  # owes debt against nothing: the covenants will act
            continue
        if unlisted == count:
            if debt_then < trigger * pool_value_now(t, l, market, asset_i, pledged, pool):
                loan_s[l, LS_GATE] = GATE_STATIC
            else:
                quiet = False
            continue
        only = loan_s[l, LS_POOL_ASSET]
        if count > 1 or only < 0:
            loan_s[l, LS_GATE] = GATE_EXACT
            continue
        if debt_then <= 0.0 or not trigger < math.inf:
            quiet = False
            continue
        loan_s[l, LS_GATE] = only
        market[only, MS_GATE] = max(market[only, MS_GATE], debt_then / trigger / units)
    for a in range(market.shape[0]):
        ratio = market[a, MS_GATE]
        market[a, MS_GATE] = math.log(ratio) if ratio > 0.0 else -math.inf
    for l in range(loan_i.shape[0]):
        gate = loan_s[l, LS_GATE]
        if gate >= 0:
            loan_f[l, LF_LOG_BARRIER] = market[gate, MS_GATE]
    return quiet


@inline
def gates_hold(t: int, dt: float, asset_i: np.ndarray, loan_p: np.ndarray, pool: np.ndarray, market: np.ndarray, pledged: np.ndarray, loan_f: np.ndarray, loan_s: np.ndarray) -> bool:
    """Whether every gated loan stays below its trigger today (prices moved, nothing else)."""
    return asset_gates_hold(market) and exact_gates_hold(t, dt, asset_i, loan_p, pool, market, pledged, loan_f, loan_s)


@inline
def asset_gates_hold(market: np.ndarray) -> bool:
    """Whether every listed asset's price stays above its gate (the loans on single-asset pools)."""
    for a in range(market.shape[0]):
        if market[a, MS_LOGV] + market[a, MS_PERM_FIXED] + market[a, MS_PERM_DECAY] <= market[a, MS_GATE]:
            return False
    return True


@inline
def exact_gates_hold(t: int, dt: float, asset_i: np.ndarray, loan_p: np.ndarray, pool: np.ndarray, market: np.ndarray, pledged: np.ndarray, loan_f: np.ndarray, loan_s: np.ndarray) -> bool:
    """Whether every pool of several assets (GATE_EXACT) stays below its trigger at today's prices."""
    for l in range(loan_s.shape[0]):
        if loan_s[l, LS_GATE] == GATE_EXACT:
            debt_then = debt(loan_f, l) + loan_f[l, LF_PRINCIPAL] * loan_p[l, LP_RATE] * dt
            if debt_then >= loan_p[l, LP_FIRST_TRIGGER] * pool_value_now(t, l, market, asset_i, pledged, pool):
                return False
    return True


@kernel
def machinery_idle(
    t: int, loan_p: np.ndarray, loan_i: np.ndarray, pool: np.ndarray, borrower_i: np.ndarray, market: np.ndarray,
    holding: np.ndarray, pledged: np.ndarray, loan_f: np.ndarray, loan_s: np.ndarray, borrower_f: np.ndarray,
    borrower_s: np.ndarray, flow_left: np.ndarray,
) -> bool:
    """On a day made busy only by a tripped gate or by dues within their grace period: whether the
    credit machinery (`engine.day.resolve_day`) has nothing to do. That is so when no call is open,
    no defaulted loan is awake, every loan that may have reached a trigger (its gate tripped, or
    it is due and so has none) is below its call and liquidation levels, tested as
    `test_covenants` tests them at the day's synced prices, and every due is interest whose
    borrower can raise nothing (`cannot_pay`)."""
    for k in range(flow_left.shape[0]):
        if flow_left[k] > TINY:
            return False
    for l in range(loan_s.shape[0]):
        status = loan_s[l, LS_STATUS]
        if status == c.REPAID or status == c.CLOSED:
            continue
        gate = loan_s[l, LS_GATE]
        if status == c.DEFAULTED:
            if gate != GATE_WAIT or t >= loan_s[l, LS_WAKE]:
                return False
            continue
        if status != c.ACTIVE:
            return False
        kind = loan_s[l, LS_DUE_KIND]
        if kind != c.DUE_NONE:
            if kind != c.DUE_INTEREST or t >= loan_s[l, LS_DUE_DEADLINE]:
                return False
            if not cannot_pay(loan_i[l, LI_BORROWER], loan_i, borrower_i, holding, pledged, borrower_f, borrower_s):
                return False
        if loan_i[l, LI_SECURED] == 0:
            continue
        if (
            gate == GATE_EXACT
            or (gate == GATE_NONE and kind != c.DUE_NONE)
            or (gate >= 0 and market[gate, MS_LOGV] + market[gate, MS_PERM_FIXED] + market[gate, MS_PERM_DECAY] <= market[gate, MS_GATE])
        ):
            x = loan_to_value(l, loan_f, pledged, pool, market)
            if x >= loan_p[l, LP_LIQUIDATION] or x >= loan_p[l, LP_CALL]:
                return False
        elif gate == GATE_NONE and debt(loan_f, l) > TINY:
            return False  # owes debt that no gate watches: the covenants may act
    return True


@inline
def cannot_pay(
    b: int, loan_i: np.ndarray, borrower_i: np.ndarray, holding: np.ndarray, pledged: np.ndarray, borrower_f: np.ndarray,
    borrower_s: np.ndarray,
) -> bool:
    """Whether `pay_dues` would neither raise nor pay anything for borrower b today: it has not
    defaulted, its response has no releases or draws (whose cash depends on prices), it has no
    free holdings to block or sell, and its cash is dust."""
    if borrower_s[b, BS_DEFAULTED] != 0:
        return False
    for k in range(borrower_i.shape[1]):
        action = borrower_i[b, BI_RESPONSE + k]
        if action < 0:
            break
        if action == c.ACT_RELEASE or action == c.ACT_DRAW:
            return False
    for a in range(holding.shape[1]):  # nothing held is nothing free (pledges are never negative)
        if holding[b, a, HS_UNITS] > 0.0 and free_units(b, a, holding, pledged, loan_i) > 0.0:
            return False
    return borrower_f[b, BF_CASH] <= TINY  # dust next to any dues (`negligible`): nothing to pay with


@inline
def next_due_day(t: int, horizon: int, calendar: np.ndarray, loan_s: np.ndarray) -> int:
    """The first day from t that needs the full machinery whatever prices do: an obligation, a
    shock, a listing or a scheduled mark, a maturity, a waiting pool's first sale day, or the day
    after the horizon."""
    due = min(calendar[t, CA_NEXT_BUSY], horizon + 1)
    for l in range(loan_s.shape[0]):
        status = loan_s[l, LS_STATUS]
        if (status == c.ACTIVE or status == c.CALLED) and loan_s[l, LS_MATURITY] < due:
            due = loan_s[l, LS_MATURITY]
        elif status == c.DEFAULTED and loan_s[l, LS_GATE] == GATE_WAIT and loan_s[l, LS_SLEEP] < due:
            due = loan_s[l, LS_SLEEP]
    return due


# ---------------------------------------------------------------------------------------------
# Fan charts
# ---------------------------------------------------------------------------------------------


@inline
def cash_bin(b: int, borrower_p: np.ndarray, borrower_f: np.ndarray) -> int:
    """The fan-chart bin of borrower b's cash, recomputed only when the cash changed."""
    cash = borrower_f[b, BF_CASH]
    if cash != borrower_f[b, BF_CASH_SEEN]:
        lo = borrower_p[b, BP_MONEY_LO]
        borrower_f[b, BF_CASH_SEEN] = cash
        borrower_f[b, BF_CASH_BIN] = log_bin(cash, lo, lo * 10.0**AMOUNT_DECADES, FAN_AMOUNT_BINS)
    return int(borrower_f[b, BF_CASH_BIN])


@inline
def record_day(
    t: int, r: int, slot: int, asset_p: np.ndarray, asset_i: np.ndarray, loan_i: np.ndarray, pool: np.ndarray,
    borrower_p: np.ndarray, market: np.ndarray, pledged: np.ndarray, loan_f: np.ndarray, loan_s: np.ndarray,
    borrower_f: np.ndarray, ltv_hist: np.ndarray, cash_hist: np.ndarray, price_hist: np.ndarray,
) -> None:
    """Add day t's LTVs (secured loans), cash (borrowers) and prices over day 0 (assets) to the
    fan-chart histograms at recorded day r. A single-asset pool's log LTV comes from its log price
    (log debt - log lending units - log price); other pools are valued at today's prices."""
    for l in range(loan_i.shape[0]):
        if loan_i[l, LI_SECURED] == 0:
            continue
        d = debt(loan_f, l)
        single = loan_s[l, LS_POOL_ASSET]
        if d <= TINY:
            k = 0
        elif single >= 0:
            k = ltv_bin_of_log(log_debt(loan_f, l) - loan_f[l, LF_LOG_POOL] - log_price_now(t, single, market, asset_i))
        else:
            value = pool_value_now(t, l, market, asset_i, pledged, pool)
            k = log_bin(d / value if value > 0.0 else math.inf, LTV_LO, LTV_HI, LTV_BINS)
        ltv_hist[slot, l, k, r] += 1
    for b in range(borrower_p.shape[0]):
        cash_hist[slot, b, cash_bin(b, borrower_p, borrower_f), r] += 1
    for a in range(market.shape[0]):
        price_hist[slot, a, ltv_bin_of_log(log_price_now(t, a, market, asset_i) - asset_p[a, AP_LOGP0]), r] += 1


@inline
def log_debt(loan_f: np.ndarray, l: int) -> float:
    """The log of a loan's debt, refreshed only when the debt changed."""
    d = debt(loan_f, l)
    if d != loan_f[l, LF_DEBT_LOGGED]:
        loan_f[l, LF_DEBT_LOGGED] = d
        loan_f[l, LF_LOG_DEBT] = math.log(d)
    return loan_f[l, LF_LOG_DEBT]


# ---------------------------------------------------------------------------------------------
# Quiet stretches
# ---------------------------------------------------------------------------------------------


@kernel
def quiet_days(
    t: int, stop: int, slot: int, sign: float, settings: np.ndarray, calendar: np.ndarray, asset_p: np.ndarray,
    asset_i: np.ndarray, chol: np.ndarray, history: np.ndarray, loan_p: np.ndarray, loan_i: np.ndarray, pool: np.ndarray,
    borrower_p: np.ndarray, market: np.ndarray, pledged: np.ndarray, loan_f: np.ndarray, loan_s: np.ndarray,
    borrower_f: np.ndarray, rng: np.ndarray, cursor: np.ndarray, ltv_hist: np.ndarray, cash_hist: np.ndarray,
    price_hist: np.ndarray,
) -> int:
    """Days t .. stop - 1 of a quiet path: the market moves, interest accrues, fan charts record,
    and the gates are watched. Returns `stop` when every day passed quietly, or -d when a gate
    tripped or a private asset's valuation event happened on day d (after its market move; the
    caller finishes that day with the full machinery, using the events drawn here, MS_PENDING)."""
    dt = settings[ST_DT]
    block_days = int(settings[ST_BLOCK_DAYS])
    access = int(settings[ST_ACCESS_ASSET])
    accrues = accruing(loan_p, loan_s)
    # what the stretch must watch stays the same through it (a listing is a due day)
    unlisted = False
    for a in range(market.shape[0]):
        if t < asset_i[a, AI_LISTING_DAY]:
            unlisted = True
    exact = False
    for l in range(loan_s.shape[0]):
        if loan_s[l, LS_GATE] == GATE_EXACT:
            exact = True
    for day in range(t, stop):
        advance_market(day, market, asset_p, chol, history, block_days, cursor, rng[0], rng[1], sign, access)
        tripped = False
        if unlisted:
            for a in range(market.shape[0]):
                if day < asset_i[a, AI_LISTING_DAY]:
                    # scheduled marks are due days (CA_NEXT_BUSY): none falls inside a stretch
                    happened = valuation_event(day, asset_i[a, AI_MARK_EVERY], asset_p[a, AP_MARK_PROB], rng[2]) or market[a, MS_JUMPED] != 0.0
                    market[a, MS_PENDING] = 1.0 if happened else 0.0
                    if happened:
                        tripped = True
        if tripped or not asset_gates_hold(market):
            return -day
        if exact and not exact_gates_hold(day, dt, asset_i, loan_p, pool, market, pledged, loan_f, loan_s):
            return -day
        if unlisted:
            for a in range(market.shape[0]):
                market[a, MS_PENDING] = -1.0
        if accrues:
            accrue_day(dt, loan_p, loan_i, loan_f, loan_s, borrower_f)
        r = calendar[day, CA_RECORD]
        if r >= 0:
            record_day(day, r, slot, asset_p, asset_i, loan_i, pool, borrower_p, market, pledged, loan_f, loan_s, borrower_f, ltv_hist, cash_hist, price_hist)
    return stop


@inline
def single_quiet_ok(t: int, settings: np.ndarray, asset_i: np.ndarray, history: np.ndarray, loan_i: np.ndarray, loan_f: np.ndarray, loan_s: np.ndarray) -> bool:
    """Whether `quiet_days_single` may run the stretch from day t: one listed asset under GBM, and
    every loan repaid, closed, unsecured, owing nothing, or gated on the asset."""
    if settings[ST_SINGLE_LOOP] == 0.0 or asset_i.shape[0] != 1 or history.shape[0] > 0 or t < asset_i[0, AI_LISTING_DAY]:
        return False
    for l in range(loan_i.shape[0]):
        gate = loan_s[l, LS_GATE]
        status = loan_s[l, LS_STATUS]
        if status == c.DEFAULTED:
            return False
        if loan_i[l, LI_SECURED] != 0 and gate != 0 and debt(loan_f, l) > TINY and (status == c.ACTIVE or status == c.CALLED):
            return False
    return True


@kernel
def quiet_days_single(
    t: int, stop: int, slot: int, sign: float, settings: np.ndarray, calendar: np.ndarray, asset_p: np.ndarray,
    asset_i: np.ndarray, chol: np.ndarray, loan_p: np.ndarray, loan_i: np.ndarray, pool: np.ndarray,
    borrower_p: np.ndarray, market: np.ndarray, pledged: np.ndarray, loan_f: np.ndarray, loan_s: np.ndarray,
    borrower_f: np.ndarray, rng: np.ndarray, rec_log: np.ndarray, ltv_hist: np.ndarray, cash_hist: np.ndarray,
    price_hist: np.ndarray,
) -> int:
    """`quiet_days` for the commonest book, one listed asset under GBM (a single-stock margin
    loan): the same draws in the same order and the same arithmetic, with the asset's log value
    and the diffusion stream's state in registers and the loans' gates folded into one barrier.

    The market loop only moves the price and keeps the log price of recorded days in `rec_log`;
    interest and fan charts follow in a second loop over the same days (neither depends on the
    other within a stretch: the barrier holds for its accrual)."""
    barrier = -math.inf
    for l in range(loan_i.shape[0]):
        if loan_s[l, LS_GATE] == 0 and loan_f[l, LF_LOG_BARRIER] > barrier:
            barrier = loan_f[l, LF_LOG_BARRIER]
    drift_dt = asset_p[0, AP_DRIFT_DT]
    vol_sqrt_dt = asset_p[0, AP_VOL_SQRT_DT]
    chol00 = chol[0, 0]
    jump_mean = asset_p[0, AP_JUMP_MEAN_PER_DAY]
    jump_p0 = asset_p[0, AP_JUMP_P0]
    jump_log_mean = asset_p[0, AP_JUMP_LOG_MEAN]
    jump_log_stdev = asset_p[0, AP_JUMP_LOG_STDEV]
    decay = asset_p[0, AP_IMPACT_DECAY]
    access = int(settings[ST_ACCESS_ASSET]) == 0
    log_v = market[0, MS_LOGV]
    fixed = market[0, MS_PERM_FIXED]
    decaying = market[0, MS_PERM_DECAY]
    peak = market[0, MS_PEAK]
    diffusion = rng[0]
    jump_rng = rng[1]
    s0, s1, s2, s3 = diffusion[0], diffusion[1], diffusion[2], diffusion[3]
    result = stop
    jumped = 0.0
    if jump_mean <= 0.0 and decaying == 0.0 and not access:
        # the commonest stretch: no jumps, no price impact decaying, no access gauge. The same
        # arithmetic as the loop below without its idle branches, which left too few registers
        # (the loop kept its constants and even its counter on the stack)
        for day in range(t, stop):
            z, s0, s1, s2, s3 = normal_words(s0, s1, s2, s3, diffusion)
            eps = 0.0 + chol00 * (sign * z)
            log_v += drift_dt + vol_sqrt_dt * eps
            log_price = log_v + fixed + decaying
            if log_price <= barrier:
                result = -day
                break
            r = calendar[np.uint64(day), CA_RECORD]
            if r >= 0:
                rec_log[r] = log_price
        t_loop = stop  # the loop below runs no day
    else:
        t_loop = t
    for day in range(t_loop, stop):
        z, s0, s1, s2, s3 = normal_words(s0, s1, s2, s3, diffusion)
        eps = 0.0 + chol00 * (sign * z)
        log_v += drift_dt + vol_sqrt_dt * eps
        jumped = 0.0
        if jump_mean > 0.0:
            count = poisson_small(jump_rng, jump_mean, jump_p0)
            if count > 0:
                jumped = 1.0
                for _ in range(count):
                    log_v += jump_log_mean + jump_log_stdev * normal(jump_rng)
        if decaying != 0.0:
            decaying *= decay
        log_price = log_v + fixed + decaying
        if access and log_price > peak:
            peak = log_price
        if log_price <= barrier:
            result = -day
            break
        r = calendar[day, CA_RECORD]
        if r >= 0:
            rec_log[r] = log_price
    diffusion[0], diffusion[1], diffusion[2], diffusion[3] = s0, s1, s2, s3
    market[0, MS_LOGV] = log_v
    market[0, MS_PERM_DECAY] = decaying
    market[0, MS_PEAK] = peak
    market[0, MS_JUMPED] = jumped
    end = -result if result < 0 else stop
    dt = settings[ST_DT]
    if accruing(loan_p, loan_s):
        for day in range(t, end):
            accrue_day(dt, loan_p, loan_i, loan_f, loan_s, borrower_f)
            r = calendar[day, CA_RECORD]
            if r >= 0:
                record_single(r, slot, rec_log[r], asset_p, loan_i, borrower_p, loan_f, loan_s, borrower_f, ltv_hist, cash_hist, price_hist)
    elif end > t:
        lo = calendar[t, CA_INTERVAL]
        hi = calendar[end - 1, CA_INTERVAL] + (1 if calendar[end - 1, CA_RECORD] >= 0 else 0)
        record_stretch(lo, hi, slot, rec_log, asset_p, loan_i, borrower_p, loan_f, borrower_f, ltv_hist, cash_hist, price_hist)
    return result


@inline
def record_stretch(
    lo: int, hi: int, slot: int, rec_log: np.ndarray, asset_p: np.ndarray, loan_i: np.ndarray, borrower_p: np.ndarray,
    loan_f: np.ndarray, borrower_f: np.ndarray, ltv_hist: np.ndarray, cash_hist: np.ndarray, price_hist: np.ndarray,
) -> None:
    """`record_single` over the recorded days lo .. hi - 1 of a one-asset stretch whose debt and
    cash stand still: one histogram at a time, in tight loops (the same bins and counts).

    Each histogram's bins are computed first, into the spare second half of `rec_log` (viewed as
    integers), and counted in a second loop, with unsigned indices (numba then needs no test for a
    negative index): the counts land on a new cache line almost every record, and written plainly
    the loops cost about three times as much."""
    bins = rec_log[rec_log.shape[0] // 2 :].view(np.int64)
    first, end = np.uint64(lo), np.uint64(hi)
    for l in range(loan_i.shape[0]):
        if loan_i[l, LI_SECURED] == 0:
            continue
        hist = ltv_hist[slot, l]
        if debt(loan_f, l) <= TINY:
            for r in range(first, end):
                hist[0, r] += 1
        else:
            offset = log_debt(loan_f, l) - loan_f[l, LF_LOG_POOL]
            for r in range(first, end):
                bins[r] = ltv_bin_of_log(offset - rec_log[r])
            for r in range(first, end):
                hist[np.uint64(bins[r]), r] += 1
    for b in range(borrower_p.shape[0]):
        k = cash_bin(b, borrower_p, borrower_f)
        cash = cash_hist[slot, b, k]
        for r in range(first, end):
            cash[r] += 1
    log_p0 = asset_p[0, AP_LOGP0]
    prices = price_hist[slot, 0]
    for r in range(first, end):
        bins[r] = ltv_bin_of_log(rec_log[r] - log_p0)
    for r in range(first, end):
        prices[np.uint64(bins[r]), r] += 1


@inline
def record_single(
    r: int, slot: int, log_price: float, asset_p: np.ndarray, loan_i: np.ndarray, borrower_p: np.ndarray,
    loan_f: np.ndarray, loan_s: np.ndarray, borrower_f: np.ndarray, ltv_hist: np.ndarray, cash_hist: np.ndarray,
    price_hist: np.ndarray,
) -> None:
    """`record_day` of a one-asset quiet stretch, from the day's log price."""
    for l in range(loan_i.shape[0]):
        if loan_i[l, LI_SECURED] == 0:
            continue
        if debt(loan_f, l) <= TINY:
            k = 0
        else:
            k = ltv_bin_of_log(log_debt(loan_f, l) - loan_f[l, LF_LOG_POOL] - log_price)
        ltv_hist[slot, l, k, r] += 1
    for b in range(borrower_p.shape[0]):
        cash_hist[slot, b, cash_bin(b, borrower_p, borrower_f), r] += 1
    price_hist[slot, 0, ltv_bin_of_log(log_price - asset_p[0, AP_LOGP0]), r] += 1


# ---------------------------------------------------------------------------------------------
# The full day
# ---------------------------------------------------------------------------------------------


@inline
def close_day(market: np.ndarray, asset_p: np.ndarray, asset_i: np.ndarray, holding: np.ndarray, lender_sold: np.ndarray) -> None:
    """End of a busy day: of the day's price impact, the persistent share stays in the price (its
    floor for good, the rest decaying from tomorrow); the day's sale counters reset."""
    for a in range(market.shape[0]):
        if market[a, MS_SOLD] > 0.0:
            moved = day_impact(a, market[a, MS_SOLD], asset_p, asset_i)
            kept = math.log(1.0 - asset_p[a, AP_IMPACT_PERMANENT] * moved)
            floor = asset_p[a, AP_IMPACT_FLOOR]
            market[a, MS_PERM_FIXED] += floor * kept
            market[a, MS_PERM_DECAY] += (1.0 - floor) * kept
            market[a, MS_SOLD] = 0.0
            for b in range(holding.shape[0]):
                holding[b, a, HS_SOLD] = 0.0
                holding[b, a, HS_BLOCKED] = 0.0
            for n in range(lender_sold.shape[0]):
                lender_sold[n, a] = 0.0


@inline
def equity_of(b: int, loan_i: np.ndarray, market: np.ndarray, holding: np.ndarray, loan_f: np.ndarray, borrower_f: np.ndarray) -> float:
    """Borrower b's equity: cash - claims + holdings at their prices - debt."""
    value = borrower_f[b, BF_CASH] - borrower_f[b, BF_CLAIMS]
    for a in range(market.shape[0]):
        if holding[b, a, HS_UNITS] != 0.0:
            value += holding[b, a, HS_UNITS] * market[a, MS_PRICE]
    for l in range(loan_i.shape[0]):
        if loan_i[l, LI_BORROWER] == b:
            value -= debt(loan_f, l)
    return value


@inline
def check_ledger(loan_i: np.ndarray, market: np.ndarray, holding: np.ndarray, loan_f: np.ndarray, borrower_f: np.ndarray) -> None:
    """Each borrower's balance sheet against its day-0 equity plus its profit and loss; the
    largest residual is kept (NaN counts as infinite). The equities are `equity_of`'s sums, in its
    order for each borrower, for all borrowers in one pass over the loans (BF_EQUITY_NOW)."""
    for b in range(borrower_f.shape[0]):
        value = borrower_f[b, BF_CASH] - borrower_f[b, BF_CLAIMS]
        for a in range(market.shape[0]):
            if holding[b, a, HS_UNITS] != 0.0:
                value += holding[b, a, HS_UNITS] * market[a, MS_PRICE]
        borrower_f[b, BF_EQUITY_NOW] = value
    for l in range(loan_i.shape[0]):
        borrower_f[loan_i[l, LI_BORROWER], BF_EQUITY_NOW] -= debt(loan_f, l)
    for b in range(borrower_f.shape[0]):
        expected = (
            borrower_f[b, BF_EQUITY0] + borrower_f[b, BF_PNL_MARKET] + borrower_f[b, BF_PNL_EXEC]
            + borrower_f[b, BF_PNL_INTEREST] + borrower_f[b, BF_PNL_FLOWS] + borrower_f[b, BF_PNL_FORGIVEN]
        )
        residual = abs(borrower_f[b, BF_EQUITY_NOW] - expected)
        if not residual <= borrower_f[b, BF_LEDGER_MAX]:
            borrower_f[b, BF_LEDGER_MAX] = residual if residual == residual else math.inf


@inline
def full_day(
    resolve, t: int, stepped: bool, quiet: bool, sign: float, refinance_u: np.ndarray, params: tuple, state: tuple,
    sold: np.ndarray, log: np.ndarray, log_n: np.ndarray,
) -> tuple:
    """Day t: the market move (unless a quiet stretch made it already), shocks, marks and
    listings, accrual, and where anything but prices can happen the full machinery: obligations,
    covenants, responses and sales. Returns (quiet, refreshed): whether the path is quiet after the
    day, and whether its gates were set anew from today's state. (`params` and `state` are tuples
    of arrays, so that numba can inline the day into the path loop: it cannot inline a call of
    more than 30 arguments.)"""
    settings, calendar, asset_p, asset_i, chol, history, shocks, loan_p, loan_i, pool, borrower_p, borrower_i, flows, sale_order = params
    market, holding, pledged, lender_sold, loan_f, loan_s, borrower_f, borrower_s, flow_left, rng, cursor = state
    block_days = int(settings[ST_BLOCK_DAYS])
    access = int(settings[ST_ACCESS_ASSET])
    if not stepped:
        advance_market(t, market, asset_p, chol, history, block_days, cursor, rng[0], rng[1], sign, access)
    busy = calendar[t, CA_OBLIGATION] != 0 or settings[ST_SHORTCUTS] == 0.0
    while cursor[1] < shocks.shape[0] and int(shocks[cursor[1], SH_DAY]) == t:
        a = int(shocks[cursor[1], SH_ASSET])
        market[a, MS_LOGV] += shocks[cursor[1], SH_LOG]
        market[a, MS_SHOCKED] = 1.0
        busy = True
        cursor[1] += 1
    for a in range(market.shape[0]):
        listing = asset_i[a, AI_LISTING_DAY]
        if t < listing:  # private: the mark moves only at valuation events
            pending = market[a, MS_PENDING]
            if pending >= 0.0:  # drawn by the quiet stretch that handed this day over
                event = pending == 1.0
                market[a, MS_PENDING] = -1.0
            else:
                event = valuation_event(t, asset_i[a, AI_MARK_EVERY], asset_p[a, AP_MARK_PROB], rng[2])
            if event or market[a, MS_JUMPED] != 0.0 or market[a, MS_SHOCKED] != 0.0:
                price = math.exp(market[a, MS_LOGV])
                market[a, MS_LOG_MARK] = market[a, MS_LOGV]
                revalue(a, price, market, holding, borrower_f)
                market[a, MS_OPEN] = price
                log_event(log, log_n, t, c.E_MARK, NONE, a, price, NONE)
                busy = True
        elif t == listing:
            log_event(log, log_n, t, c.E_LISTING, NONE, a, math.exp(market[a, MS_LOGV]), NONE)
            busy = True
        market[a, MS_SHOCKED] = 0.0
    for l in range(loan_s.shape[0]):
        status = loan_s[l, LS_STATUS]
        if (status == c.ACTIVE or status == c.CALLED) and loan_s[l, LS_MATURITY] == t:
            busy = True
        elif status == c.DEFAULTED and (loan_s[l, LS_GATE] != GATE_WAIT or t >= loan_s[l, LS_SLEEP]):
            busy = True
    accrue_day(settings[ST_DT], loan_p, loan_i, loan_f, loan_s, borrower_f)
    waiting = False  # busy only because the path waits (on dues, calls, sales) or a gate tripped
    if not busy and (not quiet or not gates_hold(t, settings[ST_DT], asset_i, loan_p, pool, market, pledged, loan_f, loan_s)):
        busy = True
        waiting = True
    if busy:
        quiet = busy_day(
            resolve, t, waiting, settings, asset_p, asset_i, loan_p, loan_i, pool, borrower_p, borrower_i, flows, sale_order,
            market, holding, pledged, lender_sold, loan_f, loan_s, borrower_f, borrower_s, flow_left, refinance_u,
            sold[calendar[t, CA_INTERVAL]], log, log_n,
        )
    return quiet, busy


@kernel
def busy_day(
    resolve, t: int, waiting: bool, settings: np.ndarray, asset_p: np.ndarray, asset_i: np.ndarray, loan_p: np.ndarray,
    loan_i: np.ndarray, pool: np.ndarray, borrower_p: np.ndarray, borrower_i: np.ndarray, flows: np.ndarray,
    sale_order: np.ndarray, market: np.ndarray, holding: np.ndarray, pledged: np.ndarray, lender_sold: np.ndarray,
    loan_f: np.ndarray, loan_s: np.ndarray, borrower_f: np.ndarray, borrower_s: np.ndarray, flow_left: np.ndarray,
    refinance_u: np.ndarray, sold_today: np.ndarray, log: np.ndarray, log_n: np.ndarray,
) -> bool:
    """The rest of a day on which anything but prices can happen: the credit machinery (unless
    the day is only `waiting` and provably idle), the close of the market, the ledger check and
    the gates; returns whether the path is quiet after it. A kernel of its own, called on few days
    of a path, rather than copied into the path loop: the loop's first compile is shorter for it."""
    sync_prices(t, market, asset_i, holding, borrower_f)
    idle = waiting and machinery_idle(
        t, loan_p, loan_i, pool, borrower_i, market, holding, pledged, loan_f, loan_s, borrower_f, borrower_s, flow_left,
    )
    if not idle:
        resolve(
            t, market_is_open(settings, market), refinance_u, asset_p, asset_i, loan_p, loan_i, pool, borrower_p, borrower_i,
            flows, sale_order, market, holding, pledged, lender_sold, loan_f, loan_s, borrower_f, borrower_s, flow_left,
            sold_today, log, log_n,
        )
    close_day(market, asset_p, asset_i, holding, lender_sold)
    check_ledger(loan_i, market, holding, loan_f, borrower_f)
    if log.shape[0] > 0:  # a traced path keeps its end-of-day prices (a story's chart)
        for a in range(market.shape[0]):
            log_event(log, log_n, t, c.E_PRICE, NONE, a, math.exp(log_price_now(t, a, market, asset_i)), NONE)
    return refresh_gates(t, settings[ST_DT], asset_i, loan_p, loan_i, pool, market, pledged, loan_f, loan_s, flow_left, idle)


# ---------------------------------------------------------------------------------------------
# A path from day 0 to the horizon, and its outcome
# ---------------------------------------------------------------------------------------------


@inline
def start_path(
    path: int, seed: int, settings: np.ndarray, asset_p: np.ndarray, loan_p: np.ndarray, loan_i: np.ndarray,
    pool: np.ndarray, borrower_p: np.ndarray, hold0: np.ndarray, shocks: np.ndarray, market: np.ndarray,
    holding: np.ndarray, pledged: np.ndarray, lender_sold: np.ndarray, loan_f: np.ndarray, loan_s: np.ndarray,
    borrower_f: np.ndarray, borrower_s: np.ndarray, flow_left: np.ndarray, rng: np.ndarray, refinance_u: np.ndarray,
    cursor: np.ndarray,
) -> float:
    """Day 0 of a path: streams keyed by (seed, path), holdings, pools, loans and day-0 shocks.
    Returns the path's diffusion sign (-1: the mirror path of an antithetic pair)."""
    horizon = int(settings[ST_HORIZON])
    key = path
    sign = 1.0
    # the pair (2k, 2k + 1) shares stream k; the odd path mirrors the diffusion (historical: replays
    # the same blocks with the opposite sign)
    if settings[ST_ANTITHETIC] != 0.0:
        key = path >> 1
        if path & 1:
            sign = -1.0
    seed_stream(rng[0], seed, key, STREAM_DIFFUSION)
    seed_stream(rng[1], seed, key, STREAM_JUMPS)
    seed_stream(rng[2], seed, key, STREAM_EVENTS)
    for l in range(refinance_u.shape[0]):
        for k in range(refinance_u.shape[1]):
            refinance_u[l, k] = uniform(rng[2])
    cursor[0] = 0
    cursor[1] = 0
    n_assets = market.shape[0]
    for a in range(n_assets):
        market[a, :] = 0.0
        market[a, MS_LOGV] = asset_p[a, AP_LOGP0]
        market[a, MS_PENDING] = -1.0
    while cursor[1] < shocks.shape[0] and int(shocks[cursor[1], SH_DAY]) == 0:
        market[int(shocks[cursor[1], SH_ASSET]), MS_LOGV] += shocks[cursor[1], SH_LOG]
        cursor[1] += 1
    for a in range(n_assets):
        market[a, MS_PRICE] = math.exp(market[a, MS_LOGV])
        market[a, MS_LOG_MARK] = market[a, MS_LOGV]
        market[a, MS_OPEN] = market[a, MS_PRICE]
        market[a, MS_PEAK] = market[a, MS_LOGV]
    for b in range(holding.shape[0]):
        for a in range(n_assets):
            holding[b, a, HS_UNITS] = hold0[b, a]
            holding[b, a, HS_SOLD] = 0.0
            holding[b, a, HS_BLOCKED] = 0.0
        borrower_f[b, :] = 0.0
        borrower_s[b, :] = 0
        borrower_f[b, BF_CASH] = borrower_p[b, BP_CASH0]
        borrower_f[b, BF_CASH_SEEN] = math.nan
        borrower_s[b, BS_DEFAULT_DAY] = horizon + 1
    lender_sold[:, :] = 0.0
    for l in range(loan_f.shape[0]):
        loan_f[l, :] = 0.0
        loan_s[l, :] = 0
        loan_f[l, LF_PRINCIPAL] = loan_p[l, LP_PRINCIPAL]
        loan_s[l, LS_STATUS] = c.ACTIVE
        loan_s[l, LS_MATURITY] = loan_i[l, LI_TERM]
        loan_s[l, LS_FIRST_CALL] = horizon + 1
        loan_s[l, LS_FIRST_DEFAULT] = horizon + 1
        loan_s[l, LS_GATE] = GATE_NONE
        b = loan_i[l, LI_BORROWER]
        for a in range(n_assets):
            pledged[l, a] = pool[l, a, PL_PLEDGE0] * hold0[b, a]
    for k in range(flow_left.shape[0]):
        flow_left[k] = 0.0
    for b in range(holding.shape[0]):
        borrower_f[b, BF_EQUITY0] = equity_of(b, loan_i, market, holding, loan_f, borrower_f)
    return sign


@inline
def value_at_horizon(
    horizon: int, asset_p: np.ndarray, asset_i: np.ndarray, loan_p: np.ndarray, loan_i: np.ndarray, market: np.ndarray,
    holding: np.ndarray, pledged: np.ndarray, loan_f: np.ndarray, loan_s: np.ndarray, borrower_f: np.ndarray,
    borrower_s: np.ndarray,
) -> None:
    """A pool still being sold at the horizon is valued at the horizon's prices (private: fair
    value less the sale discount); a recourse lender counts on the borrower for the shortfall, up
    to its cash and free listed holdings, or on the recovery rate once it has defaulted."""
    for l in range(loan_i.shape[0]):
        if loan_s[l, LS_STATUS] != c.DEFAULTED or loan_i[l, LI_SECURED] == 0:
            continue
        b = loan_i[l, LI_BORROWER]
        recoverable = 0.0
        for a in range(market.shape[0]):
            if pledged[l, a] > 0.0:
                price = market[a, MS_PRICE]
                if horizon < asset_i[a, AI_LISTING_DAY]:
                    price = math.exp(market[a, MS_LOGV]) * (1.0 - asset_p[a, AP_SALE_DISCOUNT])
                recoverable += pledged[l, a] * price
        shortfall = debt(loan_f, l) - recoverable
        if shortfall > TINY and loan_i[l, LI_RECOURSE] != 0:
            if borrower_s[b, BS_DEFAULTED] == 0:
                reach = max(borrower_f[b, BF_CASH], 0.0)
                for a in range(market.shape[0]):
                    if horizon >= asset_i[a, AI_LISTING_DAY]:
                        reach += free_units(b, a, holding, pledged, loan_i) * market[a, MS_PRICE]
                shortfall -= min(shortfall, reach)
            else:
                shortfall *= 1.0 - loan_p[l, LP_RECOVERY]
        if shortfall > TINY:
            loan_f[l, LF_LOSS] += shortfall
            loan_s[l, LS_FLAGS] |= c.F_LOSS


@kernel
def add_outcome(
    path: int, block: int, slot: int, record_start: int, antithetic: bool, loan_p: np.ndarray, loan_i: np.ndarray,
    borrower_p: np.ndarray, lender_p: np.ndarray, market: np.ndarray, holding: np.ndarray, loan_f: np.ndarray,
    loan_s: np.ndarray, borrower_f: np.ndarray, borrower_s: np.ndarray, ind: np.ndarray, amt: np.ndarray,
    pair_ind: np.ndarray, pair_amt: np.ndarray, counts: np.ndarray, pair_counts: np.ndarray, sums: np.ndarray,
    squares: np.ndarray, pair_squares: np.ndarray, cocall: np.ndarray, ledger: np.ndarray, first_call: np.ndarray,
    first_default: np.ndarray, borrower_default_day: np.ndarray, loss_hist: np.ndarray, lender_loss_hist: np.ndarray,
    lar_hist: np.ndarray, equity_hist: np.ndarray, path_loans: np.ndarray, path_borrowers: np.ndarray,
) -> None:
    """Add the path's outcome to the statistics (layouts: `engine.outputs.Indicators`, `Amounts`)."""
    n_loans = loan_i.shape[0]
    n_borrowers = borrower_p.shape[0]
    n_lenders = lender_p.shape[0]
    o_loan_causes = n_loans * c.N_LOAN_FLAGS
    o_borrower_flags = o_loan_causes + n_loans * c.N_CAUSES
    o_borrower_causes = o_borrower_flags + n_borrowers * c.N_BORROWER_FLAGS
    o_lender_loss = o_borrower_causes + n_borrowers * c.N_CAUSES
    o_capital = o_lender_loss + n_lenders
    o_defaults = o_capital + n_lenders * N_CAPITAL_LEVELS
    a_borrowers = n_loans * N_AL
    a_lenders = a_borrowers + n_borrowers * N_AB
    a_forced = a_lenders + n_lenders
    for k in range(ind.shape[0]):
        ind[k] = 0
    for k in range(amt.shape[0]):
        amt[k] = 0.0
    record = path - record_start
    keep = 0 <= record < path_loans.shape[0]
    for l in range(n_loans):
        flags = loan_s[l, LS_FLAGS]
        for k in range(c.N_LOAN_FLAGS):
            if flags & (1 << k):
                ind[l * c.N_LOAN_FLAGS + k] = 1
        cause = loan_s[l, LS_CAUSE]
        if cause > 0:
            ind[o_loan_causes + l * c.N_CAUSES + cause] = 1
        if flags & c.F_CALLED:
            for m in range(n_loans):
                if loan_s[m, LS_FLAGS] & c.F_CALLED:
                    cocall[block, l, m] += 1
        loss = loan_f[l, LF_LOSS]
        amt[l * N_AL + AL_LOSS] = loss
        amt[l * N_AL + AL_CURE_PAID] = loan_f[l, LF_CURE_PAID]
        amt[l * N_AL + AL_RECOVERED] = loan_f[l, LF_RECOVERED]
        amt[l * N_AL + AL_EXPOSURE] = loan_f[l, LF_EXPOSURE]
        amt[l * N_AL + AL_DRAWN] = loan_f[l, LF_DRAWN]
        amt[a_lenders + loan_i[l, LI_LENDER]] += loss
        first_call[slot, l, loan_s[l, LS_FIRST_CALL]] += 1
        first_default[slot, l, loan_s[l, LS_FIRST_DEFAULT]] += 1
        lo = loan_p[l, LP_LOSS_LO]
        loss_hist[slot, l, log_bin(loss, lo, lo * 10.0**AMOUNT_DECADES, AMOUNT_BINS)] += 1
        if keep:
            path_loans[record, l, PL_LOSS] = loss
            path_loans[record, l, PL_FLAGS] = flags
            path_loans[record, l, PL_CAUSE] = cause
            path_loans[record, l, PL_DEFAULT_DAY] = loan_s[l, LS_FIRST_DEFAULT]
    defaults = 0
    forced = 0.0
    for b in range(n_borrowers):
        flags = borrower_s[b, BS_FLAGS]
        for k in range(c.N_BORROWER_FLAGS):
            if flags & (1 << k):
                ind[o_borrower_flags + b * c.N_BORROWER_FLAGS + k] = 1
        cause = borrower_s[b, BS_CAUSE]
        if cause > 0:
            ind[o_borrower_causes + b * c.N_CAUSES + cause] = 1
        if borrower_s[b, BS_DEFAULTED] != 0:
            defaults += 1
        equity = equity_of(b, loan_i, market, holding, loan_f, borrower_f)
        lar = borrower_f[b, BF_LAR]
        o = a_borrowers + b * N_AB
        amt[o + AB_LAR] = lar
        amt[o + AB_SOLD] = borrower_f[b, BF_SOLD_NOMINAL]
        amt[o + AB_EXEC_COST] = borrower_f[b, BF_EXEC_COST]
        amt[o + AB_DISCOUNT_COST] = borrower_f[b, BF_DISCOUNT_COST]
        amt[o + AB_EQUITY] = equity
        amt[o + AB_DRAWN] = borrower_f[b, BF_DRAWN]
        forced += borrower_f[b, BF_SOLD_NOMINAL]
        borrower_default_day[slot, b, borrower_s[b, BS_DEFAULT_DAY]] += 1
        lo = borrower_p[b, BP_MONEY_LO]
        lar_hist[slot, b, log_bin(lar, lo, lo * 10.0**AMOUNT_DECADES, AMOUNT_BINS)] += 1
        equity_hist[slot, b, signed_bin(equity, borrower_p[b, BP_EQUITY_SCALE], SIGNED_BINS)] += 1
        if borrower_f[b, BF_LEDGER_MAX] > ledger[block, b]:
            ledger[block, b] = borrower_f[b, BF_LEDGER_MAX]
        if keep:
            path_borrowers[record, b, PB_FLAGS] = flags
            path_borrowers[record, b, PB_CAUSE] = cause
            path_borrowers[record, b, PB_DEFAULT_DAY] = borrower_s[b, BS_DEFAULT_DAY]
            path_borrowers[record, b, PB_EQUITY] = equity
    amt[a_forced] = forced
    ind[o_defaults + defaults] = 1
    for n in range(n_lenders):
        loss = amt[a_lenders + n]
        if loss > TINY:
            ind[o_lender_loss + n] = 1
        capital = lender_p[n, NP_CAPITAL]
        if capital > 0.0:
            for k in range(N_CAPITAL_LEVELS):
                if loss > _CAPITAL_LEVELS[k] * capital:
                    ind[o_capital + n * N_CAPITAL_LEVELS + k] = 1
        lo = lender_p[n, NP_LOSS_LO]
        lender_loss_hist[slot, n, log_bin(loss, lo, lo * 10.0**AMOUNT_DECADES, AMOUNT_BINS)] += 1
    for k in range(ind.shape[0]):
        counts[block, k] += ind[k]
    for k in range(amt.shape[0]):
        sums[block, k] += amt[k]
        squares[block, k] += amt[k] * amt[k]
    if antithetic:
        if path & 1 == 0:
            for k in range(ind.shape[0]):
                pair_ind[k] = ind[k]
            for k in range(amt.shape[0]):
                pair_amt[k] = amt[k]
        else:
            for k in range(ind.shape[0]):
                pair_counts[block, k] += pair_ind[k] & ind[k]
            for k in range(amt.shape[0]):
                total = pair_amt[k] + amt[k]
                pair_squares[block, k] += total * total


@kernel
def simulate_block(
    resolve, start: int, stop: int, seed: int, block: int, slot: int, record_start: int,
    settings: np.ndarray, calendar: np.ndarray, asset_p: np.ndarray, asset_i: np.ndarray, chol: np.ndarray,
    history: np.ndarray, shocks: np.ndarray, loan_p: np.ndarray, loan_i: np.ndarray, pool: np.ndarray,
    borrower_p: np.ndarray, borrower_i: np.ndarray, lender_p: np.ndarray, hold0: np.ndarray, flows: np.ndarray,
    sale_order: np.ndarray,
    market: np.ndarray, holding: np.ndarray, pledged: np.ndarray, lender_sold: np.ndarray, loan_f: np.ndarray,
    loan_s: np.ndarray, borrower_f: np.ndarray, borrower_s: np.ndarray, flow_left: np.ndarray, rng: np.ndarray,
    refinance_u: np.ndarray, cursor: np.ndarray, rec_log: np.ndarray, ind: np.ndarray, amt: np.ndarray,
    pair_ind: np.ndarray, pair_amt: np.ndarray,
    counts: np.ndarray, pair_counts: np.ndarray, sums: np.ndarray, squares: np.ndarray, pair_squares: np.ndarray,
    cocall: np.ndarray, sold: np.ndarray, ledger: np.ndarray, first_call: np.ndarray, first_default: np.ndarray,
    borrower_default_day: np.ndarray, loss_hist: np.ndarray, lender_loss_hist: np.ndarray, lar_hist: np.ndarray,
    equity_hist: np.ndarray, ltv_hist: np.ndarray, cash_hist: np.ndarray, price_hist: np.ndarray,
    path_loans: np.ndarray, path_borrowers: np.ndarray, control: np.ndarray, log: np.ndarray, log_n: np.ndarray,
) -> None:
    """Paths start .. stop - 1 of a block, one after the other, each from day 0 to the horizon.
    `resolve` is `engine.day.resolve_day`, passed as a function (see `engine.kernel`).
    `control[0]` set to 1 from outside stops the block at the next path (a run being cancelled)."""
    horizon = int(settings[ST_HORIZON])
    dt = settings[ST_DT]
    shortcuts = settings[ST_SHORTCUTS] != 0.0
    antithetic = settings[ST_ANTITHETIC] != 0.0
    block_sold = sold[block]
    params = (settings, calendar, asset_p, asset_i, chol, history, shocks, loan_p, loan_i, pool, borrower_p, borrower_i, flows, sale_order)
    state = (market, holding, pledged, lender_sold, loan_f, loan_s, borrower_f, borrower_s, flow_left, rng, cursor)
    for path in range(start, stop):
        if control[0] != 0:
            return
        if log.shape[0] > 0:  # a traced run (one thread): threads sharing log_n would contend on every path
            log_n[1] = path
        sign = start_path(
            path, seed, settings, asset_p, loan_p, loan_i, pool, borrower_p, hold0, shocks, market, holding, pledged,
            lender_sold, loan_f, loan_s, borrower_f, borrower_s, flow_left, rng, refinance_u, cursor,
        )
        # np.bool_, not a literal True or False: numba compiles a kernel again for each literal value
        quiet = refresh_gates(DAY0, dt, asset_i, loan_p, loan_i, pool, market, pledged, loan_f, loan_s, flow_left, np.bool_(False))
        gate_day = DAY0
        r0 = calendar[0, CA_RECORD]
        if r0 >= 0:
            record_day(DAY0, r0, slot, asset_p, asset_i, loan_i, pool, borrower_p, market, pledged, loan_f, loan_s, borrower_f, ltv_hist, cash_hist, price_hist)
        t = DAY0 + 1
        while t <= horizon:
            stepped = False
            span = GATE_DAYS if accruing(loan_p, loan_s) else horizon + 1  # without accrual the gates stand
            if quiet and shortcuts:
                if t >= gate_day + span:  # the gates allow for GATE_DAYS of accrual: renew them
                    gate_day = t - 1
                    quiet = refresh_gates(gate_day, dt, asset_i, loan_p, loan_i, pool, market, pledged, loan_f, loan_s, flow_left, np.bool_(True))
            if quiet and shortcuts:
                due = next_due_day(t, horizon, calendar, loan_s)
                stop_day = min(due, gate_day + span)
                if stop_day > t:
                    if single_quiet_ok(t, settings, asset_i, history, loan_i, loan_f, loan_s):
                        reached = quiet_days_single(
                            t, stop_day, slot, sign, settings, calendar, asset_p, asset_i, chol, loan_p, loan_i, pool,
                            borrower_p, market, pledged, loan_f, loan_s, borrower_f, rng, rec_log, ltv_hist, cash_hist, price_hist,
                        )
                    else:
                        reached = quiet_days(
                            t, stop_day, slot, sign, settings, calendar, asset_p, asset_i, chol, history, loan_p, loan_i, pool,
                            borrower_p, market, pledged, loan_f, loan_s, borrower_f, rng, cursor, ltv_hist, cash_hist, price_hist,
                        )
                    if reached < 0:  # tripped on day -reached after its market move: finish it below
                        t = -reached
                        stepped = True
                    elif reached > horizon:
                        break
                    else:
                        t = reached
                        if t < due:  # only the gates ran out: the next turn renews them
                            continue
            quiet, refreshed = full_day(resolve, t, stepped, quiet, sign, refinance_u, params, state, block_sold, log, log_n)
            if refreshed:
                gate_day = t
            r = calendar[t, CA_RECORD]
            if r >= 0:
                record_day(t, r, slot, asset_p, asset_i, loan_i, pool, borrower_p, market, pledged, loan_f, loan_s, borrower_f, ltv_hist, cash_hist, price_hist)
            t += 1
        sync_prices(horizon, market, asset_i, holding, borrower_f)
        check_ledger(loan_i, market, holding, loan_f, borrower_f)
        value_at_horizon(horizon, asset_p, asset_i, loan_p, loan_i, market, holding, pledged, loan_f, loan_s, borrower_f, borrower_s)
        add_outcome(
            path, block, slot, record_start, antithetic, loan_p, loan_i, borrower_p, lender_p, market, holding, loan_f,
            loan_s, borrower_f, borrower_s, ind, amt, pair_ind, pair_amt, counts, pair_counts, sums, squares, pair_squares,
            cocall, ledger, first_call, first_default, borrower_default_day, loss_hist, lender_loss_hist, lar_hist,
            equity_hist, path_loans, path_borrowers,
        )
