"""`simulate`: validate, set up, compile once, run the kernel over blocks of paths, merge, summarise."""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numba
import numpy as np

from margincall._version import __version__
from margincall.analysis.history import history_returns
from margincall.analysis.results import SimulationResult, build_result
from margincall.analysis.statistics import (
    BLOCK_FIELDS,
    HIST_FIELDS,
    PATH_FIELDS,
    RunStatistics,
)
from margincall.engine.codes import TraceEvent
from margincall.engine.compile import ensure_compiled
from margincall.engine.kernel import run_blocks
from margincall.engine.layout import (
    G_AMOUNT,
    G_ASSET,
    G_BORROWER,
    G_CODE,
    G_DAY,
    G_LOAN,
    G_PATH,
    N_LOG,
)
from margincall.engine.lower import EngineInputs, lower
from margincall.engine.outputs import allocate_outputs
from margincall.errors import SimulationError
from margincall.model.limits import LimitError, limits
from margincall.model.scenario import Scenario

BLOCK_PATHS = 1024  # paths per block: the unit of work and of exact summation
Progress = Callable[[int, int], None]  # (paths done, paths in all)
Announce = Callable[[str], None]  # told when the kernels are about to compile


def check_run_args(paths: int, seed: int, antithetic: bool = False) -> None:
    """A clear error for a path count, seed or pairing that cannot be used."""
    if isinstance(paths, bool) or not isinstance(paths, int | np.integer) or paths < 1:
        raise SimulationError(f"paths must be a positive whole number; got {paths!r}")
    try:
        too_many = limits().problem("paths", int(paths), "paths")
    except LimitError as exc:
        raise SimulationError(str(exc)) from None
    if too_many is not None:
        raise SimulationError(too_many)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or not 0 <= seed < 2**63:
        raise SimulationError(f"seed must be a whole number from 0 to 2**63 - 1; got {seed!r}")
    if antithetic and paths % 2:
        raise SimulationError(f"antithetic paths come in pairs: give an even path count, not {paths}")


def default_threads() -> int:
    return int(os.environ.get("NUMBA_NUM_THREADS", numba.config.NUMBA_NUM_THREADS))


def _allocate(inputs: EngineInputs, n_blocks: int, n_slots: int, n_path_records: int = 0):
    return allocate_outputs(
        n_blocks, n_slots, n_assets=len(inputs.asset_ids), n_loans=len(inputs.loan_ids),
        n_borrowers=len(inputs.borrower_ids), n_lenders=len(inputs.lender_ids), horizon=inputs.horizon,
        n_recorded=len(inputs.rec_days), n_path_records=n_path_records,
    )


def _interruptible(work: Callable[[], None], control: np.ndarray, poll: Callable[[], None] = lambda: None) -> None:
    """Run `work` in a thread and wait for it in small steps, calling `poll` at each, so that Ctrl-C
    (or a cancelled run) stops the kernels between two paths and the interruption reaches the
    caller within a second."""
    errors: list[BaseException] = []

    def target() -> None:
        try:
            work()
        except BaseException as exc:  # noqa: BLE001 - re-raised below, in the caller's thread
            errors.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    try:
        while thread.is_alive():
            thread.join(0.05)
            poll()
    except BaseException:
        control[0] = 1
        thread.join()
        raise
    if errors:
        raise errors[0]


def run_statistics(
    inputs: EngineInputs,
    *,
    paths: int,
    seed: int,
    first_block: int = 0,
    n_blocks: int | None = None,
    threads: int | None = None,
    batch_blocks: int | None = None,
    progress: Progress | None = None,
    record_paths: bool = False,
    control: np.ndarray | None = None,
    block_paths: int = BLOCK_PATHS,
) -> RunStatistics:
    """Run blocks [first_block, first_block + n_blocks) of a `paths`-path run and return their
    mergeable statistics. `threads` threads claim the blocks as they go, at most `batch_blocks`
    at a time (by default a hundredth of the run, so that progress moves); neither changes the
    numbers. `block_paths` is the size of a block (the unit whose sums are kept apart): it changes
    no total, only how finely the sums are split. `record_paths` keeps each path's outcome.
    Setting `control[0]` to 1 from another thread stops the run between two paths."""
    ensure_compiled()
    total_blocks = math.ceil(paths / block_paths)
    if n_blocks is None:
        n_blocks = total_blocks - first_block
    n_slots = max(1, min(threads or default_threads(), os.cpu_count() or 1, n_blocks))
    batch_blocks = batch_blocks or math.ceil(n_blocks / 100)
    control = control if control is not None else np.zeros(1, dtype=np.int64)
    first_path = first_block * block_paths
    run_paths = min((first_block + n_blocks) * block_paths, paths) - first_path
    out = _allocate(inputs, n_blocks, n_slots, run_paths if record_paths else 0)
    done = np.zeros(1, dtype=np.int64)
    reported = [0]

    def work() -> None:
        run_blocks(
            seed, first_block, n_blocks, block_paths, paths, n_slots, first_path, inputs.arrays(), out, control,
            np.zeros((0, N_LOG)), np.zeros(2, dtype=np.int64), max_claim=batch_blocks, done=done,
        )

    def report() -> None:
        if progress is not None and done[0] != reported[0]:
            reported[0] = int(done[0])
            progress(reported[0], paths)

    _interruptible(work, control, report)
    if control[0] != 0:
        raise KeyboardInterrupt("the run was stopped")
    report()
    return RunStatistics(
        first_block=first_block,
        n_blocks=n_blocks,
        n_paths=run_paths,
        blocks={name: getattr(out, name) for name in BLOCK_FIELDS},
        hists={name: getattr(out, name).sum(axis=0, dtype=np.int64) for name in HIST_FIELDS},
        paths={name: getattr(out, name) for name in PATH_FIELDS},
    )


def prepare(scenario: Scenario, *, antithetic: bool = False, announce: Announce | None = None) -> tuple[EngineInputs, float]:
    """The lowered scenario, with the kernels compiled (or loaded); returns the seconds spent
    compiling, which are not the run's."""
    inputs = lower(scenario, antithetic=antithetic, history=history_returns(scenario))
    return inputs, ensure_compiled(announce)


def simulate(
    scenario: Scenario,
    *,
    paths: int = 100_000,
    seed: int = 0,
    threads: int | None = None,
    batch_blocks: int | None = None,
    antithetic: bool = False,
    progress: Progress | None = None,
    announce: Announce | None = None,
    record_paths: bool = False,
) -> SimulationResult:
    """Monte Carlo of the scenario over `paths` paths from `seed`.

    The same scenario, seed and path count give the same result whatever `threads` and
    `batch_blocks` (the most blocks of 1,024 paths a thread claims at once) are.
    `antithetic=True` pairs paths 2k and 2k + 1 with mirrored diffusion draws (an even path count
    is required); standard errors are then those of the pair means.
    Under the historical market model the prices file named in the scenario is read (once per
    file version) and its returns replayed; the odd path of a pair replays them negated.
    The first run after an install compiles the kernels (`announce` is told; the time is
    reported as `compile_seconds`, apart from `elapsed_seconds`).
    """
    check_run_args(paths, seed, antithetic)
    if batch_blocks is not None and (
        isinstance(batch_blocks, bool) or not isinstance(batch_blocks, int | np.integer) or batch_blocks < 1
    ):
        raise SimulationError(f"batch_blocks must be a positive whole number of blocks, or None for the default; got {batch_blocks!r}")
    inputs, compile_seconds = prepare(scenario, antithetic=antithetic, announce=announce)
    started = time.perf_counter()
    stats = run_statistics(
        inputs, paths=int(paths), seed=int(seed), threads=threads, batch_blocks=batch_blocks, progress=progress,
        record_paths=record_paths,
    )
    return build_result(
        stats, inputs, scenario, seed=int(seed), version=__version__, elapsed=time.perf_counter() - started,
        compile_seconds=compile_seconds,
    )


class TracedEvent(NamedTuple):
    path: int
    day: int
    event: str
    loan: str | None
    asset: str | None
    amount: float
    borrower: str | None = None


def trace(
    scenario: Scenario, *, paths: int | Sequence[int] = 1, seed: int = 0, max_events: int = 100_000, prices: bool = False,
    antithetic: bool = False,
) -> list[TracedEvent]:
    """The event log (calls, cures, pledges, sales, dues, defaults, losses, ...) of paths of a run
    with this seed: the first `paths` paths, or the paths whose indices are given. A path's events
    are the same as in a full run (each path draws from its own streams). `prices` adds each
    asset's end-of-day price on every day (event `price`), for charts of a path's story."""
    indices = list(range(paths)) if isinstance(paths, int | np.integer) else [int(p) for p in paths]
    if not indices:
        raise SimulationError("give at least one path to trace")
    check_run_args(len(indices), seed)
    if min(indices) < 0:
        raise SimulationError("path indices start at 0")
    inputs, _ = prepare(scenario, antithetic=antithetic)
    if prices:  # every day through the full machinery (the same outcome): a price each day
        inputs = inputs.with_settings(shortcuts=False)
    log = np.zeros((max_events, N_LOG))
    log_n = np.zeros(2, dtype=np.int64)
    control = np.zeros(1, dtype=np.int64)
    params = inputs.arrays()
    events: list[TracedEvent] = []
    for index in indices:
        # one path as a block of one (its streams are keyed by its index, not by its block)
        run_blocks(seed, index, 1, 1, index + 1, 1, 0, params, _allocate(inputs, 1, 1), control, log, log_n)
    for row in log[: log_n[0]]:
        loan, asset, borrower = int(row[G_LOAN]), int(row[G_ASSET]), int(row[G_BORROWER])
        if not prices and int(row[G_CODE]) == TraceEvent.PRICE:
            continue
        events.append(
            TracedEvent(
                path=int(row[G_PATH]),
                day=int(row[G_DAY]),
                event=TraceEvent(int(row[G_CODE])).name.lower(),
                loan=inputs.loan_ids[loan] if loan >= 0 else None,
                asset=inputs.asset_ids[asset] if asset >= 0 else None,
                amount=float(row[G_AMOUNT]),
                borrower=inputs.borrower_ids[borrower] if borrower >= 0 else None,
            )
        )
    return events

