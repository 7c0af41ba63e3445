"""The only bridge from schema objects to arrays: kernels take what this module builds.

Asset axes follow the scenario's asset order, loan axes its loan order.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from margincall.errors import SimulationError
from margincall.model.scenario import Scenario

RESPONSE_CODES = {"cash": 0, "pledge": 1, "sell": 2}
NEVER = 2**40  # a day that never comes


class MarketArrays(NamedTuple):
    value0: np.ndarray  # [A] currency value of the whole holding on day 0
    drift_dt: np.ndarray  # [A] (mu - sigma^2 / 2) dt
    vol_sqrt_dt: np.ndarray  # [A] sigma sqrt(dt)
    sigma_daily: np.ndarray  # [A] sigma sqrt(dt), for the impact law
    chol: np.ndarray  # [A, A] lower-triangular factor of the correlation matrix
    jump_mean_per_day: np.ndarray  # [A] jump rate * dt
    jump_p0: np.ndarray  # [A] exp(-jump rate * dt)
    jump_log_mean: np.ndarray  # [A]
    jump_log_stdev: np.ndarray  # [A]
    listing_day: np.ndarray  # [A] first day priced on the market (0 for public assets)
    sellable_day: np.ndarray  # [A] first day anyone may sell on the market (after a lock-up)
    adv: np.ndarray  # [A] average daily traded value once public, currency per day
    impact_y: np.ndarray  # [A]
    impact_permanent: np.ndarray  # [A]
    mark_every: np.ndarray  # [A] scheduled valuation period in days (0: none)
    mark_prob: np.ndarray  # [A] probability of an unscheduled valuation event per day
    sale_delay: np.ndarray  # [A] days after a default before a private holding can be sold
    sale_discount: np.ndarray  # [A]
    shock_day: np.ndarray  # [S] sorted by day
    shock_asset: np.ndarray  # [S]
    shock_log: np.ndarray  # [S] log of the relative move on that day
    history: np.ndarray  # [T, A] daily log returns the historical model replays; shape (0, A) under gbm
    block_days: int  # length of a replayed block of history, days (historical model)


class LoanArrays(NamedTuple):
    principal: np.ndarray  # [L]
    rate: np.ndarray  # [L] per year
    term: np.ndarray  # [L] days
    extension_days: np.ndarray  # [L]
    extension_max_ltv: np.ndarray  # [L]
    secured: np.ndarray  # [L] bool
    pledge: np.ndarray  # [L, A] fraction of each holding pledged on day 0
    accepted: np.ndarray  # [L, A] bool: the lender takes the asset as collateral
    haircut: np.ndarray  # [L, A]
    call_ltv: np.ndarray  # [L]
    cure_ltv: np.ndarray  # [L]
    cure_days: np.ndarray  # [L]
    liquidation_ltv: np.ndarray  # [L]
    recourse: np.ndarray  # [L] bool
    cross_default: np.ndarray  # [L] bool
    interest_every: np.ndarray  # [L] days
    refinance_prob: np.ndarray  # [L]
    refinance_days: np.ndarray  # [L]
    recovery_rate: np.ndarray  # [L]
    liquidation_participation: np.ndarray  # [L]
    first_trigger: np.ndarray  # [L] min(call, liquidation) LTV: below it a quiet day needs no covenant work


class BorrowerArrays(NamedTuple):
    cash0: float
    reserve: float
    participation: float
    response: np.ndarray  # [3] action codes in order, -1 padded
    flow_day: np.ndarray  # [C] sorted by day
    flow_amount: np.ndarray  # [C]


class Recording(NamedTuple):
    """What is recorded, and at which resolution."""

    horizon: int
    dt: float
    rec_days: np.ndarray  # [R] recorded days, from 0 to the horizon
    rec_of_day: np.ndarray  # [H + 1] index into rec_days, -1 if the day is not recorded
    interval_of_day: np.ndarray  # [H + 1] index of the recorded day at or after the day
    obligation_day: np.ndarray  # [H + 1] bool: some interest payment or cash flow falls on the day
    money_scale: float  # scale of amount histograms (total principal), currency
    equity_scale: float  # scale of the equity histogram, currency
    antithetic: bool  # paths 2k and 2k+1 share their draws, the diffusion's with opposite signs
    next_busy_day: np.ndarray  # [H + 2] first day >= t with an obligation, a shock, a listing or a scheduled mark
    single_asset_loop: bool  # quiet stretches of a one-asset book run in their own loop (same results)
    shortcuts: bool  # quiet stretches and log-price gates; False takes every day through the full machinery


class EngineInputs(NamedTuple):
    market: MarketArrays
    loans: LoanArrays
    borrower: BorrowerArrays
    recording: Recording
    asset_ids: tuple[str, ...]
    loan_ids: tuple[str, ...]
    lenders: tuple[str, ...]


def correlation_factor(matrix: np.ndarray) -> np.ndarray:
    """A lower-triangular L with L L^T = matrix, for a positive semi-definite matrix.

    Cholesky where it succeeds; otherwise (a singular matrix, e.g. perfect correlation) the
    Cholesky of a slightly regularised matrix, renormalised so each row has unit variance.
    """
    try:
        return np.linalg.cholesky(matrix)
    except np.linalg.LinAlgError:
        n = matrix.shape[0]
        regular = matrix + 1e-12 * np.eye(n)
        factor = np.linalg.cholesky(regular)
        return factor / np.linalg.norm(factor, axis=1, keepdims=True)


def recorded_days(horizon: int, max_points: int = 127) -> np.ndarray:
    """Days at which fan-chart quantiles are recorded: every day up to `max_points`, else an even grid."""
    if horizon + 1 <= max_points:
        return np.arange(horizon + 1, dtype=np.int64)
    return np.unique(np.round(np.linspace(0, horizon, max_points)).astype(np.int64))


def _next_busy_days(horizon: int, obligation_day: np.ndarray, market: MarketArrays) -> np.ndarray:
    busy = obligation_day.copy()
    busy[market.shock_day[market.shock_day <= horizon]] = True
    busy[market.listing_day[(market.listing_day > 0) & (market.listing_day <= horizon)]] = True
    for every, listing in zip(market.mark_every, market.listing_day):
        if every > 0:  # a private asset's scheduled valuations, until it lists
            busy[every : min(horizon, listing - 1) + 1 : every] = True
    nxt = np.full(horizon + 2, horizon + 1, dtype=np.int64)
    for t in range(horizon, -1, -1):
        nxt[t] = t if busy[t] else nxt[t + 1]
    return nxt


def _history_arrays(scenario: Scenario, history: np.ndarray | None) -> tuple[np.ndarray, int]:
    """The replayed returns [T, A] and the block length; (empty, 1) under the gbm model."""
    n_assets = len(scenario.assets)
    if not scenario.historical:
        if history is not None:
            raise SimulationError("returns to replay were given, but the scenario's market model is not historical")
        return np.zeros((0, n_assets)), 1
    block_days = scenario.market.block_days  # type: ignore[union-attr]
    if history is None:
        raise SimulationError(
            "the historical market model replays returns that lower() does not read: "
            "pass history=margincall.analysis.history.history_returns(scenario)"
        )
    history = np.ascontiguousarray(history, dtype=np.float64)
    if history.ndim != 2 or history.shape[1] != n_assets:
        raise SimulationError(f"history must be daily log returns [days, {n_assets} assets]; got shape {history.shape}")
    if history.shape[0] < block_days:
        raise SimulationError(f"history has {history.shape[0]} days of returns, fewer than market.block_days ({block_days})")
    if not np.all(np.isfinite(history)):
        raise SimulationError("history has missing or infinite returns")
    return history, int(block_days)


def lower(scenario: Scenario, *, antithetic: bool = False, history: np.ndarray | None = None) -> EngineInputs:
    """Arrays for the kernels from a validated scenario.

    Under the historical market model `history` holds the daily log returns to replay, [days,
    assets] in asset order (see `margincall.analysis.history.history_returns`); the impact law's
    daily volatility is then their sample standard deviation."""
    asset_ids = tuple(scenario.assets)
    loan_ids = tuple(scenario.loans)
    index = {a: i for i, a in enumerate(asset_ids)}
    n_assets, n_loans = len(asset_ids), len(loan_ids)
    horizon = scenario.horizon
    dt = 1.0 / scenario.days_per_year
    assets = list(scenario.assets.values())

    sigma = np.array([a.volatility for a in assets])
    mu = np.array([a.drift for a in assets])
    jump_rate = np.array([a.jumps.rate if a.jumps else 0.0 for a in assets])
    listing_day = np.zeros(n_assets, dtype=np.int64)
    sellable_day = np.zeros(n_assets, dtype=np.int64)
    adv = np.zeros(n_assets)
    for i, a in enumerate(assets):
        if a.kind == "public":
            adv[i] = float(a.adv)  # type: ignore[arg-type]
        elif a.listing is not None:
            listing_day[i] = scenario.day_number(a.listing.day)
            sellable_day[i] = listing_day[i] + a.listing.lockup_days
            adv[i] = a.listing.adv
        else:
            listing_day[i] = sellable_day[i] = NEVER

    shocks: list[tuple[int, int, float]] = []
    for shock in scenario.shocks:
        start = scenario.day_number(shock.day)
        log_move = math.log(shock.change + 1.0) if shock.change > -1.0 else -math.inf
        for k in range(shock.over_days):
            if start + k <= horizon:
                shocks.append((start + k, index[shock.asset], log_move / shock.over_days))
    shocks.sort(key=lambda s: (s[0], s[1]))
    replayed, block_days = _history_arrays(scenario, history)
    sigma_daily = sigma * math.sqrt(dt)
    if replayed.shape[0] > 0:
        sigma_daily = replayed.std(axis=0, ddof=1) if replayed.shape[0] > 1 else np.zeros(n_assets)

    market = MarketArrays(
        value0=np.array([a.value for a in assets]),
        drift_dt=(mu - 0.5 * sigma**2) * dt,
        vol_sqrt_dt=sigma * math.sqrt(dt),
        sigma_daily=sigma_daily,
        chol=correlation_factor(scenario.correlation_matrix()),
        jump_mean_per_day=jump_rate * dt,
        jump_p0=np.exp(-jump_rate * dt),
        jump_log_mean=np.array([a.jumps.mean if a.jumps else 0.0 for a in assets]),
        jump_log_stdev=np.array([a.jumps.stdev if a.jumps else 0.0 for a in assets]),
        listing_day=listing_day,
        sellable_day=sellable_day,
        adv=adv,
        impact_y=np.array([a.impact for a in assets]),
        impact_permanent=np.array([a.impact_permanent for a in assets]),
        mark_every=np.array(
            [a.marks.every_days if (a.marks and a.marks.every_days) else 0 for a in assets], dtype=np.int64
        ),
        mark_prob=np.array([1.0 - math.exp(-(a.marks.rounds_per_year if a.marks else 0.0) * dt) for a in assets]),
        sale_delay=np.array([a.sale_delay_days for a in assets], dtype=np.int64),
        sale_discount=np.array([a.sale_discount for a in assets]),
        shock_day=np.array([s[0] for s in shocks], dtype=np.int64),
        shock_asset=np.array([s[1] for s in shocks], dtype=np.int64),
        shock_log=np.array([s[2] for s in shocks], dtype=np.float64),
        history=replayed,
        block_days=block_days,
    )

    pledge = np.zeros((n_loans, n_assets))
    accepted = np.zeros((n_loans, n_assets), dtype=np.bool_)
    haircut = np.zeros((n_loans, n_assets))
    loans = list(scenario.loans.values())
    for i, loan in enumerate(loans):
        for asset_id, fraction in (loan.collateral or {}).items():
            pledge[i, index[asset_id]] = fraction
        if loan.secured:
            for asset_id, h in loan.accepted_haircuts.items():
                accepted[i, index[asset_id]] = True
                haircut[i, index[asset_id]] = h

    def covenant(field: str, missing: float) -> np.ndarray:
        return np.array([getattr(loan, field) if getattr(loan, field) is not None else missing for loan in loans], dtype=float)

    call_ltv = covenant("margin_call_ltv", math.inf)
    extension_max = np.array(
        [
            (loan.extension_max_ltv if loan.extension_max_ltv is not None else np.nextafter(call_ltv[i], 0.0))
            if loan.secured
            else math.inf
            for i, loan in enumerate(loans)
        ]
    )
    loan_arrays = LoanArrays(
        principal=np.array([loan.principal for loan in loans]),
        rate=np.array([loan.annual_rate for loan in loans]),
        term=np.array([loan.term_days for loan in loans], dtype=np.int64),
        extension_days=np.array([loan.extension_days for loan in loans], dtype=np.int64),
        extension_max_ltv=extension_max,
        secured=np.array([loan.secured for loan in loans], dtype=np.bool_),
        pledge=pledge,
        accepted=accepted,
        haircut=haircut,
        call_ltv=call_ltv,
        cure_ltv=covenant("cure_ltv", math.inf),
        cure_days=covenant("cure_days", 0).astype(np.int64),
        liquidation_ltv=covenant("liquidation_ltv", math.inf),
        recourse=np.array([loan.recourse for loan in loans], dtype=np.bool_),
        cross_default=np.array([loan.cross_default for loan in loans], dtype=np.bool_),
        interest_every=np.array([loan.interest_every_days for loan in loans], dtype=np.int64),
        refinance_prob=np.array([loan.refinance_probability for loan in loans]),
        refinance_days=np.array([loan.refinance_days or loan.term_days for loan in loans], dtype=np.int64),
        recovery_rate=np.array([loan.recovery_rate if loan.recovery_rate is not None else scenario.borrower.recovery_rate for loan in loans]),
        liquidation_participation=np.array([loan.liquidation_participation or 0.1 for loan in loans]),
        first_trigger=np.minimum(call_ltv, covenant("liquidation_ltv", math.inf)),
    )

    b = scenario.borrower
    flows = sorted(((scenario.day_number(f.day), f.amount) for f in b.cash_flows), key=lambda f: f[0])
    response = np.full(3, -1, dtype=np.int64)
    for i, action in enumerate(b.response):
        response[i] = RESPONSE_CODES[action]
    borrower = BorrowerArrays(
        cash0=float(b.cash),
        reserve=float(b.cash_reserve),
        participation=float(b.max_participation),
        response=response,
        flow_day=np.array([f[0] for f in flows], dtype=np.int64),
        flow_amount=np.array([f[1] for f in flows], dtype=np.float64),
    )

    rec_days = recorded_days(horizon)
    rec_of_day = np.full(horizon + 1, -1, dtype=np.int64)
    rec_of_day[rec_days] = np.arange(len(rec_days))
    interval_of_day = np.searchsorted(rec_days, np.arange(horizon + 1), side="left").astype(np.int64)
    obligation_day = np.zeros(horizon + 1, dtype=np.bool_)
    for every, rate in zip(loan_arrays.interest_every, loan_arrays.rate):
        if rate > 0.0:  # a loan that accrues nothing has nothing to pay: no obligation
            obligation_day[::every] = True
    obligation_day[[d for d in borrower.flow_day if d <= horizon]] = True
    obligation_day[0] = False
    total_principal = float(loan_arrays.principal.sum())
    equity0 = float(b.cash + market.value0.sum() - total_principal)
    recording = Recording(
        horizon=horizon,
        dt=dt,
        rec_days=rec_days,
        rec_of_day=rec_of_day,
        interval_of_day=interval_of_day,
        obligation_day=obligation_day,
        money_scale=total_principal,
        equity_scale=max(abs(equity0), total_principal) * 1e-4,
        antithetic=antithetic,
        single_asset_loop=True,
        shortcuts=True,
        next_busy_day=_next_busy_days(horizon, obligation_day, market),
    )
    lenders = tuple(loan.lender or loan_id for loan_id, loan in scenario.loans.items())
    return EngineInputs(market, loan_arrays, borrower, recording, asset_ids, loan_ids, lenders)
