"""open milestones of the projects in progress per programme and due date (the overdue count)

``due_tally`` holds, per programme and day, how many milestones due that day are open in
projects in progress; the dashboard's overdue count sums the rows due before today
(``workflow.due_tally`` keeps it). Filled here from the milestones as they stand. Which
phases end a project is said by the programme definitions: they are read from
``COPILOTE_DEFINITIONS_DIR`` when set (as the service does), else from the shipped
``definitions/`` folder.

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-30 23:40:00
"""

import os
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SHIPPED = Path(__file__).resolve().parents[2] / "definitions"


def upgrade() -> None:
    op.create_table(
        "due_tally",
        sa.Column("definition_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("open_milestones", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("definition_id", "due_on"),
    )
    from workflow.due_tally import recount
    from workflow.loader import load_directory

    folder = os.environ.get("COPILOTE_DEFINITIONS_DIR") or SHIPPED
    recount(op.get_bind(), load_directory(folder))


def downgrade() -> None:
    op.drop_table("due_tally")
