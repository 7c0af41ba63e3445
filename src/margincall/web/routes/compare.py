"""Compare two complete jobs: every figure with a standard error, B - A, and whether the difference
is beyond `sigmas` combined standard errors."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status

from margincall.store import compare_runs
from margincall.web._deps import ClientDep, StoreDep
from margincall.web._jobs_view import visible_job
from margincall.web._reports import job_result
from margincall.web._schemas import Comparison, ComparisonRowPublic

router = APIRouter(tags=["compare"])


@router.get("/compare", response_model=Comparison, summary="Two complete jobs side by side (difference = b - a)",
            responses={404: {"description": "A job that does not exist or is another token's private job"},
                       409: {"description": "A job that is not complete, or a monitor job"}})
def compare(store: StoreDep, client: ClientDep, a: Annotated[int, Query(ge=1, lt=2**31)],
            b: Annotated[int, Query(ge=1, lt=2**31)],
            sigmas: Annotated[float, Query(gt=0.0, le=100.0, description="Flag differences beyond this many combined SEs")] = 3.0
            ) -> Comparison:
    results = []
    jobs = []
    for job_id in (a, b):
        job = visible_job(store, job_id, client)
        if job.run_id is None or job.status != "complete":
            raise HTTPException(status.HTTP_409_CONFLICT, f"job {job_id} is a {job.status} {job.kind} job; compare takes two "
                                "complete jobs that simulate (run, stress, sweep, ...)")
        results.append(job_result(store, job) or {})
        jobs.append(job)
    rows = [ComparisonRowPublic(**{**row.__dict__, "path": list(row.path)}) for row in compare_runs(results[0], results[1], sigmas=sigmas)]
    return Comparison(a=a, b=b, sigmas=sigmas, same_scenario=jobs[0].scenario_hash == jobs[1].scenario_hash, rows=rows)
