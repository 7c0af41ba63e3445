"""The borrower's liquidity: what it does, in its response order, to cure a margin call and to
pay what falls due.

Actions (codes.ACT_*): cash; pledge (cures only); release of collateral above a lender's cure
level; draw on undrawn committed facilities; one block a day of a free public holding; market
sales at the participation limit. A cure spends cash above the reserve only; a payment that
falls due spends all cash, the reserve included, before anything else.
"""

from __future__ import annotations

import numpy as np

from margincall._jit import inline, kernel
from margincall.engine import codes as c
from margincall.engine.accounts import (
    block_sale,
    cure_gap,
    cure_met,
    debt,
    free_units,
    lending_value,
    log_event,
    market_sale,
    negligible,
    repay,
    units_for_proceeds,
)
from margincall.engine.layout import (
    AI_SELLABLE_DAY,
    AP_VOLUME,
    BF_CASH,
    BF_DRAWN,
    BF_LAR,
    BF_PNL_FLOWS,
    BI_RESPONSE,
    BP_BLOCK_DISCOUNT,
    BP_BLOCK_FRACTION,
    BP_PARTICIPATION,
    BP_RESERVE,
    BS_DEFAULTED,
    BS_FLAGS,
    FL_AMOUNT,
    FL_BORROWER,
    FL_DAY,
    FL_DEADLINE,
    HS_BLOCKED,
    HS_SOLD,
    HS_UNITS,
    LF_ACCRUED,
    LF_CURE_PAID,
    LF_DRAWN,
    LF_DUE,
    LF_PRINCIPAL,
    LF_RECOVERED,
    LI_BORROWER,
    LI_SECURED,
    LP_CURE,
    LP_DRAW_MAX_LTV,
    LP_LIMIT,
    LS_DEADLINE,
    LS_DUE_DEADLINE,
    LS_DUE_KIND,
    LS_FLAGS,
    LS_MATURITY,
    LS_STATUS,
    MS_PRICE,
    NONE,
    PL_ACCEPTED,
    PL_HAIRCUT,
    TINY,
)


@kernel
def sell_free(
    t: int, b: int, target: float, asset_p: np.ndarray, asset_i: np.ndarray, borrower_p: np.ndarray, loan_i: np.ndarray,
    market: np.ndarray, holding: np.ndarray, pledged: np.ndarray, borrower_f: np.ndarray, borrower_s: np.ndarray,
    sold_today: np.ndarray, log: np.ndarray, log_n: np.ndarray,
) -> float:
    """Market sales of borrower b's free, sellable public holdings (asset order) for proceeds up
    to `target`, within its daily participation limit. Returns the proceeds (the caller routes them)."""
    got = 0.0
    for a in range(market.shape[0]):
        need = target - got
        if need <= TINY:
            break
        if t < asset_i[a, AI_SELLABLE_DAY] or asset_p[a, AP_VOLUME] <= 0.0:
            continue
        limit = min(
            borrower_p[b, BP_PARTICIPATION] * asset_p[a, AP_VOLUME] - holding[b, a, HS_SOLD],
            free_units(b, a, holding, pledged, loan_i),
        )
        if limit <= 0.0:
            continue
        units = units_for_proceeds(a, need, limit, market, asset_p, asset_i)
        if negligible(units, holding[b, a, HS_UNITS]):  # no sales of rounding dust
            continue
        price = market[a, MS_PRICE]
        proceeds = market_sale(b, a, units, market, asset_p, asset_i, holding, borrower_f)
        holding[b, a, HS_SOLD] += units
        sold_today[a] += units * price
        got += proceeds
        borrower_s[b, BS_FLAGS] |= c.B_SOLD | c.B_FORCED_SALE
        log_event(log, log_n, t, c.E_SELL, NONE, a, proceeds, b)
    return got


@kernel
def block_free(
    t: int, b: int, target: float, asset_p: np.ndarray, asset_i: np.ndarray, borrower_p: np.ndarray, loan_i: np.ndarray,
    market: np.ndarray, holding: np.ndarray, pledged: np.ndarray, borrower_f: np.ndarray, borrower_s: np.ndarray,
    sold_today: np.ndarray, log: np.ndarray, log_n: np.ndarray,
) -> float:
    """One block a day of each free, sellable public holding of borrower b (asset order), of at
    most block_fraction of the holding, at block_discount below the day's price, for proceeds up
    to `target`. Returns the proceeds."""
    fraction = borrower_p[b, BP_BLOCK_FRACTION]
    discount = borrower_p[b, BP_BLOCK_DISCOUNT]
    got = 0.0
    if fraction <= 0.0:
        return got
    for a in range(market.shape[0]):
        need = target - got
        if need <= TINY:
            break
        price = market[a, MS_PRICE]
        if t < asset_i[a, AI_SELLABLE_DAY] or holding[b, a, HS_BLOCKED] != 0.0 or price <= 0.0:
            continue
        units = min(fraction * holding[b, a, HS_UNITS], free_units(b, a, holding, pledged, loan_i))
        units = min(units, need / (price * (1.0 - discount)) if discount < 1.0 else units)
        if negligible(units, holding[b, a, HS_UNITS]):  # free units left by rounding are not a block
            continue
        proceeds = block_sale(b, a, units, discount, market, asset_p, asset_i, holding, borrower_f)
        holding[b, a, HS_BLOCKED] = 1.0
        sold_today[a] += units * price
        got += proceeds
        borrower_s[b, BS_FLAGS] |= c.B_SOLD | c.B_FORCED_SALE | c.B_BLOCK
        log_event(log, log_n, t, c.E_BLOCK, NONE, a, proceeds, b)
    return got


@kernel
def draw_facilities(
    t: int, b: int, target: float, exclude: int, loan_p: np.ndarray, loan_i: np.ndarray, pool: np.ndarray,
    market: np.ndarray, pledged: np.ndarray, loan_f: np.ndarray, loan_s: np.ndarray, borrower_f: np.ndarray,
    borrower_s: np.ndarray, log: np.ndarray, log_n: np.ndarray,
) -> float:
    """Draw up to `target` on borrower b's undrawn committed facilities (loan order, except
    `exclude`): a facility in good standing before its maturity, while its LTV after the draw stays
    at or below its draw cap. The cash goes to the borrower; returns the amount drawn."""
    got = 0.0
    for l in range(loan_i.shape[0]):
        need = target - got
        if need <= TINY:
            break
        if l == exclude or loan_i[l, LI_BORROWER] != b or loan_i[l, LI_SECURED] == 0:
            continue
        if loan_s[l, LS_STATUS] != c.ACTIVE or loan_s[l, LS_DUE_KIND] != c.DUE_NONE or t >= loan_s[l, LS_MATURITY]:
            continue
        undrawn = loan_p[l, LP_LIMIT] - loan_f[l, LF_PRINCIPAL]
        room = loan_p[l, LP_DRAW_MAX_LTV] * lending_value(l, pledged, pool, market) - debt(loan_f, l)
        x = min(undrawn, room, need)
        if negligible(x, loan_p[l, LP_LIMIT]):  # no draws of rounding dust (a pool just released to its cap)
            continue
        loan_f[l, LF_PRINCIPAL] += x
        loan_f[l, LF_DRAWN] += x
        borrower_f[b, BF_CASH] += x
        borrower_f[b, BF_DRAWN] += x
        loan_s[l, LS_FLAGS] |= c.F_DRAWN
        borrower_s[b, BS_FLAGS] |= c.B_DRAW
        got += x
        log_event(log, log_n, t, c.E_DRAW, l, NONE, x, b)
    return got


@kernel
def release_excess(
    t: int, b: int, exclude: int, wanted: float, loan_p: np.ndarray, loan_i: np.ndarray, pool: np.ndarray,
    market: np.ndarray, pledged: np.ndarray, loan_f: np.ndarray, loan_s: np.ndarray, log: np.ndarray, log_n: np.ndarray,
) -> bool:
    """Free up to `wanted` (market value) of the collateral of borrower b's loans (except
    `exclude`) that lies above each lender's cure level: a loan in good standing keeps at least the
    pool that puts its LTV at cure_ltv. The loans with the lowest LTV give first, their last
    assets first. Returns whether anything was released."""
    released = False
    last_ltv = -1.0
    last = NONE
    total = wanted
    for _ in range(loan_i.shape[0]):
        if negligible(wanted, total):
            break
        best = NONE
        best_ltv = 0.0
        for l in range(loan_i.shape[0]):  # the next loan by (LTV, index) after the last one
            if l == exclude or loan_i[l, LI_BORROWER] != b or loan_i[l, LI_SECURED] == 0:
                continue
            if loan_s[l, LS_STATUS] != c.ACTIVE or loan_s[l, LS_DUE_KIND] != c.DUE_NONE:
                continue
            value = lending_value(l, pledged, pool, market)
            if value <= 0.0:
                continue
            ltv = debt(loan_f, l) / value
            after_last = ltv > last_ltv or (ltv == last_ltv and l > last)
            # a pool at its cure level to rounding dust (one just released) has nothing above it
            above = not negligible(value - debt(loan_f, l) / loan_p[l, LP_CURE], value)
            if after_last and ltv < loan_p[l, LP_CURE] and above and (best < 0 or ltv < best_ltv):
                best = l
                best_ltv = ltv
        if best < 0:
            break
        l = best
        last = l
        last_ltv = best_ltv
        excess = lending_value(l, pledged, pool, market) - debt(loan_f, l) / loan_p[l, LP_CURE]
        freed = 0.0
        freed_value = 0.0
        for a in range(market.shape[0] - 1, -1, -1):
            if negligible(excess - freed, excess) or negligible(wanted - freed_value, total) or pledged[l, a] <= 0.0:
                continue
            price = market[a, MS_PRICE]
            unit_value = price * (1.0 - pool[l, a, PL_HAIRCUT])
            if unit_value <= 0.0:
                continue
            units = min(pledged[l, a], (excess - freed) / unit_value, (wanted - freed_value) / price)
            pledged[l, a] -= units
            freed += units * unit_value
            freed_value += units * price
        if freed_value > 0.0:
            wanted -= freed_value
            released = True
            loan_s[l, LS_FLAGS] |= c.F_RELEASED
            log_event(log, log_n, t, c.E_RELEASE, l, NONE, freed_value, b)
    return released


RELEASE_MARGIN = 1.25  # collateral released to raise an amount: its value over the amount


@inline
def release_wanted(l: int, gap: float, needed_value: float, pool: np.ndarray) -> float:
    """The market value to release for a call on loan l: what pledging at the lender's largest
    accepted haircut needs, or what selling for the repayment `gap` needs, whichever is more."""
    worst = 0.0
    for a in range(pool.shape[1]):
        if pool[l, a, PL_ACCEPTED] != 0.0 and pool[l, a, PL_HAIRCUT] > worst:
            worst = pool[l, a, PL_HAIRCUT]
    pledge = needed_value / (1.0 - worst) if worst < 1.0 else needed_value
    return max(pledge, RELEASE_MARGIN * gap)


@inline
def pledge_free(
    t: int, l: int, needed: float, loan_i: np.ndarray, pool: np.ndarray, market: np.ndarray, holding: np.ndarray,
    pledged: np.ndarray, loan_s: np.ndarray, log: np.ndarray, log_n: np.ndarray,
) -> bool:
    """Pledge free holdings that loan l's lender accepts (asset order) for up to `needed` of
    lending value. Returns whether anything was pledged."""
    b = loan_i[l, LI_BORROWER]
    acted = False
    for a in range(market.shape[0]):
        if needed <= TINY:
            break
        if pool[l, a, PL_ACCEPTED] == 0.0:
            continue
        unit_value = market[a, MS_PRICE] * (1.0 - pool[l, a, PL_HAIRCUT])
        free = free_units(b, a, holding, pledged, loan_i)
        if unit_value <= 0.0 or free <= 0.0:
            continue
        units = min(free, needed / unit_value)
        if negligible(units, holding[b, a, HS_UNITS]):  # free units left by rounding are not pledged
            continue
        pledged[l, a] += units
        needed -= units * unit_value
        loan_s[l, LS_FLAGS] |= c.F_PLEDGED
        log_event(log, log_n, t, c.E_PLEDGE, l, a, units * unit_value, b)
        acted = True
    return acted


@kernel
def respond(
    t: int, l: int, asset_p: np.ndarray, asset_i: np.ndarray, loan_p: np.ndarray, loan_i: np.ndarray, pool: np.ndarray,
    borrower_p: np.ndarray, borrower_i: np.ndarray, market: np.ndarray, holding: np.ndarray, pledged: np.ndarray,
    loan_f: np.ndarray, loan_s: np.ndarray, borrower_f: np.ndarray, borrower_s: np.ndarray, sold_today: np.ndarray,
    log: np.ndarray, log_n: np.ndarray,
) -> bool:
    """The borrower's answer to loan l's open call, in its response order, aiming at cure_ltv.
    Cash above the reserve cures a call; on the call's last day, once every action has been taken,
    the reserve too: it is kept to avoid a default, and a call not cured by tonight is one."""
    b = loan_i[l, LI_BORROWER]
    acted = False
    cure = loan_p[l, LP_CURE]
    uses_cash = False
    for k in range(borrower_i.shape[1]):
        action = borrower_i[b, BI_RESPONSE + k]
        if action < 0:
            break
        d = debt(loan_f, l)
        value = lending_value(l, pledged, pool, market)
        gap = cure_gap(l, cure, loan_f, pledged, pool, market)  # repayment that restores cure_ltv
        if cure_met(gap, d):
            break
        raised = 0.0
        if action == c.ACT_CASH:
            uses_cash = True
            if pay_cure(t, l, b, min(borrower_f[b, BF_CASH] - borrower_p[b, BP_RESERVE], gap), loan_f, borrower_f, log, log_n):
                acted = True
        elif action == c.ACT_PLEDGE:
            if pledge_free(t, l, d / cure - value, loan_i, pool, market, holding, pledged, loan_s, log, log_n):
                acted = True
        elif action == c.ACT_RELEASE:
            # enough to pledge at the called lender's worst haircut, or to sell for the gap
            if release_excess(t, b, l, release_wanted(l, gap, d / cure - value, pool), loan_p, loan_i, pool, market, pledged, loan_f, loan_s, log, log_n):
                acted = True
        elif action == c.ACT_DRAW:
            raised = draw_facilities(t, b, gap, l, loan_p, loan_i, pool, market, pledged, loan_f, loan_s, borrower_f, borrower_s, log, log_n)
            borrower_f[b, BF_CASH] -= raised  # the draw's cash goes to the called lender
        elif action == c.ACT_BLOCK:
            raised = block_free(t, b, gap, asset_p, asset_i, borrower_p, loan_i, market, holding, pledged, borrower_f, borrower_s, sold_today, log, log_n)
        elif action == c.ACT_SELL:
            raised = sell_free(t, b, gap, asset_p, asset_i, borrower_p, loan_i, market, holding, pledged, borrower_f, borrower_s, sold_today, log, log_n)
        if raised > TINY:
            used = repay(l, raised, loan_f)
            borrower_f[b, BF_CASH] += raised - used
            loan_f[l, LF_CURE_PAID] += used
            borrower_f[b, BF_LAR] += used
            if action != c.ACT_DRAW:
                loan_s[l, LS_FLAGS] |= c.F_SOLD_TO_CURE
            acted = True
    if uses_cash and t >= loan_s[l, LS_DEADLINE]:
        gap = cure_gap(l, cure, loan_f, pledged, pool, market)
        if not cure_met(gap, debt(loan_f, l)) and pay_cure(t, l, b, min(borrower_f[b, BF_CASH], gap), loan_f, borrower_f, log, log_n):
            acted = True
    return acted


@inline
def pay_cure(t: int, l: int, b: int, pay: float, loan_f: np.ndarray, borrower_f: np.ndarray, log: np.ndarray, log_n: np.ndarray) -> bool:
    """Borrower b pays `pay` of cash to cure loan l's call; nothing for rounding dust. Returns whether it paid."""
    if negligible(pay, debt(loan_f, l)):
        return False
    borrower_f[b, BF_CASH] -= pay
    repay(l, pay, loan_f)
    loan_f[l, LF_CURE_PAID] += pay
    borrower_f[b, BF_LAR] += pay
    log_event(log, log_n, t, c.E_PAY_CASH, l, NONE, pay, b)
    return True


@inline
def dues_of(
    t: int, b: int, loan_p: np.ndarray, loan_f: np.ndarray, loan_i: np.ndarray, loan_s: np.ndarray, flows: np.ndarray,
    flow_left: np.ndarray,
) -> float:
    """What borrower b owes now, with a grace period: interest due, whole debts due (maturities,
    accelerations, recourse shortfalls) and outflows of days up to t; rounding dust left of an
    amount (`negligible` next to its facility or flow) is not owed."""
    total = 0.0
    for l in range(loan_i.shape[0]):
        if loan_i[l, LI_BORROWER] != b:
            continue
        kind = loan_s[l, LS_DUE_KIND]
        amount = 0.0
        if kind == c.DUE_INTEREST:
            amount = min(loan_f[l, LF_DUE], loan_f[l, LF_ACCRUED])
        elif kind == c.DUE_DEBT:
            amount = debt(loan_f, l)
        if not negligible(amount, loan_p[l, LP_LIMIT]):
            total += amount
    for k in range(flows.shape[0]):
        if int(flows[k, FL_BORROWER]) == b and flows[k, FL_DAY] <= t and not negligible(flow_left[k], flows[k, FL_AMOUNT]):
            total += flow_left[k]
    return total


@kernel
def pay_dues(
    t: int, b: int, asset_p: np.ndarray, asset_i: np.ndarray, loan_p: np.ndarray, loan_i: np.ndarray, pool: np.ndarray,
    borrower_p: np.ndarray, borrower_i: np.ndarray, flows: np.ndarray, market: np.ndarray, holding: np.ndarray,
    pledged: np.ndarray, loan_f: np.ndarray, loan_s: np.ndarray, borrower_f: np.ndarray, borrower_s: np.ndarray,
    flow_left: np.ndarray, sold_today: np.ndarray, log: np.ndarray, log_n: np.ndarray,
) -> bool:
    """Borrower b raises what it owes now (cash first, the reserve included, then its response
    order: release, draw, block, sell; pledging raises no cash) and pays its dues, earliest
    deadline first. Returns whether anything was paid or raised."""
    if borrower_s[b, BS_DEFAULTED] != 0:
        return False
    owed = dues_of(t, b, loan_p, loan_f, loan_i, loan_s, flows, flow_left)
    if owed <= TINY:
        return False
    acted = False
    for k in range(borrower_i.shape[1]):
        short = owed - borrower_f[b, BF_CASH]
        if negligible(short, owed):  # nothing raised for rounding dust (no blocks or releases of 1e-6)
            break
        action = borrower_i[b, BI_RESPONSE + k]
        if action < 0:
            break
        if action == c.ACT_RELEASE:
            # a margin for the sales' discount and impact
            if release_excess(t, b, NONE, RELEASE_MARGIN * short, loan_p, loan_i, pool, market, pledged, loan_f, loan_s, log, log_n):
                acted = True
        elif action == c.ACT_DRAW:
            if draw_facilities(t, b, short, NONE, loan_p, loan_i, pool, market, pledged, loan_f, loan_s, borrower_f, borrower_s, log, log_n) > TINY:
                acted = True
        elif action == c.ACT_BLOCK:
            got = block_free(t, b, short, asset_p, asset_i, borrower_p, loan_i, market, holding, pledged, borrower_f, borrower_s, sold_today, log, log_n)
            if got > TINY:
                borrower_f[b, BF_CASH] += got
                acted = True
        elif action == c.ACT_SELL:
            got = sell_free(t, b, short, asset_p, asset_i, borrower_p, loan_i, market, holding, pledged, borrower_f, borrower_s, sold_today, log, log_n)
            if got > TINY:
                borrower_f[b, BF_CASH] += got
                acted = True
    # pay, earliest deadline first (loans before flows on the same day); cash left as rounding dust stays
    while not negligible(borrower_f[b, BF_CASH], owed):
        best = NONE
        best_flow = NONE
        best_deadline = 1 << 62
        for l in range(loan_i.shape[0]):
            if loan_i[l, LI_BORROWER] == b and loan_s[l, LS_DUE_KIND] != c.DUE_NONE and loan_s[l, LS_DUE_DEADLINE] < best_deadline:
                best = l
                best_deadline = loan_s[l, LS_DUE_DEADLINE]
        for k in range(flows.shape[0]):
            if int(flows[k, FL_BORROWER]) == b and flows[k, FL_DAY] <= t and flow_left[k] > TINY and int(flows[k, FL_DEADLINE]) < best_deadline:
                best = NONE
                best_flow = k
                best_deadline = int(flows[k, FL_DEADLINE])
        if best < 0 and best_flow < 0:
            break
        cash = borrower_f[b, BF_CASH]
        if best_flow >= 0:
            paid = min(cash, flow_left[best_flow])
            flow_left[best_flow] -= paid
            if negligible(flow_left[best_flow], flows[best_flow, FL_AMOUNT]):
                flow_left[best_flow] = 0.0
            borrower_f[b, BF_PNL_FLOWS] -= paid
            log_event(log, log_n, t, c.E_CASH_FLOW, NONE, NONE, -paid, b)
        elif loan_s[best, LS_DUE_KIND] == c.DUE_INTEREST:
            due = min(loan_f[best, LF_DUE], loan_f[best, LF_ACCRUED])
            paid = repay(best, min(cash, due), loan_f) if due > TINY else 0.0
            loan_f[best, LF_DUE] = max(due - paid, 0.0)
            if negligible(loan_f[best, LF_DUE], loan_p[best, LP_LIMIT]):  # dust stays accrued, due next date
                loan_f[best, LF_DUE] = 0.0
                loan_s[best, LS_DUE_KIND] = c.DUE_NONE
            if paid > 0.0:
                log_event(log, log_n, t, c.E_INTEREST, best, NONE, paid, b)
        else:
            paid = repay(best, cash, loan_f)
            if loan_s[best, LS_STATUS] == c.DEFAULTED:
                loan_f[best, LF_RECOVERED] += paid
            if negligible(debt(loan_f, best), loan_p[best, LP_LIMIT]):
                loan_s[best, LS_DUE_KIND] = c.DUE_NONE
            if paid > 0.0:
                log_event(log, log_n, t, c.E_REPAY, best, NONE, paid, b)
        borrower_f[b, BF_CASH] -= paid
        acted = True
    return acted
