"""The moves that change one path's books: prices, debts, repayments and sales.

Every move keeps each borrower's books balanced: equity = cash - claims + holdings at their
prices - debt changes only through the profit-and-loss columns (market, execution, interest,
cash flows, forgiven debt), which the ledger check compares with the balance sheet.

A sale removes units from the seller's holding (the caller takes pledged units out of the pool)
and adds to the day's sold units of the asset, which move its price for every holder through the
asset's impact law.
"""

from __future__ import annotations

import math

import numpy as np

from margincall._jit import inline, kernel
from margincall.engine.layout import (
    AI_IMPACT_LAW,
    AI_LISTING_DAY,
    AP_IMPACT_EXPONENT,
    AP_IMPACT_Y,
    AP_SIGMA_DAILY,
    AP_VOLUME,
    BF_DISCOUNT_COST,
    BF_EXEC_COST,
    BF_PNL_EXEC,
    BF_PNL_MARKET,
    BF_SOLD_NOMINAL,
    G_AMOUNT,
    G_ASSET,
    G_BORROWER,
    G_CODE,
    G_DAY,
    G_LOAN,
    G_PATH,
    HS_UNITS,
    LF_ACCRUED,
    LF_PRINCIPAL,
    LI_BORROWER,
    MS_LOG_MARK,
    MS_LOGV,
    MS_OPEN,
    MS_PERM_DECAY,
    MS_PERM_FIXED,
    MS_PRICE,
    MS_SOLD,
    PL_HAIRCUT,
    TINY,
)
from margincall.market.impact import impact_fraction


@inline
def log_event(log: np.ndarray, log_n: np.ndarray, day: int, code: int, loan: int, asset: int, amount: float, borrower: int) -> None:
    """Append an event to a traced path's log (a no-op when the log has no rows)."""
    n = log_n[0]
    if n < log.shape[0]:
        log[n, G_PATH] = log_n[1]
        log[n, G_DAY] = day
        log[n, G_CODE] = code
        log[n, G_LOAN] = loan
        log[n, G_ASSET] = asset
        log[n, G_AMOUNT] = amount
        log[n, G_BORROWER] = borrower
        log_n[0] = n + 1


@inline
def debt(loan_f: np.ndarray, l: int) -> float:
    """Debt outstanding: principal and accrued unpaid interest."""
    return loan_f[l, LF_PRINCIPAL] + loan_f[l, LF_ACCRUED]


@inline
def negligible(amount: float, scale: float) -> bool:
    """Whether `amount` is rounding dust next to `scale` (the debt, facility or flow it belongs
    to): at most TINY of it. Sums of amounts of 1e10 leave residues of about 1e-6, which must not
    be raised by sales, releases or draws, nor be a default."""
    return amount <= TINY * (1.0 + abs(scale))


@inline
def cure_gap(l: int, cure_ltv: float, loan_f: np.ndarray, pledged: np.ndarray, pool: np.ndarray, market: np.ndarray) -> float:
    """The repayment that brings loan l's LTV down to `cure_ltv` (<= 0 when it is there)."""
    return debt(loan_f, l) - cure_ltv * lending_value(l, pledged, pool, market)


CURE_TOLERANCE = 1e-6  # a cure gap at most this share of the debt ($10k on $10 bn) is a cure


@inline
def cure_met(gap: float, debt_now: float) -> bool:
    """Whether a cure gap is met: the borrower's response stops, and the covenant test counts a
    cure, at the same point. Sales into a price that the seller's own sales (and another holder's)
    push down close a gap in shrinking rounds; without a common stopping point the last round's
    residue, refused as dust, left a call open that the borrower had in fact met."""
    return gap <= CURE_TOLERANCE * (1.0 + debt_now)


@inline
def lending_value(l: int, pledged: np.ndarray, pool: np.ndarray, market: np.ndarray) -> float:
    """The pool's lending value: sum of pledged units * price * (1 - haircut), at the lender's prices."""
    value = 0.0
    for a in range(pledged.shape[1]):
        if pledged[l, a] > 0.0:
            value += pledged[l, a] * market[a, MS_PRICE] * (1.0 - pool[l, a, PL_HAIRCUT])
    return value


@inline
def loan_to_value(l: int, loan_f: np.ndarray, pledged: np.ndarray, pool: np.ndarray, market: np.ndarray) -> float:
    d = debt(loan_f, l)
    if d <= TINY:
        return 0.0
    v = lending_value(l, pledged, pool, market)
    if v <= 0.0:
        return math.inf
    return d / v


@inline
def pledged_units(b: int, a: int, pledged: np.ndarray, loan_i: np.ndarray) -> float:
    """Units of borrower b's holding of asset a pledged to its loans."""
    total = 0.0
    for l in range(pledged.shape[0]):
        if loan_i[l, LI_BORROWER] == b:
            total += pledged[l, a]
    return total


@inline
def free_units(b: int, a: int, holding: np.ndarray, pledged: np.ndarray, loan_i: np.ndarray) -> float:
    """Units of borrower b's holding of asset a that no loan holds as collateral."""
    free = holding[b, a, HS_UNITS] - pledged_units(b, a, pledged, loan_i)
    return free if free > 0.0 else 0.0


@inline
def revalue(a: int, new_price: float, market: np.ndarray, holding: np.ndarray, borrower_f: np.ndarray) -> None:
    """Move asset a to a new price; every holder gains or loses accordingly."""
    old = market[a, MS_PRICE]
    if new_price != old:
        for b in range(holding.shape[0]):
            units = holding[b, a, HS_UNITS]
            if units != 0.0:
                borrower_f[b, BF_PNL_MARKET] += units * (new_price - old)
        market[a, MS_PRICE] = new_price


@inline
def sync_prices(t: int, market: np.ndarray, asset_i: np.ndarray, holding: np.ndarray, borrower_f: np.ndarray) -> None:
    """Materialise today's market prices of listed assets (fair value times the impact still in
    the price) and revalue every holding; today's sales start from these open prices."""
    for a in range(market.shape[0]):
        if t >= asset_i[a, AI_LISTING_DAY]:
            price = math.exp(market[a, MS_LOGV] + market[a, MS_PERM_FIXED] + market[a, MS_PERM_DECAY])
            revalue(a, price, market, holding, borrower_f)
            market[a, MS_OPEN] = price


@inline
def repay(l: int, amount: float, loan_f: np.ndarray) -> float:
    """Apply a payment to accrued interest, then principal; returns what was applied."""
    to_interest = min(amount, loan_f[l, LF_ACCRUED])
    loan_f[l, LF_ACCRUED] -= to_interest
    to_principal = min(amount - to_interest, loan_f[l, LF_PRINCIPAL])
    loan_f[l, LF_PRINCIPAL] -= to_principal
    return to_interest + to_principal


@inline
def day_impact(a: int, sold_units: float, asset_p: np.ndarray, asset_i: np.ndarray) -> float:
    """The fraction by which `sold_units` sold today (by everyone) move asset a's price."""
    return impact_fraction(
        asset_i[a, AI_IMPACT_LAW], asset_p[a, AP_IMPACT_Y], asset_p[a, AP_SIGMA_DAILY], asset_p[a, AP_IMPACT_EXPONENT],
        sold_units, asset_p[a, AP_VOLUME],
    )


@kernel
def market_sale(
    b: int, a: int, units: float, market: np.ndarray, asset_p: np.ndarray, asset_i: np.ndarray, holding: np.ndarray, borrower_f: np.ndarray
) -> float:
    """Sell `units` of borrower b's holding of asset a on the market; returns the proceeds.

    The price falls from open * (1 - I(Q)) to open * (1 - I(Q + units)), with Q the units sold
    earlier today by anyone; the sale executes at the average of the two prices, and every
    holder sees the new price."""
    open_price = market[a, MS_OPEN]
    if units <= 0.0 or open_price <= 0.0:
        return 0.0
    before = market[a, MS_SOLD]
    impact_before = day_impact(a, before, asset_p, asset_i)
    impact_after = day_impact(a, before + units, asset_p, asset_i)
    nominal = units * open_price
    proceeds = nominal * (1.0 - 0.5 * (impact_before + impact_after))
    borrower_f[b, BF_PNL_EXEC] += proceeds - units * market[a, MS_PRICE]
    borrower_f[b, BF_EXEC_COST] += nominal - proceeds
    borrower_f[b, BF_SOLD_NOMINAL] += nominal
    market[a, MS_SOLD] = before + units
    holding[b, a, HS_UNITS] -= units
    revalue(a, open_price * (1.0 - impact_after), market, holding, borrower_f)
    return proceeds


@kernel
def block_sale(
    b: int, a: int, units: float, discount: float, market: np.ndarray, asset_p: np.ndarray, asset_i: np.ndarray,
    holding: np.ndarray, borrower_f: np.ndarray,
) -> float:
    """Sell `units` of borrower b's holding of asset a in one block at `discount` below the price
    now; returns the proceeds. The block counts in the day's sold units, so the price then moves
    for every holder (and for whoever sells after it today) by the impact law."""
    price = market[a, MS_PRICE]
    if units <= 0.0 or price <= 0.0:
        return 0.0
    nominal = units * price
    proceeds = nominal * (1.0 - discount)
    borrower_f[b, BF_PNL_EXEC] += proceeds - nominal
    borrower_f[b, BF_EXEC_COST] += nominal - proceeds
    borrower_f[b, BF_DISCOUNT_COST] += nominal - proceeds
    borrower_f[b, BF_SOLD_NOMINAL] += nominal
    market[a, MS_SOLD] += units
    holding[b, a, HS_UNITS] -= units
    revalue(a, market[a, MS_OPEN] * (1.0 - day_impact(a, market[a, MS_SOLD], asset_p, asset_i)), market, holding, borrower_f)
    return proceeds


@kernel
def private_sale(
    b: int, a: int, units: float, discount: float, market: np.ndarray, holding: np.ndarray, borrower_f: np.ndarray
) -> float:
    """Sell `units` of borrower b's unlisted holding of asset a in a block at `discount` below fair
    value; the sale reveals the fair value (a valuation event). Returns the proceeds."""
    fair = math.exp(market[a, MS_LOGV])
    market[a, MS_LOG_MARK] = market[a, MS_LOGV]
    revalue(a, fair, market, holding, borrower_f)
    if units <= 0.0:
        return 0.0
    net = fair * (1.0 - discount)
    proceeds = units * net
    borrower_f[b, BF_PNL_EXEC] += proceeds - units * fair
    borrower_f[b, BF_EXEC_COST] += units * (fair - net)
    borrower_f[b, BF_DISCOUNT_COST] += units * (fair - net)
    borrower_f[b, BF_SOLD_NOMINAL] += units * fair
    holding[b, a, HS_UNITS] -= units
    return proceeds


@kernel
def units_for_proceeds(a: int, target: float, limit_units: float, market: np.ndarray, asset_p: np.ndarray, asset_i: np.ndarray) -> float:
    """The units to sell on the market today so that the proceeds reach `target`, at most
    `limit_units` (fixed-point iteration on the average execution price)."""
    open_price = market[a, MS_OPEN]
    if open_price <= 0.0 or limit_units <= 0.0:
        return 0.0
    before = market[a, MS_SOLD]
    impact_before = day_impact(a, before, asset_p, asset_i)
    units = target / open_price
    for _ in range(8):
        impact_after = day_impact(a, before + units, asset_p, asset_i)
        units = target / (open_price * (1.0 - 0.5 * (impact_before + impact_after)))
        if units >= limit_units:
            return limit_units
    return units
