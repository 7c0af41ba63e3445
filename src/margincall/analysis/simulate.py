"""`simulate`: validate, set up, run the kernel over blocks of paths, merge, summarise."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from typing import NamedTuple

import numba
import numpy as np

from margincall._version import __version__
from margincall.analysis.history import history_returns
from margincall.analysis.results import SimulationResult, build_result
from margincall.analysis.statistics import BLOCK_FIELDS, HIST_FIELDS, RunStatistics
from margincall.engine.kernel import _run_blocks_python, allocate_outputs, run_blocks
from margincall.engine.lower import EngineInputs, lower
from margincall.engine.state import N_LOG
from margincall.errors import SimulationError
from margincall.model.scenario import Scenario

BLOCK_PATHS = 1024  # paths per block: the unit of work and of exact summation
Progress = Callable[[int, int], None]  # (paths done, paths in all)


def check_run_args(paths: int, seed: int, antithetic: bool = False) -> None:
    """A clear error for a path count, seed or pairing that cannot be used."""
    if not isinstance(paths, int | np.integer) or paths < 1:
        raise SimulationError(f"paths must be a positive whole number; got {paths!r}")
    if not isinstance(seed, int | np.integer) or not 0 <= seed < 2**63:
        raise SimulationError(f"seed must be a whole number from 0 to 2**63 - 1; got {seed!r}")
    if antithetic and paths % 2:
        raise SimulationError(f"antithetic paths come in pairs: give an even path count, not {paths}")


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
    compiled: bool = True,
    block_paths: int = BLOCK_PATHS,
) -> RunStatistics:
    """Run blocks [first_block, first_block + n_blocks) of a `paths`-path run and return their
    mergeable statistics. The blocks are processed in batches of `batch_blocks`, each spread over
    `threads` threads; neither changes the numbers. `block_paths` is the size of a block (the
    unit whose sums are kept apart): it changes no total, only how finely the sums are split."""
    total_blocks = math.ceil(paths / block_paths)
    if n_blocks is None:
        n_blocks = total_blocks - first_block
    threads = threads or numba.config.NUMBA_NUM_THREADS
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    n_slots = numba.get_num_threads() if compiled else 1
    # batches of at least 8 blocks per thread, and at most about 100 of them (progress updates)
    batch_blocks = batch_blocks or max(n_slots * 8, math.ceil(n_blocks / 100))
    runner = run_blocks if compiled else _run_blocks_python
    log = np.zeros((0, N_LOG))
    log_n = np.zeros(2, dtype=np.int64)
    rec = inputs.recording
    n_assets, n_loans = len(inputs.asset_ids), len(inputs.loan_ids)
    shared = allocate_outputs(0, n_slots, n_assets, n_loans, rec.horizon, len(rec.rec_days))  # histograms, reused
    parts: list[dict[str, np.ndarray]] = []
    done = 0
    for start in range(first_block, first_block + n_blocks, batch_blocks):
        count = min(batch_blocks, first_block + n_blocks - start)
        fresh = allocate_outputs(count, 0, n_assets, n_loans, rec.horizon, len(rec.rec_days))
        out = fresh._replace(**{name: getattr(shared, name) for name in HIST_FIELDS})
        runner(inputs.market, inputs.loans, inputs.borrower, rec, np.uint64(seed), start, count, block_paths, paths, n_slots, out, log, log_n)
        parts.append({name: getattr(out, name) for name in BLOCK_FIELDS})
        done += min((start + count) * block_paths, paths) - start * block_paths
        if progress is not None:
            progress(done, paths)
    return RunStatistics(
        first_block=first_block,
        n_blocks=n_blocks,
        n_paths=done,
        blocks={name: np.concatenate([part[name] for part in parts]) for name in BLOCK_FIELDS},
        hists={name: getattr(shared, name).sum(axis=0, dtype=np.int64) for name in HIST_FIELDS},
    )


def simulate(
    scenario: Scenario,
    *,
    paths: int = 100_000,
    seed: int = 0,
    threads: int | None = None,
    batch_blocks: int | None = None,
    antithetic: bool = False,
    progress: Progress | None = None,
) -> SimulationResult:
    """Monte Carlo of the scenario over `paths` paths from `seed`.

    The same scenario, seed and path count give the same result whatever `threads` and
    `batch_blocks` are. `antithetic=True` pairs paths 2k and 2k + 1 with mirrored diffusion
    draws (an even path count is required); standard errors are then those of the pair means.
    Under the historical market model the prices file named in the scenario is read (once per
    file version) and its returns replayed; the odd path of a pair replays them negated.
    """
    check_run_args(paths, seed, antithetic)
    started = time.perf_counter()
    inputs = lower(scenario, antithetic=antithetic, history=history_returns(scenario))
    stats = run_statistics(inputs, paths=int(paths), seed=int(seed), threads=threads, batch_blocks=batch_blocks, progress=progress)
    return build_result(
        stats,
        inputs,
        scenario=scenario.name or "scenario",
        seed=int(seed),
        days_per_year=scenario.days_per_year,
        currency=scenario.currency,
        version=__version__,
        elapsed=time.perf_counter() - started,
    )


class TracedEvent(NamedTuple):
    path: int
    day: int
    event: str
    loan: str | None
    asset: str | None
    amount: float


def trace(scenario: Scenario, *, paths: int = 1, seed: int = 0, max_events: int = 10_000) -> list[TracedEvent]:
    """The event log (calls, cures, pledges, sales, defaults, losses, ...) of the first `paths`
    paths of a run with this seed: the same paths a full run simulates first."""
    from margincall.engine.codes import TraceEvent

    check_run_args(paths, seed)
    inputs = lower(scenario, history=history_returns(scenario))
    rec = inputs.recording
    log = np.zeros((max_events, N_LOG))
    log_n = np.zeros(2, dtype=np.int64)
    blocks = math.ceil(paths / BLOCK_PATHS)
    out = allocate_outputs(blocks, 1, len(inputs.asset_ids), len(inputs.loan_ids), rec.horizon, len(rec.rec_days))
    run_blocks(inputs.market, inputs.loans, inputs.borrower, rec, np.uint64(seed), 0, blocks, BLOCK_PATHS, paths, 1, out, log, log_n)
    events = []
    for row in log[: log_n[0]]:
        loan, asset = int(row[3]), int(row[4])
        events.append(
            TracedEvent(
                path=int(row[0]),
                day=int(row[1]),
                event=TraceEvent(int(row[2])).name.lower(),
                loan=inputs.loan_ids[loan] if loan >= 0 else None,
                asset=inputs.asset_ids[asset] if asset >= 0 else None,
                amount=float(row[5]),
            )
        )
    return events


def default_threads() -> int:
    return int(os.environ.get("NUMBA_NUM_THREADS", numba.config.NUMBA_NUM_THREADS))
