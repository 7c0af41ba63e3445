"""Integer codes used inside kernels, and IntFlag views that decode them in Python.

Numba does not document IntFlag support, so kernels use the plain integer constants below.
"""

from __future__ import annotations

import enum

# Loan status (one at a time).
ACTIVE = 0
CALLED = 1
DEFAULTED = 2  # in liquidation: the lender is selling the pool
CLOSED = 3  # defaulted and settled
REPAID = 4

# Per-path loan event flags (set when the event happens at least once on the path).
F_CALLED = 1
F_CURED = 2
F_PLEDGED = 4
F_SOLD_TO_CURE = 8
F_DEFAULTED = 16
F_LIQUIDATED = 32
F_LOSS = 64
F_RECOURSE = 128
F_EXTENDED = 256
F_REFINANCED = 512
F_REPAID = 1024
F_MATURITY_DEFAULT = 2048
N_LOAN_FLAGS = 12

# Per-path borrower event flags.
B_DEFAULT = 1
B_FORCED_SALE = 2  # the borrower sold holdings, or a lender sold pledged holdings
B_CASCADE = 4  # two or more loans called on the path
B_SOLD = 8  # the borrower itself sold holdings (to cure, pay an obligation or repay)
B_LIQUIDATION = 16  # a lender sold pledged holdings
N_BORROWER_FLAGS = 5

# Event-log codes (trace of single paths).
E_CALL = 1
E_CURE = 2
E_PAY_CASH = 3
E_PLEDGE = 4
E_SELL = 5
E_DEFAULT = 6
E_LIQUIDATION_SALE = 7
E_LOSS = 8
E_RECOURSE = 9
E_EXTEND = 10
E_REFINANCE = 11
E_REPAY = 12
E_CASH_FLOW = 13
E_INTEREST = 14
E_BORROWER_DEFAULT = 15
E_LISTING = 16
E_MARK = 17


class LoanEvent(enum.IntFlag):
    """Decodes per-path loan flags."""

    CALLED = F_CALLED
    CURED = F_CURED
    PLEDGED = F_PLEDGED
    SOLD_TO_CURE = F_SOLD_TO_CURE
    DEFAULTED = F_DEFAULTED
    LIQUIDATED = F_LIQUIDATED
    LOSS = F_LOSS
    RECOURSE = F_RECOURSE
    EXTENDED = F_EXTENDED
    REFINANCED = F_REFINANCED
    REPAID = F_REPAID
    MATURITY_DEFAULT = F_MATURITY_DEFAULT


class BorrowerEvent(enum.IntFlag):
    """Decodes per-path borrower flags."""

    DEFAULT = B_DEFAULT
    FORCED_SALE = B_FORCED_SALE
    CASCADE = B_CASCADE
    SOLD = B_SOLD
    LIQUIDATION = B_LIQUIDATION


class TraceEvent(enum.IntEnum):
    """Event-log codes of a traced path."""

    CALL = E_CALL
    CURE = E_CURE
    PAY_CASH = E_PAY_CASH
    PLEDGE = E_PLEDGE
    SELL = E_SELL
    DEFAULT = E_DEFAULT
    LIQUIDATION_SALE = E_LIQUIDATION_SALE
    LOSS = E_LOSS
    RECOURSE = E_RECOURSE
    EXTEND = E_EXTEND
    REFINANCE = E_REFINANCE
    REPAY = E_REPAY
    CASH_FLOW = E_CASH_FLOW
    INTEREST = E_INTEREST
    BORROWER_DEFAULT = E_BORROWER_DEFAULT
    LISTING = E_LISTING
    MARK = E_MARK
