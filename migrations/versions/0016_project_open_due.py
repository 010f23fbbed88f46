"""a project's earliest open milestone on its row, for the dashboard's late projects

``project.open_due``: the earliest due date of the project's milestones not done (NULL when
none is open), kept by ``workflow.lateness`` where milestones open, are done and reopen. The
dashboard then counts and sorts the late projects through ``ix_project_open_due`` (open_due,
then what the in-progress test and the filters read) instead of grouping every open
milestone on each view; ``ix_project_title`` pages the portfolio sorted by title. Filled here
from the milestones as they stand.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30 19:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("project", sa.Column("open_due", sa.Date(), nullable=True))
    # The rule as it stands at 0016 (a migration does not read code that may change).
    op.execute(
        "UPDATE project SET open_due = (SELECT min(milestone.due_on) FROM milestone"
        " WHERE milestone.project_id = project.id AND milestone.done_on IS NULL)"
    )
    op.create_index(
        "ix_project_open_due",
        "project",
        ["open_due", "definition_id", "definition_version", "phase", "territory"],
    )
    op.create_index("ix_project_title", "project", ["title", "id"])


def downgrade() -> None:
    op.drop_index("ix_project_title", table_name="project")
    op.drop_index("ix_project_open_due", table_name="project")
    # Not a batch (SQLite would copy the table and drop the original, which the rows pointing
    # at projects forbid): both databases drop a column in place.
    op.execute("ALTER TABLE project DROP COLUMN open_due")
