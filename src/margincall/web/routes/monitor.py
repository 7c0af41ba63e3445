"""Monitoring: post today's marks (a job that applies them to a scenario's book and runs the short
simulation), get the newest state, list the alerts raised."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Response, status

from margincall.analysis.alerts import AlertRuleError, check_rule_loans, parse_rule
from margincall.analysis.marks import MarksError, check_assets, latest_date, read_marks
from margincall.web._deps import ClientDep, StateDep, StoreDep, WriterDep
from margincall.web._jobs_view import public
from margincall.web._scenarios import resolve
from margincall.web._schemas import AlertPublic, JobPublic, MarksCreate, MonitorStatePublic
from margincall.web._submit import submit

router = APIRouter(prefix="/monitor", tags=["monitor"])


@router.post("/marks", status_code=status.HTTP_202_ACCEPTED, response_model=JobPublic,
             summary="Apply today's marks to a scenario's book: a monitor job (GET /monitor/state when it is complete)",
             responses={403: {"description": "A read-only token"}, 422: {"description": "A bad marks file, rule or scenario"},
                        429: {"description": "Too many queued and running jobs for this token"}})
def post_marks(body: MarksCreate, response: Response, state: StateDep, client: WriterDep) -> JobPublic:
    resolved = resolve(body.scenario, state.store, client)
    try:
        marks = read_marks(body.marks_csv)
        as_of = body.as_of or latest_date(marks)
        check_assets(marks, resolved.scenario.asset_ids, as_of)
        check_rule_loans([parse_rule(r) for r in body.alerts], list(resolved.scenario.loans))
    except (MarksError, AlertRuleError) as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    start = resolved.scenario.start_date
    if start is not None and as_of < start:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"as_of {as_of} is before the scenario's start_date {start}")
    options = {"marks_csv": body.marks_csv, "as_of": as_of.isoformat(), "alerts": list(body.alerts), "cash": body.cash}
    job = submit(state, client, "monitor", body.scenario, options, paths=body.paths, seed=body.seed, private=body.private)
    response.headers["Location"] = f"/runs/{job.id}"
    return public(job, client)


@router.get("/state", response_model=MonitorStatePublic, summary="The newest monitoring state (of a scenario, if named)",
            responses={404: {"description": "No monitoring yet"}})
def get_state(store: StoreDep, client: ClientDep, scenario: Annotated[str | None, Query(max_length=200)] = None) -> MonitorStatePublic:
    record = store.monitors.latest(visible_for=client.id, scenario=scenario)
    if record is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no monitoring yet: POST today's marks to /monitor/marks")
    return MonitorStatePublic(id=record.id, scenario_name=record.scenario_name, as_of=record.as_of, created_at=record.created_at,
                              job_id=record.job_id, state=record.state)


@router.get("/alerts", response_model=list[AlertPublic], summary="Alerts raised, newest first, each with its time")
def get_alerts(store: StoreDep, client: ClientDep, scenario: Annotated[str | None, Query(max_length=200)] = None,
               monitor_id: Annotated[int | None, Query(ge=1, lt=2**31)] = None,
               limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[AlertPublic]:
    return [AlertPublic(**a.__dict__) for a in store.monitors.alerts(visible_for=client.id, scenario=scenario,
                                                                      monitor_id=monitor_id, limit=limit)]


