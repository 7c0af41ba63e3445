"""The service's job queue: every state change is one short transaction with a condition on the
job's current status, so a job is claimed by one runner only and ends exactly once (a cancel and
a finish that race cannot both apply).

    queued --claim--> running --finish--> complete
       |                 |-----fail-----> failed
       |                 `----cancel----> cancelled
       `----------cancel / fail---------> cancelled / failed
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import ColumnElement, false, func, or_, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session, sessionmaker

from margincall.store._errors import StoreError
from margincall.store._figures import headline_figures
from margincall.store._schema import Job, JobStatus, Run, RunStatus, Token
from margincall.store._store_util import now, scenario_hash


class JobNotFoundError(StoreError, LookupError):
    """No job with that id (or none that this client may see)."""

    def __init__(self, job_id: int):
        self.job_id = job_id
        super().__init__(f"no job {job_id}")


class JobLimitError(StoreError):
    """A client already has as many unfinished jobs as the service allows."""

    def __init__(self, active: int, limit: int):
        self.active = active
        self.limit = limit
        super().__init__(f"{active} of this token's jobs are queued or running; the limit is {limit}")


class JobStateError(StoreError):
    """A job that is not in the state the call needs (cancelling a finished job, say)."""


@dataclass(frozen=True)
class JobSummary:
    """A job without its scenario text and result. Times are UTC; progress is in paths."""

    id: int
    kind: str
    token_id: int | None
    private: bool
    scenario_name: str
    scenario_hash: str
    options: dict[str, Any]
    paths: int
    seed: int
    status: str
    progress_done: int
    progress_total: int | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    error: str | None
    run_id: int | None


@dataclass(frozen=True)
class JobRecord(JobSummary):
    """A whole job: the scenario text as submitted and the command's JSON result (None until it
    completes; a run job's result is its run-store record's)."""

    scenario_text: str
    result: dict[str, Any] | None


_SUMMARY = (Job.id, Job.kind, Job.token_id, Job.private, Job.scenario_name, Job.scenario_hash, Job.options, Job.paths,
            Job.seed, Job.status, Job.progress_done, Job.progress_total, Job.created_at, Job.started_at, Job.finished_at,
            Job.error, Job.run_id)
_ACTIVE = (JobStatus.QUEUED.value, JobStatus.RUNNING.value)


def visible_to(token_id: int | None) -> ColumnElement[bool]:
    """Jobs a client may see: its own, and every job that is not private."""
    if token_id is None:
        return Job.private == false()
    return or_(Job.token_id == token_id, Job.private == false())


def _record(job: Job) -> JobRecord:
    return JobRecord(**{c.key: getattr(job, c.key) for c in _SUMMARY}, scenario_text=job.scenario_text, result=job.result)


class Jobs:
    """The service's jobs in the run store (see `RunStore.jobs`)."""

    def __init__(self, session: sessionmaker[Session], read: sessionmaker[Session] | None = None):
        self._session = session
        self._read = read or session  # read-only transactions (not holding SQLite's write lock)

    # -- submitting and reading ----------------------------------------------------------------------

    def submit(self, kind: str, *, scenario_name: str, scenario_text: str, options: Mapping[str, Any], paths: int, seed: int,
               progress_total: int | None, token_id: int | None = None, private: bool = False,
               active_limit: int | None = None) -> JobRecord:
        """Queue a job. With `active_limit`, `JobLimitError` when the token already has that many
        queued or running jobs (checked and inserted in one transaction)."""
        with self._session.begin() as session:
            if active_limit is not None and token_id is not None:
                # lock the token's row so that two submissions at once cannot both pass the check
                session.execute(select(Token.id).where(Token.id == token_id).with_for_update())
                active = session.execute(
                    select(func.count()).select_from(Job).where(Job.token_id == token_id, Job.status.in_(_ACTIVE))
                ).scalar_one()
                if active >= active_limit:
                    raise JobLimitError(active, active_limit)
            job = Job(kind=kind, token_id=token_id, private=private, scenario_name=scenario_name,
                      scenario_hash=scenario_hash(scenario_text), scenario_text=scenario_text, options=dict(options),
                      paths=int(paths), seed=int(seed), status=JobStatus.QUEUED.value, progress_done=0,
                      progress_total=progress_total, created_at=now())
            session.add(job)
            session.flush()
            return _record(job)

    def get(self, job_id: int, *, visible_for: int | None | bool = True) -> JobRecord:
        """The whole job. `visible_for` a token id (or None: no token) hides other clients' private
        jobs (`JobNotFoundError`, as for a job that does not exist); True shows every job."""
        with self._read() as session:
            query = select(Job).where(Job.id == job_id)
            if visible_for is not True:
                query = query.where(visible_to(visible_for if isinstance(visible_for, int) else None))
            job = session.execute(query).scalar_one_or_none()
            if job is None:
                raise JobNotFoundError(job_id)
            return _record(job)

    def list(self, *, visible_for: int | None | bool = True, kind: str | None = None, status: str | None = None,
             scenario: str | None = None, mine: bool = False, limit: int = 50, offset: int = 0) -> list[JobSummary]:
        """Jobs newest first, filtered; `mine` keeps the `visible_for` token's own jobs only."""
        query = select(*_SUMMARY).order_by(Job.id.desc()).limit(limit).offset(offset)
        if visible_for is not True:
            token = visible_for if isinstance(visible_for, int) else None
            query = query.where(Job.token_id == token) if mine else query.where(visible_to(token))
        if kind is not None:
            query = query.where(Job.kind == kind)
        if status is not None:
            query = query.where(Job.status == JobStatus(status).value)
        if scenario is not None:
            query = query.where(Job.scenario_name == scenario)
        with self._read() as session:
            return [JobSummary(**row._asdict()) for row in session.execute(query)]

    def active_count(self, token_id: int) -> int:
        with self._read() as session:
            return session.execute(
                select(func.count()).select_from(Job).where(Job.token_id == token_id, Job.status.in_(_ACTIVE))
            ).scalar_one()

    def counts(self) -> dict[str, int]:
        """Number of jobs in each status."""
        with self._read() as session:
            rows = session.execute(select(Job.status, func.count()).group_by(Job.status)).all()
        return {status.value: 0 for status in JobStatus} | {status: count for status, count in rows}

    # -- state changes ---------------------------------------------------------------------------------

    def claim_next(self) -> JobRecord | None:
        """The oldest queued job, now marked running; None when none is queued."""
        while True:
            with self._session.begin() as session:
                job_id = session.execute(
                    select(Job.id).where(Job.status == JobStatus.QUEUED.value).order_by(Job.id).limit(1)
                ).scalar_one_or_none()
                if job_id is None:
                    return None
                if self._move(session, job_id, (JobStatus.QUEUED,), status=JobStatus.RUNNING.value, started_at=now()):
                    return _record(session.get_one(Job, job_id))
            # another runner claimed it first: try the next one

    def set_progress(self, job_id: int, done: int, total: int | None) -> None:
        with self._session.begin() as session:
            session.execute(update(Job).where(Job.id == job_id, Job.status == JobStatus.RUNNING.value)
                            .values(progress_done=int(done), progress_total=None if total is None else int(total)))

    def attach_run(self, job_id: int, run_id: int) -> None:
        """Link a run job to its run-store record."""
        with self._session.begin() as session:
            session.execute(update(Job).where(Job.id == job_id).values(run_id=run_id))

    def finish(self, job_id: int, result: Mapping[str, Any] | None, *, run_result: Mapping[str, Any] | None = None) -> bool:
        """Mark a running job complete with its result (a job recorded in the run store:
        `run_result` goes to its run, with its headline figures, in the same transaction); False if
        it was no longer running."""
        with self._session.begin() as session:
            return self.finish_in(session, job_id, result, run_result=run_result)

    def finish_in(self, session: Session, job_id: int, result: Mapping[str, Any] | None, *,
                  run_result: Mapping[str, Any] | None = None) -> bool:
        """`finish` inside the caller's transaction."""
        moved = self._move(session, job_id, (JobStatus.RUNNING,), status=JobStatus.COMPLETE.value,
                           result=None if result is None else dict(result), finished_at=now(), error=None)
        if moved and run_result is not None:
            run_id = session.execute(select(Job.run_id).where(Job.id == job_id)).scalar_one_or_none()
            if run_id is not None:
                source = run_result.get("base_result", run_result)  # a stress job: the base run's figures
                headline = [f.to_dict() for f in headline_figures(source if isinstance(source, Mapping) else run_result)]
                session.execute(update(Run).where(Run.id == run_id, Run.status == RunStatus.RUNNING.value)
                                .values(status=RunStatus.COMPLETE.value, finished_at=now(), result=dict(run_result),
                                        headline=headline, error=None))
        return moved

    def fail(self, job_id: int, message: str) -> bool:
        """Mark a queued or running job failed with `message`; False if it had ended already."""
        with self._session.begin() as session:
            moved = self._move(session, job_id, (JobStatus.QUEUED, JobStatus.RUNNING), status=JobStatus.FAILED.value,
                               finished_at=now(), error=message)
            if moved:
                self._close_run(session, job_id, message)
            return moved

    def cancel(self, job_id: int, *, running: bool) -> bool:
        """Mark a queued (or, with `running`, a running) job cancelled; False if it was not in that state."""
        states = (JobStatus.QUEUED, JobStatus.RUNNING) if running else (JobStatus.QUEUED,)
        with self._session.begin() as session:
            moved = self._move(session, job_id, states, status=JobStatus.CANCELLED.value, finished_at=now(),
                               error="cancelled by its client")
            if moved:
                self._close_run(session, job_id, "cancelled by its client")
            return moved

    def fail_unfinished(self, *, queued_reason: str, running_reason: str) -> list[int]:
        """Mark every queued and running job failed (the service stopped with them unfinished);
        their run-store records too. Returns their ids."""
        failed = []
        with self._session.begin() as session:
            for status, reason in ((JobStatus.RUNNING, running_reason), (JobStatus.QUEUED, queued_reason)):
                ids = session.execute(select(Job.id).where(Job.status == status.value)).scalars().all()
                for job_id in ids:
                    if self._move(session, job_id, (status,), status=JobStatus.FAILED.value, finished_at=now(), error=reason):
                        self._close_run(session, job_id, reason)
                        failed.append(job_id)
        return failed

    @staticmethod
    def _move(session: Session, job_id: int, sources: tuple[JobStatus, ...], **values: Any) -> bool:
        done = cast(CursorResult[Any], session.execute(
            update(Job).where(Job.id == job_id, Job.status.in_([s.value for s in sources])).values(**values)
        ))
        return done.rowcount == 1

    @staticmethod
    def _close_run(session: Session, job_id: int, message: str) -> None:
        """A failed or cancelled run job's run-store record is failed too (if it was running)."""
        run_id = session.execute(select(Job.run_id).where(Job.id == job_id)).scalar_one_or_none()
        if run_id is not None:
            session.execute(update(Run).where(Run.id == run_id, Run.status == RunStatus.RUNNING.value)
                            .values(status=RunStatus.FAILED.value, finished_at=now(), error=message))
