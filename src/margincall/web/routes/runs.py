"""Runs: submit any simulating command (run, stress, reverse, size, sensitivities, sweep) with its
options; its status and progress; its JSON result and HTML report; cancel it.

A job is visible to the token that submitted it and, unless it was submitted with
`"private": true`, to every other token. Another token's private job answers 404, like a job
that does not exist. Only the submitting token can cancel a job (403 for the others)."""

from __future__ import annotations

import json
import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, HTTPException, Query, Response, status
from fastapi.responses import HTMLResponse

from margincall.store import JobStatus
from margincall.web._deps import ClientDep, StateDep, StoreDep, WriterDep
from margincall.web._jobs_view import public, visible_job
from margincall.web._reports import job_result, report_html
from margincall.web._schemas import JobCreate, JobList, JobPublic
from margincall.web._submit import submit

router = APIRouter(prefix="/runs", tags=["runs"])
NOT_FOUND = {404: {"description": "No such job, or another token's private job"}}


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=JobPublic,
             summary="Submit a job: any simulating command with its options (it runs outside the request)",
             responses={403: {"description": "A read-only token"},
                        404: {"description": "The scenario named does not exist"},
                        422: {"description": "Bad options or scenario, or over the paths or sweep-points limit"},
                        429: {"description": "The token has as many queued and running jobs as the service allows"}})
def submit_job(job: Annotated[JobCreate, Body()], response: Response, state: StateDep, client: WriterDep) -> JobPublic:
    options: dict[str, Any] = job.model_dump(mode="json", exclude={"scenario", "paths", "seed", "private", "kind"})
    record = submit(state, client, job.kind, job.scenario, options, paths=job.paths, seed=job.seed, private=job.private)
    response.headers["Location"] = f"/runs/{record.id}"
    return public(record, client)


@router.get("", response_model=JobList, summary="Jobs this token sees, newest first, with filters")
def list_jobs(store: StoreDep, client: ClientDep,
              kind: Literal["run", "stress", "reverse", "size", "sensitivities", "sweep", "explain", "monitor"] | None = None,
              status_: Annotated[Literal["queued", "running", "complete", "failed", "cancelled"] | None, Query(alias="status")] = None,
              scenario: Annotated[str | None, Query(max_length=200)] = None,
              mine: bool = False,
              limit: Annotated[int, Query(ge=1, le=500)] = 50,
              offset: Annotated[int, Query(ge=0, lt=2**31)] = 0) -> JobList:
    jobs = store.jobs.list(visible_for=client.id, kind=kind, status=status_, scenario=scenario, mine=mine, limit=limit, offset=offset)
    return JobList(jobs=[public(j, client) for j in jobs], limit=limit, offset=offset)


@router.get("/{job_id}", response_model=JobPublic, summary="A job's status and progress (paths done / total)",
            responses=NOT_FOUND)
def get_job(job_id: int, store: StoreDep, client: ClientDep) -> JobPublic:
    return public(visible_job(store, job_id, client), client)


def _finished(store: StoreDep, job_id: int, client: ClientDep):
    job = visible_job(store, job_id, client)
    if job.status != JobStatus.COMPLETE.value:
        why = f": {job.error}" if job.error else "; try again when it is complete"
        raise HTTPException(status.HTTP_409_CONFLICT, f"job {job_id} is {job.status}, so it has no result{why}")
    return job


@router.get("/{job_id}/result", summary="A complete job's JSON result (a run: the layout of result.json)",
            responses={**NOT_FOUND, 409: {"description": "The job is not complete"},
                       200: {"content": {"application/json": {"schema": {"type": "object"}}}}})
def get_result(job_id: int, store: StoreDep, client: ClientDep) -> Response:
    job = _finished(store, job_id, client)
    # written as it is stored (plain JSON numbers): no per-field encoding of a large result
    return Response(json.dumps(job_result(store, job) or {}, allow_nan=False), media_type="application/json")


@router.get("/{job_id}/report", response_class=HTMLResponse, summary="A complete job's HTML report (offline: no network)",
            responses={**NOT_FOUND, 409: {"description": "The job is not complete"}})
def get_report(job_id: int, store: StoreDep, client: ClientDep) -> HTMLResponse:
    job = _finished(store, job_id, client)
    return HTMLResponse(report_html(store, job), headers={"Cache-Control": "private, max-age=3600"})


@router.post("/{job_id}/cancel", response_model=JobPublic, summary="Cancel a queued or running job",
             responses={**NOT_FOUND, 403: {"description": "Not the token that submitted the job, or a read-only token"},
                        409: {"description": "The job has ended already"}})
def cancel_job(job_id: int, response: Response, state: StateDep, client: WriterDep) -> JobPublic:
    store = state.store
    job = visible_job(store, job_id, client)
    if job.token_id != client.id:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"job {job_id} was submitted by another token; only that token can cancel it")
    if JobStatus(job.status).final:
        raise HTTPException(status.HTTP_409_CONFLICT, f"job {job_id} is {job.status} already: there is nothing to cancel")
    if not store.jobs.cancel(job_id, running=False):
        state.runner.request_cancel(job_id)
        deadline = time.monotonic() + state.settings.cancel_grace_s + 5.0
        while time.monotonic() < deadline:
            if JobStatus(store.jobs.get(job_id).status).final:
                break
            time.sleep(0.1)
    job = store.jobs.get(job_id)
    if not JobStatus(job.status).final:
        response.status_code = status.HTTP_202_ACCEPTED  # asked to stop; it ends shortly
    return public(job, client)
