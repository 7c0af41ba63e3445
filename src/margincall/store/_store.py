"""The run store: every run's scenario, seed, paths, code version, times, status and result.

    store = open_store()                       # $MARGINCALL_DB, else ~/.local/share/margincall/runs.db
    with store.recording(name, text, seed, paths, __version__) as run:
        run.complete(simulate(scenario, paths=paths, seed=seed))

A run is committed as `running` when it starts; it becomes `complete` with its result, or `failed`
with a message when the block raises (KeyboardInterrupt included). A process killed outright leaves
its run `running`. Each call is one short transaction touching only its own run's row.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Self, cast

from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult, Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import sessionmaker

from margincall.analysis.loading import parse_scenario
from margincall.analysis.results import SimulationResult
from margincall.model.scenario import Scenario
from margincall.store._compare import ComparisonRow, compare_runs
from margincall.store._decode import result_from_dict
from margincall.store._engine import READ_ONLY, create_store_engine, migrate
from margincall.store._errors import RunNotFoundError, StoreError
from margincall.store._jobs import Jobs
from margincall.store._library import Scenarios
from margincall.store._monitor import Monitors
from margincall.store._schema import Run, RunStatus
from margincall.store._store_util import now as _now
from margincall.store._store_util import scenario_hash
from margincall.store._tokens import Tokens
from margincall.store._url import resolve_url, shown


@dataclass(frozen=True)
class RunSummary:
    """A run without its scenario text and result (what `list_runs` gives). Times are UTC."""

    id: int
    scenario_name: str
    scenario_hash: str
    seed: int
    paths: int
    version: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    status: str
    error: str | None

    @property
    def elapsed_seconds(self) -> float | None:
        return (self.finished_at - self.started_at).total_seconds() if self.finished_at else None


@dataclass(frozen=True)
class RunRecord(RunSummary):
    """A whole run (what `get_run` gives): the scenario text as run and the result dict (or None)."""

    scenario_text: str
    result: dict[str, Any] | None

    def result_object(self) -> SimulationResult:
        """The stored result as a `SimulationResult`; `StoreError` if the run has none."""
        if self.result is None:
            raise StoreError(f"run {self.id} is {self.status}: it has no result")
        return result_from_dict(self.result)

    def scenario(self) -> Scenario:
        """The scenario as run, parsed again from the stored text."""
        return parse_scenario(self.scenario_text, source=f"run {self.id}", default_name=self.scenario_name)


_SUMMARY_COLUMNS = (Run.id, Run.scenario_name, Run.scenario_hash, Run.seed, Run.paths, Run.version,
                    Run.started_at, Run.finished_at, Run.status, Run.error)


class RunHandle:
    """The run of a `RunStore.recording` block: call `complete(result)` once it has one."""

    def __init__(self, store: RunStore, run_id: int):
        self._store = store
        self.id = run_id
        self.completed = False

    def complete(self, result: SimulationResult | Mapping[str, Any]) -> None:
        """Store the result and mark the run complete (now, not at the end of the block)."""
        self._store.finish_run(self.id, result)
        self.completed = True


class RunStore:
    """Runs in a SQL database (SQLite or PostgreSQL), schema migrated at open. Use `open_store`."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._session = sessionmaker(engine, expire_on_commit=False)
        # reads: a deferred transaction, which on SQLite does not queue for the write lock
        self._read = sessionmaker(engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False)
        self.tokens = Tokens(self._session, self.url, self._read)  # the service's clients
        self.jobs = Jobs(self._session, self._read)  # the service's queue
        self.scenarios = Scenarios(self._session, self._read)  # scenarios uploaded to the service
        self.monitors = Monitors(self._session, self._read)  # monitoring states and alerts

    @property
    def url(self) -> str:
        """The database URL, password hidden."""
        return shown(self.engine.url)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.engine.dispose()

    # -- writing ---------------------------------------------------------------------------------

    def start_run(self, scenario_name: str, scenario_text: str, seed: int, paths: int, version: str) -> int:
        """Record a new run as `running` (committed at once) and return its id."""
        run = Run(
            scenario_name=scenario_name,
            scenario_hash=scenario_hash(scenario_text),
            scenario_text=scenario_text,
            seed=int(seed),
            paths=int(paths),
            version=version,
            started_at=_now(),
            status=RunStatus.RUNNING.value,
        )
        with self._session.begin() as session:
            session.add(run)
            session.flush()
            return run.id

    def finish_run(self, run_id: int, result: SimulationResult | Mapping[str, Any]) -> None:
        """Store the result (`SimulationResult` or its `to_dict()`) and mark the run `complete`."""
        data = result.to_dict() if isinstance(result, SimulationResult) else dict(result)
        self._close_run(run_id, RunStatus.COMPLETE, result=data, error=None)

    def fail_run(self, run_id: int, message: str) -> None:
        """Mark a running run `failed` with `message`."""
        self._close_run(run_id, RunStatus.FAILED, result=None, error=message)

    def _close_run(self, run_id: int, status: RunStatus, *, result: dict[str, Any] | None, error: str | None) -> None:
        values = {"status": status.value, "finished_at": _now(), "result": result, "error": error}
        with self._session.begin() as session:
            done = cast(CursorResult[Any], session.execute(
                update(Run).where(Run.id == run_id, Run.status == RunStatus.RUNNING.value).values(**values)
            ))
            if done.rowcount == 1:
                return
            current = session.execute(select(Run.status).where(Run.id == run_id)).scalar_one_or_none()
        if current is None:
            raise RunNotFoundError(run_id, self.url)
        raise StoreError(f"run {run_id} is already {current}; only a running run can be marked {status.value}")

    @contextmanager
    def recording(self, scenario_name: str, scenario_text: str, seed: int, paths: int, version: str
                  ) -> Iterator[RunHandle]:
        """Start a run; inside the block call `run.complete(result)`. An exception (KeyboardInterrupt
        included) before that marks the run failed and is re-raised; a block that ends without a result
        marks it failed too."""
        handle = RunHandle(self, self.start_run(scenario_name, scenario_text, seed, paths, version))
        try:
            yield handle
        except BaseException as exc:
            if not handle.completed:
                message = "interrupted (KeyboardInterrupt)" if isinstance(exc, KeyboardInterrupt) else (
                    f"{type(exc).__name__}: {exc}")
                try:
                    self.fail_run(handle.id, message)
                except Exception as store_exc:  # noqa: BLE001 - keep the original error; note why the run stays running
                    exc.add_note(f"margincall could not mark run {handle.id} failed: {store_exc}")
            raise
        if not handle.completed:
            self.fail_run(handle.id, "the run ended without a result")

    # -- reading ---------------------------------------------------------------------------------

    def list_runs(self, scenario: str | None = None, limit: int = 50, *, status: str | None = None) -> list[RunSummary]:
        """Runs newest first, optionally of one scenario name and/or one status, at most `limit`."""
        query = select(*_SUMMARY_COLUMNS).order_by(Run.started_at.desc(), Run.id.desc()).limit(limit)
        if scenario is not None:
            query = query.where(Run.scenario_name == scenario)
        if status is not None:
            query = query.where(Run.status == RunStatus(status).value)
        with self._read() as session:
            return [RunSummary(**row._asdict()) for row in session.execute(query)]

    def get_run(self, run_id: int) -> RunRecord:
        """The whole run; `RunNotFoundError` naming the id if there is none."""
        with self._read() as session:
            run = session.get(Run, run_id)
            if run is None:
                raise RunNotFoundError(run_id, self.url)
            return RunRecord(
                id=run.id, scenario_name=run.scenario_name, scenario_hash=run.scenario_hash, seed=run.seed,
                paths=run.paths, version=run.version, started_at=run.started_at, finished_at=run.finished_at,
                status=run.status, error=run.error, scenario_text=run.scenario_text, result=run.result,
            )

    def compare(self, run_a: int, run_b: int) -> list[ComparisonRow]:
        """`compare_runs` of two stored runs (difference = b − a)."""
        return compare_runs(self.get_run(run_a), self.get_run(run_b))


def open_store(url: str | os.PathLike[str] | None = None) -> RunStore:
    """Open (creating or migrating as needed) the run store at `url`; else $MARGINCALL_DB; else the
    SQLite file `$XDG_DATA_HOME/margincall/runs.db` (`~/.local/share/margincall/runs.db`).

    URLs: `sqlite:///path/runs.db`, a plain file path, or `postgresql+psycopg://user@host:port/db`.
    """
    resolved = resolve_url(url)
    engine = create_store_engine(resolved)
    try:
        migrate(engine)
    except StoreError:
        engine.dispose()
        raise
    except OperationalError as exc:
        engine.dispose()
        raise StoreError(f"cannot open the run store {shown(resolved)}: {exc.orig or exc}") from exc
    return RunStore(engine)
