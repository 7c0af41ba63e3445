"""The only bridge from schema objects to arrays: kernels take what this module builds.

Axes follow the normalised book (`Scenario.book()`): assets, loans, borrowers and lenders in the
scenario's order. Columns are named in `engine.layout`; a new term is a constant there and a line
here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from margincall.engine import codes as c
from margincall.engine.layout import (
    AI_IMPACT_LAW,
    AI_LISTING_DAY,
    AI_MARK_EVERY,
    AI_SALE_DELAY,
    AI_SELLABLE_DAY,
    AP_DRIFT_DT,
    AP_IMPACT_DECAY,
    AP_IMPACT_EXPONENT,
    AP_IMPACT_FLOOR,
    AP_IMPACT_PERMANENT,
    AP_IMPACT_Y,
    AP_JUMP_LOG_MEAN,
    AP_JUMP_LOG_STDEV,
    AP_JUMP_MEAN_PER_DAY,
    AP_JUMP_P0,
    AP_LOGP0,
    AP_MARK_PROB,
    AP_SALE_DISCOUNT,
    AP_SIGMA_DAILY,
    AP_VOL_SQRT_DT,
    AP_VOLUME,
    BI_RESPONSE,
    BP_BLOCK_DISCOUNT,
    BP_BLOCK_FRACTION,
    BP_CASH0,
    BP_EQUITY_SCALE,
    BP_MONEY_LO,
    BP_PARTICIPATION,
    BP_RECOVERY,
    BP_RESERVE,
    CA_INTERVAL,
    CA_NEXT_BUSY,
    CA_OBLIGATION,
    CA_RECORD,
    FL_AMOUNT,
    FL_BORROWER,
    FL_DAY,
    FL_DEADLINE,
    LI_BORROWER,
    LI_CROSS,
    LI_CURE_DAYS,
    LI_EXTENSION_DAYS,
    LI_INTEREST_EVERY,
    LI_INTEREST_GRACE,
    LI_LENDER,
    LI_METHOD,
    LI_NEEDS_ACCESS,
    LI_NOTICE_DAYS,
    LI_PRINCIPAL_GRACE,
    LI_PRIORITY,
    LI_RECOURSE,
    LI_REFINANCE_DAYS,
    LI_SECURED,
    LI_TERM,
    LI_WAIT_DAYS,
    LP_BLOCK_DISCOUNT,
    LP_CALL,
    LP_CROSS_THRESHOLD,
    LP_CURE,
    LP_DRAW_MAX_LTV,
    LP_EXTENSION_MAX_LTV,
    LP_FIRST_TRIGGER,
    LP_LIMIT,
    LP_LIQUIDATION,
    LP_LOSS_LO,
    LP_PARTICIPATION,
    LP_PRINCIPAL,
    LP_RATE,
    LP_RECOVERY,
    LP_REFINANCE_MAX_LTV,
    LP_REFINANCE_PROB,
    N_AI,
    N_AP,
    N_BI,
    N_BP,
    N_CA,
    N_FL,
    N_LI,
    N_LP,
    N_NP,
    N_PL,
    N_SH,
    N_ST,
    NEVER,
    NP_CAPITAL,
    NP_LOSS_LO,
    PL_ACCEPTED,
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
    ST_MONEY_SCALE,
    ST_RECORD_PATHS,
    ST_SHORTCUTS,
    ST_SINGLE_LOOP,
)
from margincall.errors import SimulationError
from margincall.market.impact import LAW_CODES
from margincall.model.scenario import Scenario


@dataclass(frozen=True)
class EngineInputs:
    """The lowered scenario: parameter arrays (columns in `engine.layout`) and the ids that name
    their axes."""

    settings: np.ndarray
    calendar: np.ndarray
    asset_p: np.ndarray
    asset_i: np.ndarray
    chol: np.ndarray
    history: np.ndarray
    shocks: np.ndarray
    loan_p: np.ndarray
    loan_i: np.ndarray
    pool: np.ndarray
    borrower_p: np.ndarray
    borrower_i: np.ndarray
    lender_p: np.ndarray
    hold0: np.ndarray
    flows: np.ndarray
    sale_order: np.ndarray
    rec_days: np.ndarray
    asset_ids: tuple[str, ...]
    loan_ids: tuple[str, ...]
    borrower_ids: tuple[str, ...]
    lender_ids: tuple[str, ...]
    borrower_names: tuple[str, ...]
    lender_names: tuple[str, ...]
    prices0: np.ndarray  # price of one unit on day 0, by asset

    def arrays(self) -> tuple[np.ndarray, ...]:
        """The parameter arrays in the order `engine.kernel.run_blocks` takes them."""
        return (
            self.settings, self.calendar, self.asset_p, self.asset_i, self.chol, self.history, self.shocks,
            self.loan_p, self.loan_i, self.pool, self.borrower_p, self.borrower_i, self.lender_p, self.hold0,
            self.flows, self.sale_order,
        )

    @property
    def horizon(self) -> int:
        return int(self.settings[ST_HORIZON])

    @property
    def dt(self) -> float:
        return float(self.settings[ST_DT])

    @property
    def antithetic(self) -> bool:
        return bool(self.settings[ST_ANTITHETIC])

    def with_settings(self, **values: float) -> EngineInputs:
        """A copy with settings changed by name (shortcuts, single_loop, record_paths)."""
        columns = {"shortcuts": ST_SHORTCUTS, "single_loop": ST_SINGLE_LOOP, "record_paths": ST_RECORD_PATHS}
        settings = self.settings.copy()
        for name, value in values.items():
            settings[columns[name]] = float(value)
        from dataclasses import replace

        return replace(self, settings=settings)


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
    book = scenario.book()
    asset_ids = tuple(book.assets)
    loan_ids = tuple(book.loans)
    borrower_ids = tuple(book.borrowers)
    lender_ids = tuple(book.lenders)
    a_index = {a: i for i, a in enumerate(asset_ids)}
    b_index = {b: i for i, b in enumerate(borrower_ids)}
    n_index = {n: i for i, n in enumerate(lender_ids)}
    n_assets, n_loans, n_borrowers, n_lenders = len(asset_ids), len(loan_ids), len(borrower_ids), len(lender_ids)
    horizon = scenario.horizon
    dt = 1.0 / scenario.days_per_year
    assets = list(book.assets.values())
    prices0 = np.array([book.prices[a] for a in asset_ids])

    replayed, block_days = _history_arrays(scenario, history)
    asset_p = np.zeros((n_assets, N_AP))
    asset_i = np.zeros((n_assets, N_AI), dtype=np.int64)
    for i, a in enumerate(assets):
        sigma = a.volatility
        jump_rate = a.jumps.rate if a.jumps else 0.0
        asset_p[i, AP_LOGP0] = math.log(prices0[i])
        asset_p[i, AP_DRIFT_DT] = (a.drift - 0.5 * sigma**2) * dt
        asset_p[i, AP_VOL_SQRT_DT] = sigma * math.sqrt(dt)
        asset_p[i, AP_SIGMA_DAILY] = sigma * math.sqrt(dt)
        asset_p[i, AP_JUMP_MEAN_PER_DAY] = jump_rate * dt
        asset_p[i, AP_JUMP_P0] = math.exp(-jump_rate * dt)
        asset_p[i, AP_JUMP_LOG_MEAN] = a.jumps.mean if a.jumps else 0.0
        asset_p[i, AP_JUMP_LOG_STDEV] = a.jumps.stdev if a.jumps else 0.0
        adv = a.adv if a.kind == "public" else (a.listing.adv if a.listing is not None else 0.0)
        asset_p[i, AP_VOLUME] = (adv or 0.0) / prices0[i]
        asset_p[i, AP_IMPACT_Y] = a.impact
        asset_p[i, AP_IMPACT_EXPONENT] = a.impact_exponent
        asset_p[i, AP_IMPACT_PERMANENT] = a.impact_permanent
        asset_p[i, AP_IMPACT_FLOOR] = a.impact_floor
        asset_p[i, AP_IMPACT_DECAY] = 1.0 if a.impact_half_life_days is None else 0.5 ** (1.0 / a.impact_half_life_days)
        asset_p[i, AP_MARK_PROB] = 1.0 - math.exp(-(a.marks.rounds_per_year if a.marks else 0.0) * dt)
        asset_p[i, AP_SALE_DISCOUNT] = a.sale_discount
        if a.kind == "private":
            if a.listing is not None:
                asset_i[i, AI_LISTING_DAY] = scenario.day_number(a.listing.day)
                asset_i[i, AI_SELLABLE_DAY] = asset_i[i, AI_LISTING_DAY] + a.listing.lockup_days
            else:
                asset_i[i, AI_LISTING_DAY] = asset_i[i, AI_SELLABLE_DAY] = NEVER
        asset_i[i, AI_MARK_EVERY] = a.marks.every_days if (a.marks and a.marks.every_days) else 0
        asset_i[i, AI_SALE_DELAY] = a.sale_delay_days
        asset_i[i, AI_IMPACT_LAW] = LAW_CODES[a.impact_law]
    if replayed.shape[0] > 0:
        asset_p[:, AP_SIGMA_DAILY] = replayed.std(axis=0, ddof=1) if replayed.shape[0] > 1 else 0.0

    shock_rows: list[tuple[int, int, float]] = []
    for shock in scenario.shocks:
        start = scenario.day_number(shock.day)
        log_move = math.log(shock.change + 1.0) if shock.change > -1.0 else -math.inf
        for k in range(shock.over_days):
            if start + k <= horizon:
                shock_rows.append((start + k, a_index[shock.asset], log_move / shock.over_days))
    shock_rows.sort(key=lambda s: (s[0], s[1]))
    shocks = np.zeros((len(shock_rows), N_SH))
    for k, (day, asset, log_move) in enumerate(shock_rows):
        shocks[k, SH_DAY], shocks[k, SH_ASSET], shocks[k, SH_LOG] = day, asset, log_move

    hold0 = np.zeros((n_borrowers, n_assets))
    for b_id, units in book.holdings.items():
        for a_id, u in units.items():
            hold0[b_index[b_id], a_index[a_id]] = u

    loans = list(book.loans.values())
    loan_p = np.zeros((n_loans, N_LP))
    loan_i = np.zeros((n_loans, N_LI), dtype=np.int64)
    pool = np.zeros((n_loans, n_assets, N_PL))
    lender_principal = np.zeros(n_lenders)
    for i, (loan_id, loan) in enumerate(book.loans.items()):
        b = b_index[book.loan_borrower[loan_id]]
        n = n_index[book.loan_lender[loan_id]]
        lender = book.lenders[book.loan_lender[loan_id]]
        borrower = book.borrowers[book.loan_borrower[loan_id]]
        secured = loan.secured
        call = loan.margin_call_ltv if secured else math.inf
        cure = loan.cure_ltv if secured else math.inf
        liquidation = loan.liquidation_ltv if secured else math.inf
        loan_p[i, LP_PRINCIPAL] = loan.principal
        loan_p[i, LP_LIMIT] = loan.facility_limit
        loan_p[i, LP_DRAW_MAX_LTV] = (loan.draw_max_ltv if loan.draw_max_ltv is not None else cure) if secured else 0.0
        loan_p[i, LP_RATE] = loan.annual_rate
        loan_p[i, LP_CALL] = call
        loan_p[i, LP_CURE] = cure
        loan_p[i, LP_LIQUIDATION] = liquidation
        loan_p[i, LP_EXTENSION_MAX_LTV] = (
            (loan.extension_max_ltv if loan.extension_max_ltv is not None else np.nextafter(call, 0.0)) if secured else math.inf
        )
        loan_p[i, LP_REFINANCE_PROB] = loan.refinance_probability
        if loan.refinance_max_ltv is not None:
            loan_p[i, LP_REFINANCE_MAX_LTV] = loan.refinance_max_ltv
        else:
            loan_p[i, LP_REFINANCE_MAX_LTV] = np.nextafter(call, 0.0) if secured else math.inf
        loan_p[i, LP_RECOVERY] = loan.recovery_rate if loan.recovery_rate is not None else borrower.recovery_rate
        loan_p[i, LP_PARTICIPATION] = loan.liquidation_participation or lender.participation
        loan_p[i, LP_BLOCK_DISCOUNT] = lender.block_discount
        cross = loan.cross
        loan_p[i, LP_CROSS_THRESHOLD] = cross.threshold if cross is not None else 0.0
        loan_p[i, LP_FIRST_TRIGGER] = min(call, liquidation)
        loan_p[i, LP_LOSS_LO] = loan.principal * 1e-7
        loan_i[i, LI_BORROWER] = b
        loan_i[i, LI_LENDER] = n
        loan_i[i, LI_TERM] = loan.term_days
        loan_i[i, LI_EXTENSION_DAYS] = loan.extension_days
        loan_i[i, LI_CURE_DAYS] = loan.cure_days or 0
        loan_i[i, LI_NOTICE_DAYS] = loan.liquidation_cure_days
        loan_i[i, LI_INTEREST_EVERY] = loan.interest_every_days
        loan_i[i, LI_INTEREST_GRACE] = loan.interest_grace_days
        loan_i[i, LI_PRINCIPAL_GRACE] = loan.principal_grace_days
        loan_i[i, LI_SECURED] = int(secured)
        loan_i[i, LI_RECOURSE] = int(loan.recourse)
        loan_i[i, LI_CROSS] = 0 if cross is None else (2 if cross.acceleration else 1)
        loan_i[i, LI_REFINANCE_DAYS] = loan.refinance_days or loan.term_days
        loan_i[i, LI_NEEDS_ACCESS] = int(scenario.market_access is not None)
        loan_i[i, LI_WAIT_DAYS] = lender.wait_days
        loan_i[i, LI_METHOD] = c.METHOD_BLOCK if lender.method == "block" else c.METHOD_MARKET
        loan_i[i, LI_PRIORITY] = n + (0 if lender.method == "block" else n_lenders)
        for a_id, fraction in (loan.collateral or {}).items():
            pool[i, a_index[a_id], PL_PLEDGE0] = fraction
        if secured:
            for a_id, h in loan.accepted_haircuts.items():
                pool[i, a_index[a_id], PL_ACCEPTED] = 1.0
                pool[i, a_index[a_id], PL_HAIRCUT] = h
        lender_principal[n] += loan.facility_limit
    sale_order = np.argsort(loan_i[:, LI_PRIORITY], kind="stable").astype(np.int64)

    borrower_p = np.zeros((n_borrowers, N_BP))
    borrower_i = np.full((n_borrowers, N_BI), -1, dtype=np.int64)
    flow_rows: list[tuple[int, int, float, int]] = []
    for j, (b_id, borrower) in enumerate(book.borrowers.items()):
        owed = sum(loan.facility_limit for loan_id, loan in book.loans.items() if book.loan_borrower[loan_id] == b_id)
        holdings0 = float(hold0[j] @ prices0)
        money = max(owed, borrower.cash, 1e-6)
        equity0 = borrower.cash + holdings0 - sum(
            loan.principal for loan_id, loan in book.loans.items() if book.loan_borrower[loan_id] == b_id
        )
        borrower_p[j, BP_CASH0] = borrower.cash
        borrower_p[j, BP_RESERVE] = borrower.cash_reserve
        borrower_p[j, BP_PARTICIPATION] = borrower.max_participation
        borrower_p[j, BP_BLOCK_FRACTION] = borrower.block_fraction
        borrower_p[j, BP_BLOCK_DISCOUNT] = borrower.block_discount
        borrower_p[j, BP_RECOVERY] = borrower.recovery_rate
        borrower_p[j, BP_MONEY_LO] = money * 1e-7
        borrower_p[j, BP_EQUITY_SCALE] = max(abs(equity0), money) * 1e-4
        for k, action in enumerate(borrower.response):
            borrower_i[j, BI_RESPONSE + k] = c.ACTION_CODES[action]
        for flow in borrower.cash_flows:
            day = scenario.day_number(flow.day)
            flow_rows.append((day, j, float(flow.amount), day + flow.grace_days))
    flow_rows.sort(key=lambda f: (f[0], f[1]))
    flows = np.zeros((len(flow_rows), N_FL))
    for k, (day, j, amount, deadline) in enumerate(flow_rows):
        flows[k, FL_DAY], flows[k, FL_BORROWER], flows[k, FL_AMOUNT], flows[k, FL_DEADLINE] = day, j, amount, deadline

    lender_p = np.zeros((n_lenders, N_NP))
    for n, (n_id, lender) in enumerate(book.lenders.items()):
        lender_p[n, NP_CAPITAL] = lender.capital or 0.0
        lender_p[n, NP_LOSS_LO] = max(lender_principal[n], 1e-6) * 1e-7

    rec_days = recorded_days(horizon)
    calendar = np.zeros((horizon + 2, N_CA), dtype=np.int64)
    calendar[:, CA_RECORD] = -1
    calendar[rec_days, CA_RECORD] = np.arange(len(rec_days))
    calendar[: horizon + 1, CA_INTERVAL] = np.searchsorted(rec_days, np.arange(horizon + 1), side="left")
    obligation = np.zeros(horizon + 2, dtype=bool)
    for i in range(n_loans):
        if loan_p[i, LP_RATE] != 0.0:  # a loan that accrues nothing has nothing to pay: no obligation
            obligation[:: loan_i[i, LI_INTEREST_EVERY]] = True
    for row in flow_rows:
        if row[0] <= horizon:
            obligation[row[0]] = True
    obligation[0] = False
    obligation[horizon + 1] = False
    calendar[:, CA_OBLIGATION] = obligation
    busy = obligation.copy()
    busy[[s[0] for s in shock_rows if s[0] <= horizon]] = True
    for i in range(n_assets):
        listing = asset_i[i, AI_LISTING_DAY]
        if 0 < listing <= horizon:
            busy[listing] = True
        every = asset_i[i, AI_MARK_EVERY]
        if every > 0:  # a private asset's scheduled valuations, until it lists
            busy[every : min(horizon, listing - 1) + 1 : every] = True
    nxt = np.full(horizon + 2, horizon + 1, dtype=np.int64)
    for t in range(horizon, -1, -1):
        nxt[t] = t if busy[t] else nxt[t + 1]
    calendar[:, CA_NEXT_BUSY] = nxt

    settings = np.zeros(N_ST)
    settings[ST_DT] = dt
    settings[ST_HORIZON] = horizon
    settings[ST_ANTITHETIC] = float(antithetic)
    settings[ST_SHORTCUTS] = 1.0
    settings[ST_BLOCK_DAYS] = block_days
    access = scenario.market_access
    settings[ST_ACCESS_ASSET] = a_index[access.asset] if access is not None else -1
    settings[ST_ACCESS_DRAWDOWN] = access.max_drawdown if access is not None else 0.0
    settings[ST_MONEY_SCALE] = float(sum(loan.facility_limit for loan in loans))
    settings[ST_SINGLE_LOOP] = 1.0
    settings[ST_RECORD_PATHS] = 0.0

    return EngineInputs(
        settings=settings,
        calendar=calendar,
        asset_p=asset_p,
        asset_i=asset_i,
        chol=correlation_factor(scenario.correlation_matrix()),
        history=replayed,
        shocks=shocks,
        loan_p=loan_p,
        loan_i=loan_i,
        pool=pool,
        borrower_p=borrower_p,
        borrower_i=borrower_i,
        lender_p=lender_p,
        hold0=hold0,
        flows=flows,
        sale_order=sale_order,
        rec_days=rec_days,
        asset_ids=asset_ids,
        loan_ids=loan_ids,
        borrower_ids=borrower_ids,
        lender_ids=lender_ids,
        borrower_names=tuple(book.borrower_name(b) for b in borrower_ids),
        lender_names=tuple(book.lender_name(n) for n in lender_ids),
        prices0=prices0,
    )


def probe_inputs() -> EngineInputs:
    """The inputs of a one-asset, one-loan book: arrays of every dtype and dimension the engine
    takes, to compile the kernels for their one signature."""
    from margincall.model.scenario import Scenario

    scenario = Scenario.model_validate(
        {
            "horizon_days": 2,
            "assets": {"a": {"kind": "public", "value": 1.0, "volatility": 0.1, "adv": 1.0}},
            "borrower": {"cash": 0.0},
            "loans": {
                "l": {
                    "principal": 0.5, "rate": 0.0, "term_days": 2, "collateral": {"a": 1.0},
                    "margin_call_ltv": 0.8, "cure_ltv": 0.7, "cure_days": 1, "liquidation_ltv": 0.9,
                }
            },
        }
    )
    return lower(scenario)
