"""dashboard indexes: counts per phase, failing projects, open milestones by project,
meetings ahead, reports' overdue reminders

The agency's dashboard at 100,000 projects: ``ix_project_definition_phase`` serves the
counts per programme and phase from the index alone; ``ix_project_failed_at`` the few
failing projects; ``ix_milestone_open_project`` a page of projects' open milestones (next
deadline, overdue count); ``ix_meeting_planned_start`` (planned meetings by start) pages
the meetings of the coming weeks without reading the meeting table;
``ix_reminder_report_overdue`` reads the reports' overdue reminders only, out of the ~4
reminders a milestone the planner writes and never deletes, and covers what the missing
reports read of them (project, schedule, period: no probe into the 4,000,000-row table);
``ix_partner_project_active`` the partners' dates (and on PostgreSQL roles and name).

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_project_definition_phase", "project", ["definition_id", "phase"])
    op.create_index(
        "ix_project_failed_at",
        "project",
        ["failed_at"],
        sqlite_where=sa.text("failed_at IS NOT NULL"),
        postgresql_where=sa.text("failed_at IS NOT NULL"),
    )
    op.create_index(
        "ix_milestone_open_project",
        "milestone",
        ["project_id", "due_on"],
        sqlite_where=sa.text("done_on IS NULL"),
        postgresql_where=sa.text("done_on IS NULL"),
    )
    op.create_index(
        "ix_meeting_planned_start",
        "meeting",
        ["starts_at", "project_id"],
        sqlite_where=sa.text("status = 'planned'"),
        postgresql_where=sa.text("status = 'planned'"),
    )
    op.create_index(
        "ix_reminder_report_overdue",
        "reminder",
        # ``kind`` last: SQLite reads a partial index as covering only when it holds every
        # column the query names, its WHERE's included.
        ["due_at", "project_id", "schedule", "period", "kind"],
        sqlite_where=sa.text("kind = 'report_overdue'"),
        postgresql_where=sa.text("kind = 'report_overdue'"),
    )
    # The partners of a project as the missing reports filter them. ``roles`` is JSON:
    # PostgreSQL has no b-tree order for it, so it rides as an INCLUDE column there.
    op.create_index(
        "ix_partner_project_active",
        "partner",
        ["project_id", "joined_on", "left_on"],
        postgresql_include=["roles", "organisation", "id"],
    )


def downgrade() -> None:
    op.drop_index("ix_partner_project_active", table_name="partner")
    op.drop_index("ix_reminder_report_overdue", table_name="reminder")
    op.drop_index("ix_meeting_planned_start", table_name="meeting")
    op.drop_index("ix_milestone_open_project", table_name="milestone")
    op.drop_index("ix_project_failed_at", table_name="project")
    op.drop_index("ix_project_definition_phase", table_name="project")
