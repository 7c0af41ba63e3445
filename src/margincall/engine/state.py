"""One path's state, as small arrays with named columns, and the moves that change it.

Every move keeps the path's books balanced: equity = cash + holdings at their prices - debt -
claims changes only through the profit-and-loss columns (market, execution, interest, cash
flows, forgiven debt), which the ledger check in the kernel compares with the balance sheet.
"""

from __future__ import annotations

import math

import numpy as np
from margincall._jit import inline_kernel, kernel

from margincall.market.impact import impact_fraction

# asset_f[a, column]; one unit is the borrower's whole day-0 holding
A_LOGV = 0  # fair log value of one unit
A_PERM = 1  # log of the permanent price impact accumulated so far
A_PRICE = 2  # price of one unit now: market price (public) or last mark (private)
A_PRE = 3  # price of one unit at today's open, before today's sales
A_UNITS = 4  # units the borrower owns, pledged or free
A_SOLD = 5  # currency sold today by everyone, at the open price
A_BSOLD = 6  # currency sold today by the borrower, at the open price
N_ASSET_F = 7

# loan_f[l, column], currency
L_PRINCIPAL = 0
L_ACCRUED = 1  # accrued unpaid interest
L_LOSS = 2  # the lender's loss
L_CURE_PAID = 3  # paid by the borrower to cure calls
L_RECOVERED = 4  # recovered by the lender from liquidation and recourse
L_EXPOSURE = 5  # debt at default
L_LOG_BARRIER = 6  # quiet-day gate: the pool's log price at or below which a trigger may be reached
L_LOG_POOL = 7  # log(pledged units * (1 - haircut)) of a single-asset pool
L_LOG_DEBT = 8  # log of L_DEBT_LOGGED
L_DEBT_LOGGED = 9  # the debt whose log is in L_LOG_DEBT
N_LOAN_F = 10

# loan_i[l, column]
I_STATUS = 0
I_DEADLINE = 1  # last day to cure the open call
I_MATURITY = 2
I_EXTENDED = 3
I_FLAGS = 4
I_FIRST_CALL = 5
I_FIRST_DEFAULT = 6
I_DEFAULT_DAY = 7
I_REFINANCINGS = 8
I_GATE_ASSET = 9  # the one public asset of the loan's pool (quiet-day gate), or -1
I_WAKE_DAY = 10  # a defaulted loan waiting for its private pool's sale delay: the first sale day
N_LOAN_I = 11

# b_f[column], currency
B_CASH = 0
B_CLAIMS = 1  # recovery claims of unsecured lenders still owed by a defaulted borrower
B_LAR = 2  # paid to cure calls (liquidity at risk)
B_SOLD_NOMINAL = 3  # value sold, at the open price (private: at fair value)
B_EXEC_COST = 4  # value sold minus proceeds: price impact and block discounts
B_DISCOUNT_COST = 5  # the block-discount part of B_EXEC_COST
B_PNL_MARKET = 6
B_PNL_EXEC = 7
B_PNL_INTEREST = 8
B_PNL_FLOWS = 9
B_PNL_FORGIVEN = 10
B_EQUITY0 = 11
B_LEDGER_MAX = 12  # largest |balance sheet - (equity0 + P&L)| seen, currency
N_BORROWER_F = 13

# b_i[column]
BI_FLAGS = 0
BI_DEFAULTED = 1
BI_CALLED_LOANS = 2
N_BORROWER_I = 3

# log[row, column] of a traced path
G_PATH = 0
G_DAY = 1
G_CODE = 2
G_LOAN = 3
G_ASSET = 4
G_AMOUNT = 5
N_LOG = 6

TINY = 1e-9  # currency amounts below this are zero


@kernel
def log_event(log: np.ndarray, log_n: np.ndarray, day: int, code: int, loan: int, asset: int, amount: float) -> None:
    """Append an event to a traced path's log (a no-op when the log has no rows)."""
    n = log_n[0]
    if n < log.shape[0]:
        log[n, G_PATH] = log_n[1]
        log[n, G_DAY] = day
        log[n, G_CODE] = code
        log[n, G_LOAN] = loan
        log[n, G_ASSET] = asset
        log[n, G_AMOUNT] = amount
        log_n[0] = n + 1


@inline_kernel
def debt(loan_f: np.ndarray, loan: int) -> float:
    return loan_f[loan, L_PRINCIPAL] + loan_f[loan, L_ACCRUED]


@inline_kernel
def lending_value(loan: int, pledged: np.ndarray, haircut: np.ndarray, asset_f: np.ndarray) -> float:
    """The pool's lending value: sum of pledged value * (1 - haircut), at the lender's prices."""
    value = 0.0
    for a in range(pledged.shape[1]):
        if pledged[loan, a] > 0.0:
            value += pledged[loan, a] * asset_f[a, A_PRICE] * (1.0 - haircut[loan, a])
    return value


@inline_kernel
def loan_to_value(loan: int, loan_f: np.ndarray, pledged: np.ndarray, haircut: np.ndarray, asset_f: np.ndarray) -> float:
    d = debt(loan_f, loan)
    if d <= TINY:
        return 0.0
    v = lending_value(loan, pledged, haircut, asset_f)
    if v <= 0.0:
        return math.inf
    return d / v


@inline_kernel
def free_units(a: int, asset_f: np.ndarray, pledged: np.ndarray) -> float:
    total = 0.0
    for l in range(pledged.shape[0]):
        total += pledged[l, a]
    free = asset_f[a, A_UNITS] - total
    return free if free > 0.0 else 0.0


@inline_kernel
def revalue(a: int, new_price: float, asset_f: np.ndarray, b_f: np.ndarray) -> None:
    """Move asset a to a new price; the borrower's holding gains or loses accordingly."""
    old = asset_f[a, A_PRICE]
    if new_price != old:
        units = asset_f[a, A_UNITS]
        if units != 0.0:
            b_f[B_PNL_MARKET] += units * (new_price - old)
        asset_f[a, A_PRICE] = new_price


@inline_kernel
def repay(loan: int, amount: float, loan_f: np.ndarray) -> float:
    """Apply a payment to accrued interest, then principal; returns what was applied."""
    to_interest = min(amount, loan_f[loan, L_ACCRUED])
    loan_f[loan, L_ACCRUED] -= to_interest
    to_principal = min(amount - to_interest, loan_f[loan, L_PRINCIPAL])
    loan_f[loan, L_PRINCIPAL] -= to_principal
    return to_interest + to_principal


@kernel
def market_sale(
    a: int,
    nominal: float,
    asset_f: np.ndarray,
    impact_y: np.ndarray,
    sigma_daily: np.ndarray,
    adv: np.ndarray,
    b_f: np.ndarray,
) -> tuple[float, float]:
    """Sell `nominal` currency (at today's open price) of asset a on the market.

    The price falls from open * (1 - I(Q)) to open * (1 - I(Q + nominal)), with Q what was
    sold earlier today by anyone; the sale executes at the average of the two prices, and every
    remaining holder sees the new price. Returns (proceeds, units sold); the caller takes the
    units out of the right pocket (free or pledged).
    """
    open_price = asset_f[a, A_PRE]
    if nominal <= 0.0 or open_price <= 0.0:
        return 0.0, 0.0
    units = nominal / open_price
    before = asset_f[a, A_SOLD]
    impact_before = impact_fraction(impact_y[a], sigma_daily[a], before, adv[a])
    impact_after = impact_fraction(impact_y[a], sigma_daily[a], before + nominal, adv[a])
    proceeds = nominal * (1.0 - 0.5 * (impact_before + impact_after))
    b_f[B_PNL_EXEC] += proceeds - units * asset_f[a, A_PRICE]
    b_f[B_EXEC_COST] += nominal - proceeds
    b_f[B_SOLD_NOMINAL] += nominal
    asset_f[a, A_SOLD] = before + nominal
    asset_f[a, A_UNITS] -= units
    revalue(a, open_price * (1.0 - impact_after), asset_f, b_f)
    return proceeds, units


@kernel
def nominal_for_proceeds(
    a: int, target: float, limit: float, asset_f: np.ndarray, impact_y: np.ndarray, sigma_daily: np.ndarray, adv: np.ndarray
) -> float:
    """The nominal to sell so that proceeds reach `target`, at most `limit` (fixed-point iteration)."""
    before = asset_f[a, A_SOLD]
    impact_before = impact_fraction(impact_y[a], sigma_daily[a], before, adv[a])
    nominal = target
    for _ in range(8):
        impact_after = impact_fraction(impact_y[a], sigma_daily[a], before + nominal, adv[a])
        nominal = target / (1.0 - 0.5 * (impact_before + impact_after))
        if nominal >= limit:
            return limit
    return nominal
