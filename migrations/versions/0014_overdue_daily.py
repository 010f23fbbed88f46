"""the daily count of what is late, per programme (the dashboard's trend)

``overdue_daily`` holds one row per day (Paris) and programme, written by the due work
(``workflow.overdue_daily``): overdue milestones, missing quarterly reports, late projects,
projects in progress. The trend reads a half-year of it through the unique (day, programme).

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 16:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import workflow.models

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "overdue_daily",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("programme", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("overdue_milestones", sa.Integer(), nullable=False),
        sa.Column("missing_reports", sa.Integer(), nullable=False),
        sa.Column("late_projects", sa.Integer(), nullable=False),
        sa.Column("projects", sa.Integer(), nullable=False),
        sa.Column("recorded_at", workflow.models.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("day", "programme"),
    )


def downgrade() -> None:
    op.drop_table("overdue_daily")
