"""the quarterly reports owed, kept as rows (the dashboard's missing reports)

``owed_report`` holds one row per partner, schedule and period whose ``report_overdue``
reminder is planned, received or not, with the project's and partner's columns the
dashboard filters on; ``ix_owed_report_open`` (the rows not received, by the reminder's
time) serves the missing reports' page and count (``workflow.owed_reports``).

The backfill writes the rows of the reminders planned before, with the same function as
the sweep. Who owes a report is said by the programme definitions: they are read from
``COPILOTE_DEFINITIONS_DIR`` when set (as the service does), else from the shipped
``definitions/`` folder.

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-30 19:20:00
"""

import os
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import workflow.models

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SHIPPED = Path(__file__).resolve().parents[2] / "definitions"


def upgrade() -> None:
    op.create_table(
        "owed_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("schedule", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("period", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("overdue_at", workflow.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("received_at", workflow.models.UtcDateTime(timezone=True), nullable=True),
        sa.Column("definition_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("definition_version", sa.Integer(), nullable=False),
        sa.Column("phase", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("territory", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("project_title", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column(
            "partner_organisation", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False
        ),
        sa.Column("partner_joined_on", sa.Date(), nullable=False),
        sa.Column("partner_left_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["partner_id"], ["partner.id"]),
        sa.ForeignKeyConstraint(["project_id"], ["project.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("project_id", "partner_id", "schedule", "period"),
    )
    op.create_index("ix_owed_report_partner_id", "owed_report", ["partner_id"])
    op.create_index(
        "ix_owed_report_open",
        "owed_report",
        [
            "overdue_at",
            "project_title",
            "partner_organisation",
            "partner_id",
            "definition_id",
            "definition_version",
            "phase",
            "territory",
            "partner_joined_on",
            "partner_left_on",
        ],
        sqlite_where=sa.text("received_at IS NULL"),
        postgresql_where=sa.text("received_at IS NULL"),
    )
    from workflow.loader import load_directory
    from workflow.owed_reports import owe

    folder = os.environ.get("COPILOTE_DEFINITIONS_DIR") or SHIPPED
    owe(op.get_bind(), load_directory(folder))


def downgrade() -> None:
    op.drop_index("ix_owed_report_open", table_name="owed_report")
    op.drop_index("ix_owed_report_partner_id", table_name="owed_report")
    op.drop_table("owed_report")
