"""Monitoring states (one day's monitor.json) and the alerts they raised, each with its time."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, false, or_, select
from sqlalchemy.orm import Session, sessionmaker

from margincall.store._jobs import Jobs, JobStateError
from margincall.store._schema import Alert, MonitorState
from margincall.store._store_util import now


@dataclass(frozen=True)
class MonitorRecord:
    id: int
    scenario_name: str
    as_of: dt.date
    token_id: int | None
    private: bool
    job_id: int | None
    created_at: dt.datetime
    state: dict[str, Any]


@dataclass(frozen=True)
class AlertRecord:
    id: int
    monitor_id: int
    scenario_name: str
    loan: str
    rule: str
    metric: str
    value: float
    threshold: float
    raised_at: dt.datetime


def _visible(token_id: int | None) -> ColumnElement[bool]:
    if token_id is None:
        return MonitorState.private == false()
    return or_(MonitorState.token_id == token_id, MonitorState.private == false())


def _record(row: MonitorState) -> MonitorRecord:
    return MonitorRecord(row.id, row.scenario_name, row.as_of, row.token_id, row.private, row.job_id, row.created_at, row.state)


class Monitors:
    """Monitoring states and alerts in the run store (see `RunStore.monitors`)."""

    def __init__(self, session: sessionmaker[Session], read: sessionmaker[Session] | None = None):
        self._session = session
        self._read = read or session  # read-only transactions (not holding SQLite's write lock)

    def record(self, scenario_name: str, as_of: dt.date, state: Mapping[str, Any], alerts: Sequence[Mapping[str, Any]], *,
               token_id: int | None = None, private: bool = False, job_id: int | None = None) -> MonitorRecord:
        """Store a monitoring state and its alerts (each a mapping with loan, rule, metric, value,
        threshold, and raised_at, a UTC time; default now) in one transaction."""
        created = now()
        row = MonitorState(scenario_name=scenario_name, as_of=as_of, token_id=token_id, private=private, job_id=job_id,
                           created_at=created, state=dict(state))
        with self._session.begin() as session:
            if job_id is not None:  # the job completes with its state, or neither is recorded
                if not Jobs(self._session).finish_in(session, job_id, state):
                    raise JobStateError(f"job {job_id} is not running: its monitoring state is not recorded")
            session.add(row)
            session.flush()
            for alert in alerts:
                raised = alert.get("raised_at")
                if isinstance(raised, str):
                    raised = dt.datetime.fromisoformat(raised)
                session.add(Alert(monitor_id=row.id, scenario_name=scenario_name, loan=str(alert["loan"]),
                                  rule=str(alert["rule"]), metric=str(alert["metric"]), value=float(alert["value"]),
                                  threshold=float(alert["threshold"]), raised_at=raised or created))
            return _record(row)

    def latest(self, *, visible_for: int | None | bool = True, scenario: str | None = None) -> MonitorRecord | None:
        """The newest monitoring state (of one scenario name, if given)."""
        query = select(MonitorState).order_by(MonitorState.id.desc()).limit(1)
        if visible_for is not True:
            query = query.where(_visible(visible_for if isinstance(visible_for, int) else None))
        if scenario is not None:
            query = query.where(MonitorState.scenario_name == scenario)
        with self._read() as session:
            row = session.execute(query).scalar_one_or_none()
            return None if row is None else _record(row)

    def alerts(self, *, visible_for: int | None | bool = True, scenario: str | None = None, monitor_id: int | None = None,
               limit: int = 100) -> list[AlertRecord]:
        """Alerts newest first."""
        query = (select(Alert).join(MonitorState, Alert.monitor_id == MonitorState.id)
                 .order_by(Alert.raised_at.desc(), Alert.id.desc()).limit(limit))
        if visible_for is not True:
            query = query.where(_visible(visible_for if isinstance(visible_for, int) else None))
        if scenario is not None:
            query = query.where(Alert.scenario_name == scenario)
        if monitor_id is not None:
            query = query.where(Alert.monitor_id == monitor_id)
        with self._read() as session:
            return [AlertRecord(a.id, a.monitor_id, a.scenario_name, a.loan, a.rule, a.metric, a.value, a.threshold, a.raised_at)
                    for a in session.execute(query).scalars()]
