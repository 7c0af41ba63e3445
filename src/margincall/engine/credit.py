"""Credit events: calls, events of default with their first cause, acceleration, cross-default,
borrower default, write-offs and claims.

An event of default of a secured loan puts its pool in enforcement (the lender sells it after
its wait); an unsecured loan's event of default is an acceleration: the whole debt falls due
within its principal grace period, and only when that passes unpaid is it a default (of the loan
and of its borrower). A borrower default closes its unsecured loans with a claim that recovers
the recovery rate, and puts every loan of its cross-default group, and every loan it guarantees,
in enforcement; a non-recourse loan outside the group is untouched.
"""

from __future__ import annotations

import numpy as np

from margincall._jit import inline, kernel
from margincall.engine import codes as c
from margincall.engine.accounts import debt, log_event
from margincall.engine.layout import (
    BF_CLAIMS,
    BF_PNL_FORGIVEN,
    BS_CALLED_LOANS,
    BS_CAUSE,
    BS_DEFAULT_DAY,
    BS_DEFAULTED,
    BS_FLAGS,
    FL_BORROWER,
    LF_ACCRUED,
    LF_DUE,
    LF_EXPOSURE,
    LF_LOSS,
    LF_PRINCIPAL,
    LF_RECOVERED,
    LI_BORROWER,
    LI_CROSS,
    LI_PRINCIPAL_GRACE,
    LI_RECOURSE,
    LI_SECURED,
    LI_WAIT_DAYS,
    LP_CROSS_THRESHOLD,
    LP_RECOVERY,
    LS_CAUSE,
    LS_DEADLINE,
    LS_DEFAULT_DAY,
    LS_DUE_CAUSE,
    LS_DUE_DEADLINE,
    LS_DUE_KIND,
    LS_FIRST_CALL,
    LS_FIRST_DEFAULT,
    LS_FLAGS,
    LS_NOTICE,
    LS_STATUS,
    LS_WAKE,
    NONE,
    TINY,
)


@inline
def open_call(t: int, l: int, ltv: float, notice: bool, deadline: int, loan_s: np.ndarray, borrower_s: np.ndarray, log: np.ndarray, log_n: np.ndarray, b: int) -> None:
    """Loan l's LTV reached its call level (or, with a notice period, its liquidation level):
    a call with a cure deadline."""
    loan_s[l, LS_STATUS] = c.CALLED
    loan_s[l, LS_DEADLINE] = deadline
    loan_s[l, LS_NOTICE] = 1 if notice else 0
    if loan_s[l, LS_FLAGS] & c.F_CALLED == 0:
        borrower_s[b, BS_CALLED_LOANS] += 1
        if borrower_s[b, BS_CALLED_LOANS] >= 2:
            borrower_s[b, BS_FLAGS] |= c.B_CASCADE
    loan_s[l, LS_FLAGS] |= c.F_CALLED
    if notice:
        loan_s[l, LS_FLAGS] |= c.F_NOTICE
    if loan_s[l, LS_FIRST_CALL] > t:
        loan_s[l, LS_FIRST_CALL] = t
    log_event(log, log_n, t, c.E_NOTICE if notice else c.E_CALL, l, NONE, ltv, b)


@inline
def mark_default(t: int, l: int, cause: int, loan_f: np.ndarray, loan_s: np.ndarray) -> None:
    """Record loan l's default (flag, day, first cause, exposure), whatever follows from it."""
    if loan_s[l, LS_FLAGS] & c.F_DEFAULTED == 0:
        loan_s[l, LS_FLAGS] |= c.F_DEFAULTED
        loan_s[l, LS_CAUSE] = cause
        loan_f[l, LF_EXPOSURE] = debt(loan_f, l)
    if loan_s[l, LS_FIRST_DEFAULT] > t:
        loan_s[l, LS_FIRST_DEFAULT] = t


@inline
def enforce(t: int, l: int, cause: int, loan_i: np.ndarray, loan_f: np.ndarray, loan_s: np.ndarray, log: np.ndarray, log_n: np.ndarray) -> None:
    """A secured loan's event of default: its pool goes into enforcement; the lender sells it from
    its wake day on (the default day plus its wait; a private asset also waits for its sale delay)."""
    status = loan_s[l, LS_STATUS]
    if status != c.ACTIVE and status != c.CALLED:
        return
    loan_s[l, LS_STATUS] = c.DEFAULTED
    loan_s[l, LS_DEFAULT_DAY] = t
    loan_s[l, LS_WAKE] = t + loan_i[l, LI_WAIT_DAYS]
    loan_s[l, LS_DUE_KIND] = c.DUE_NONE
    loan_f[l, LF_DUE] = 0.0
    mark_default(t, l, cause, loan_f, loan_s)
    log_event(log, log_n, t, c.E_DEFAULT, l, NONE, debt(loan_f, l), loan_i[l, LI_BORROWER])


@inline
def set_due(t: int, l: int, kind: int, deadline: int, cause: int, loan_s: np.ndarray) -> None:
    """Loan l owes `kind` (interest, or the whole debt) by `deadline`; an earlier deadline stands."""
    if loan_s[l, LS_DUE_KIND] == c.DUE_NONE or deadline < loan_s[l, LS_DUE_DEADLINE]:
        loan_s[l, LS_DUE_DEADLINE] = deadline
    if kind > loan_s[l, LS_DUE_KIND]:
        loan_s[l, LS_DUE_KIND] = kind
        loan_s[l, LS_DUE_CAUSE] = cause


@inline
def accelerate(t: int, l: int, cause: int, loan_i: np.ndarray, loan_f: np.ndarray, loan_s: np.ndarray, log: np.ndarray, log_n: np.ndarray) -> None:
    """The whole debt of loan l falls due within its principal grace period (cross-default of an
    unsecured loan, cross-acceleration of a secured one)."""
    status = loan_s[l, LS_STATUS]
    if status != c.ACTIVE and status != c.CALLED:
        return
    if loan_s[l, LS_DUE_KIND] == c.DUE_DEBT:
        return
    set_due(t, l, c.DUE_DEBT, t + loan_i[l, LI_PRINCIPAL_GRACE], cause, loan_s)
    loan_s[l, LS_DUE_CAUSE] = cause
    loan_s[l, LS_FLAGS] |= c.F_ACCELERATED
    log_event(log, log_n, t, c.E_ACCELERATE, l, NONE, debt(loan_f, l), loan_i[l, LI_BORROWER])


@inline
def write_off(t: int, l: int, shortfall: float, loan_i: np.ndarray, loan_f: np.ndarray, loan_s: np.ndarray, borrower_f: np.ndarray, log: np.ndarray, log_n: np.ndarray) -> None:
    """Close loan l with `shortfall` of its debt lost by the lender (and forgiven to the borrower)."""
    b = loan_i[l, LI_BORROWER]
    loan_f[l, LF_PRINCIPAL] = 0.0
    loan_f[l, LF_ACCRUED] = 0.0
    loan_f[l, LF_DUE] = 0.0
    loan_s[l, LS_DUE_KIND] = c.DUE_NONE
    if shortfall > TINY:
        loan_f[l, LF_LOSS] += shortfall
        loan_s[l, LS_FLAGS] |= c.F_LOSS
        borrower_f[b, BF_PNL_FORGIVEN] += shortfall
        log_event(log, log_n, t, c.E_LOSS, l, NONE, shortfall, b)
    loan_s[l, LS_STATUS] = c.CLOSED


@inline
def forgive_dust(l: int, loan_i: np.ndarray, loan_f: np.ndarray, borrower_f: np.ndarray) -> None:
    """Clear loan l's debt left as rounding dust (`negligible`), booked as forgiven so that the
    borrower's ledger still balances."""
    dust = debt(loan_f, l)
    if dust != 0.0:
        borrower_f[loan_i[l, LI_BORROWER], BF_PNL_FORGIVEN] += dust
        loan_f[l, LF_PRINCIPAL] = 0.0
        loan_f[l, LF_ACCRUED] = 0.0


@inline
def settle_claim(t: int, l: int, loan_p: np.ndarray, loan_i: np.ndarray, loan_f: np.ndarray, loan_s: np.ndarray, borrower_f: np.ndarray, log: np.ndarray, log_n: np.ndarray) -> None:
    """Loan l's remaining debt becomes an unsecured claim on its defaulted borrower: the lender
    recovers the recovery rate of it and loses the rest."""
    remaining = debt(loan_f, l)
    claim = remaining * loan_p[l, LP_RECOVERY]
    borrower_f[loan_i[l, LI_BORROWER], BF_CLAIMS] += claim
    loan_f[l, LF_RECOVERED] += claim
    write_off(t, l, remaining - claim, loan_i, loan_f, loan_s, borrower_f, log, log_n)


@kernel
def default_borrower(
    t: int, b: int, cause: int, loan_p: np.ndarray, loan_i: np.ndarray, loan_f: np.ndarray, loan_s: np.ndarray,
    borrower_f: np.ndarray, borrower_s: np.ndarray, flows: np.ndarray, flow_left: np.ndarray, log: np.ndarray, log_n: np.ndarray,
) -> None:
    """Borrower b cannot pay: it stops paying and responding; its unsecured and guaranteed debt and
    its cross-default group are in default; a non-recourse loan outside the group is untouched
    (its interest is capitalised, its pool still answers for it)."""
    if borrower_s[b, BS_DEFAULTED] != 0:
        return
    borrower_s[b, BS_DEFAULTED] = 1
    borrower_s[b, BS_FLAGS] |= c.B_DEFAULT
    borrower_s[b, BS_CAUSE] = cause
    borrower_s[b, BS_DEFAULT_DAY] = t
    log_event(log, log_n, t, c.E_BORROWER_DEFAULT, NONE, NONE, float(cause), b)
    for k in range(flows.shape[0]):
        if int(flows[k, FL_BORROWER]) == b:
            flow_left[k] = 0.0  # abandoned: the borrower's estate answers through the recovery rate
    for l in range(loan_i.shape[0]):
        if loan_i[l, LI_BORROWER] != b:
            continue
        status = loan_s[l, LS_STATUS]
        bound = loan_i[l, LI_CROSS] > 0 or loan_i[l, LI_SECURED] == 0 or loan_i[l, LI_RECOURSE] != 0
        if status == c.ACTIVE or status == c.CALLED:
            if not bound:
                if loan_s[l, LS_DUE_KIND] == c.DUE_INTEREST:
                    loan_s[l, LS_DUE_KIND] = c.DUE_NONE  # capitalised: the interest stays in the debt
                    loan_f[l, LF_DUE] = 0.0
                continue
            if loan_i[l, LI_SECURED] != 0:
                enforce(t, l, c.CAUSE_BORROWER, loan_i, loan_f, loan_s, log, log_n)
            else:
                mark_default(t, l, c.CAUSE_BORROWER, loan_f, loan_s)
                log_event(log, log_n, t, c.E_DEFAULT, l, NONE, debt(loan_f, l), b)
                settle_claim(t, l, loan_p, loan_i, loan_f, loan_s, borrower_f, log, log_n)
        elif status == c.DEFAULTED and loan_s[l, LS_DUE_KIND] == c.DUE_DEBT:
            # a recourse lender's shortfall awaiting payment: now a claim on the estate
            settle_claim(t, l, loan_p, loan_i, loan_f, loan_s, borrower_f, log, log_n)


@kernel
def cross_default(
    t: int, source: int, acceleration_stage: bool, loan_p: np.ndarray, loan_i: np.ndarray, loan_f: np.ndarray, loan_s: np.ndarray,
    log: np.ndarray, log_n: np.ndarray,
) -> bool:
    """Loan `source` of the cross-default group defaulted (acceleration_stage False) or its lender
    started enforcing (True): trigger the clauses of the group's other loans that it meets
    (cross-default clauses at the default, cross-acceleration clauses at the enforcement, each only
    if the source's debt at default reaches the clause's threshold). Returns whether any changed."""
    if loan_i[source, LI_CROSS] == 0:
        return False
    b = loan_i[source, LI_BORROWER]
    exposure = loan_f[source, LF_EXPOSURE]
    changed = False
    wanted = 2 if acceleration_stage else 1
    for k in range(loan_i.shape[0]):
        if k == source or loan_i[k, LI_BORROWER] != b or loan_i[k, LI_CROSS] != wanted:
            continue
        status = loan_s[k, LS_STATUS]
        if status != c.ACTIVE and status != c.CALLED:
            continue
        if exposure < loan_p[k, LP_CROSS_THRESHOLD]:
            continue
        if loan_i[k, LI_SECURED] != 0 and not acceleration_stage:
            enforce(t, k, c.CAUSE_CROSS, loan_i, loan_f, loan_s, log, log_n)
            changed = True
        elif loan_s[k, LS_DUE_KIND] != c.DUE_DEBT:
            accelerate(t, k, c.CAUSE_CROSS, loan_i, loan_f, loan_s, log, log_n)
            changed = True
    return changed

