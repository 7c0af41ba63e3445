"""Integer codes used inside kernels, and IntFlag/IntEnum views that decode them in Python.

Numba does not document IntFlag support, so kernels use the plain integer constants below. They
are numpy int64 rather than Python ints: numba types a Python int passed as an argument as a
literal and compiles the callee once more for each literal it sees.
"""

from __future__ import annotations

import enum

import numpy as np

# Loan status (one at a time).
ACTIVE = np.int64(0)
CALLED = np.int64(1)  # a margin call (or a liquidation notice) is open
DEFAULTED = np.int64(2)  # in enforcement: the lender sells the pool, or a shortfall claim is due
CLOSED = np.int64(3)  # defaulted and settled
REPAID = np.int64(4)

# Per-path loan event flags (set when the event happens at least once on the path).
F_CALLED = np.int64(1)
F_CURED = np.int64(2)
F_PLEDGED = np.int64(4)
F_SOLD_TO_CURE = np.int64(8)
F_DEFAULTED = np.int64(16)
F_LIQUIDATED = np.int64(32)
F_LOSS = np.int64(64)
F_RECOURSE = np.int64(128)
F_EXTENDED = np.int64(256)
F_REFINANCED = np.int64(512)
F_REPAID = np.int64(1024)
F_MATURITY_DEFAULT = np.int64(2048)
F_ACCELERATED = np.int64(4096)
F_DRAWN = np.int64(8192)
F_RELEASED = np.int64(16384)
F_NOTICE = np.int64(32768)  # a liquidation notice was served (LTV gapped past liquidation with a notice period)
N_LOAN_FLAGS = 16

# Per-path borrower event flags.
B_DEFAULT = np.int64(1)
B_FORCED_SALE = np.int64(2)  # the borrower sold holdings, or a lender sold pledged holdings
B_CASCADE = np.int64(4)  # two or more of the borrower's loans called on the path
B_SOLD = np.int64(8)  # the borrower itself sold holdings (to cure, pay what is due or repay)
B_LIQUIDATION = np.int64(16)  # a lender sold pledged holdings
B_BLOCK = np.int64(32)  # the borrower sold a block
B_DRAW = np.int64(64)  # the borrower drew on a committed facility
N_BORROWER_FLAGS = 7

# First cause of a default (of a loan or of a borrower); 0: none.
CAUSE_NONE = np.int64(0)
CAUSE_GAP = np.int64(1)  # LTV gapped past liquidation (and a notice, if any, ran out)
CAUSE_UNCURED_CALL = np.int64(2)
CAUSE_MATURITY = np.int64(3)  # maturity unpaid (no refinancing was in prospect)
CAUSE_REFINANCING = np.int64(4)  # maturity unpaid after the refinancing was refused
CAUSE_CROSS = np.int64(5)  # cross-default or acceleration by another debt's default
CAUSE_INTEREST = np.int64(6)  # interest unpaid by the end of its grace period
CAUSE_OUTFLOW = np.int64(7)  # a scheduled outflow unpaid by the end of its grace period
CAUSE_BORROWER = np.int64(8)  # the borrower defaulted (on something else)
CAUSE_RECOURSE = np.int64(9)  # a recourse lender's shortfall unpaid by the end of its grace period
N_CAUSES = 10

# Due kinds of a loan (what is owed with a grace period).
DUE_NONE = np.int64(0)
DUE_INTEREST = np.int64(1)  # the interest of a payment date (LF_DUE)
DUE_DEBT = np.int64(2)  # the whole debt: a maturity, an acceleration or a recourse shortfall

# Borrower response actions (columns of the borrower's response order).
ACT_CASH = np.int64(0)
ACT_PLEDGE = np.int64(1)
ACT_RELEASE = np.int64(2)
ACT_DRAW = np.int64(3)
ACT_BLOCK = np.int64(4)
ACT_SELL = np.int64(5)
ACTION_CODES = {"cash": ACT_CASH, "pledge": ACT_PLEDGE, "release": ACT_RELEASE, "draw": ACT_DRAW, "block": ACT_BLOCK, "sell": ACT_SELL}
MAX_ACTIONS = 6

# Impact laws: see `margincall.market.impact` (LAW_SQRT, LAW_POWER, LAW_EXPONENTIAL).

# Lender liquidation methods.
METHOD_MARKET = np.int64(0)
METHOD_BLOCK = np.int64(1)

# Event-log codes (trace of single paths).
E_CALL = np.int64(1)
E_CURE = np.int64(2)
E_PAY_CASH = np.int64(3)
E_PLEDGE = np.int64(4)
E_SELL = np.int64(5)
E_DEFAULT = np.int64(6)
E_LIQUIDATION_SALE = np.int64(7)
E_LOSS = np.int64(8)
E_RECOURSE = np.int64(9)
E_EXTEND = np.int64(10)
E_REFINANCE = np.int64(11)
E_REPAY = np.int64(12)
E_CASH_FLOW = np.int64(13)
E_INTEREST = np.int64(14)
E_BORROWER_DEFAULT = np.int64(15)
E_LISTING = np.int64(16)
E_MARK = np.int64(17)
E_DUE = np.int64(18)  # a payment fell due (amount), with a grace period
E_BLOCK = np.int64(19)  # the borrower sold a block (proceeds)
E_DRAW = np.int64(20)  # the borrower drew on a facility (amount)
E_RELEASE = np.int64(21)  # a lender released collateral above its cure level (lending value released)
E_ACCELERATE = np.int64(22)  # a loan was accelerated by cross-default (debt due)
E_NOTICE = np.int64(23)  # a liquidation notice was served (LTV)
E_REFINANCE_REFUSED = np.int64(24)  # a maturity's refinancing was refused (reason code in the amount column)
E_LIQUIDATION_BLOCK = np.int64(25)  # a lender sold collateral in a block (proceeds)
E_PRICE = np.int64(26)  # a traced path's end-of-day price of an asset (busy days; every day in the reference mode)


class LoanEvent(enum.IntFlag):
    """Decodes per-path loan flags."""

    CALLED = int(F_CALLED)
    CURED = int(F_CURED)
    PLEDGED = int(F_PLEDGED)
    SOLD_TO_CURE = int(F_SOLD_TO_CURE)
    DEFAULTED = int(F_DEFAULTED)
    LIQUIDATED = int(F_LIQUIDATED)
    LOSS = int(F_LOSS)
    RECOURSE = int(F_RECOURSE)
    EXTENDED = int(F_EXTENDED)
    REFINANCED = int(F_REFINANCED)
    REPAID = int(F_REPAID)
    MATURITY_DEFAULT = int(F_MATURITY_DEFAULT)
    ACCELERATED = int(F_ACCELERATED)
    DRAWN = int(F_DRAWN)
    RELEASED = int(F_RELEASED)
    NOTICE = int(F_NOTICE)


class BorrowerEvent(enum.IntFlag):
    """Decodes per-path borrower flags."""

    DEFAULT = int(B_DEFAULT)
    FORCED_SALE = int(B_FORCED_SALE)
    CASCADE = int(B_CASCADE)
    SOLD = int(B_SOLD)
    LIQUIDATION = int(B_LIQUIDATION)
    BLOCK = int(B_BLOCK)
    DRAW = int(B_DRAW)


class Cause(enum.IntEnum):
    """The first cause of a default; the names are the keys of `p_default_by_cause`."""

    GAP_PAST_LIQUIDATION = int(CAUSE_GAP)
    UNCURED_CALL = int(CAUSE_UNCURED_CALL)
    MATURITY_UNPAID = int(CAUSE_MATURITY)
    REFINANCING_REFUSED = int(CAUSE_REFINANCING)
    CROSS_DEFAULT = int(CAUSE_CROSS)
    UNPAID_INTEREST = int(CAUSE_INTEREST)
    UNPAID_OUTFLOW = int(CAUSE_OUTFLOW)
    BORROWER_DEFAULT = int(CAUSE_BORROWER)
    RECOURSE_CLAIM_UNPAID = int(CAUSE_RECOURSE)


CAUSE_WORDS = {
    Cause.GAP_PAST_LIQUIDATION: "the LTV gapped past the liquidation level",
    Cause.UNCURED_CALL: "a margin call was not cured by its deadline",
    Cause.MATURITY_UNPAID: "the maturity was not repaid within its grace period",
    Cause.REFINANCING_REFUSED: "refinancing was refused at maturity and the debt was not repaid within its grace period",
    Cause.CROSS_DEFAULT: "another debt's default accelerated it (cross-default)",
    Cause.UNPAID_INTEREST: "interest was not paid within its grace period",
    Cause.UNPAID_OUTFLOW: "a scheduled outflow was not paid within its grace period",
    Cause.BORROWER_DEFAULT: "its borrower defaulted",
    Cause.RECOURSE_CLAIM_UNPAID: "a recourse lender's shortfall was not paid within its grace period",
}


class TraceEvent(enum.IntEnum):
    """Event-log codes of a traced path."""

    CALL = int(E_CALL)
    CURE = int(E_CURE)
    PAY_CASH = int(E_PAY_CASH)
    PLEDGE = int(E_PLEDGE)
    SELL = int(E_SELL)
    DEFAULT = int(E_DEFAULT)
    LIQUIDATION_SALE = int(E_LIQUIDATION_SALE)
    LOSS = int(E_LOSS)
    RECOURSE = int(E_RECOURSE)
    EXTEND = int(E_EXTEND)
    REFINANCE = int(E_REFINANCE)
    REPAY = int(E_REPAY)
    CASH_FLOW = int(E_CASH_FLOW)
    INTEREST = int(E_INTEREST)
    BORROWER_DEFAULT = int(E_BORROWER_DEFAULT)
    LISTING = int(E_LISTING)
    MARK = int(E_MARK)
    DUE = int(E_DUE)
    BLOCK = int(E_BLOCK)
    DRAW = int(E_DRAW)
    RELEASE = int(E_RELEASE)
    ACCELERATE = int(E_ACCELERATE)
    NOTICE = int(E_NOTICE)
    REFINANCE_REFUSED = int(E_REFINANCE_REFUSED)
    LIQUIDATION_BLOCK = int(E_LIQUIDATION_BLOCK)
    PRICE = int(E_PRICE)
