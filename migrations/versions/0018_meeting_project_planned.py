"""the projects not in progress and their planned meetings, for the dashboard's counts

``ix_project_phase_definition`` (phase, programme, version, earliest open milestone): the
projects not in progress found from the index alone (the phases where a project rests, then
the exact test on the programme's version), and which of them have a milestone past its date. ``ix_meeting_project_planned`` (project_id, starts_at, planned meetings only): the dashboard
counts the planned meetings of the coming weeks through ``ix_meeting_planned_start`` alone,
then subtracts those of the few projects not in progress (suspended, abandoned, ended), each
read through this index, instead of checking every meeting's project.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30 20:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_project_phase_definition",
        "project",
        ["phase", "definition_id", "definition_version", "open_due"],
    )
    op.create_index(
        "ix_meeting_project_planned",
        "meeting",
        ["project_id", "starts_at"],
        sqlite_where=sa.text("status = 'planned'"),
        postgresql_where=sa.text("status = 'planned'"),
    )


def downgrade() -> None:
    op.drop_index("ix_meeting_project_planned", table_name="meeting")
    op.drop_index("ix_project_phase_definition", table_name="project")
