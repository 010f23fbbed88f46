"""the missing quarterly reports counted as events per programme, version and day

``owed_tally``: each report owed by a partner of a project in progress, not received, adds
+1 on the day it starts being missing and -1 on its partner's leaving day; the dashboard's
count of missing reports sums the days up to today (``workflow.owed_reports`` keeps it).
Filled here from ``owed_report`` as it stands. Which phases end a project is said by the
programme definitions: they are read from ``COPILOTE_DEFINITIONS_DIR`` when set (as the
service does), else from the shipped ``definitions/`` folder.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-01 00:00:00
"""

import os
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SHIPPED = Path(__file__).resolve().parents[2] / "definitions"


def upgrade() -> None:
    op.create_table(
        "owed_tally",
        sa.Column("definition_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("definition_version", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("delta", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("definition_id", "definition_version", "day"),
    )
    from workflow.loader import load_directory
    from workflow.owed_reports import recount

    folder = os.environ.get("COPILOTE_DEFINITIONS_DIR") or SHIPPED
    recount(op.get_bind(), load_directory(folder))


def downgrade() -> None:
    op.drop_table("owed_tally")
