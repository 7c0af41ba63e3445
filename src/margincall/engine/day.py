"""The credit machinery of one trading day on one path, after the market has moved:

obligations -> [covenant tests -> cross-default -> payments of what is due -> responses to calls
-> enforcement and settlement sales] until nothing changes -> deadlines that passed today ->
again, until no deadline falls.

Sales move prices, prices move LTVs, LTVs open calls and defaults, defaults trigger sales: the
inner loop is the day's fixed point (DESIGN §2). A deadline is tested only after the borrowers
have done what they can today.
"""

from __future__ import annotations

import numpy as np
from numba import types

from margincall._jit import inline, kernel
from margincall.engine import codes as c
from margincall.engine.accounts import cure_gap, cure_met, debt, loan_to_value, log_event, negligible
from margincall.engine.credit import (
    cross_default,
    default_borrower,
    enforce,
    forgive_dust,
    mark_default,
    open_call,
)
from margincall.engine.layout import (
    BS_DEFAULTED,
    ENFORCING,
    FL_AMOUNT,
    FL_BORROWER,
    FL_DAY,
    FL_DEADLINE,
    LF_DUE,
    LI_BORROWER,
    LI_CURE_DAYS,
    LI_NOTICE_DAYS,
    LI_RECOURSE,
    LI_SECURED,
    LP_CALL,
    LP_CURE,
    LP_LIMIT,
    LP_LIQUIDATION,
    LS_DEADLINE,
    LS_DUE_CAUSE,
    LS_DUE_DEADLINE,
    LS_DUE_KIND,
    LS_FLAGS,
    LS_NOTICE,
    LS_PROPAGATION,
    LS_STATUS,
    NO,
    NONE,
    PROPAGATED_DEFAULT,
    PROPAGATED_ENFORCING,
    TINY,
    YES,
    ZERO,
)
from margincall.engine.liquidation import liquidate, release_pool, settle
from margincall.engine.liquidity import pay_dues, respond
from margincall.engine.obligations import open_obligations

MAX_ROUNDS = 64


@inline
def test_covenants(
    t: int, loan_p: np.ndarray, loan_i: np.ndarray, pool: np.ndarray, market: np.ndarray, pledged: np.ndarray,
    loan_f: np.ndarray, loan_s: np.ndarray, borrower_s: np.ndarray, log: np.ndarray, log_n: np.ndarray,
) -> bool:
    """Each secured loan in good standing against its triggers: a call at the call level; at the
    liquidation level a default, or a liquidation notice when the loan has a notice period; a
    cure at the cure level. A loan whose whole debt is due (a maturity, an acceleration) is past
    its triggers: it is being repaid, by the borrower and by selling its pool, within its grace
    period, and only what is unpaid when that ends is a default (for the due's own cause).
    Returns whether any status changed."""
    changed = False
    for l in range(loan_i.shape[0]):
        status = loan_s[l, LS_STATUS]
        if loan_i[l, LI_SECURED] == 0 or (status != c.ACTIVE and status != c.CALLED):
            continue
        if loan_s[l, LS_DUE_KIND] == c.DUE_DEBT:
            continue
        b = loan_i[l, LI_BORROWER]
        x = loan_to_value(l, loan_f, pledged, pool, market)
        if x >= loan_p[l, LP_LIQUIDATION]:
            notice = loan_i[l, LI_NOTICE_DAYS]
            if notice > 0:
                if loan_s[l, LS_NOTICE] == 0:
                    open_call(t, l, x, YES, t + notice, loan_s, borrower_s, log, log_n, b)
                    changed = True
            else:
                if status == c.ACTIVE:  # a gap through both triggers is a call too
                    open_call(t, l, x, NO, t, loan_s, borrower_s, log, log_n, b)
                enforce(t, l, c.CAUSE_GAP, loan_i, loan_f, loan_s, log, log_n)
                changed = True
        elif status == c.CALLED:
            if x <= loan_p[l, LP_CURE] * (1.0 + 1e-12) or cure_met(cure_gap(l, loan_p[l, LP_CURE], loan_f, pledged, pool, market), debt(loan_f, l)):
                loan_s[l, LS_STATUS] = c.ACTIVE
                loan_s[l, LS_NOTICE] = 0
                loan_s[l, LS_FLAGS] |= c.F_CURED
                log_event(log, log_n, t, c.E_CURE, l, NONE, x, b)
                changed = True
        elif x >= loan_p[l, LP_CALL]:
            open_call(t, l, x, NO, t + loan_i[l, LI_CURE_DAYS], loan_s, borrower_s, log, log_n, b)
            changed = True
    return changed


@inline
def propagate(t: int, loan_p: np.ndarray, loan_i: np.ndarray, loan_f: np.ndarray, loan_s: np.ndarray, log: np.ndarray, log_n: np.ndarray) -> bool:
    """Cross-default clauses of each defaulted loan's group, and cross-acceleration clauses once
    its lender enforces. Returns whether any loan changed."""
    changed = False
    for l in range(loan_i.shape[0]):
        bits = loan_s[l, LS_PROPAGATION]
        if loan_s[l, LS_FLAGS] & c.F_DEFAULTED and bits & PROPAGATED_DEFAULT == 0:
            loan_s[l, LS_PROPAGATION] |= PROPAGATED_DEFAULT
            if cross_default(t, l, NO, loan_p, loan_i, loan_f, loan_s, log, log_n):
                changed = True
        if bits & ENFORCING and bits & PROPAGATED_ENFORCING == 0:
            loan_s[l, LS_PROPAGATION] |= PROPAGATED_ENFORCING
            if cross_default(t, l, YES, loan_p, loan_i, loan_f, loan_s, log, log_n):
                changed = True
    return changed


@inline
def close_paid(
    t: int, loan_p: np.ndarray, loan_i: np.ndarray, pledged: np.ndarray, loan_f: np.ndarray, loan_s: np.ndarray,
    borrower_f: np.ndarray, log: np.ndarray, log_n: np.ndarray,
) -> bool:
    """A loan whose whole debt was due and is paid (to rounding dust, which is forgiven): repaid
    (its collateral released)."""
    changed = False
    for l in range(loan_i.shape[0]):
        status = loan_s[l, LS_STATUS]
        if (
            (status == c.ACTIVE or status == c.CALLED)
            and negligible(debt(loan_f, l), loan_p[l, LP_LIMIT])
            and loan_s[l, LS_DUE_KIND] != c.DUE_INTEREST
        ):
            forgive_dust(l, loan_i, loan_f, borrower_f)
            release_pool(l, pledged)
            loan_s[l, LS_STATUS] = c.REPAID
            loan_s[l, LS_DUE_KIND] = c.DUE_NONE
            loan_s[l, LS_FLAGS] |= c.F_REPAID
            log_event(log, log_n, t, c.E_REPAY, l, NONE, ZERO, loan_i[l, LI_BORROWER])
            changed = True
    return changed


@kernel
def pass_deadlines(
    t: int, loan_p: np.ndarray, loan_i: np.ndarray, flows: np.ndarray, loan_f: np.ndarray, loan_s: np.ndarray,
    borrower_f: np.ndarray, borrower_s: np.ndarray, flow_left: np.ndarray, log: np.ndarray, log_n: np.ndarray,
) -> bool:
    """Calls and notices past their deadline default (unless the loan's whole debt has fallen due
    since: then only its grace period counts); what is still due when its grace period ends
    is a default: of the loan (and of a non-recourse secured loan only), or of its borrower when it
    owes it (unsecured and guaranteed debt, outflows, recourse shortfalls). Returns whether any."""
    overdue = False
    for l in range(loan_i.shape[0]):
        status = loan_s[l, LS_STATUS]
        b = loan_i[l, LI_BORROWER]
        # a call (or notice) on a loan whose whole debt has since fallen due is superseded by that due
        if status == c.CALLED and t >= loan_s[l, LS_DEADLINE] and loan_s[l, LS_DUE_KIND] != c.DUE_DEBT:
            enforce(t, l, c.CAUSE_GAP if loan_s[l, LS_NOTICE] != 0 else c.CAUSE_UNCURED_CALL, loan_i, loan_f, loan_s, log, log_n)
            overdue = True
            status = loan_s[l, LS_STATUS]
        kind = loan_s[l, LS_DUE_KIND]
        if kind == c.DUE_NONE or t < loan_s[l, LS_DUE_DEADLINE]:
            continue
        if kind == c.DUE_INTEREST and negligible(loan_f[l, LF_DUE], loan_p[l, LP_LIMIT]):
            loan_s[l, LS_DUE_KIND] = c.DUE_NONE  # paid (rounding dust stays accrued)
            loan_f[l, LF_DUE] = 0.0
            continue
        if kind == c.DUE_DEBT and negligible(debt(loan_f, l), loan_p[l, LP_LIMIT]):
            continue
        cause = loan_s[l, LS_DUE_CAUSE]
        overdue = True
        if status == c.DEFAULTED:  # a recourse shortfall not paid: the borrower defaults, the claim ranks unsecured
            default_borrower(t, b, c.CAUSE_RECOURSE, loan_p, loan_i, loan_f, loan_s, borrower_f, borrower_s, flows, flow_left, log, log_n)
            continue
        secured = loan_i[l, LI_SECURED] != 0
        if secured:
            enforce(t, l, cause, loan_i, loan_f, loan_s, log, log_n)
            if cause == c.CAUSE_MATURITY or cause == c.CAUSE_REFINANCING:
                loan_s[l, LS_FLAGS] |= c.F_MATURITY_DEFAULT
            if kind == c.DUE_INTEREST and loan_i[l, LI_RECOURSE] != 0:
                default_borrower(t, b, cause, loan_p, loan_i, loan_f, loan_s, borrower_f, borrower_s, flows, flow_left, log, log_n)
        else:
            mark_default(t, l, cause, loan_f, loan_s)
            if cause == c.CAUSE_MATURITY or cause == c.CAUSE_REFINANCING:
                loan_s[l, LS_FLAGS] |= c.F_MATURITY_DEFAULT
            default_borrower(t, b, cause, loan_p, loan_i, loan_f, loan_s, borrower_f, borrower_s, flows, flow_left, log, log_n)
    for k in range(flows.shape[0]):
        b = int(flows[k, FL_BORROWER])
        if flows[k, FL_DAY] <= t and t >= flows[k, FL_DEADLINE] and negligible(flow_left[k], flows[k, FL_AMOUNT]):
            flow_left[k] = 0.0  # paid (to rounding dust)
        if flow_left[k] > TINY and flows[k, FL_DAY] <= t and t >= flows[k, FL_DEADLINE] and borrower_s[b, BS_DEFAULTED] == 0:
            default_borrower(t, b, c.CAUSE_OUTFLOW, loan_p, loan_i, loan_f, loan_s, borrower_f, borrower_s, flows, flow_left, log, log_n)
            overdue = True
    return overdue


@kernel
def resolve_day(
    t: int, market_open: bool, refinance_u: np.ndarray, asset_p: np.ndarray, asset_i: np.ndarray, loan_p: np.ndarray,
    loan_i: np.ndarray, pool: np.ndarray, borrower_p: np.ndarray, borrower_i: np.ndarray, flows: np.ndarray,
    sale_order: np.ndarray, market: np.ndarray, holding: np.ndarray, pledged: np.ndarray, lender_sold: np.ndarray,
    loan_f: np.ndarray, loan_s: np.ndarray, borrower_f: np.ndarray, borrower_s: np.ndarray, flow_left: np.ndarray,
    sold_today: np.ndarray, log: np.ndarray, log_n: np.ndarray,
) -> None:
    """Obligations, then the day's fixed point, then today's deadlines, until no deadline falls."""
    open_obligations(t, market_open, refinance_u, loan_p, loan_i, pool, flows, market, holding, pledged, loan_f, loan_s, borrower_f, borrower_s, flow_left, log, log_n)
    n_loans = loan_i.shape[0]
    for _outer in range(MAX_ROUNDS):
        for _inner in range(MAX_ROUNDS):
            changed = test_covenants(t, loan_p, loan_i, pool, market, pledged, loan_f, loan_s, borrower_s, log, log_n)
            if propagate(t, loan_p, loan_i, loan_f, loan_s, log, log_n):
                changed = True
            for b in range(borrower_p.shape[0]):
                if pay_dues(t, b, asset_p, asset_i, loan_p, loan_i, pool, borrower_p, borrower_i, flows, market, holding, pledged, loan_f, loan_s, borrower_f, borrower_s, flow_left, sold_today, log, log_n):
                    changed = True
            for l in range(n_loans):
                if loan_s[l, LS_STATUS] == c.CALLED and borrower_s[loan_i[l, LI_BORROWER], BS_DEFAULTED] == 0:
                    if respond(t, l, asset_p, asset_i, loan_p, loan_i, pool, borrower_p, borrower_i, market, holding, pledged, loan_f, loan_s, borrower_f, borrower_s, sold_today, log, log_n):
                        changed = True
            for k in range(n_loans):
                l = sale_order[k]
                if loan_i[l, LI_SECURED] == 0:
                    continue
                status = loan_s[l, LS_STATUS]
                if status == c.DEFAULTED:
                    if liquidate(t, l, asset_p, asset_i, loan_p, loan_i, market, holding, pledged, lender_sold, loan_f, loan_s, borrower_f, borrower_s, sold_today, log, log_n):
                        changed = True
                elif (status == c.ACTIVE or status == c.CALLED) and loan_s[l, LS_DUE_KIND] == c.DUE_DEBT:
                    if settle(t, l, asset_p, asset_i, loan_p, loan_i, market, holding, pledged, lender_sold, loan_f, loan_s, borrower_f, borrower_s, sold_today, log, log_n):
                        changed = True
            if close_paid(t, loan_p, loan_i, pledged, loan_f, loan_s, borrower_f, log, log_n):
                changed = True
            if not changed:
                break
        if not pass_deadlines(t, loan_p, loan_i, flows, loan_f, loan_s, borrower_f, borrower_s, flow_left, log, log_n):
            break


_F1, _F2, _F3 = types.float64[::1], types.float64[:, ::1], types.float64[:, :, ::1]
_I1, _I2 = types.int64[::1], types.int64[:, ::1]
RESOLVE_SIGNATURE = types.void(
    types.int64, types.boolean, _F2, _F2, _I2, _F2, _I2, _F3, _F2, _I2, _F2, _I1,  # t .. sale_order
    _F2, _F3, _F2, _F2, _F2, _I2, _F2, _I2, _F1, _F1, _F2, _I1,  # market .. log_n
)
RESOLVE_TYPE = types.FunctionType(RESOLVE_SIGNATURE)
"""The type of `resolve_day` as a first-class function (its arguments in order)."""
