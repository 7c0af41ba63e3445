"""The run store: every simulating command's scenario, seed, paths, code version, times, status,
result and headline figures, with the command, a label and the scenario file's path.

    store = open_store()                       # $MARGINCALL_DB, else ~/.local/share/margincall/runs.db
    with store.recording(name, text, seed, paths, __version__, command="stress", label="Q3 review",
                         scenario_path="/abs/path.yaml", options={"stresses": [...]}) as run:
        run.complete(result_dict, headline=base_result_dict)

A run is committed as `running` when it starts; it becomes `complete` with its result, or `failed`
with a message when the block raises (KeyboardInterrupt included). A process killed outright leaves
its run `running`. Each call is one short transaction touching only its own run's row. Database
errors (a damaged file, a server gone, a timeout) are `StoreError`s naming the store.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Self, cast

from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult, Engine
from sqlalchemy.orm import sessionmaker

from margincall.analysis.finite import first_nonfinite
from margincall.analysis.loading import parse_scenario
from margincall.analysis.results import SimulationResult
from margincall.model.limits import limits
from margincall.model.scenario import Scenario
from margincall.store._compare import DEFAULT_SIGMAS, ComparisonRow, compare_runs
from margincall.store._decode import result_from_dict
from margincall.store._engine import READ_ONLY, create_store_engine, database_errors, migrate
from margincall.store._errors import RunNotFoundError, StoreError
from margincall.store._figures import Figure, headline_figures
from margincall.store._jobs import Jobs
from margincall.store._library import Scenarios
from margincall.store._monitor import Monitors
from margincall.store._schema import Run, RunStatus
from margincall.store._store_util import now as _now
from margincall.store._store_util import scenario_hash
from margincall.store._tokens import Tokens
from margincall.store._url import resolve_url, shown

MAX_RUN_ID = 2**63 - 1  # the largest id a store's integer key holds
NAME_COLUMN = 200  # characters of scenario_name and label the table keeps
COMMAND = re.compile(r"^[a-z][a-z0-9-]{0,31}$")


@dataclass(frozen=True)
class RunSummary:
    """A run without its scenario text and result (what `list_runs` gives). Times are UTC.
    `command` is the command that made it (run, stress, ...), `label` the user's label,
    `scenario_path` the scenario file's absolute path (or built-in:NAME), `headline` its
    headline figures (P(call), P(default) of the first loan, the borrower's P(default), ...)."""

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
    command: str
    label: str | None
    scenario_path: str | None
    options: dict[str, Any] | None
    headline: tuple[Figure, ...]

    @property
    def elapsed_seconds(self) -> float | None:
        return (self.finished_at - self.started_at).total_seconds() if self.finished_at else None


@dataclass(frozen=True)
class RunRecord(RunSummary):
    """A whole run (what `get_run` gives): the scenario text as run and the result dict (or None)."""

    scenario_text: str
    result: dict[str, Any] | None

    def result_object(self) -> SimulationResult:
        """The stored result as a `SimulationResult`; `StoreError` if the run has none or is not a
        `run` (other commands store their own layouts)."""
        if self.result is None:
            raise StoreError(f"run {self.id} is {self.status}: it has no result")
        if self.command != "run":
            raise StoreError(f"run {self.id} is a {self.command}: its result is not a single simulation's")
        return result_from_dict(self.result)

    def scenario(self) -> Scenario:
        """The scenario as run, parsed again from the stored text."""
        return parse_scenario(self.scenario_text, source=f"run {self.id}", default_name=self.scenario_name)


_SUMMARY_COLUMNS = (Run.id, Run.scenario_name, Run.scenario_hash, Run.seed, Run.paths, Run.version,
                    Run.started_at, Run.finished_at, Run.status, Run.error, Run.command, Run.label,
                    Run.scenario_path, Run.options, Run.headline)


def _figures(stored: object) -> tuple[Figure, ...]:
    if not isinstance(stored, list):
        return ()
    return tuple(Figure.from_dict(item) for item in stored if isinstance(item, Mapping))


def _summary(row: Mapping[str, Any]) -> dict[str, Any]:
    values = dict(row)
    values["headline"] = _figures(values.get("headline"))
    values["command"] = values.get("command") or "run"
    return values


def _plain(value: Any) -> Any:
    """numpy scalars and arrays inside a result as Python numbers and lists."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "tolist"):
        return value.tolist()
    return value


class RunHandle:
    """The run of a `RunStore.recording` block: call `complete(result)` once it has one."""

    def __init__(self, store: RunStore, run_id: int):
        self._store = store
        self.id = run_id
        self.completed = False

    @property
    def url(self) -> str:
        """The store's URL, password hidden (to say where the run is kept)."""
        return self._store.url

    def complete(self, result: SimulationResult | Mapping[str, Any],
                 headline: Sequence[Figure] | Mapping[str, Any] | SimulationResult | None = None) -> None:
        """Store the result and mark the run complete (now, not at the end of the block).
        `headline`: the figures `runs` lists, or the result-like dict to find them in (default:
        the result itself)."""
        self._store.finish_run(self.id, result, headline=headline)
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

    def start_run(self, scenario_name: str, scenario_text: str, seed: int, paths: int, version: str, *,
                  command: str = "run", label: str | None = None, scenario_path: str | None = None,
                  options: Mapping[str, Any] | None = None) -> int:
        """Record a new run as `running` (committed at once) and return its id.

        `command` names what made it (run, stress, reverse, size, sensitivities, sweep, explain:
        lower-case letters, digits and dashes); `label` is the user's (at most the `name_chars`
        bound); `scenario_path` the scenario file's absolute path or built-in:NAME; `options`
        the command's own arguments (JSON)."""
        if not COMMAND.match(command):
            raise StoreError(f"command {command!r} is not a command name (lower-case letters, digits, dashes; at most 32)")
        if label is not None:
            problem = limits().problem("name_chars", len(label), "the label's length")
            if problem is not None:
                raise StoreError(problem)
            label = label.strip() or None
        name = scenario_name if len(scenario_name) <= NAME_COLUMN else scenario_name[: NAME_COLUMN - 1] + "…"
        run = Run(
            scenario_name=name,
            scenario_hash=scenario_hash(scenario_text),
            scenario_text=scenario_text,
            seed=int(seed),
            paths=int(paths),
            version=version,
            started_at=_now(),
            status=RunStatus.RUNNING.value,
            command=command,
            label=label,
            scenario_path=scenario_path,
            options=_plain(dict(options)) if options is not None else None,
        )
        if not 0 <= run.seed <= MAX_RUN_ID or not 0 <= run.paths <= MAX_RUN_ID:
            raise StoreError(f"seed {seed} or paths {paths} is beyond what the store keeps (0 to 2**63 - 1)")
        with database_errors(self.engine), self._session.begin() as session:
            session.add(run)
            session.flush()
            return run.id

    def finish_run(self, run_id: int, result: SimulationResult | Mapping[str, Any],
                   headline: Sequence[Figure] | Mapping[str, Any] | SimulationResult | None = None) -> None:
        """Store the result (`SimulationResult` or any result dict) and mark the run `complete`.
        `headline` is the list of headline figures, or the result-like dict to find them in
        (`headline_figures`); by default the result itself."""
        data = result.to_dict() if isinstance(result, SimulationResult) else _plain(dict(result))
        bad = first_nonfinite(data)
        if bad is not None:
            raise StoreError(f"run {run_id}'s result has a number that is not finite at {'.'.join(bad)}; it is not stored")
        if headline is None:
            figures = headline_figures(data)
        elif isinstance(headline, SimulationResult):
            figures = headline_figures(headline.to_dict())
        elif isinstance(headline, Mapping):
            figures = headline_figures(headline)
        else:
            figures = list(headline)
        self._close_run(run_id, RunStatus.COMPLETE, result=data, error=None, headline=[f.to_dict() for f in figures])

    def fail_run(self, run_id: int, message: str) -> None:
        """Mark a running run `failed` with `message`."""
        self._close_run(run_id, RunStatus.FAILED, result=None, error=message)

    def _close_run(self, run_id: int, status: RunStatus, *, result: dict[str, Any] | None, error: str | None,
                   headline: list[dict[str, Any]] | None = None) -> None:
        values: dict[str, Any] = {"status": status.value, "finished_at": _now(), "result": result, "error": error}
        if headline is not None:
            values["headline"] = headline
        with database_errors(self.engine):
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
    def recording(self, scenario_name: str, scenario_text: str, seed: int, paths: int, version: str, *,
                  command: str = "run", label: str | None = None, scenario_path: str | None = None,
                  options: Mapping[str, Any] | None = None) -> Iterator[RunHandle]:
        """Start a run (see `start_run`); inside the block call `run.complete(result)`. An exception
        (KeyboardInterrupt included) before that marks the run failed and is re-raised; a block
        that ends without a result marks it failed too."""
        handle = RunHandle(self, self.start_run(scenario_name, scenario_text, seed, paths, version, command=command,
                                                label=label, scenario_path=scenario_path, options=options))
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

    def list_runs(self, scenario: str | None = None, limit: int = 50, *, status: str | None = None,
                  command: str | None = None, label: str | None = None) -> list[RunSummary]:
        """Runs newest first, optionally of one scenario name, status, command and/or label, at most `limit`."""
        if status is not None and status not in {s.value for s in RunStatus}:
            raise StoreError(f"status {status!r} is not a run status; give one of: {', '.join(s.value for s in RunStatus)}")
        query = select(*_SUMMARY_COLUMNS).order_by(Run.started_at.desc(), Run.id.desc()).limit(max(0, min(int(limit), MAX_RUN_ID)))
        if scenario is not None:
            query = query.where(Run.scenario_name == scenario)
        if status is not None:
            query = query.where(Run.status == RunStatus(status).value)
        if command is not None:
            query = query.where(Run.command == command)
        if label is not None:
            query = query.where(Run.label == label)
        with database_errors(self.engine), self._read() as session:
            return [RunSummary(**_summary(row._asdict())) for row in session.execute(query)]

    def get_run(self, run_id: int) -> RunRecord:
        """The whole run; `RunNotFoundError` naming the id if there is none."""
        if not isinstance(run_id, int) or not 1 <= run_id <= MAX_RUN_ID:
            raise RunNotFoundError(run_id, self.url)
        with database_errors(self.engine), self._read() as session:
            run = session.get(Run, run_id)
            if run is None:
                raise RunNotFoundError(run_id, self.url)
            return RunRecord(
                id=run.id, scenario_name=run.scenario_name, scenario_hash=run.scenario_hash, seed=run.seed,
                paths=run.paths, version=run.version, started_at=run.started_at, finished_at=run.finished_at,
                status=run.status, error=run.error, command=run.command or "run", label=run.label,
                scenario_path=run.scenario_path, options=run.options, headline=_figures(run.headline),
                scenario_text=run.scenario_text, result=run.result,
            )

    def compare(self, run_a: int, run_b: int, *, sigmas: float = DEFAULT_SIGMAS) -> list[ComparisonRow]:
        """`compare_runs` of two stored runs (difference = b − a); a run without a result (failed,
        running) is a `StoreError` that says so."""
        return compare_runs(self.get_run(run_a), self.get_run(run_b), sigmas=sigmas)


def open_store(url: str | os.PathLike[str] | None = None) -> RunStore:
    """Open (creating or migrating as needed) the run store at `url`; else $MARGINCALL_DB; else the
    SQLite file `$XDG_DATA_HOME/margincall/runs.db` (`~/.local/share/margincall/runs.db`).

    URLs: `sqlite:///path/runs.db`, a plain file path, or `postgresql+psycopg://user@host:port/db`.
    A file that is not a margincall store (another application's database, random bytes, a damaged
    store) is refused with a `StoreError` that names it and says what to do; nothing is written to it.
    """
    resolved = resolve_url(url)
    engine = create_store_engine(resolved)
    try:
        migrate(engine)
    except BaseException:
        engine.dispose()
        raise
    return RunStore(engine)
