"""Errors of the run store."""

from __future__ import annotations

from margincall.errors import MarginCallError


class StoreError(MarginCallError):
    """The run store cannot do what was asked: it cannot be opened, its schema is newer than this
    margincall, or a run is not in the state the call needs."""


class RunNotFoundError(StoreError, LookupError):
    """No run with the id asked for."""

    def __init__(self, run_id: int, url: str):
        self.run_id = run_id
        super().__init__(f"no run {run_id} in the store {url}; `margincall runs` lists the runs it holds")


class ResultFormatError(MarginCallError, ValueError):
    """A stored result (result.json layout) that cannot be turned back into a `SimulationResult`."""
