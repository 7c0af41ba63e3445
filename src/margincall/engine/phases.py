"""The phases of one trading day on one path, after the market has moved:
obligations (interest, cash flows, maturities) -> covenant tests -> borrower response ->
lender liquidation -> cross-default, resolved until nothing changes.

Kernels here take the lowered arrays (`mk`, `ln`, `bw`: see `engine.lower`) and one path's state
(see `engine.state`), and change the state in place.

A call passes each array of a namedtuple as an argument of its own: a call with the lowered `mk`,
`ln` and `bw` copies some 70 array descriptors, which cost more than the rest of a day's covenant
work. So `resolve_day` is the one call per day, with only the arrays the phases use (`SaleMarket`,
`LoanTerms`); the phases it calls once are inlined into it, and the helpers called from several
places take the few arrays they need.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from margincall._jit import inline_kernel, kernel

from margincall.engine import codes as c
from margincall.engine.state import (
    A_BSOLD,
    A_LOGV,
    A_PRE,
    A_PRICE,
    A_UNITS,
    B_CASH,
    B_CLAIMS,
    B_DISCOUNT_COST,
    B_EXEC_COST,
    B_LAR,
    B_PNL_EXEC,
    B_PNL_FLOWS,
    B_PNL_FORGIVEN,
    B_SOLD_NOMINAL,
    BI_CALLED_LOANS,
    BI_DEFAULTED,
    BI_FLAGS,
    I_DEADLINE,
    I_DEFAULT_DAY,
    I_EXTENDED,
    I_FIRST_CALL,
    I_FIRST_DEFAULT,
    I_FLAGS,
    I_MATURITY,
    I_REFINANCINGS,
    I_STATUS,
    L_CURE_PAID,
    L_EXPOSURE,
    L_LOSS,
    L_RECOVERED,
    TINY,
    debt,
    free_units,
    lending_value,
    loan_to_value,
    log_event,
    market_sale,
    nominal_for_proceeds,
    repay,
    revalue,
)



class SaleMarket(NamedTuple):
    """The part of the lowered market (`engine.lower.MarketArrays`) that the phases use."""

    listing_day: np.ndarray
    sellable_day: np.ndarray
    adv: np.ndarray
    impact_y: np.ndarray
    sigma_daily: np.ndarray
    sale_delay: np.ndarray
    sale_discount: np.ndarray


class LoanTerms(NamedTuple):
    """The part of the lowered loans (`engine.lower.LoanArrays`) that the phases use."""

    principal: np.ndarray
    secured: np.ndarray
    accepted: np.ndarray
    haircut: np.ndarray
    call_ltv: np.ndarray
    cure_ltv: np.ndarray
    cure_days: np.ndarray
    liquidation_ltv: np.ndarray
    liquidation_participation: np.ndarray
    recourse: np.ndarray
    cross_default: np.ndarray
    recovery_rate: np.ndarray
    interest_every: np.ndarray
    extension_days: np.ndarray
    extension_max_ltv: np.ndarray
    refinance_prob: np.ndarray
    refinance_days: np.ndarray


@inline_kernel
def sale_market(mk) -> SaleMarket:
    return SaleMarket(mk.listing_day, mk.sellable_day, mk.adv, mk.impact_y, mk.sigma_daily, mk.sale_delay, mk.sale_discount)


@inline_kernel
def loan_terms(ln) -> LoanTerms:
    return LoanTerms(
        ln.principal, ln.secured, ln.accepted, ln.haircut, ln.call_ltv, ln.cure_ltv, ln.cure_days, ln.liquidation_ltv,
        ln.liquidation_participation, ln.recourse, ln.cross_default, ln.recovery_rate, ln.interest_every,
        ln.extension_days, ln.extension_max_ltv, ln.refinance_prob, ln.refinance_days,
    )


MAX_ROUNDS = 64
RESPONSE_CASH = 0
RESPONSE_PLEDGE = 1
RESPONSE_SELL = 2


@kernel
def _sells(response) -> bool:
    for k in range(response.shape[0]):
        if response[k] == RESPONSE_SELL:
            return True
    return False


@kernel
def borrower_sell(
    t, target, participation, sellable_day, adv, impact_y, sigma_daily,
    asset_f, pledged, b_f, b_i, sold_interval, interval, log, log_n,
) -> float:
    """Sell free, sellable public holdings (asset order) for proceeds up to `target`, within the
    borrower's daily participation limit. Returns the proceeds (the caller routes them)."""
    got = 0.0
    for a in range(asset_f.shape[0]):
        need = target - got
        if need <= TINY:
            break
        if t < sellable_day[a] or adv[a] <= 0.0:
            continue
        open_price = asset_f[a, A_PRE]
        if open_price <= 0.0:
            continue
        limit = min(participation * adv[a] - asset_f[a, A_BSOLD], free_units(a, asset_f, pledged) * open_price)
        if limit <= TINY:
            continue
        nominal = nominal_for_proceeds(a, need, limit, asset_f, impact_y, sigma_daily, adv)
        proceeds, _units = market_sale(a, nominal, asset_f, impact_y, sigma_daily, adv, b_f)
        asset_f[a, A_BSOLD] += nominal
        sold_interval[interval, a] += nominal
        got += proceeds
        b_i[BI_FLAGS] |= c.B_SOLD | c.B_FORCED_SALE
        log_event(log, log_n, t, c.E_SELL, -1, a, proceeds)
    return got


@kernel
def pay_obligation(
    t, amount, response, participation, sellable_day, adv, impact_y, sigma_daily,
    asset_f, pledged, b_f, b_i, sold_interval, interval, log, log_n,
) -> float:
    """Raise `amount` from cash (down to zero: the reserve is for this too), then by selling when
    the response order allows it. The raised cash leaves the borrower's cash; returns it."""
    if b_i[BI_DEFAULTED] != 0 or amount <= 0.0:
        return 0.0
    paid = min(b_f[B_CASH], amount)
    b_f[B_CASH] -= paid
    short = amount - paid
    if short > TINY and _sells(response):
        got = borrower_sell(
            t, short, participation, sellable_day, adv, impact_y, sigma_daily, asset_f, pledged, b_f, b_i, sold_interval, interval, log, log_n
        )
        use = min(got, short)
        b_f[B_CASH] += got - use
        paid += use
    return paid


@kernel
def default_loan(t, l, cross_default, loan_f, loan_i, log, log_n) -> None:
    """Default loan l (and, through cross-default, every other cross-default loan outstanding)."""
    for k in range(loan_f.shape[0]):
        if k != l and not (cross_default[l] and cross_default[k]):
            continue
        status = loan_i[k, I_STATUS]
        if status != c.ACTIVE and status != c.CALLED:
            continue
        loan_i[k, I_STATUS] = c.DEFAULTED
        loan_i[k, I_FLAGS] |= c.F_DEFAULTED
        loan_i[k, I_DEFAULT_DAY] = t
        if loan_i[k, I_FIRST_DEFAULT] > t:
            loan_i[k, I_FIRST_DEFAULT] = t
        loan_f[k, L_EXPOSURE] = debt(loan_f, k)
        log_event(log, log_n, t, c.E_DEFAULT, k, -1, loan_f[k, L_EXPOSURE])


@kernel
def default_borrower(t, cross_default, loan_f, loan_i, b_i, log, log_n) -> None:
    """The borrower cannot pay: it stops paying and responding, and its cross-default loans default."""
    if b_i[BI_DEFAULTED] != 0:
        return
    b_i[BI_DEFAULTED] = 1
    b_i[BI_FLAGS] |= c.B_DEFAULT
    log_event(log, log_n, t, c.E_BORROWER_DEFAULT, -1, -1, 0.0)
    for l in range(loan_f.shape[0]):
        if cross_default[l]:
            default_loan(t, l, cross_default, loan_f, loan_i, log, log_n)
            break


@kernel
def write_off(t, l, shortfall, loan_f, loan_i, b_f, log, log_n) -> None:
    """Close loan l with `shortfall` of its debt lost by the lender (and forgiven to the borrower)."""
    loan_f[l, 0] = 0.0
    loan_f[l, 1] = 0.0
    if shortfall > TINY:
        loan_f[l, L_LOSS] += shortfall
        loan_i[l, I_FLAGS] |= c.F_LOSS
        b_f[B_PNL_FORGIVEN] += shortfall
        log_event(log, log_n, t, c.E_LOSS, l, -1, shortfall)
    loan_i[l, I_STATUS] = c.CLOSED


@inline_kernel
def settle_unsecured(t, l, mk, ln, bw, asset_f, pledged, loan_f, loan_i, b_f, b_i, sold_interval, interval, log, log_n) -> None:
    """A defaulted unsecured loan is due at once: paid when the borrower can, else the borrower
    defaults and the lender recovers `recovery_rate` of it as a claim."""
    due = debt(loan_f, l)
    paid = pay_obligation(
        t, due, bw.response, bw.participation, mk.sellable_day, mk.adv, mk.impact_y, mk.sigma_daily,
        asset_f, pledged, b_f, b_i, sold_interval, interval, log, log_n,
    )
    repay(l, paid, loan_f)
    loan_f[l, L_RECOVERED] += paid
    remaining = debt(loan_f, l)
    if remaining <= TINY:
        write_off(t, l, 0.0, loan_f, loan_i, b_f, log, log_n)
        return
    default_borrower(t, ln.cross_default, loan_f, loan_i, b_i, log, log_n)
    claim = remaining * ln.recovery_rate[l]
    b_f[B_CLAIMS] += claim
    loan_f[l, L_RECOVERED] += claim
    write_off(t, l, remaining - claim, loan_f, loan_i, b_f, log, log_n)


@inline_kernel
def liquidate(t, l, mk, ln, bw, asset_f, pledged, lender_sold, loan_f, loan_i, b_f, b_i, sold_interval, interval, log, log_n) -> bool:
    """Today's lender sales of defaulted loan l's pool; settles the loan when it is repaid or
    the pool is gone. Public shares: at most `liquidation_participation` * adv a day, with
    impact; private shares: after the sale delay, in one block at fair value less the discount."""
    changed = False
    for a in range(asset_f.shape[0]):
        held = pledged[l, a]
        remaining = debt(loan_f, l)
        if held <= 0.0 or remaining <= TINY:
            continue
        if t >= mk.listing_day[a]:
            if t < mk.sellable_day[a]:
                continue
            open_price = asset_f[a, A_PRE]
            limit = min(ln.liquidation_participation[l] * mk.adv[a] - lender_sold[l, a], held * open_price)
            if limit <= TINY:
                if open_price <= 0.0:  # worthless shares: the pool is gone
                    pledged[l, a] = 0.0
                    changed = True
                continue
            nominal = nominal_for_proceeds(a, remaining, limit, asset_f, mk.impact_y, mk.sigma_daily, mk.adv)
            proceeds, units = market_sale(a, nominal, asset_f, mk.impact_y, mk.sigma_daily, mk.adv, b_f)
            lender_sold[l, a] += nominal
            sold_interval[interval, a] += nominal
            pledged[l, a] = 0.0 if nominal >= held * open_price else held - units
        else:
            if t < loan_i[l, I_DEFAULT_DAY] + mk.sale_delay[a]:
                continue
            fair = math.exp(asset_f[a, A_LOGV])
            revalue(a, fair, asset_f, b_f)  # a sale reveals the fair value: a valuation event
            net = fair * (1.0 - mk.sale_discount[a])
            units = held
            if net > 0.0 and held * net > remaining:
                units = remaining / net
            proceeds = units * net
            b_f[B_PNL_EXEC] += proceeds - units * fair
            b_f[B_EXEC_COST] += units * (fair - net)
            b_f[B_DISCOUNT_COST] += units * (fair - net)
            b_f[B_SOLD_NOMINAL] += units * fair
            sold_interval[interval, a] += units * fair
            asset_f[a, A_UNITS] -= units
            pledged[l, a] = 0.0 if units >= held else held - units
        used = repay(l, proceeds, loan_f)
        loan_f[l, L_RECOVERED] += used
        b_f[B_CASH] += proceeds - used
        loan_i[l, I_FLAGS] |= c.F_LIQUIDATED
        b_i[BI_FLAGS] |= c.B_LIQUIDATION | c.B_FORCED_SALE
        log_event(log, log_n, t, c.E_LIQUIDATION_SALE, l, a, proceeds)
        changed = True

    if debt(loan_f, l) <= TINY:
        for a in range(asset_f.shape[0]):
            pledged[l, a] = 0.0
        write_off(t, l, 0.0, loan_f, loan_i, b_f, log, log_n)
        return True
    pool_left = False
    for a in range(asset_f.shape[0]):
        if pledged[l, a] > 0.0:
            pool_left = True
    if not pool_left:
        shortfall = debt(loan_f, l)
        if ln.recourse[l] and b_i[BI_DEFAULTED] == 0:
            loan_i[l, I_FLAGS] |= c.F_RECOURSE
            paid = pay_obligation(
                t, shortfall, bw.response, bw.participation, mk.sellable_day, mk.adv, mk.impact_y, mk.sigma_daily,
                asset_f, pledged, b_f, b_i, sold_interval, interval, log, log_n,
            )
            repay(l, paid, loan_f)
            loan_f[l, L_RECOVERED] += paid
            log_event(log, log_n, t, c.E_RECOURSE, l, -1, paid)
            if debt(loan_f, l) > TINY:
                default_borrower(t, ln.cross_default, loan_f, loan_i, b_i, log, log_n)
        write_off(t, l, debt(loan_f, l), loan_f, loan_i, b_f, log, log_n)
        changed = True
    return changed


@inline_kernel
def respond(t, l, mk, ln, bw, asset_f, pledged, loan_f, loan_i, b_f, b_i, sold_interval, interval, log, log_n) -> bool:
    """The borrower's answer to loan l's open call, in its response order, aiming at cure_ltv."""
    acted = False
    cure = ln.cure_ltv[l]
    for k in range(bw.response.shape[0]):
        action = bw.response[k]
        if action < 0:
            break
        d = debt(loan_f, l)
        value = lending_value(l, pledged, ln.haircut, asset_f)
        gap = d - cure * value  # repayment that restores cure_ltv
        if gap <= TINY * (1.0 + d):
            break
        if action == RESPONSE_CASH:
            pay = min(b_f[B_CASH] - bw.reserve, gap)
            if pay > TINY:
                b_f[B_CASH] -= pay
                repay(l, pay, loan_f)
                loan_f[l, L_CURE_PAID] += pay
                b_f[B_LAR] += pay
                log_event(log, log_n, t, c.E_PAY_CASH, l, -1, pay)
                acted = True
        elif action == RESPONSE_PLEDGE:
            needed = d / cure - value  # lending value to add
            for a in range(asset_f.shape[0]):
                if needed <= TINY:
                    break
                if not ln.accepted[l, a]:
                    continue
                unit_value = asset_f[a, A_PRICE] * (1.0 - ln.haircut[l, a])
                free = free_units(a, asset_f, pledged)
                if unit_value <= 0.0 or free <= 0.0:
                    continue
                units = min(free, needed / unit_value)
                pledged[l, a] += units
                needed -= units * unit_value
                loan_i[l, I_FLAGS] |= c.F_PLEDGED
                log_event(log, log_n, t, c.E_PLEDGE, l, a, units * unit_value)
                acted = True
        elif action == RESPONSE_SELL:
            got = borrower_sell(
                t, gap, bw.participation, mk.sellable_day, mk.adv, mk.impact_y, mk.sigma_daily,
                asset_f, pledged, b_f, b_i, sold_interval, interval, log, log_n,
            )
            if got > TINY:
                used = repay(l, got, loan_f)
                b_f[B_CASH] += got - used
                loan_f[l, L_CURE_PAID] += used
                b_f[B_LAR] += used
                loan_i[l, I_FLAGS] |= c.F_SOLD_TO_CURE
                acted = True
    return acted


@inline_kernel
def pay_interest_and_flows(t, mk, ln, bw, asset_f, pledged, loan_f, loan_i, b_f, b_i, sold_interval, interval, log, log_n) -> None:
    """Scheduled interest, the borrower's cash flows, and maturities of the day."""
    n_loans = ln.principal.shape[0]
    for l in range(n_loans):
        status = loan_i[l, I_STATUS]
        if status != c.ACTIVE and status != c.CALLED:
            continue
        if t % ln.interest_every[l] == 0 and t != loan_i[l, I_MATURITY] and b_i[BI_DEFAULTED] == 0:
            due = loan_f[l, 1]
            if due <= 0.0:
                continue
            paid = pay_obligation(
                t, due, bw.response, bw.participation, mk.sellable_day, mk.adv, mk.impact_y, mk.sigma_daily,
                asset_f, pledged, b_f, b_i, sold_interval, interval, log, log_n,
            )
            repay(l, paid, loan_f)
            log_event(log, log_n, t, c.E_INTEREST, l, -1, paid)
            if paid < due - TINY:
                default_borrower(t, ln.cross_default, loan_f, loan_i, b_i, log, log_n)

    for k in range(bw.flow_day.shape[0]):
        if bw.flow_day[k] != t:
            continue
        amount = bw.flow_amount[k]
        if amount >= 0.0:
            b_f[B_CASH] += amount
            b_f[B_PNL_FLOWS] += amount
            log_event(log, log_n, t, c.E_CASH_FLOW, -1, -1, amount)
        else:
            paid = pay_obligation(
                t, -amount, bw.response, bw.participation, mk.sellable_day, mk.adv, mk.impact_y, mk.sigma_daily,
                asset_f, pledged, b_f, b_i, sold_interval, interval, log, log_n,
            )
            b_f[B_PNL_FLOWS] -= paid
            log_event(log, log_n, t, c.E_CASH_FLOW, -1, -1, -paid)
            if paid < -amount - TINY:
                default_borrower(t, ln.cross_default, loan_f, loan_i, b_i, log, log_n)


@inline_kernel
def mature(t, l, refinance_u, mk, ln, bw, asset_f, pledged, loan_f, loan_i, b_f, b_i, sold_interval, interval, log, log_n) -> None:
    """Loan l reaches maturity: extended, refinanced, repaid, or a forced sale / default."""
    if ln.extension_days[l] > 0 and loan_i[l, I_EXTENDED] == 0:
        allowed = True
        if ln.secured[l]:
            allowed = loan_i[l, I_STATUS] == c.ACTIVE and (
                loan_to_value(l, loan_f, pledged, ln.haircut, asset_f) <= ln.extension_max_ltv[l]
            )
        if allowed:
            loan_i[l, I_EXTENDED] = 1
            loan_i[l, I_MATURITY] += ln.extension_days[l]
            loan_i[l, I_FLAGS] |= c.F_EXTENDED
            log_event(log, log_n, t, c.E_EXTEND, l, -1, debt(loan_f, l))
            return
    attempt = loan_i[l, I_REFINANCINGS]
    u = refinance_u[l, attempt] if attempt < refinance_u.shape[1] else 1.0
    loan_i[l, I_REFINANCINGS] = attempt + 1
    refinanceable = b_i[BI_DEFAULTED] == 0
    if ln.secured[l]:  # a lender rolls over only a loan in good standing, below its call level
        refinanceable = refinanceable and loan_i[l, I_STATUS] == c.ACTIVE and (
            loan_to_value(l, loan_f, pledged, ln.haircut, asset_f) < ln.call_ltv[l]
        )
    if u < ln.refinance_prob[l] and refinanceable:
        loan_i[l, I_MATURITY] += ln.refinance_days[l]
        loan_i[l, I_FLAGS] |= c.F_REFINANCED
        log_event(log, log_n, t, c.E_REFINANCE, l, -1, debt(loan_f, l))
        return
    due = debt(loan_f, l)
    paid = pay_obligation(
        t, due, bw.response, bw.participation, mk.sellable_day, mk.adv, mk.impact_y, mk.sigma_daily,
        asset_f, pledged, b_f, b_i, sold_interval, interval, log, log_n,
    )
    repay(l, paid, loan_f)
    if debt(loan_f, l) <= TINY:
        for a in range(asset_f.shape[0]):
            pledged[l, a] = 0.0
        loan_i[l, I_STATUS] = c.REPAID
        loan_i[l, I_FLAGS] |= c.F_REPAID
        log_event(log, log_n, t, c.E_REPAY, l, -1, paid)
        return
    loan_i[l, I_FLAGS] |= c.F_MATURITY_DEFAULT
    if ln.secured[l]:
        default_loan(t, l, ln.cross_default, loan_f, loan_i, log, log_n)  # the pool is sold: a forced sale
    else:
        default_borrower(t, ln.cross_default, loan_f, loan_i, b_i, log, log_n)
        default_loan(t, l, ln.cross_default, loan_f, loan_i, log, log_n)


@kernel
def _open_call(t, l, ltv, cure_days, loan_i, b_i, log, log_n) -> None:
    """Loan l's LTV reached its call level: a call with a cure deadline."""
    loan_i[l, I_STATUS] = c.CALLED
    loan_i[l, I_DEADLINE] = t + cure_days[l]
    if loan_i[l, I_FLAGS] & c.F_CALLED == 0:
        b_i[BI_CALLED_LOANS] += 1
        if b_i[BI_CALLED_LOANS] >= 2:
            b_i[BI_FLAGS] |= c.B_CASCADE
    loan_i[l, I_FLAGS] |= c.F_CALLED
    if loan_i[l, I_FIRST_CALL] > t:
        loan_i[l, I_FIRST_CALL] = t
    log_event(log, log_n, t, c.E_CALL, l, -1, ltv)


@kernel
def resolve_day(t, refinance_u, mk, ln, bw, asset_f, pledged, lender_sold, loan_f, loan_i, b_f, b_i, sold_interval, interval, log, log_n) -> None:
    """Obligations, then sales -> prices -> LTVs -> calls, cures and defaults until nothing changes;
    calls past their deadline default once the borrower has done what it can today."""
    n_loans = ln.principal.shape[0]
    pay_interest_and_flows(t, mk, ln, bw, asset_f, pledged, loan_f, loan_i, b_f, b_i, sold_interval, interval, log, log_n)
    for l in range(n_loans):
        status = loan_i[l, I_STATUS]
        if (status == c.ACTIVE or status == c.CALLED) and loan_i[l, I_MATURITY] == t:
            mature(t, l, refinance_u, mk, ln, bw, asset_f, pledged, loan_f, loan_i, b_f, b_i, sold_interval, interval, log, log_n)

    for _outer in range(MAX_ROUNDS):
        for _inner in range(MAX_ROUNDS):
            changed = False
            for l in range(n_loans):
                status = loan_i[l, I_STATUS]
                if status == c.DEFAULTED and not ln.secured[l]:
                    settle_unsecured(t, l, mk, ln, bw, asset_f, pledged, loan_f, loan_i, b_f, b_i, sold_interval, interval, log, log_n)
                    changed = True
                    continue
                if not ln.secured[l] or (status != c.ACTIVE and status != c.CALLED):
                    continue
                x = loan_to_value(l, loan_f, pledged, ln.haircut, asset_f)
                if x >= ln.liquidation_ltv[l]:
                    if status == c.ACTIVE:  # a gap through both triggers is a call too
                        _open_call(t, l, x, ln.cure_days, loan_i, b_i, log, log_n)
                    default_loan(t, l, ln.cross_default, loan_f, loan_i, log, log_n)
                    changed = True
                elif status == c.CALLED:
                    if x <= ln.cure_ltv[l] * (1.0 + 1e-12):
                        loan_i[l, I_STATUS] = c.ACTIVE
                        loan_i[l, I_FLAGS] |= c.F_CURED
                        log_event(log, log_n, t, c.E_CURE, l, -1, x)
                        changed = True
                elif x >= ln.call_ltv[l]:
                    _open_call(t, l, x, ln.cure_days, loan_i, b_i, log, log_n)
                    changed = True
            if b_i[BI_DEFAULTED] == 0:
                for l in range(n_loans):
                    if loan_i[l, I_STATUS] == c.CALLED:
                        if respond(t, l, mk, ln, bw, asset_f, pledged, loan_f, loan_i, b_f, b_i, sold_interval, interval, log, log_n):
                            changed = True
            for l in range(n_loans):
                if loan_i[l, I_STATUS] == c.DEFAULTED and ln.secured[l]:
                    if liquidate(t, l, mk, ln, bw, asset_f, pledged, lender_sold, loan_f, loan_i, b_f, b_i, sold_interval, interval, log, log_n):
                        changed = True
            if not changed:
                break
        overdue = False
        for l in range(n_loans):
            if loan_i[l, I_STATUS] == c.CALLED and t >= loan_i[l, I_DEADLINE]:
                default_loan(t, l, ln.cross_default, loan_f, loan_i, log, log_n)
                overdue = True
        if not overdue:
            break
