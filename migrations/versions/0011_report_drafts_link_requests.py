"""report drafts (what a partner typed in a report form and saved without sending it) and
meeting agendas

One row per partner, report schedule and period (the report a personal link is for); it is
removed when the report is sent. New links asked for from an expired one are outbox
messages (kind ``answer_link``), counted there: no table of their own. ``meeting.agenda``
is the order of business an invitation shows (empty for the meetings recorded before).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 13:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # the columns name sqlmodel.sql.sqltypes.AutoString
from alembic import op

import workflow.models

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "report_draft",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("schedule", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("period", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("saved_at", workflow.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["partner_id"], ["partner.id"]),
        sa.ForeignKeyConstraint(["project_id"], ["project.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("project_id", "partner_id", "schedule", "period"),
    )
    with op.batch_alter_table("report_draft") as batch:
        batch.create_index(batch.f("ix_report_draft_project_id"), ["project_id"], unique=False)
    with op.batch_alter_table("meeting") as batch:
        batch.add_column(
            sa.Column(
                "agenda", sqlmodel.sql.sqltypes.AutoString(), server_default="", nullable=False
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("meeting") as batch:
        batch.drop_column("agenda")
    with op.batch_alter_table("report_draft") as batch:
        batch.drop_index(batch.f("ix_report_draft_project_id"))
    op.drop_table("report_draft")
