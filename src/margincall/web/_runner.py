"""The job runner: `slots` threads, each claiming the oldest queued job from the store, running it
on the pool and recording how it ended. The store is the queue, so a job submitted while every
slot is busy waits there, and one that was queued or running when the service stopped is marked
failed with the reason when the service starts again (`recover`).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time

from margincall._version import __version__
from margincall.store import JobRecord, RunStore
from margincall.web._pool import AbstractPool, Outcome
from margincall.web._work import JobSpec

log = logging.getLogger("margincall.web")
PROGRESS_EVERY_S = 0.5  # the store's progress is written at most this often per job
RECORDED = ("run", "stress", "reverse", "size", "sensitivities", "sweep", "explain")  # kinds kept in the run store too


def _stamp() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def recover(store: RunStore) -> list[int]:
    """Mark every job left queued or running by a service that stopped failed, with the reason."""
    when = _stamp()
    failed = store.jobs.fail_unfinished(
        queued_reason=f"the service stopped before this job started; it was not run (found at restart, {when}): submit it again",
        running_reason=f"the service stopped while this job was running; its result was lost (found at restart, {when}): submit it again",
    )
    if failed:
        log.warning("marked %d unfinished job(s) failed after a restart: %s", len(failed), failed)
    return failed


class JobRunner:
    def __init__(self, store: RunStore, pool: AbstractPool):
        self.store = store
        self.pool = pool
        self._wake = threading.Condition()
        self._stopping = False
        self._cancel: set[int] = set()
        self._running: dict[int, int] = {}  # job id -> slot
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._slot, args=(k,), name=f"margincall-slot-{k}", daemon=True)
                         for k in range(pool.slots)]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def notify(self) -> None:
        """A job was queued: wake a free slot."""
        with self._wake:
            self._wake.notify()

    def request_cancel(self, job_id: int) -> bool:
        """Ask a running job to stop; False if it is not running here."""
        with self._lock:
            if job_id not in self._running:
                return False
            self._cancel.add(job_id)
            return True

    def running(self) -> dict[int, int]:
        with self._lock:
            return dict(self._running)

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop claiming, stop the pool, and mark what was queued or running failed (the reason says
        the service stopped)."""
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
        with self._lock:
            running = list(self._running)
        when = _stamp()
        for job_id in running:
            self.store.jobs.fail(job_id, f"the service stopped while this job was running ({when}): submit it again")
        self.pool.close()
        deadline = time.monotonic() + timeout_s
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self.store.jobs.fail_unfinished(
            queued_reason=f"the service stopped before this job started ({when}): submit it again",
            running_reason=f"the service stopped while this job was running ({when}): submit it again",
        )

    # -- one slot ------------------------------------------------------------------------------------

    def _slot(self, slot: int) -> None:
        while True:
            with self._wake:
                if self._stopping:
                    return
            try:
                job = self.store.jobs.claim_next()
            except Exception:  # noqa: BLE001 - a store that is briefly unavailable: try again
                log.exception("could not claim a job")
                job = None
            if job is None:
                with self._wake:
                    if self._stopping:
                        return
                    self._wake.wait(1.0)
                continue
            with self._lock:
                self._running[job.id] = slot
            try:
                self._run(slot, job)
            except Exception as exc:  # noqa: BLE001 - never leave a claimed job running
                log.exception("job %s", job.id)
                self._end(job, Outcome("failed", error=f"the service failed to run the job: {type(exc).__name__}: {exc}"), None)
            finally:
                with self._lock:
                    self._running.pop(job.id, None)
                    self._cancel.discard(job.id)

    def _run(self, slot: int, job: JobRecord) -> None:
        run_id = None
        if job.kind in RECORDED:  # recorded in the run store like the command line's runs
            source = str(job.options.get("scenario_source", ""))
            run_id = self.store.start_run(job.scenario_name, job.scenario_text, job.seed, job.paths, __version__,
                                          command=job.kind, label=f"job {job.id}",
                                          scenario_path=source if source.startswith("built-in:") else None,
                                          options=job.options)
            self.store.jobs.attach_run(job.id, run_id)
        spec = JobSpec(job_id=job.id, kind=job.kind, scenario_name=job.scenario_name, scenario_text=job.scenario_text,
                       options=dict(job.options), paths=job.paths, seed=job.seed)
        last = [0.0]

        def on_progress(done: int, total: int | None) -> None:
            now = time.monotonic()
            if now - last[0] >= PROGRESS_EVERY_S or (total is not None and done >= total):
                last[0] = now
                self.store.jobs.set_progress(job.id, done, total)

        def cancel_requested() -> bool:
            with self._lock:
                return job.id in self._cancel

        outcome = self.pool.run(slot, spec, on_progress, cancel_requested)
        with self._wake:
            if self._stopping and outcome.status != "complete":
                return  # stop() records these
        self._end(job, outcome, run_id)

    def _end(self, job: JobRecord, outcome: Outcome, run_id: int | None) -> None:
        jobs = self.store.jobs
        if outcome.status == "complete":
            result = outcome.result or {}
            if job.kind == "monitor":
                self._record_monitor(job, result)
            elif run_id is not None:
                jobs.finish(job.id, None, run_result=result)
            else:
                jobs.finish(job.id, result)
        elif outcome.status == "cancelled":
            jobs.cancel(job.id, running=True)
        else:
            jobs.fail(job.id, outcome.error or "failed")

    def _record_monitor(self, job: JobRecord, state: dict) -> None:
        self.store.monitors.record(
            state.get("scenario") or job.scenario_name, dt.date.fromisoformat(state["as_of"]), state, state.get("alerts", []),
            token_id=job.token_id, private=job.private, job_id=job.id,
        )
