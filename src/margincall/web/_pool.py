"""Where jobs run: a bounded pool of worker processes on this machine, or a Dask cluster.

Both give `run(spec, on_progress, cancel_requested) -> Outcome` to the runner (`_runner.py`).
A local worker is a spawned process that runs one job at a time and lives for many jobs (the
numba kernels load once). Cancelling asks the job to stop at its next progress report; a job
that does not stop within the grace period has its worker killed and replaced. A worker whose
parent dies kills itself (Linux: the parent-death signal; elsewhere at its next report).
"""

from __future__ import annotations

import abc
import ctypes
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from margincall.errors import MarginCallError
from margincall.web._work import JobCancelled, JobSpec, execute

log = logging.getLogger("margincall.web")
POLL_S = 0.2


@dataclass(frozen=True)
class Outcome:
    status: str  # complete | failed | cancelled
    result: dict[str, Any] | None = None
    error: str | None = None


OnProgress = Callable[[int, int | None], None]
CancelRequested = Callable[[], bool]


class AbstractPool(abc.ABC):
    """Runs jobs, at most `slots` at a time."""

    slots: int
    description: str

    @abc.abstractmethod
    def run(self, slot: int, spec: JobSpec, on_progress: OnProgress, cancel_requested: CancelRequested) -> Outcome: ...

    @abc.abstractmethod
    def close(self) -> None: ...


def _failure(exc: BaseException) -> str:
    if isinstance(exc, MarginCallError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


# -- local worker processes -----------------------------------------------------------------------


def _die_with_parent() -> None:
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except OSError:  # pragma: no cover - no glibc
            pass


def _worker_main(conn: Connection, cancel: Any, parent: int) -> None:
    """A worker process: run job specs from `conn` until it closes."""
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the service stops its workers itself
    while True:
        try:
            spec = conn.recv()
        except (EOFError, OSError):
            return
        if spec is None:
            return

        def report(done: int, total: int | None) -> None:
            if cancel.is_set():
                raise JobCancelled()
            if os.getppid() != parent:
                os._exit(3)  # the service is gone: stop at once
            conn.send(("progress", int(done), None if total is None else int(total)))

        from margincall.web._work import throttled

        try:
            result = execute(spec, throttled(report))
            message: tuple[Any, ...] = ("complete", result)
        except JobCancelled:
            message = ("cancelled",)
        except MarginCallError as exc:
            message = ("failed", _failure(exc))
        except Exception as exc:  # noqa: BLE001 - any failure of the job is the job's, reported with its type
            traceback.print_exc()
            message = ("failed", _failure(exc))
        try:
            conn.send(message)
        except (OSError, ValueError):
            return


class _Worker:
    def __init__(self, context: Any):
        self._context = context
        self.cancel = context.Event()
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_worker_main, args=(child, self.cancel, os.getpid()), daemon=True,
                                       name="margincall-worker")
        self.process.start()
        child.close()

    def stop(self, *, kill: bool = False) -> None:
        if not kill:
            try:
                self.conn.send(None)
            except (OSError, ValueError):
                pass
            self.process.join(2.0)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(2.0)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(2.0)
        try:
            self.conn.close()
        except OSError:  # closed by the slot thread that was reading it
            pass


class ProcessPool(AbstractPool):
    """`workers` worker processes on this machine, each running `threads` numba threads."""

    def __init__(self, workers: int, *, threads: int | None = None, cancel_grace_s: float = 3.0):
        self.slots = workers
        self.threads = threads or max(1, (os.cpu_count() or 1) // workers)
        self.grace = cancel_grace_s
        self._context = multiprocessing.get_context("spawn")
        self._workers: list[_Worker | None] = [None] * workers
        self._lock = threading.Lock()
        self.description = f"{workers} worker process{'es' if workers != 1 else ''} x {self.threads} thread{'s' if self.threads != 1 else ''}"

    def _worker(self, slot: int) -> _Worker:
        with self._lock:
            worker = self._workers[slot]
            if worker is None or not worker.process.is_alive():
                worker = self._workers[slot] = _Worker(self._context)
            return worker

    def _replace(self, slot: int, worker: _Worker) -> None:
        worker.stop(kill=True)
        with self._lock:
            if self._workers[slot] is worker:
                self._workers[slot] = None

    def run(self, slot: int, spec: JobSpec, on_progress: OnProgress, cancel_requested: CancelRequested) -> Outcome:
        worker = self._worker(slot)
        worker.cancel.clear()
        spec = JobSpec(**{**spec.__dict__, "threads": spec.threads or self.threads})
        worker.conn.send(spec)
        deadline: float | None = None
        while True:
            if worker.conn.poll(POLL_S):
                try:
                    message = worker.conn.recv()
                except (EOFError, OSError):
                    message = None
                if message is None:
                    code = worker.process.exitcode
                    self._replace(slot, worker)
                    if deadline is not None:
                        return Outcome("cancelled")
                    return Outcome("failed", error=f"the worker process stopped while running the job (exit code {code}; out of memory?)")
                if message[0] == "progress":
                    on_progress(message[1], message[2])
                    continue
                if message[0] == "complete":
                    return Outcome("complete", result=message[1])
                if message[0] == "cancelled":
                    return Outcome("cancelled")
                return Outcome("failed", error=message[1])
            if not worker.process.is_alive() and not worker.conn.poll(0):
                code = worker.process.exitcode
                self._replace(slot, worker)
                if deadline is not None:
                    return Outcome("cancelled")
                return Outcome("failed", error=f"the worker process stopped while running the job (exit code {code}; out of memory?)")
            if deadline is None and cancel_requested():
                worker.cancel.set()
                deadline = time.monotonic() + self.grace
            elif deadline is not None and time.monotonic() > deadline:
                log.info("job %s did not stop within %.1f s of its cancel: its worker is replaced", spec.job_id, self.grace)
                self._replace(slot, worker)
                return Outcome("cancelled")

    def start(self) -> None:
        """Start every worker now (they load margincall while the service starts)."""
        for slot in range(self.slots):
            self._worker(slot)

    def close(self) -> None:
        with self._lock:
            workers, self._workers = self._workers, [None] * self.slots
        for worker in workers:
            if worker is not None:
                worker.stop(kill=True)

    def pids(self) -> list[int]:
        with self._lock:
            return [w.process.pid for w in self._workers if w is not None and w.process.pid is not None]


# -- a Dask cluster -------------------------------------------------------------------------------


def _dask_job(spec: JobSpec, key: str) -> tuple[Any, ...]:
    """The work of a job as one Dask task: progress in a Dask Variable, cancel by a Dask Event."""
    from distributed import Event, Variable

    progress_var, cancel = Variable(f"{key}-progress"), Event(f"{key}-cancel")

    def report(done: int, total: int | None) -> None:
        if cancel.is_set():
            raise JobCancelled()
        progress_var.set((int(done), None if total is None else int(total)))

    from margincall.web._work import throttled

    try:
        return ("complete", execute(spec, throttled(report, every_s=0.5)))
    except JobCancelled:
        return ("cancelled",)
    except Exception as exc:  # noqa: BLE001 - reported as the job's failure
        return ("failed", _failure(exc))


class DaskPool(AbstractPool):
    """Jobs as tasks on the Dask cluster at `scheduler` (tcp://host:port), `slots` at a time; the
    scheduler must answer within `timeout_s` (the service passes MARGINCALL_DASK_TIMEOUT's bound)."""

    def __init__(self, scheduler: str, *, slots: int | None = None, cancel_grace_s: float = 3.0, timeout_s: float = 10.0):
        from distributed import Client

        try:
            self.client = Client(scheduler, timeout=timeout_s, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise MarginCallError(f"cannot reach the Dask scheduler at {scheduler} within {timeout_s:g} s: {exc}; "
                                  "MARGINCALL_DASK_TIMEOUT waits longer") from None
        threads = sum(self.client.nthreads().values())
        self.slots = slots or max(1, threads)
        self.grace = cancel_grace_s
        self.description = f"Dask cluster at {scheduler} ({threads} worker threads, {self.slots} jobs at a time)"

    def run(self, slot: int, spec: JobSpec, on_progress: OnProgress, cancel_requested: CancelRequested) -> Outcome:
        from distributed import Event, Variable

        key = f"margincall-job-{spec.job_id}-{uuid.uuid4().hex[:8]}"
        progress_var, cancel = Variable(f"{key}-progress", client=self.client), Event(f"{key}-cancel", client=self.client)
        future = self.client.submit(_dask_job, spec, key, key=key, pure=False)
        deadline: float | None = None
        last = None
        try:
            while True:
                if not future.done():
                    time.sleep(POLL_S)
                try:
                    current = progress_var.get(timeout=0.05)
                except (TimeoutError, Exception):  # noqa: BLE001 - not set yet
                    current = None
                if current is not None and current != last:
                    last = current
                    on_progress(*current)
                if future.done():
                    try:
                        message = future.result()
                    except Exception as exc:  # noqa: BLE001 - a task the cluster lost or gave up on
                        return Outcome("failed", error=f"the Dask task failed: {_failure(exc)}")
                    if message[0] == "complete":
                        return Outcome("complete", result=message[1])
                    if message[0] == "cancelled":
                        return Outcome("cancelled")
                    return Outcome("failed", error=message[1])
                if deadline is None and cancel_requested():
                    cancel.set()
                    deadline = time.monotonic() + self.grace
                elif deadline is not None and time.monotonic() > deadline:
                    future.cancel()
                    return Outcome("cancelled")
        finally:
            try:
                progress_var.delete()
            except Exception:  # noqa: BLE001 - cleanup only
                pass

    def close(self) -> None:
        self.client.close()
