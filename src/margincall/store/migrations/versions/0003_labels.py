"""Record every simulating command: the command, a label, the scenario file's path, the options and headline figures.

Revision ID: 0003_labels
Revises: 0002_service
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_labels"
down_revision: str | Sequence[str] | None = "0002_service"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column(
            "command", sa.String(32), nullable=False, server_default="run",
            comment="The command that made the run: run, stress, reverse, size, sensitivities, sweep, explain",
        ))
        batch.add_column(sa.Column("label", sa.String(200), nullable=True, comment="The user's label for the run (--label)"))
        batch.add_column(sa.Column("scenario_path", sa.Text(), nullable=True,
                                   comment="The scenario file's absolute path, or built-in:NAME"))
        batch.add_column(sa.Column("options", sa.JSON(), nullable=True,
                                   comment="The command's options: targets, stresses, sweep specs"))
        batch.add_column(sa.Column("headline", sa.JSON(), nullable=True, comment="Headline figures: [{path, value, se}]"))
    op.create_index("ix_runs_label", "runs", ["label"])


def downgrade() -> None:
    op.drop_index("ix_runs_label", table_name="runs")
    with op.batch_alter_table("runs") as batch:
        for column in ("headline", "options", "scenario_path", "label", "command"):
            batch.drop_column(column)
