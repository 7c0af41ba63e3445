"""Threads claim blocks as they go (`engine.kernel.run_blocks`): every block runs exactly once,
whatever the number of threads and the most blocks a claim may take, the finished paths are
counted for progress, and a stopped run claims nothing."""

from __future__ import annotations

import numpy as np
import pytest

import margincall
from margincall.engine.kernel import run_blocks
from margincall.engine.layout import N_LOG
from margincall.engine.lower import EngineInputs, lower
from margincall.engine.outputs import AB_EQUITY, BLOCK_FIELDS, HIST_FIELDS, Amounts, Outputs, allocate_outputs

BLOCK_PATHS = 64
PATHS = 13 * BLOCK_PATHS - 5  # 13 blocks, the last one partial
SEED = 5


def _inputs() -> EngineInputs:
    return lower(margincall.default_scenario())


def _run(inputs: EngineInputs, slots: int, max_claim: int | None, control: np.ndarray | None = None) -> tuple[Outputs, int]:
    n_blocks = -(-PATHS // BLOCK_PATHS)
    out = allocate_outputs(
        n_blocks, slots, n_assets=len(inputs.asset_ids), n_loans=len(inputs.loan_ids),
        n_borrowers=len(inputs.borrower_ids), n_lenders=len(inputs.lender_ids), horizon=inputs.horizon,
        n_recorded=len(inputs.rec_days),
    )
    done = np.zeros(1, dtype=np.int64)
    control = control if control is not None else np.zeros(1, dtype=np.int64)
    run_blocks(
        SEED, 0, n_blocks, BLOCK_PATHS, PATHS, slots, 0, inputs.arrays(), out, control, np.zeros((0, N_LOG)),
        np.zeros(2, dtype=np.int64), max_claim=max_claim, done=done,
    )
    return out, int(done[0])


@pytest.mark.parametrize(("slots", "max_claim"), [(2, 1), (2, 3), (2, None), (3, 2)])
def test_every_block_runs_once_whatever_the_claims(slots: int, max_claim: int | None) -> None:
    inputs = _inputs()
    reference, reference_done = _run(inputs, 1, None)
    out, done = _run(inputs, slots, max_claim)
    assert reference_done == done == PATHS
    equity = Amounts(len(inputs.loan_ids), len(inputs.borrower_ids), len(inputs.lender_ids)).borrowers + AB_EQUITY
    assert np.all(reference.sums[:, equity] != 0)  # every block ran: the borrower's equity at the horizon, summed
    for name in BLOCK_FIELDS:
        np.testing.assert_array_equal(getattr(out, name), getattr(reference, name), err_msg=name)
    for name in HIST_FIELDS:
        np.testing.assert_array_equal(getattr(out, name).sum(axis=0), getattr(reference, name).sum(axis=0), err_msg=name)


def test_a_stopped_run_claims_nothing() -> None:
    out, done = _run(_inputs(), 2, 1, control=np.ones(1, dtype=np.int64))
    assert done == 0
    assert not out.counts.any()
    assert not out.ltv_hist.any()
