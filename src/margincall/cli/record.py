"""Recording a command's run in the run store, the same way for every simulating command.

    with recorded("stress", loaded, seed=seed, paths=paths, store=store, db=db, label=label,
                  options={"stresses": names}) as rec:
        ... simulate ...
        rec.complete(run.to_dict(), headline=run.base)   # says "stored as run N in URL"

The store is opened before any simulation (a bad --db fails at once). The run is `running` from
the start, `complete` once `complete` is called, and `failed` when the block raises or is
interrupted. Under `--no-store` nothing is opened and nothing about recording is said.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from rich.console import Console

from margincall._version import __version__
from margincall.analysis.loading import LoadedScenario


class Recorder:
    """The run being recorded; `active` is False under --no-store (then `complete` does nothing)."""

    def __init__(self, handle: Any | None, console: Console):
        self._handle = handle
        self._console = console

    @property
    def active(self) -> bool:
        return self._handle is not None

    @property
    def id(self) -> int | None:
        return None if self._handle is None else self._handle.id

    def complete(self, result: Any, headline: Sequence[Any] | Mapping[str, Any] | Any | None = None) -> None:
        """Store `result` (a `SimulationResult` or a result dict) with its headline figures (or the
        result-like dict to find them in), and say where."""
        if self._handle is None:
            return
        self._handle.complete(result, headline=headline)
        self._console.print(f"stored as run {self._handle.id} in {self._handle.url}", highlight=False)


@contextlib.contextmanager
def recorded(command: str, loaded: LoadedScenario, *, seed: int, paths: int, store: bool, db: str | None,
             label: str | None = None, options: Mapping[str, Any] | None = None,
             console: Console | None = None) -> Iterator[Recorder]:
    """Record `command` on the scenario `loaded` (its text, path and hash) in the store at `db`
    (unless `store` is False). `explain` records itself the same way."""
    if console is None:
        from margincall.cli.main import console as main_console

        console = main_console
    if not store:
        yield Recorder(None, console)
        return
    from margincall.store import open_store

    with open_store(db) as run_store, run_store.recording(
        loaded.scenario.name or "scenario", loaded.text, seed, paths, __version__, command=command, label=label,
        scenario_path=loaded.path, options=options,
    ) as handle:
        yield Recorder(handle, console)
