"""Scenarios uploaded to the service: the YAML text as sent (validated before it is stored)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, false, or_, select
from sqlalchemy.orm import Session, sessionmaker

from margincall.store._errors import StoreError
from margincall.store._schema import StoredScenario
from margincall.store._store_util import now, scenario_hash


class ScenarioNotFoundError(StoreError, LookupError):
    """No uploaded scenario with that id (or none that this client may see)."""

    def __init__(self, scenario_id: int):
        self.scenario_id = scenario_id
        super().__init__(f"no uploaded scenario {scenario_id}")


@dataclass(frozen=True)
class ScenarioSummary:
    id: int
    name: str
    scenario_hash: str
    token_id: int | None
    private: bool
    created_at: dt.datetime


@dataclass(frozen=True)
class ScenarioRecord(ScenarioSummary):
    text: str


def _visible(token_id: int | None) -> ColumnElement[bool]:
    if token_id is None:
        return StoredScenario.private == false()
    return or_(StoredScenario.token_id == token_id, StoredScenario.private == false())


_SUMMARY = (StoredScenario.id, StoredScenario.name, StoredScenario.scenario_hash, StoredScenario.token_id,
            StoredScenario.private, StoredScenario.created_at)


class Scenarios:
    """Uploaded scenarios in the run store (see `RunStore.scenarios`)."""

    def __init__(self, session: sessionmaker[Session], read: sessionmaker[Session] | None = None):
        self._session = session
        self._read = read or session  # read-only transactions (not holding SQLite's write lock)

    def add(self, name: str, text: str, *, token_id: int | None = None, private: bool = False) -> ScenarioRecord:
        row = StoredScenario(name=name, scenario_hash=scenario_hash(text), text=text, token_id=token_id, private=private,
                             created_at=now())
        with self._session.begin() as session:
            session.add(row)
            session.flush()
            return ScenarioRecord(row.id, row.name, row.scenario_hash, row.token_id, row.private, row.created_at, row.text)

    def get(self, scenario_id: int, *, visible_for: int | None | bool = True) -> ScenarioRecord:
        query = select(StoredScenario).where(StoredScenario.id == scenario_id)
        if visible_for is not True:
            query = query.where(_visible(visible_for if isinstance(visible_for, int) else None))
        with self._read() as session:
            row = session.execute(query).scalar_one_or_none()
            if row is None:
                raise ScenarioNotFoundError(scenario_id)
            return ScenarioRecord(row.id, row.name, row.scenario_hash, row.token_id, row.private, row.created_at, row.text)

    def list(self, *, visible_for: int | None | bool = True, name: str | None = None, limit: int = 100,
             offset: int = 0) -> list[ScenarioSummary]:
        query = select(*_SUMMARY).order_by(StoredScenario.id.desc()).limit(limit).offset(offset)
        if visible_for is not True:
            query = query.where(_visible(visible_for if isinstance(visible_for, int) else None))
        if name is not None:
            query = query.where(StoredScenario.name == name)
        with self._read() as session:
            return [ScenarioSummary(**row._asdict()) for row in session.execute(query)]
