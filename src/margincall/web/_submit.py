"""Queueing a job: resolve its scenario, check its options and the service's limits, store it,
wake the runner. Every refusal is a 4xx that says what to change."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, status

from margincall.errors import MarginCallError
from margincall.store import JobLimitError, JobRecord, TokenInfo
from margincall.web._deps import LimitError, ServiceState
from margincall.web._scenarios import resolve
from margincall.web._schemas import ScenarioSource
from margincall.web._work import planned_paths


def submit(state: ServiceState, client: TokenInfo, kind: str, source: ScenarioSource, options: dict[str, Any], *,
           paths: int, seed: int, private: bool) -> JobRecord:
    settings = state.settings
    if paths > settings.max_paths:
        raise LimitError(status.HTTP_422_UNPROCESSABLE_CONTENT,
                         f"paths {paths:,} is above this service's limit of {settings.max_paths:,} paths per simulation", "max_paths")
    if options.get("antithetic") and paths % 2:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"antithetic paths come in pairs: give an even path count, not {paths}")
    resolved = resolve(source, state.store, client)
    options = {**options, "scenario_source": (f"built-in:{source.builtin}" if source.builtin is not None
                                              else f"uploaded:{source.id}" if source.id is not None else "inline")}
    try:
        total = planned_paths(kind, resolved.scenario, options, paths)
    except MarginCallError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    if kind == "sweep" and total is not None and total // paths > settings.max_sweep_points:
        raise LimitError(status.HTTP_422_UNPROCESSABLE_CONTENT,
                         f"the sweep has {total // paths:,} points; this service's limit is {settings.max_sweep_points:,}",
                         "max_sweep_points")
    try:
        job = state.store.jobs.submit(kind, scenario_name=resolved.name, scenario_text=resolved.text, options=options,
                                      paths=paths, seed=seed, progress_total=total, token_id=client.id, private=private,
                                      active_limit=settings.max_active_jobs)
    except JobLimitError as exc:
        raise LimitError(status.HTTP_429_TOO_MANY_REQUESTS,
                         f"this token has {exc.active} jobs queued or running, the most this service allows "
                         f"({exc.limit}); wait for one to finish or cancel one", "max_active_jobs") from None
    state.runner.notify()
    return job
