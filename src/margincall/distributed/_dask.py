"""One run's blocks of paths as Dask tasks: plan, submit, gather as they finish, merge in order.

A task runs `run_statistics` over a contiguous range of blocks in one thread and returns its
`RunStatistics` (per-block sums and integer histograms: a few kilobytes, never per-path arrays).
Tasks are pure functions of (inputs, paths, seed, block range), so Dask may run one again after
an exception (`retries`) or on another worker after its worker died, and the merged numbers do
not change.

Workers are separate processes: each compiles the numba kernels on its first task, or loads them
from numba's on-disk cache (written by any earlier run of the same margincall), which takes about
a second instead of a minute. A script that starts a local cluster (`workers=`) must do so under
`if __name__ == "__main__":`, as worker processes are spawned and import the main module.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from types import TracebackType
from typing import Self

from distributed import CancelledError, Client, KilledWorker, LocalCluster, as_completed

from margincall._version import __version__
from margincall.analysis.history import history_returns
from margincall.analysis.results import SimulationResult, build_result
from margincall.analysis.simulate import (
    BLOCK_PATHS,
    Progress,
    check_run_args,
    prepare,
    run_statistics,
)
from margincall.analysis.statistics import RunStatistics
from margincall.engine.lower import EngineInputs, lower
from margincall.errors import MarginCallError, SimulationError
from margincall.model.limits import LimitError, limits
from margincall.model.scenario import Scenario

TASKS_PER_WORKER = 4  # tasks per worker thread: enough that a slow or restarted worker does not hold up the run
Task = Callable[..., RunStatistics]  # task(inputs, *, paths, seed, first_block, n_blocks)


def run_task(inputs: EngineInputs, *, paths: int, seed: int, first_block: int, n_blocks: int) -> RunStatistics:
    """The work of one Dask task: blocks [first_block, first_block + n_blocks) in one thread
    (the worker runs one task per thread)."""
    return run_statistics(inputs, paths=paths, seed=seed, first_block=first_block, n_blocks=n_blocks, threads=1)


def plan_tasks(paths: int, *, n_workers: int, blocks_per_task: int | None = None) -> list[tuple[int, int]]:
    """(first_block, n_blocks) of each task, in block order, covering the run's blocks once.
    Default: about `TASKS_PER_WORKER` tasks per worker (per worker thread, where workers run
    several), and no task of more blocks than needed."""
    total_blocks = math.ceil(paths / BLOCK_PATHS)
    if blocks_per_task is None:
        n_tasks = min(total_blocks, TASKS_PER_WORKER * max(n_workers, 1))
        blocks_per_task = math.ceil(total_blocks / n_tasks)
    elif blocks_per_task < 1:
        raise SimulationError(f"blocks_per_task must be a positive whole number; got {blocks_per_task!r}")
    return [(first, min(blocks_per_task, total_blocks - first)) for first in range(0, total_blocks, blocks_per_task)]


def _merge_in_order(parts: Sequence[RunStatistics]) -> RunStatistics:
    """Merge adjacent ranges pairwise, level by level (each level copies the data once)."""
    parts = list(parts)
    while len(parts) > 1:
        merged = [parts[k].merge(parts[k + 1]) for k in range(0, len(parts) - 1, 2)]
        if len(parts) % 2:
            merged.append(parts[-1])
        parts = merged
    return parts[0]


_SCHEMES = ("tcp", "tls", "ws", "wss")
SCHEDULER_FORM = "tcp://HOST:PORT, e.g. tcp://10.0.0.5:8786"


def check_scheduler_address(address: object) -> str:
    """The scheduler address, checked before anything connects (a malformed one makes Dask's
    client fail late and noisily): tcp://, tls://, ws:// or wss://, a host and a port."""
    if not isinstance(address, str) or not address.strip():
        raise SimulationError(f"the Dask scheduler address must be {SCHEDULER_FORM}; got {address!r}")
    text = address.strip()
    scheme, sep, rest = text.partition("://")
    if not sep:
        scheme, rest = "tcp", text
    if scheme not in _SCHEMES:
        raise SimulationError(f"the Dask scheduler address {text!r} has the protocol '{scheme}'; give {SCHEDULER_FORM} "
                              f"(protocols: {', '.join(_SCHEMES)})")
    host, colon, port = rest.rstrip("/").rpartition(":")
    host = host.strip("[]")
    if not colon or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise SimulationError(f"the Dask scheduler address {text!r} lacks a host and a port from 1 to 65535; give {SCHEDULER_FORM}")
    return f"{scheme}://{rest.rstrip('/')}"


def _check_bound(name: str, value: int, subject: str) -> None:
    try:
        message = limits().problem(name, value, subject)
    except LimitError as exc:
        raise SimulationError(str(exc)) from None
    if message is not None:
        raise SimulationError(message)


class DaskSession:
    """Dask workers for one or many runs.

    `workers=N` starts a local cluster of N worker processes, one thread each, and closes it on
    exit; `scheduler="tcp://host:port"` connects to a running cluster (its workers must have
    margincall installed) and leaves it running. Use it as a context manager::

        with DaskSession(workers=4) as dask:
            for scenario in scenarios:
                results.append(dask.simulate(scenario, paths=200_000, seed=1))

    `retries` is how many times Dask may run a task again after it raised; a task whose worker
    died is rescheduled on another worker (a local cluster's nanny restarts the dead one).
    `timeout` is how long, in seconds, to wait for the scheduler and for its first worker
    (default: the `dask_timeout_s` bound, 10 s, MARGINCALL_DASK_TIMEOUT). A scheduler address
    is checked before anything connects: tcp://HOST:PORT (or HOST:PORT, tls://, ws://, wss://).
    """

    def __init__(self, *, workers: int | None = None, scheduler: str | None = None, retries: int = 3, timeout: float | None = None):
        if workers is not None and scheduler is not None:
            raise SimulationError("give either workers (start a local Dask cluster) or scheduler (use a running one), not both")
        if workers is not None and (not isinstance(workers, int) or workers < 1):
            raise SimulationError(f"workers must be a positive whole number; got {workers!r}")
        if scheduler is not None:
            scheduler = check_scheduler_address(scheduler)
        if workers is not None:
            _check_bound("workers", workers, "workers")
        if timeout is None:
            try:
                timeout = limits().dask_timeout_s
            except LimitError as exc:
                raise SimulationError(str(exc)) from None
        elif not (isinstance(timeout, int | float) and math.isfinite(timeout) and timeout > 0):
            raise SimulationError(f"timeout must be a positive number of seconds; got {timeout!r}")
        if retries < 0:
            raise SimulationError(f"retries must be 0 or more; got {retries!r}")
        self.workers = workers if workers is not None or scheduler is not None else (os.cpu_count() or 1)
        self.scheduler = scheduler
        self.retries = retries
        self.timeout = timeout
        self._stack: ExitStack | None = None
        self._client: Client | None = None

    def __enter__(self) -> Self:
        stack = ExitStack()
        try:
            if self.scheduler is None:
                cluster = stack.enter_context(
                    LocalCluster(
                        n_workers=self.workers,
                        threads_per_worker=1,
                        processes=True,
                        dashboard_address=":0",
                        silence_logs=logging.ERROR,
                    )
                )
                self._client = stack.enter_context(Client(cluster, set_as_default=False))
            else:
                try:
                    self._client = stack.enter_context(Client(self.scheduler, timeout=self.timeout, set_as_default=False))
                except (OSError, ValueError, TimeoutError) as exc:
                    raise SimulationError(
                        f"cannot reach the Dask scheduler at {self.scheduler} within {self.timeout:g} s "
                        f"(MARGINCALL_DASK_TIMEOUT) ({exc.__class__.__name__}: {exc}); "
                        "start one with `dask scheduler` and workers with `dask worker ADDRESS`, or start a local cluster instead (workers=N, --workers N)"
                    ) from None
                try:
                    self._client.wait_for_workers(1, timeout=self.timeout)
                except TimeoutError:
                    raise SimulationError(
                        f"the Dask scheduler at {self.scheduler} has no workers after {self.timeout:g} s; start some with `dask worker {self.scheduler}`"
                    ) from None
        except BaseException:
            stack.close()
            raise
        self._stack = stack
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        stack, self._stack, self._client = self._stack, None, None
        if stack is not None:
            stack.close()

    @property
    def client(self) -> Client:
        if self._client is None:
            raise SimulationError("the Dask session is not open: use it in a `with` block")
        return self._client

    @property
    def n_threads(self) -> int:
        """Worker threads connected now, all workers together (at least 1)."""
        return max(sum(self.client.nthreads().values()), 1)

    def statistics(
        self,
        scenario: Scenario,
        *,
        paths: int,
        seed: int,
        blocks_per_task: int | None = None,
        progress: Progress | None = None,
        task: Task = run_task,
        antithetic: bool = False,
    ) -> RunStatistics:
        """The merged statistics of every block of the run, computed as Dask tasks.

        `task` is the function each task calls, `run_task` by default; a replacement (to
        instrument the tasks, or to inject failures in a test) takes the same arguments."""
        check_run_args(paths, seed)
        client = self.client
        plan = plan_tasks(paths, n_workers=self.n_threads, blocks_per_task=blocks_per_task)
        # The inputs travel once to the cluster as the result of a task rather than as scattered data:
        # a task has a recipe, so if the worker holding the inputs dies they are lowered again.
        # a historical market's returns are read here, so that workers need not see the file
        history = history_returns(scenario)
        inputs_future = client.submit(lower, scenario, antithetic=antithetic, history=history, pure=False, retries=self.retries)
        futures = [
            client.submit(task, inputs_future, paths=paths, seed=seed, first_block=first, n_blocks=count,
                          pure=False, retries=self.retries)
            for first, count in plan
        ]
        parts: dict[int, RunStatistics] = {}
        done = 0
        try:
            for future in as_completed(futures, loop=client.loop):
                part = self._result(future)
                future.release()
                parts[part.first_block] = part
                done += part.n_paths
                if progress is not None:
                    progress(done, paths)
        finally:
            client.cancel([f for f in futures if not f.done()] + [inputs_future])
        ordered = [parts[first] for first, _ in plan]
        stats = _merge_in_order(ordered)
        if stats.n_paths != paths or stats.n_blocks != math.ceil(paths / BLOCK_PATHS):
            raise SimulationError(f"the Dask tasks covered {stats.n_paths} paths, not {paths}")
        return stats

    def _result(self, future) -> RunStatistics:
        """A finished task's statistics; a task that failed for good becomes a `SimulationError`."""
        try:
            return future.result()
        except MarginCallError:
            raise
        except KilledWorker as exc:
            raise SimulationError(f"a Dask task killed its worker repeatedly and was given up: {exc}") from None
        except CancelledError as exc:
            raise SimulationError(f"the Dask cluster cancelled a task (did the scheduler restart?): {exc}") from None
        except Exception as exc:  # noqa: BLE001 - a task that failed on every try; keep its cause chained
            raise SimulationError(f"a Dask task failed {self.retries + 1} times: {exc.__class__.__name__}: {exc}") from exc

    def simulate(
        self,
        scenario: Scenario,
        *,
        paths: int = 100_000,
        seed: int = 0,
        blocks_per_task: int | None = None,
        progress: Progress | None = None,
        task: Task = run_task,
        antithetic: bool = False,
    ) -> SimulationResult:
        """`margincall.simulate` on the session's workers: the same numbers, bit for bit."""
        check_run_args(paths, seed, antithetic)
        paths, seed = int(paths), int(seed)
        # a scenario that cannot be lowered fails before any task; workers on this machine load
        # the kernels from the cache that this compile fills
        inputs, compile_seconds = prepare(scenario, antithetic=antithetic)
        started = time.perf_counter()
        stats = self.statistics(scenario, paths=paths, seed=seed, blocks_per_task=blocks_per_task,
                                progress=progress, task=task, antithetic=antithetic)
        return build_result(
            stats, inputs, scenario, seed=seed, version=__version__, elapsed=time.perf_counter() - started,
            compile_seconds=compile_seconds,
        )


def simulate_on_dask(
    scenario: Scenario,
    *,
    paths: int = 100_000,
    seed: int = 0,
    workers: int | None = None,
    scheduler: str | None = None,
    blocks_per_task: int | None = None,
    progress: Progress | None = None,
    retries: int = 3,
    antithetic: bool = False,
) -> SimulationResult:
    """Monte Carlo of the scenario on Dask: a local cluster of `workers` processes (default: one
    per core), started and closed here, or the running cluster at `scheduler` (tcp://host:port).

    The run's blocks of 1024 paths are split into tasks of `blocks_per_task` blocks (default: about
    four tasks per worker); `progress(paths done, paths)` is called as tasks finish. The result is
    identical, bit for bit, to `margincall.simulate(scenario, paths=paths, seed=seed)`.
    Each worker compiles the numba kernels on its first task or loads them from numba's on-disk
    cache; a script that starts a local cluster needs an `if __name__ == "__main__":` guard.
    For many runs, open one `DaskSession` and call its `simulate`.
    """
    check_run_args(paths, seed, antithetic)
    with DaskSession(workers=workers, scheduler=scheduler, retries=retries) as session:
        return session.simulate(
            scenario, paths=paths, seed=seed, blocks_per_task=blocks_per_task, progress=progress, antithetic=antithetic
        )
