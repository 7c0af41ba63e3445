"""Blocks of paths over threads.

Each thread (slot) owns one path's state arrays and its histograms and runs the blocks it claims in
a compiled function that releases the GIL (`run_slot`); Python threads run the slots side by side
and claim blocks as they go, so a run has no barrier until its last block.
Per-block sums are summed in path order inside the block; histograms are integer counts. Both
merge exactly, so the numbers do not depend on the number of threads or on which thread ran a
block.

(Threads from Python rather than numba's `prange`: the parallel lowering compiled the whole
engine a second time for its loop body, doubling the first start, and a Python thread can be
stopped between blocks.)

The credit machinery (`engine.day.resolve_day`) reaches the day loop as a function argument, a
numba first-class function called through its address. numba otherwise links a callee's code
into every caller and compiles it again there: the machinery, which runs on few days, would be
compiled once for each level of the day loop above it.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Sequence

import numba
import numpy as np

from margincall._jit import nogil_kernel
from margincall.engine.day import RESOLVE_TYPE, resolve_day
from margincall.engine.layout import N_BF, N_BS, N_HS, N_LF, N_LOG, N_LS, N_MS
from margincall.engine.outputs import Outputs, allocate_outputs
from margincall.engine.path import add_outcome, busy_day, quiet_days, quiet_days_single, refresh_gates, simulate_block

REFINANCE_DRAWS = 8  # uniforms drawn per loan at the start of a path for its maturities


@nogil_kernel
def run_slot(
    resolve, blocks: np.ndarray, first_block: int, block_paths: int, n_paths: int, seed: np.uint64, slot: int, record_start: int,
    settings: np.ndarray, calendar: np.ndarray, asset_p: np.ndarray, asset_i: np.ndarray, chol: np.ndarray,
    history: np.ndarray, shocks: np.ndarray, loan_p: np.ndarray, loan_i: np.ndarray, pool: np.ndarray,
    borrower_p: np.ndarray, borrower_i: np.ndarray, lender_p: np.ndarray, hold0: np.ndarray, flows: np.ndarray,
    sale_order: np.ndarray,
    market: np.ndarray, holding: np.ndarray, pledged: np.ndarray, lender_sold: np.ndarray, loan_f: np.ndarray,
    loan_s: np.ndarray, borrower_f: np.ndarray, borrower_s: np.ndarray, flow_left: np.ndarray, rng: np.ndarray,
    refinance_u: np.ndarray, cursor: np.ndarray, rec_log: np.ndarray, ind: np.ndarray, amt: np.ndarray,
    pair_ind: np.ndarray, pair_amt: np.ndarray,
    counts: np.ndarray, pair_counts: np.ndarray, sums: np.ndarray, squares: np.ndarray, pair_squares: np.ndarray,
    cocall: np.ndarray, sold: np.ndarray, ledger: np.ndarray, first_call: np.ndarray, first_default: np.ndarray,
    borrower_default_day: np.ndarray, loss_hist: np.ndarray, lender_loss_hist: np.ndarray, lar_hist: np.ndarray,
    equity_hist: np.ndarray, ltv_hist: np.ndarray, cash_hist: np.ndarray, price_hist: np.ndarray,
    path_loans: np.ndarray, path_borrowers: np.ndarray, control: np.ndarray, log: np.ndarray, log_n: np.ndarray,
) -> None:
    """Run the blocks `blocks` (indices into the run's block-axis outputs; block j covers paths
    (first_block + j) * block_paths ...) on one thread's state, stopping between blocks when
    control[0] is set."""
    for k in range(blocks.shape[0]):
        if control[0] != 0:
            return
        j = blocks[k]
        start = (first_block + j) * block_paths
        stop = min(start + block_paths, n_paths)
        simulate_block(
            resolve, start, stop, seed, j, slot, record_start,
            settings, calendar, asset_p, asset_i, chol, history, shocks, loan_p, loan_i, pool, borrower_p,
            borrower_i, lender_p, hold0, flows, sale_order,
            market, holding, pledged, lender_sold, loan_f, loan_s, borrower_f, borrower_s, flow_left, rng,
            refinance_u, cursor, rec_log, ind, amt, pair_ind, pair_amt,
            counts, pair_counts, sums, squares, pair_squares, cocall, sold, ledger, first_call, first_default,
            borrower_default_day, loss_hist, lender_loss_hist, lar_hist, equity_hist, ltv_hist, cash_hist, price_hist,
            path_loans, path_borrowers, control, log, log_n,
        )


def _slot_args(
    blocks: np.ndarray, first_block: int, block_paths: int, n_paths: int, seed: int, slot: int, record_start: int,
    params: Sequence[np.ndarray], state: Sequence[np.ndarray], outputs: Outputs, control: np.ndarray, log: np.ndarray,
    log_n: np.ndarray,
) -> tuple:
    """`run_slot`'s arguments after `resolve`, in order."""
    return (
        blocks, np.int64(first_block), np.int64(block_paths), np.int64(n_paths), np.uint64(seed), np.int64(slot),
        np.int64(record_start), *params, *state, *outputs, control, log, log_n,
    )


def _probe_slot_args() -> tuple:
    """`run_slot`'s arguments after `resolve` for a tiny probe scenario: the engine's arrays always
    have the same dtypes, dimensions and layout, so their types are those of any scenario."""
    from margincall.engine.lower import probe_inputs

    inputs = probe_inputs()
    params = inputs.arrays()
    outputs = allocate_outputs(
        1, 1, n_assets=1, n_loans=1, n_borrowers=1, n_lenders=1, horizon=inputs.horizon, n_recorded=len(inputs.rec_days)
    )
    return _slot_args(
        np.zeros(1, dtype=np.int64), 0, 1, 1, 0, 0, 0, params, slot_state(params, outputs), outputs,
        np.zeros(1, dtype=np.int64), np.zeros((0, N_LOG)), np.zeros(2, dtype=np.int64),
    )


def compile_run_slot() -> None:
    """Compile (or load from the disk cache) `run_slot` for its one signature (`resolve` is a
    first-class function). Further compiling is then disabled, so that a call passing
    `resolve_day` converts it to that type rather than compiling `run_slot` anew with the
    machinery linked in."""
    if numba.config.DISABLE_JIT or run_slot.signatures:
        return
    run_slot.compile((RESOLVE_TYPE, *(numba.typeof(arg) for arg in _probe_slot_args())))
    run_slot.disable_compile()


# The day loop's kernels that a first compile builds ahead of `run_slot`, by name of argument: the
# arrays are `simulate_block`'s, of the same names; the scalars are typed as the loop passes them.
# `engine.compile` builds the quiet stretches here and the busy day and the outcome in its second
# process, so that the two compile about as long (a kernel built with another signature than the
# loop's would only be built again, inside `run_slot`'s compile).
_SCALAR_TYPES = {
    "resolve": RESOLVE_TYPE, "t": numba.types.int64, "stop": numba.types.int64, "slot": numba.types.int64,
    "path": numba.types.int64, "block": numba.types.int64, "record_start": numba.types.int64,
    "sign": numba.types.float64, "dt": numba.types.float64, "pools_same": numba.types.boolean,
    "waiting": numba.types.boolean, "antithetic": numba.types.boolean, "sold_today": numba.types.float64[::1],
}
DAY_LOOP_PARTS = (refresh_gates, quiet_days_single, quiet_days)
OTHER_PARTS = (busy_day, add_outcome)


def part_signatures(kernels: Sequence[numba.core.registry.CPUDispatcher]) -> list[tuple]:
    """The argument types with which `simulate_block` calls each of `kernels`."""
    names = list(inspect.signature(simulate_block.py_func).parameters)[7:]  # after record_start: the arrays
    arrays = dict(zip(names, (numba.typeof(arg) for arg in _probe_slot_args()[7:]), strict=True))
    return [
        tuple(_SCALAR_TYPES.get(name) or arrays[name] for name in inspect.signature(kernel.py_func).parameters)
        for kernel in kernels
    ]


def compile_parts(kernels: Sequence[numba.core.registry.CPUDispatcher]) -> None:
    """Compile (or load) each of the day loop's `kernels` for the signature the loop calls it with."""
    if numba.config.DISABLE_JIT:
        return
    for kernel, signature in zip(kernels, part_signatures(kernels), strict=True):
        kernel.compile(signature)


def slot_state(params: Sequence[np.ndarray], outputs: Outputs) -> tuple[np.ndarray, ...]:
    """One thread's path state and scratch arrays (see `engine.layout`)."""
    asset_p, loan_p, borrower_p, lender_p, flows = params[2], params[7], params[10], params[12], params[14]
    n_assets, n_loans, n_borrowers, n_lenders = asset_p.shape[0], loan_p.shape[0], borrower_p.shape[0], lender_p.shape[0]
    return (
        np.zeros((n_assets, N_MS)),
        np.zeros((n_borrowers, n_assets, N_HS)),
        np.zeros((n_loans, n_assets)),
        np.zeros((n_lenders, n_assets)),
        np.zeros((n_loans, N_LF)),
        np.zeros((n_loans, N_LS), dtype=np.int64),
        np.zeros((n_borrowers, N_BF)),
        np.zeros((n_borrowers, N_BS), dtype=np.int64),
        np.zeros(flows.shape[0]),
        np.zeros((3, 4), dtype=np.uint64),
        np.zeros((n_loans, REFINANCE_DRAWS)),
        np.zeros(2, dtype=np.int64),  # the historical model's block start; the next shock
        np.zeros(2 * outputs.ltv_hist.shape[3]),  # a one-asset quiet stretch's log prices on recorded days; scratch
        np.zeros(outputs.counts.shape[1], dtype=np.int64),
        np.zeros(outputs.sums.shape[1]),
        np.zeros(outputs.counts.shape[1], dtype=np.int64),
        np.zeros(outputs.sums.shape[1]),
    )


def run_blocks(
    seed: int, first_block: int, n_blocks: int, block_paths: int, n_paths: int, n_slots: int, record_start: int,
    params: Sequence[np.ndarray], outputs: Outputs, control: np.ndarray, log: np.ndarray, log_n: np.ndarray,
    *, max_claim: int | None = None, done: np.ndarray | None = None,
) -> None:
    """Simulate blocks first_block .. first_block + n_blocks - 1 on `n_slots` threads. Each thread
    claims the next blocks nobody has taken (a share of those left, at most `max_claim`) until none
    are left, so that no thread waits on another while work remains; thread s adds to histogram
    slot s. `done[0]`, if given, counts the paths finished, for progress. A traced run (a log with
    rows) uses one slot so that its events come in path order."""
    compile_run_slot()
    if log.shape[0] > 0:
        n_slots = 1
    n_slots = max(1, min(n_slots, n_blocks, outputs.first_call.shape[0]))
    max_claim = max(1, max_claim or n_blocks)
    states = [slot_state(params, outputs) for _ in range(n_slots)]
    lock = threading.Lock()
    claimed = [0]

    def claim() -> np.ndarray:
        with lock:
            left = n_blocks - claimed[0]
            count = min(max_claim, max(1, left // (2 * n_slots)), left)
            claimed[0] += count
            return np.arange(claimed[0] - count, claimed[0], dtype=np.int64)

    def work(s: int) -> None:
        while control[0] == 0:
            blocks = claim()
            if blocks.shape[0] == 0:
                return
            run_slot(resolve_day, *_slot_args(blocks, first_block, block_paths, n_paths, seed, s, record_start, params, states[s], outputs, control, log, log_n))
            if done is not None:
                paths = min((first_block + blocks[-1] + 1) * block_paths, n_paths) - (first_block + blocks[0]) * block_paths
                with lock:
                    done[0] += paths

    if n_slots == 1:
        work(0)
        return
    errors: list[BaseException] = []

    def guarded(s: int) -> None:
        try:
            work(s)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            errors.append(exc)
            control[0] = 1

    threads = [threading.Thread(target=guarded, args=(s,), daemon=True) for s in range(n_slots)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
