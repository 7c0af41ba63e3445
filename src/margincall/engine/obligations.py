"""What falls due at the start of a day: interest dates, scheduled cash flows and maturities
(extended, refinanced, or due within the principal grace period).

Refinancing depends on the state of the day: the borrower is not in default, the loan is not
called and its LTV (the borrower's LTV for an unsecured loan) is within the refinancing ceiling,
and the path's refinancing market is open; then the lender rolls the loan with the stated
probability (a uniform drawn per path and maturity at the start of the path).
"""

from __future__ import annotations

import math

import numpy as np

from margincall._jit import inline, kernel
from margincall.engine import codes as c
from margincall.engine.accounts import debt, loan_to_value, log_event
from margincall.engine.credit import set_due
from margincall.engine.layout import (
    BF_CASH,
    BF_PNL_FLOWS,
    BS_DEFAULTED,
    FL_AMOUNT,
    FL_BORROWER,
    FL_DAY,
    HS_UNITS,
    LF_ACCRUED,
    LF_DUE,
    LI_BORROWER,
    LI_EXTENSION_DAYS,
    LI_INTEREST_EVERY,
    LI_INTEREST_GRACE,
    LI_NEEDS_ACCESS,
    LI_PRINCIPAL_GRACE,
    LI_REFINANCE_DAYS,
    LI_SECURED,
    LP_EXTENSION_MAX_LTV,
    LP_RATE,
    LP_REFINANCE_MAX_LTV,
    LP_REFINANCE_PROB,
    LS_EXTENDED,
    LS_FLAGS,
    LS_MATURITY,
    LS_REFINANCINGS,
    LS_STATUS,
    MS_PRICE,
    NONE,
)

REFUSED_BORROWER_DEFAULT = 1
REFUSED_CALLED = 2
REFUSED_LTV = 3
REFUSED_MARKET_CLOSED = 4
REFUSED_BY_LENDER = 5  # the conditions held; the lender declined (the stated probability)


@inline
def borrower_ltv(b: int, loan_i: np.ndarray, loan_f: np.ndarray, market: np.ndarray, holding: np.ndarray) -> float:
    """Borrower b's LTV: all its debt over all its holdings at the lenders' prices (public at
    market, private at their last mark)."""
    owed = 0.0
    for l in range(loan_i.shape[0]):
        if loan_i[l, LI_BORROWER] == b:
            owed += debt(loan_f, l)
    value = 0.0
    for a in range(market.shape[0]):
        value += holding[b, a, HS_UNITS] * market[a, MS_PRICE]
    if owed <= 0.0:
        return 0.0
    return owed / value if value > 0.0 else math.inf


@inline
def refinancing_refusal(
    l: int, market_open: bool, loan_p: np.ndarray, loan_i: np.ndarray, pool: np.ndarray, market: np.ndarray,
    holding: np.ndarray, pledged: np.ndarray, loan_f: np.ndarray, loan_s: np.ndarray, borrower_s: np.ndarray, u: float,
) -> int:
    """0 when loan l is rolled over today, else why not (REFUSED_*)."""
    b = loan_i[l, LI_BORROWER]
    if borrower_s[b, BS_DEFAULTED] != 0:
        return REFUSED_BORROWER_DEFAULT
    if loan_s[l, LS_STATUS] != c.ACTIVE:
        return REFUSED_CALLED
    if loan_i[l, LI_SECURED] != 0:
        ltv = loan_to_value(l, loan_f, pledged, pool, market)
    else:
        ltv = borrower_ltv(b, loan_i, loan_f, market, holding)
    if ltv > loan_p[l, LP_REFINANCE_MAX_LTV]:
        return REFUSED_LTV
    if loan_i[l, LI_NEEDS_ACCESS] != 0 and not market_open:
        return REFUSED_MARKET_CLOSED
    if u >= loan_p[l, LP_REFINANCE_PROB]:
        return REFUSED_BY_LENDER
    return 0


@kernel
def mature(
    t: int, l: int, market_open: bool, refinance_u: np.ndarray, loan_p: np.ndarray, loan_i: np.ndarray, pool: np.ndarray,
    market: np.ndarray, holding: np.ndarray, pledged: np.ndarray, loan_f: np.ndarray, loan_s: np.ndarray,
    borrower_s: np.ndarray, log: np.ndarray, log_n: np.ndarray,
) -> None:
    """Loan l reaches maturity: extended, refinanced, or its whole debt due within the principal
    grace period (paid by the borrower's response, and a secured loan by selling its pool)."""
    b = loan_i[l, LI_BORROWER]
    if loan_i[l, LI_EXTENSION_DAYS] > 0 and loan_s[l, LS_EXTENDED] == 0:
        allowed = True
        if loan_i[l, LI_SECURED] != 0:
            allowed = loan_s[l, LS_STATUS] == c.ACTIVE and (
                loan_to_value(l, loan_f, pledged, pool, market) <= loan_p[l, LP_EXTENSION_MAX_LTV]
            )
        if allowed:
            loan_s[l, LS_EXTENDED] = 1
            loan_s[l, LS_MATURITY] += loan_i[l, LI_EXTENSION_DAYS]
            loan_s[l, LS_FLAGS] |= c.F_EXTENDED
            log_event(log, log_n, t, c.E_EXTEND, l, NONE, debt(loan_f, l), b)
            return
    cause = c.CAUSE_MATURITY
    if loan_p[l, LP_REFINANCE_PROB] > 0.0:
        attempt = loan_s[l, LS_REFINANCINGS]
        u = refinance_u[l, attempt] if attempt < refinance_u.shape[1] else 1.0
        loan_s[l, LS_REFINANCINGS] = attempt + 1
        refused = refinancing_refusal(l, market_open, loan_p, loan_i, pool, market, holding, pledged, loan_f, loan_s, borrower_s, u)
        if refused == 0:
            loan_s[l, LS_MATURITY] += loan_i[l, LI_REFINANCE_DAYS]
            loan_s[l, LS_FLAGS] |= c.F_REFINANCED
            log_event(log, log_n, t, c.E_REFINANCE, l, NONE, debt(loan_f, l), b)
            return
        log_event(log, log_n, t, c.E_REFINANCE_REFUSED, l, NONE, float(refused), b)
        cause = c.CAUSE_REFINANCING
    set_due(t, l, c.DUE_DEBT, t + loan_i[l, LI_PRINCIPAL_GRACE], cause, loan_s)
    log_event(log, log_n, t, c.E_DUE, l, NONE, debt(loan_f, l), b)


@kernel
def open_obligations(
    t: int, market_open: bool, refinance_u: np.ndarray, loan_p: np.ndarray, loan_i: np.ndarray, pool: np.ndarray,
    flows: np.ndarray, market: np.ndarray, holding: np.ndarray, pledged: np.ndarray, loan_f: np.ndarray,
    loan_s: np.ndarray, borrower_f: np.ndarray, borrower_s: np.ndarray, flow_left: np.ndarray, log: np.ndarray,
    log_n: np.ndarray,
) -> None:
    """Interest dates, the day's cash flows (inflows paid in, outflows due within their grace) and
    maturities."""
    for l in range(loan_i.shape[0]):
        status = loan_s[l, LS_STATUS]
        if status != c.ACTIVE and status != c.CALLED:
            continue
        b = loan_i[l, LI_BORROWER]
        if (
            t % loan_i[l, LI_INTEREST_EVERY] == 0
            and t != loan_s[l, LS_MATURITY]
            and loan_p[l, LP_RATE] != 0.0
            and borrower_s[b, BS_DEFAULTED] == 0
            and loan_f[l, LF_ACCRUED] > 0.0
        ):
            loan_f[l, LF_DUE] = loan_f[l, LF_ACCRUED]
            set_due(t, l, c.DUE_INTEREST, t + loan_i[l, LI_INTEREST_GRACE], c.CAUSE_INTEREST, loan_s)
            log_event(log, log_n, t, c.E_DUE, l, NONE, loan_f[l, LF_DUE], b)
    for k in range(flows.shape[0]):
        if int(flows[k, FL_DAY]) != t:
            continue
        b = int(flows[k, FL_BORROWER])
        amount = flows[k, FL_AMOUNT]
        if amount >= 0.0:
            borrower_f[b, BF_CASH] += amount
            borrower_f[b, BF_PNL_FLOWS] += amount
            log_event(log, log_n, t, c.E_CASH_FLOW, NONE, NONE, amount, b)
        elif borrower_s[b, BS_DEFAULTED] == 0:
            flow_left[k] = -amount
            log_event(log, log_n, t, c.E_DUE, NONE, NONE, -amount, b)
    for l in range(loan_i.shape[0]):
        status = loan_s[l, LS_STATUS]
        if (status == c.ACTIVE or status == c.CALLED) and loan_s[l, LS_MATURITY] == t:
            mature(t, l, market_open, refinance_u, loan_p, loan_i, pool, market, holding, pledged, loan_f, loan_s, borrower_s, log, log_n)

