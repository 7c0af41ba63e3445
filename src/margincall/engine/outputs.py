"""The layout of a run's mergeable statistics: the one module that owns it.

Per block of paths (exact, merged by concatenation and correctly rounded sums):
- `counts` [blocks, K]: paths on which each indicator event happened (the `Indicators` layout);
- `pair_counts` [blocks, K]: antithetic pairs with the event on both paths;
- `sums`, `squares`, `pair_squares` [blocks, M]: sums over paths of each amount (the `Amounts`
  layout), of its square, and over antithetic pairs of the square of the pair's sum;
- `cocall` [blocks, L, L], `sold` [blocks, R, A], `ledger` [blocks, B].
Per slot (a thread's integer histograms, summed at the end): days of first calls and defaults,
loss, liquidity and equity distributions, and fan charts (LTV, cash, prices) by recorded day.
Optional per-path records (`path_loans`, `path_borrowers`) keep each path's outcome for `explain`
and for selecting traced paths by event.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from margincall.engine import codes as c
from margincall.engine.bins import AMOUNT_BINS, FAN_AMOUNT_BINS, LTV_BINS, SIGNED_BINS

CAPITAL_LEVELS = np.array([0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0])  # P(lender loss > level x capital)

# per-path outcome records
PL_LOSS = 0
PL_FLAGS = 1
PL_CAUSE = 2
PL_DEFAULT_DAY = 3
N_PATH_LOAN = 4
PB_FLAGS = 0
PB_CAUSE = 1
PB_DEFAULT_DAY = 2
PB_EQUITY = 3
N_PATH_BORROWER = 4

# amounts per loan, borrower, lender (columns within each entity's block of the Amounts layout)
AL_LOSS = 0
AL_CURE_PAID = 1
AL_RECOVERED = 2
AL_EXPOSURE = 3
AL_DRAWN = 4
N_AL = 5
AB_LAR = 0
AB_SOLD = 1
AB_EXEC_COST = 2
AB_DISCOUNT_COST = 3
AB_EQUITY = 4
AB_DRAWN = 5
N_AB = 6


@dataclass(frozen=True)
class Indicators:
    """Offsets of the per-path 0/1 indicators in `counts` for a book of L loans, B borrowers and
    N lenders."""

    n_loans: int
    n_borrowers: int
    n_lenders: int

    @property
    def loan_flags(self) -> int:  # [L, N_LOAN_FLAGS]
        return 0

    @property
    def loan_causes(self) -> int:  # [L, N_CAUSES]
        return self.loan_flags + self.n_loans * c.N_LOAN_FLAGS

    @property
    def borrower_flags(self) -> int:  # [B, N_BORROWER_FLAGS]
        return self.loan_causes + self.n_loans * c.N_CAUSES

    @property
    def borrower_causes(self) -> int:  # [B, N_CAUSES]
        return self.borrower_flags + self.n_borrowers * c.N_BORROWER_FLAGS

    @property
    def lender_loss(self) -> int:  # [N]: the lender lost something
        return self.borrower_causes + self.n_borrowers * c.N_CAUSES

    @property
    def lender_capital(self) -> int:  # [N, CAPITAL_LEVELS]: loss above a share of capital
        return self.lender_loss + self.n_lenders

    @property
    def defaults_count(self) -> int:  # [B + 1]: exactly k borrowers in default
        return self.lender_capital + self.n_lenders * len(CAPITAL_LEVELS)

    @property
    def size(self) -> int:
        return self.defaults_count + self.n_borrowers + 1


@dataclass(frozen=True)
class Amounts:
    """Offsets of the per-path amounts in `sums`."""

    n_loans: int
    n_borrowers: int
    n_lenders: int

    @property
    def loans(self) -> int:  # [L, N_AL]
        return 0

    @property
    def borrowers(self) -> int:  # [B, N_AB]
        return self.n_loans * N_AL

    @property
    def lenders(self) -> int:  # [N]: the lender's loss
        return self.borrowers + self.n_borrowers * N_AB

    @property
    def forced_sales(self) -> int:  # [1]: value sold in the whole book
        return self.lenders + self.n_lenders

    @property
    def size(self) -> int:
        return self.forced_sales + 1


class Outputs(NamedTuple):
    """Mergeable statistics. Axis 0 is the block (exact per block) or the slot (histograms)."""

    counts: np.ndarray  # [blocks, K] int64
    pair_counts: np.ndarray  # [blocks, K] int64
    sums: np.ndarray  # [blocks, M]
    squares: np.ndarray  # [blocks, M]
    pair_squares: np.ndarray  # [blocks, M]
    cocall: np.ndarray  # [blocks, L, L] int64: paths on which both loans were called
    sold: np.ndarray  # [blocks, R, A] value sold, by recorded interval and asset
    ledger: np.ndarray  # [blocks, B] largest accounting residual, currency
    first_call: np.ndarray  # [S, L, H + 2] day of the first call (H + 1: never)
    first_default: np.ndarray  # [S, L, H + 2]
    borrower_default_day: np.ndarray  # [S, B, H + 2]
    loss_hist: np.ndarray  # [S, L, AMOUNT_BINS + 2]
    lender_loss_hist: np.ndarray  # [S, N, AMOUNT_BINS + 2]
    lar_hist: np.ndarray  # [S, B, AMOUNT_BINS + 2]
    equity_hist: np.ndarray  # [S, B, SIGNED_BINS + 2]
    # fan charts: [.., bin, recorded day], so that one path's successive records share cache lines
    ltv_hist: np.ndarray  # [S, L, LTV_BINS + 2, R] int32
    cash_hist: np.ndarray  # [S, B, FAN_AMOUNT_BINS + 2, R] int32
    price_hist: np.ndarray  # [S, A, LTV_BINS + 2, R] int32: price over its day-0 value
    path_loans: np.ndarray  # [P, L, N_PATH_LOAN] per-path outcomes (P = 0 unless asked for)
    path_borrowers: np.ndarray  # [P, B, N_PATH_BORROWER]


BLOCK_FIELDS = ("counts", "pair_counts", "sums", "squares", "pair_squares", "cocall", "sold", "ledger")
HIST_FIELDS = (
    "first_call", "first_default", "borrower_default_day", "loss_hist", "lender_loss_hist", "lar_hist", "equity_hist",
    "ltv_hist", "cash_hist", "price_hist",
)
PATH_FIELDS = ("path_loans", "path_borrowers")


def allocate_outputs(
    n_blocks: int, n_slots: int, *, n_assets: int, n_loans: int, n_borrowers: int, n_lenders: int, horizon: int,
    n_recorded: int, n_path_records: int = 0,
) -> Outputs:
    k = Indicators(n_loans, n_borrowers, n_lenders).size
    m = Amounts(n_loans, n_borrowers, n_lenders).size
    return Outputs(
        counts=np.zeros((n_blocks, k), dtype=np.int64),
        pair_counts=np.zeros((n_blocks, k), dtype=np.int64),
        sums=np.zeros((n_blocks, m)),
        squares=np.zeros((n_blocks, m)),
        pair_squares=np.zeros((n_blocks, m)),
        cocall=np.zeros((n_blocks, n_loans, n_loans), dtype=np.int64),
        sold=np.zeros((n_blocks, n_recorded, n_assets)),
        ledger=np.zeros((n_blocks, n_borrowers)),
        first_call=np.zeros((n_slots, n_loans, horizon + 2), dtype=np.int64),
        first_default=np.zeros((n_slots, n_loans, horizon + 2), dtype=np.int64),
        borrower_default_day=np.zeros((n_slots, n_borrowers, horizon + 2), dtype=np.int64),
        loss_hist=np.zeros((n_slots, n_loans, AMOUNT_BINS + 2), dtype=np.int64),
        lender_loss_hist=np.zeros((n_slots, n_lenders, AMOUNT_BINS + 2), dtype=np.int64),
        lar_hist=np.zeros((n_slots, n_borrowers, AMOUNT_BINS + 2), dtype=np.int64),
        equity_hist=np.zeros((n_slots, n_borrowers, SIGNED_BINS + 2), dtype=np.int64),
        ltv_hist=np.zeros((n_slots, n_loans, LTV_BINS + 2, n_recorded), dtype=np.int32),
        cash_hist=np.zeros((n_slots, n_borrowers, FAN_AMOUNT_BINS + 2, n_recorded), dtype=np.int32),
        price_hist=np.zeros((n_slots, n_assets, LTV_BINS + 2, n_recorded), dtype=np.int32),
        path_loans=np.zeros((n_path_records, n_loans, N_PATH_LOAN)),
        path_borrowers=np.zeros((n_path_records, n_borrowers, N_PATH_BORROWER)),
    )
