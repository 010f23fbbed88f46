"""reminder occasion columns, milestone completions

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 10:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import workflow.models

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("reminder") as batch:
        batch.add_column(
            sa.Column("schedule", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch.add_column(
            sa.Column("period", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True)
        )
        batch.add_column(
            sa.Column("step", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True)
        )
    op.create_table(
        "milestone_completion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("milestone_id", sa.Integer(), nullable=False),
        sa.Column("done_on", sa.Date(), nullable=False),
        sa.Column("done_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("deliverable_ref", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("comment", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("recorded_at", workflow.models.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["milestone_id"], ["milestone.id"]),
        sa.ForeignKeyConstraint(["project_id"], ["project.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_milestone_completion_milestone_id"),
        "milestone_completion",
        ["milestone_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_milestone_completion_project_id"),
        "milestone_completion",
        ["project_id"],
        unique=False,
    )
    # Milestones recorded done before this revision: their one completion, as it stands.
    op.execute(
        "INSERT INTO milestone_completion"
        " (project_id, milestone_id, done_on, done_by, deliverable_ref, comment, recorded_at)"
        " SELECT project_id, id, done_on, COALESCE(done_by, ''), deliverable_ref, NULL,"
        " CURRENT_TIMESTAMP FROM milestone WHERE done_on IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_milestone_completion_project_id"), table_name="milestone_completion")
    op.drop_index(op.f("ix_milestone_completion_milestone_id"), table_name="milestone_completion")
    op.drop_table("milestone_completion")
    with op.batch_alter_table("reminder") as batch:
        batch.drop_column("step")
        batch.drop_column("period")
        batch.drop_column("schedule")
