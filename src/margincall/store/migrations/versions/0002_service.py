"""The service's tables: tokens, uploaded scenarios, jobs, monitoring states and alerts.

Revision ID: 0002_service
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_service"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _time(name: str, nullable: bool) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "tokens",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(100), nullable=False, comment="Who or what holds the token"),
        sa.Column("token_hash", sa.String(64), nullable=False, comment="SHA-256 of the token (UTF-8), hex"),
        sa.Column("read_only", sa.Boolean(), nullable=False),
        _time("created_at", False),
        _time("last_used_at", True),
        _time("revoked_at", True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tokens")),
    )
    op.create_index("ix_tokens_name", "tokens", ["name"], unique=True)
    op.create_index("ix_tokens_token_hash", "tokens", ["token_hash"], unique=True)

    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False, comment="run, stress, reverse, size, sensitivities, sweep or monitor"),
        sa.Column("token_id", sa.Integer(), nullable=True),
        sa.Column("private", sa.Boolean(), nullable=False),
        sa.Column("scenario_name", sa.String(200), nullable=False),
        sa.Column("scenario_hash", sa.String(64), nullable=False, comment="SHA-256 of scenario_text (UTF-8), hex"),
        sa.Column("scenario_text", sa.Text(), nullable=False, comment="The scenario YAML as run"),
        sa.Column("options", sa.JSON(), nullable=False, comment="The command's options"),
        sa.Column("paths", sa.BigInteger(), nullable=False, comment="Paths of each simulation"),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("progress_done", sa.BigInteger(), nullable=False, comment="Paths simulated so far"),
        sa.Column("progress_total", sa.BigInteger(), nullable=True, comment="Paths in all (None: not known ahead)"),
        _time("created_at", False),
        _time("started_at", True),
        _time("finished_at", True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True, comment="The command's JSON output (run: see run_id)"),
        sa.Column("run_id", sa.Integer(), nullable=True, comment="The run-store record of a run job"),
        sa.CheckConstraint("status IN ('queued', 'running', 'complete', 'failed', 'cancelled')", name=op.f("ck_jobs_status")),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name=op.f("fk_jobs_run_id_runs")),
        sa.ForeignKeyConstraint(["token_id"], ["tokens.id"], name=op.f("fk_jobs_token_id_tokens")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    op.create_index("ix_jobs_created_at", "jobs", ["created_at"])
    op.create_index("ix_jobs_status", "jobs", ["status"])
    op.create_index("ix_jobs_token_id", "jobs", ["token_id"])

    op.create_table(
        "scenarios",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("scenario_hash", sa.String(64), nullable=False, comment="SHA-256 of text (UTF-8), hex"),
        sa.Column("text", sa.Text(), nullable=False, comment="The scenario YAML"),
        sa.Column("token_id", sa.Integer(), nullable=True),
        sa.Column("private", sa.Boolean(), nullable=False),
        _time("created_at", False),
        sa.ForeignKeyConstraint(["token_id"], ["tokens.id"], name=op.f("fk_scenarios_token_id_tokens")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scenarios")),
    )
    op.create_index("ix_scenarios_token_id", "scenarios", ["token_id"])

    op.create_table(
        "monitor_states",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("scenario_name", sa.String(200), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=True),
        sa.Column("private", sa.Boolean(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=True),
        _time("created_at", False),
        sa.Column("state", sa.JSON(), nullable=False, comment="monitor.json"),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name=op.f("fk_monitor_states_job_id_jobs")),
        sa.ForeignKeyConstraint(["token_id"], ["tokens.id"], name=op.f("fk_monitor_states_token_id_tokens")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor_states")),
    )
    op.create_index("ix_monitor_states_created_at", "monitor_states", ["created_at"])

    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("monitor_id", sa.Integer(), nullable=False),
        sa.Column("scenario_name", sa.String(200), nullable=False),
        sa.Column("loan", sa.String(200), nullable=False),
        sa.Column("rule", sa.String(200), nullable=False, comment="The rule as given, e.g. headroom<10%"),
        sa.Column("metric", sa.String(64), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        _time("raised_at", False),
        sa.ForeignKeyConstraint(["monitor_id"], ["monitor_states.id"], name=op.f("fk_alerts_monitor_id_monitor_states")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
    )
    op.create_index("ix_alerts_monitor_id", "alerts", ["monitor_id"])
    op.create_index("ix_alerts_raised_at", "alerts", ["raised_at"])


def downgrade() -> None:
    for index, table in (("ix_alerts_raised_at", "alerts"), ("ix_alerts_monitor_id", "alerts")):
        op.drop_index(index, table_name=table)
    op.drop_table("alerts")
    op.drop_index("ix_monitor_states_created_at", table_name="monitor_states")
    op.drop_table("monitor_states")
    op.drop_index("ix_scenarios_token_id", table_name="scenarios")
    op.drop_table("scenarios")
    for index in ("ix_jobs_token_id", "ix_jobs_status", "ix_jobs_created_at"):
        op.drop_index(index, table_name="jobs")
    op.drop_table("jobs")
    for index in ("ix_tokens_token_hash", "ix_tokens_name"):
        op.drop_index(index, table_name="tokens")
    op.drop_table("tokens")
