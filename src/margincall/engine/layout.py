"""Named columns of the engine's arrays: parameters (built once by `engine.lower`) and one path's
state (reset at the start of every path), grouped by what they describe.

Axes: assets [A] in the scenario's order, loans [L], borrowers [B] and lenders [N] in the book's
order, cash flows [C] sorted by day. Money is in the scenario's currency, time in trading days,
rates per year; a unit is one share (the shorthand's unit is the borrower's whole day-0 holding).
A new term is one constant here and one line in `engine.lower`.
"""

from __future__ import annotations

import numpy as np

from margincall.market.columns import (  # noqa: F401 - re-exported: one layout for every array
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
    MS_GATE,
    MS_JUMPED,
    MS_LOGV,
    MS_OPEN,
    MS_PEAK,
    MS_PENDING,
    MS_LOG_MARK,
    MS_PERM_DECAY,
    MS_PERM_FIXED,
    MS_PRICE,
    MS_SHOCKED,
    MS_SOLD,
    MS_Z,
    N_AI,
    N_AP,
    N_MS,
)

# ---------------------------------------------------------------------------------------------
# Parameters
# ---------------------------------------------------------------------------------------------

# loan_p[l, column], float
LP_PRINCIPAL = 0  # drawn on day 0
LP_LIMIT = 1  # committed facility size
LP_DRAW_MAX_LTV = 2
LP_RATE = 3  # per year
LP_CALL = 4  # margin-call LTV (inf: unsecured)
LP_CURE = 5
LP_LIQUIDATION = 6
LP_EXTENSION_MAX_LTV = 7
LP_REFINANCE_PROB = 8
LP_REFINANCE_MAX_LTV = 9  # the loan's LTV (secured) or the borrower's (unsecured); inf: none
LP_RECOVERY = 10  # share of an unsecured claim recovered after the borrower's default
LP_PARTICIPATION = 11  # share of daily volume the lender sells a day
LP_BLOCK_DISCOUNT = 12  # the lender's block discount
LP_CROSS_THRESHOLD = 13  # smallest defaulted debt that triggers the cross-default clause
LP_FIRST_TRIGGER = 14  # min(call, liquidation) LTV: below it a quiet day needs no covenant work
LP_LOSS_LO = 15  # lowest bin edge of the loan's loss histogram
N_LP = 16

# loan_i[l, column], int
LI_BORROWER = 0
LI_LENDER = 1
LI_TERM = 2
LI_EXTENSION_DAYS = 3
LI_CURE_DAYS = 4
LI_NOTICE_DAYS = 5  # liquidation_cure_days
LI_INTEREST_EVERY = 6
LI_INTEREST_GRACE = 7
LI_PRINCIPAL_GRACE = 8
LI_SECURED = 9
LI_RECOURSE = 10
LI_CROSS = 11  # 0: not in the cross-default group; 1: cross-default; 2: cross-acceleration
LI_REFINANCE_DAYS = 12
LI_NEEDS_ACCESS = 13  # refinancing needs the market open
LI_WAIT_DAYS = 14  # the lender's wait before selling
LI_METHOD = 15  # the lender's method (codes.METHOD_*)
LI_PRIORITY = 16  # order of the lender's sales within a day (0 first)
N_LI = 17

# pool[l, a, column], float
PL_PLEDGE0 = 0  # share of the borrower's day-0 holding pledged
PL_HAIRCUT = 1
PL_ACCEPTED = 2  # 1.0: the lender takes the asset as collateral
N_PL = 3

# borrower_p[b, column], float
BP_CASH0 = 0
BP_RESERVE = 1
BP_PARTICIPATION = 2
BP_BLOCK_FRACTION = 3
BP_BLOCK_DISCOUNT = 4
BP_RECOVERY = 5
BP_MONEY_LO = 6  # lowest bin edge of the borrower's money histograms (liquidity at risk, cash)
BP_EQUITY_SCALE = 7  # scale of the borrower's equity histogram
N_BP = 8

# lender_p[n, column], float
NP_CAPITAL = 0  # the lender's capital (0: not given)
NP_LOSS_LO = 1  # lowest bin edge of the lender's loss histogram
N_NP = 2

# borrower_i[b, column], int: the response order (codes.ACT_*), -1 padded
BI_RESPONSE = 0  # columns 0 .. MAX_ACTIONS - 1
N_BI = 6

# flows[k, column], float (sorted by day)
FL_DAY = 0
FL_BORROWER = 1
FL_AMOUNT = 2
FL_DEADLINE = 3  # last day to pay an outflow (day + grace)
N_FL = 4

# shocks[k, column], float (sorted by day)
SH_DAY = 0
SH_ASSET = 1
SH_LOG = 2
N_SH = 3

# calendar[t, column], int, t = 0 .. horizon + 1
CA_OBLIGATION = 0  # 1: some interest date or cash flow falls on the day
CA_RECORD = 1  # index of the day among the recorded days, or -1
CA_INTERVAL = 2  # index of the recorded day at or after the day
CA_NEXT_BUSY = 3  # first day >= t with an obligation, a shock, a listing or a scheduled mark
N_CA = 4

# settings[column], float
ST_DT = 0
ST_HORIZON = 1
ST_ANTITHETIC = 2
ST_SHORTCUTS = 3  # 0 takes every day through the full machinery (the reference mode)
ST_BLOCK_DAYS = 4  # historical model: length of a replayed block
ST_ACCESS_ASSET = 5  # the market-access gauge (-1: always open)
ST_ACCESS_DRAWDOWN = 6
ST_MONEY_SCALE = 7  # scale of money histograms
ST_EQUITY_SCALE = 8
ST_SINGLE_LOOP = 9  # 1: one-asset books may use the one-asset quiet loop
ST_RECORD_PATHS = 10  # 1: keep each path's outcome (explain, trace --where)
N_ST = 11

# ---------------------------------------------------------------------------------------------
# One path's state
# ---------------------------------------------------------------------------------------------

# holding[b, a, column], float
HS_UNITS = 0  # units owned, pledged or free
HS_SOLD = 1  # units the borrower sold on the market today
HS_BLOCKED = 2  # 1.0: the borrower sold a block of the asset today
N_HS = 3

# loan_f[l, column], float
LF_PRINCIPAL = 0
LF_ACCRUED = 1  # accrued unpaid interest
LF_LOSS = 2  # the lender's loss
LF_CURE_PAID = 3  # paid by the borrower to cure calls
LF_RECOVERED = 4  # recovered by the lender from liquidation, payments and claims after a default
LF_EXPOSURE = 5  # debt at default
LF_DUE = 6  # interest due (DUE_INTEREST)
LF_DRAWN = 7  # drawn on the facility over the path
LF_LOG_BARRIER = 8  # quiet-day gate: the pool's log price at or below which a trigger may be reached
LF_LOG_POOL = 9  # log(pledged units * (1 - haircut)) of a single-asset pool
LF_LOG_DEBT = 10  # log of LF_DEBT_LOGGED
LF_DEBT_LOGGED = 11
LF_POOL_UNITS = 12  # the lending units whose log is LF_LOG_POOL
N_LF = 13

# loan_s[l, column], int
LS_STATUS = 0
LS_DEADLINE = 1  # last day to cure the open call (or notice)
LS_NOTICE = 2  # 1: the open call is a liquidation notice
LS_MATURITY = 3
LS_EXTENDED = 4
LS_FLAGS = 5
LS_FIRST_CALL = 6
LS_FIRST_DEFAULT = 7
LS_DEFAULT_DAY = 8
LS_REFINANCINGS = 9
LS_GATE = 10  # the one public asset of the pool (quiet-day gate), or a GATE_* code
LS_WAKE = 11  # first day the lender may sell (default day + wait, private: + sale delay)
LS_DUE_KIND = 12  # codes.DUE_*
LS_DUE_DEADLINE = 13
LS_DUE_CAUSE = 14  # the cause if the due is not paid
LS_CAUSE = 15  # first default cause
LS_PROPAGATION = 16  # bits: PROPAGATED_DEFAULT, ENFORCING, PROPAGATED_ENFORCING (cross-default triggers)
LS_SLEEP = 17  # a defaulted loan waiting to sell (GATE_WAIT): the first day it can
LS_POOL_ASSET = 18  # the one asset of a single-asset pool (its LF_LOG_POOL is set), or NONE
N_LS = 19

# borrower_f[b, column], float
BF_CASH = 0
BF_CLAIMS = 1  # recovery claims of unsecured lenders on the defaulted borrower
BF_LAR = 2  # paid to cure calls (liquidity at risk)
BF_SOLD_NOMINAL = 3  # value sold at the price before each sale (private: fair value)
BF_EXEC_COST = 4  # value sold minus proceeds: impact, block and private discounts
BF_DISCOUNT_COST = 5  # the block-discount part of BF_EXEC_COST
BF_PNL_MARKET = 6
BF_PNL_EXEC = 7
BF_PNL_INTEREST = 8
BF_PNL_FLOWS = 9
BF_PNL_FORGIVEN = 10
BF_EQUITY0 = 11
BF_LEDGER_MAX = 12  # largest |balance sheet - (equity0 + P&L)| seen, currency
BF_DRAWN = 13  # drawn on facilities over the path
BF_CASH_SEEN = 14  # the cash whose fan-chart bin is BF_CASH_BIN (NaN: none yet)
BF_CASH_BIN = 15
BF_EQUITY_NOW = 16  # scratch of check_ledger: the borrower's equity at today's prices
N_BF = 17

# borrower_s[b, column], int
BS_FLAGS = 0
BS_DEFAULTED = 1
BS_CALLED_LOANS = 2
BS_CAUSE = 3
BS_DEFAULT_DAY = 4
N_BS = 5

# log[row, column] of a traced path
G_PATH = 0
G_DAY = 1
G_CODE = 2
G_LOAN = 3
G_ASSET = 4
G_AMOUNT = 5
G_BORROWER = 6
N_LOG = 7

# bits of loan_s[l, LS_PROPAGATION]
PROPAGATED_DEFAULT = 1  # the loan's default has triggered its group's cross-default clauses
ENFORCING = 2  # the lender has started enforcing
PROPAGATED_ENFORCING = 4  # ... which has triggered the group's cross-acceleration clauses

# loan_s[l, LS_GATE]: the one listed asset of a single-asset pool (its log price is the gate), or
GATE_NONE = -1  # nothing to watch: unsecured, repaid, closed, or owing nothing
GATE_STATIC = -2  # a pool of unlisted assets below its trigger: only a valuation event can move it
GATE_EXACT = -3  # a pool of several assets: its LTV is computed every quiet day
GATE_WAIT = -4  # a defaulted loan that cannot sell before LS_SLEEP

NEVER = 2**40  # a day that never comes

# Arguments that kernels pass as constants are numpy scalars: numba would compile the callee once
# more for each Python literal it is given.
NONE = np.int64(-1)  # no loan, asset or borrower
DAY0 = np.int64(0)
YES = np.bool_(True)
NO = np.bool_(False)
ZERO = 0.0
TINY = 1e-9  # relative size below which an amount is zero
