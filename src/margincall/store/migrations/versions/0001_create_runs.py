"""Create the runs table.

Revision ID: 0001
Revises:
Create Date: 2026-01-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("scenario_name", sa.String(200), nullable=False),
        sa.Column("scenario_hash", sa.String(64), nullable=False, comment="SHA-256 of scenario_text (UTF-8), hex"),
        sa.Column("scenario_text", sa.Text(), nullable=False, comment="The scenario YAML as run"),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("paths", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.String(64), nullable=False, comment="margincall version that ran it"),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True, comment="SimulationResult.to_dict(), result.json layout"),
        sa.CheckConstraint("status IN ('running', 'complete', 'failed')", name=op.f("ck_runs_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runs")),
    )
    op.create_index("ix_runs_scenario_name", "runs", ["scenario_name"])
    op.create_index("ix_runs_scenario_hash", "runs", ["scenario_hash"])
    op.create_index("ix_runs_started_at", "runs", ["started_at"])


def downgrade() -> None:
    op.drop_index("ix_runs_started_at", table_name="runs")
    op.drop_index("ix_runs_scenario_hash", table_name="runs")
    op.drop_index("ix_runs_scenario_name", table_name="runs")
    op.drop_table("runs")
