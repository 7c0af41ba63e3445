"""Jobs as clients see them, and the rules of who may see or change one."""

from __future__ import annotations

from fastapi import HTTPException, status

from margincall.store import JobNotFoundError, JobRecord, JobSummary, RunStore, TokenInfo
from margincall.web._schemas import JobPublic, Progress


def public(job: JobSummary, client: TokenInfo) -> JobPublic:
    total = job.progress_total
    fraction = None
    if job.status == "complete":
        fraction = 1.0
    elif total:
        fraction = min(job.progress_done / total, 1.0)
    links = {"self": f"/runs/{job.id}", "result": f"/runs/{job.id}/result", "report": f"/runs/{job.id}/report",
             "cancel": f"/runs/{job.id}/cancel", "page": f"/ui/runs/{job.id}"}
    return JobPublic(
        id=job.id, kind=job.kind, status=job.status, scenario_name=job.scenario_name, scenario_hash=job.scenario_hash,  # type: ignore[arg-type]
        paths=job.paths, seed=job.seed, options=_shown(job.options), private=job.private, mine=job.token_id == client.id,
        progress=Progress(done=job.progress_done, total=total, fraction=fraction), created_at=job.created_at,
        started_at=job.started_at, finished_at=job.finished_at, error=job.error, run_id=job.run_id, links=links,
    )


def _shown(options: dict) -> dict:
    """The options without bulky inputs (a marks file is summarised by its size)."""
    out = dict(options)
    if "marks_csv" in out:
        out["marks_csv"] = f"{len(out['marks_csv'])} characters"
    return out


def visible_job(store: RunStore, job_id: int, client: TokenInfo) -> JobRecord:
    """The job, if this client may see it: 404 for one that does not exist and for another token's
    private job alike (so that ids of private jobs are not revealed)."""
    if not 0 < job_id < 2**31:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no job {job_id}")
    try:
        return store.jobs.get(job_id, visible_for=client.id)
    except JobNotFoundError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no job {job_id} (or it is another token's private job)") from None
