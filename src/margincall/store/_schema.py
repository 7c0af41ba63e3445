"""The store's tables as a typed SQLAlchemy ORM. A change here needs a migration in `migrations/versions`
(tests compare the two)."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
)
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


class JobStatus(enum.StrEnum):
    """A service job's life: queued -> running -> complete | failed | cancelled (queued may go
    straight to failed or cancelled). The last three are final."""

    QUEUED = "queued"
    RUNNING = "running"
    COMPLETE = "complete"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def final(self) -> bool:
        return self in (JobStatus.COMPLETE, JobStatus.FAILED, JobStatus.CANCELLED)


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


class Token(Base):
    """A client of the service. Only the SHA-256 of the token is kept; the token itself is shown once."""

    __tablename__ = "tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), comment="Who or what holds the token")
    token_hash: Mapped[str] = mapped_column(String(64), comment="SHA-256 of the token (UTF-8), hex")
    read_only: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_tokens_token_hash", "token_hash", unique=True),
        Index("ix_tokens_name", "name", unique=True),
    )


class StoredScenario(Base):
    """A scenario uploaded to the service (YAML text as sent, validated when uploaded)."""

    __tablename__ = "scenarios"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    scenario_hash: Mapped[str] = mapped_column(String(64), comment="SHA-256 of text (UTF-8), hex")
    text: Mapped[str] = mapped_column(Text, comment="The scenario YAML")
    token_id: Mapped[int | None] = mapped_column(ForeignKey("tokens.id"))
    private: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_scenarios_token_id", "token_id"),)


class Job(Base):
    """Work submitted to the service: a simulating command with its options, run outside the request."""

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32), comment="run, stress, reverse, size, sensitivities, sweep or monitor")
    token_id: Mapped[int | None] = mapped_column(ForeignKey("tokens.id"))
    private: Mapped[bool] = mapped_column(Boolean, default=False)
    scenario_name: Mapped[str] = mapped_column(String(200))
    scenario_hash: Mapped[str] = mapped_column(String(64), comment="SHA-256 of scenario_text (UTF-8), hex")
    scenario_text: Mapped[str] = mapped_column(Text, comment="The scenario YAML as run")
    options: Mapped[dict[str, Any]] = mapped_column(JSON, comment="The command's options")
    paths: Mapped[int] = mapped_column(BigInteger, comment="Paths of each simulation")
    seed: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.QUEUED.value)
    progress_done: Mapped[int] = mapped_column(BigInteger, default=0, comment="Paths simulated so far")
    progress_total: Mapped[int | None] = mapped_column(BigInteger, comment="Paths in all (None: not known ahead)")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, comment="The command's JSON output (run: see run_id)")
    run_id: Mapped[int | None] = mapped_column(ForeignKey("runs.id"), comment="The run-store record of a run job")

    __table_args__ = (
        CheckConstraint("status IN ('queued', 'running', 'complete', 'failed', 'cancelled')", name="status"),
        Index("ix_jobs_status", "status"),
        Index("ix_jobs_token_id", "token_id"),
        Index("ix_jobs_created_at", "created_at"),
    )


class MonitorState(Base):
    """One day's monitoring of a scenario's book against today's marks (monitor.json)."""

    __tablename__ = "monitor_states"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scenario_name: Mapped[str] = mapped_column(String(200))
    as_of: Mapped[dt.date] = mapped_column(Date)
    token_id: Mapped[int | None] = mapped_column(ForeignKey("tokens.id"))
    private: Mapped[bool] = mapped_column(Boolean, default=False)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    state: Mapped[dict[str, Any]] = mapped_column(JSON, comment="monitor.json")

    __table_args__ = (Index("ix_monitor_states_created_at", "created_at"),)


class Alert(Base):
    """A loan that crossed a user-set threshold in a monitoring, with the time it was raised."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    monitor_id: Mapped[int] = mapped_column(ForeignKey("monitor_states.id"))
    scenario_name: Mapped[str] = mapped_column(String(200))
    loan: Mapped[str] = mapped_column(String(200))
    rule: Mapped[str] = mapped_column(String(200), comment="The rule as given, e.g. headroom<10%")
    metric: Mapped[str] = mapped_column(String(64))
    value: Mapped[float] = mapped_column(Float)
    threshold: Mapped[float] = mapped_column(Float)
    raised_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_alerts_raised_at", "raised_at"), Index("ix_alerts_monitor_id", "monitor_id"))
