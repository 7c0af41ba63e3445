"""Selling a loan's pool: a lender's enforcement after a default, and the settlement of a secured
loan whose whole debt falls due (a maturity or an acceleration) by selling its collateral.

Listed collateral is sold by the lender's method: one block at its block discount, or market
sales at its participation of daily volume a day, each sale moving the price for every holder.
Unlisted private collateral is sold only in enforcement, once the asset's sale delay has passed
since the default, in one block at its sale discount to fair value. Within a day, loans are sold
in `sale_order` (block sellers first, then the lenders' order): whoever sells first gets the
better price.
"""

from __future__ import annotations

import numpy as np

from margincall._jit import inline, kernel
from margincall.engine import codes as c
from margincall.engine.accounts import (
    block_sale,
    debt,
    log_event,
    market_sale,
    negligible,
    private_sale,
    repay,
    units_for_proceeds,
)
from margincall.engine.credit import forgive_dust, set_due, settle_claim, write_off
from margincall.engine.layout import (
    AI_LISTING_DAY,
    AI_SALE_DELAY,
    AI_SELLABLE_DAY,
    AP_SALE_DISCOUNT,
    AP_VOLUME,
    BF_CASH,
    BS_DEFAULTED,
    BS_FLAGS,
    ENFORCING,
    LF_RECOVERED,
    LI_BORROWER,
    LI_LENDER,
    LI_METHOD,
    LI_PRINCIPAL_GRACE,
    LI_RECOURSE,
    LP_BLOCK_DISCOUNT,
    LP_LIMIT,
    LP_PARTICIPATION,
    LS_DEFAULT_DAY,
    LS_DUE_KIND,
    LS_FLAGS,
    LS_PROPAGATION,
    LS_WAKE,
    MS_OPEN,
    MS_PRICE,
    NO,
    NONE,
    TINY,
    YES,
    ZERO,
)


@kernel
def sell_pool(
    t: int, l: int, enforcement: bool, asset_p: np.ndarray, asset_i: np.ndarray, loan_p: np.ndarray, loan_i: np.ndarray,
    market: np.ndarray, holding: np.ndarray, pledged: np.ndarray, lender_sold: np.ndarray, loan_f: np.ndarray,
    loan_s: np.ndarray, borrower_f: np.ndarray, sold_today: np.ndarray, log: np.ndarray, log_n: np.ndarray,
) -> bool:
    """Today's sales of loan l's pool towards its debt; the proceeds repay it and any excess goes
    to the borrower's cash. Returns whether anything was sold (or a worthless pool written off)."""
    b = loan_i[l, LI_BORROWER]
    n = loan_i[l, LI_LENDER]
    sold = False
    for a in range(market.shape[0]):
        held = pledged[l, a]
        remaining = debt(loan_f, l)
        if held <= 0.0 or remaining <= TINY:
            continue
        price = market[a, MS_PRICE]
        if t >= asset_i[a, AI_LISTING_DAY]:
            if t < asset_i[a, AI_SELLABLE_DAY]:
                continue
            if market[a, MS_OPEN] <= 0.0:
                pledged[l, a] = 0.0  # worthless shares: the pool is gone
                sold = True
                continue
            if loan_i[l, LI_METHOD] == c.METHOD_BLOCK:
                discount = loan_p[l, LP_BLOCK_DISCOUNT]
                units = held
                if price > 0.0 and discount < 1.0:
                    units = min(held, remaining / (price * (1.0 - discount)))
                proceeds = block_sale(b, a, units, discount, market, asset_p, asset_i, holding, borrower_f)
                code = c.E_LIQUIDATION_BLOCK
            else:
                limit = min(loan_p[l, LP_PARTICIPATION] * asset_p[a, AP_VOLUME] - lender_sold[n, a], held)
                if limit <= 0.0:
                    continue
                units = units_for_proceeds(a, remaining, limit, market, asset_p, asset_i)
                if units <= 0.0:
                    continue
                proceeds = market_sale(b, a, units, market, asset_p, asset_i, holding, borrower_f)
                lender_sold[n, a] += units
                code = c.E_LIQUIDATION_SALE
        else:
            if not enforcement or t < loan_s[l, LS_DEFAULT_DAY] + asset_i[a, AI_SALE_DELAY]:
                continue
            discount = asset_p[a, AP_SALE_DISCOUNT]
            proceeds = private_sale(b, a, ZERO, discount, market, holding, borrower_f)  # reveals the fair value
            price = market[a, MS_PRICE]
            net = price * (1.0 - discount)
            units = held
            if net > 0.0 and held * net > remaining:
                units = remaining / net
            proceeds = private_sale(b, a, units, discount, market, holding, borrower_f)
            code = c.E_LIQUIDATION_BLOCK
        sold_today[a] += units * price
        pledged[l, a] = 0.0 if units >= held * (1.0 - 1e-12) else held - units
        used = repay(l, proceeds, loan_f)
        if enforcement:
            loan_f[l, LF_RECOVERED] += used
        borrower_f[b, BF_CASH] += proceeds - used
        log_event(log, log_n, t, code, l, a, proceeds, b)
        sold = True
    return sold


@inline
def release_pool(l: int, pledged: np.ndarray) -> None:
    """A loan repaid or settled keeps no collateral: its units return to the borrower, free."""
    for a in range(pledged.shape[1]):
        pledged[l, a] = 0.0


@inline
def pool_left(l: int, pledged: np.ndarray) -> bool:
    for a in range(pledged.shape[1]):
        if pledged[l, a] > 0.0:
            return True
    return False


@kernel
def liquidate(
    t: int, l: int, asset_p: np.ndarray, asset_i: np.ndarray, loan_p: np.ndarray, loan_i: np.ndarray,
    market: np.ndarray, holding: np.ndarray, pledged: np.ndarray, lender_sold: np.ndarray, loan_f: np.ndarray,
    loan_s: np.ndarray, borrower_f: np.ndarray, borrower_s: np.ndarray, sold_today: np.ndarray, log: np.ndarray,
    log_n: np.ndarray,
) -> bool:
    """A defaulted secured loan's enforcement today, from its wake day: sell the pool; settle the
    loan when it is repaid; when the pool is gone, a shortfall is lost (non-recourse), due from the
    borrower within its principal grace period (recourse), or a claim on a defaulted borrower."""
    if t < loan_s[l, LS_WAKE]:
        return False
    b = loan_i[l, LI_BORROWER]
    changed = False
    if loan_s[l, LS_PROPAGATION] & ENFORCING == 0:
        loan_s[l, LS_PROPAGATION] |= ENFORCING
        changed = True
    if sell_pool(t, l, YES, asset_p, asset_i, loan_p, loan_i, market, holding, pledged, lender_sold, loan_f, loan_s, borrower_f, sold_today, log, log_n):
        loan_s[l, LS_FLAGS] |= c.F_LIQUIDATED
        borrower_s[b, BS_FLAGS] |= c.B_LIQUIDATION | c.B_FORCED_SALE
        changed = True
    if negligible(debt(loan_f, l), loan_p[l, LP_LIMIT]):
        forgive_dust(l, loan_i, loan_f, borrower_f)
        release_pool(l, pledged)
        write_off(t, l, ZERO, loan_i, loan_f, loan_s, borrower_f, log, log_n)
        return True
    if pool_left(l, pledged) or loan_s[l, LS_DUE_KIND] == c.DUE_DEBT:
        return changed
    if loan_i[l, LI_RECOURSE] != 0:
        loan_s[l, LS_FLAGS] |= c.F_RECOURSE
        if borrower_s[b, BS_DEFAULTED] != 0:
            settle_claim(t, l, loan_p, loan_i, loan_f, loan_s, borrower_f, log, log_n)
        else:
            set_due(t, l, c.DUE_DEBT, t + loan_i[l, LI_PRINCIPAL_GRACE], c.CAUSE_RECOURSE, loan_s)
            log_event(log, log_n, t, c.E_RECOURSE, l, NONE, debt(loan_f, l), b)
    else:
        write_off(t, l, debt(loan_f, l), loan_i, loan_f, loan_s, borrower_f, log, log_n)
    return True


@kernel
def settle(
    t: int, l: int, asset_p: np.ndarray, asset_i: np.ndarray, loan_p: np.ndarray, loan_i: np.ndarray,
    market: np.ndarray, holding: np.ndarray, pledged: np.ndarray, lender_sold: np.ndarray, loan_f: np.ndarray,
    loan_s: np.ndarray, borrower_f: np.ndarray, borrower_s: np.ndarray, sold_today: np.ndarray, log: np.ndarray,
    log_n: np.ndarray,
) -> bool:
    """A secured loan in good standing whose whole debt is due (maturity, acceleration) is repaid by
    selling its collateral through the grace days: a repayment, not a default."""
    b = loan_i[l, LI_BORROWER]
    if not sell_pool(t, l, NO, asset_p, asset_i, loan_p, loan_i, market, holding, pledged, lender_sold, loan_f, loan_s, borrower_f, sold_today, log, log_n):
        return False
    borrower_s[b, BS_FLAGS] |= c.B_SOLD | c.B_FORCED_SALE
    return True
