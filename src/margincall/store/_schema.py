"""The store's tables as a typed SQLAlchemy ORM. A change here needs a migration in `migrations/versions`
(tests compare the two)."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, DateTime, Index, Integer, MetaData, String, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

# Constraint names fixed by convention, so that migrations can refer to them (SQLite batch mode needs them).
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class RunStatus(enum.StrEnum):
    RUNNING = "running"
    COMPLETE = "complete"
    FAILED = "failed"


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC datetime on every back end (SQLite keeps naive text: read back as UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("store times must be timezone-aware (UTC)")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Run(Base):
    """One simulation run: what was run, by which code, when, how it ended, and its result."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scenario_name: Mapped[str] = mapped_column(String(200))
    scenario_hash: Mapped[str] = mapped_column(String(64), comment="SHA-256 of scenario_text (UTF-8), hex")
    scenario_text: Mapped[str] = mapped_column(Text, comment="The scenario YAML as run")
    seed: Mapped[int] = mapped_column(BigInteger)
    paths: Mapped[int] = mapped_column(BigInteger)
    version: Mapped[str] = mapped_column(String(64), comment="margincall version that ran it")
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default=RunStatus.RUNNING.value)
    error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None] = mapped_column(
        JSON, comment="SimulationResult.to_dict(), result.json layout"
    )
    command: Mapped[str] = mapped_column(
        String(32), default="run", server_default="run",
        comment="The command that made the run: run, stress, reverse, size, sensitivities, sweep, explain",
    )
    label: Mapped[str | None] = mapped_column(String(200), comment="The user's label for the run (--label)")
    scenario_path: Mapped[str | None] = mapped_column(Text, comment="The scenario file's absolute path, or built-in:NAME")
    options: Mapped[dict[str, Any] | None] = mapped_column(JSON, comment="The command's options: targets, stresses, sweep specs")
    headline: Mapped[list[Any] | None] = mapped_column(JSON, comment="Headline figures: [{path, value, se}]")

    __table_args__ = (
        CheckConstraint("status IN ('running', 'complete', 'failed')", name="status"),
        Index("ix_runs_scenario_name", "scenario_name"),
        Index("ix_runs_scenario_hash", "scenario_hash"),
        Index("ix_runs_started_at", "started_at"),
        Index("ix_runs_label", "label"),
    )
