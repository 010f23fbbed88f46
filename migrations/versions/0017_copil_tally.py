"""COPIL meetings per project and year, for the agency's chart

``copil_tally``: per project and year, its COPIL meetings planned (held or still planned,
dated that year: a held one by the day it was held, a planned one by its start in Paris) and
held, with the project's programme; ``workflow.copil_tally`` keeps it where meetings are
scheduled, moved, cancelled, held or renamed. The chart sums it through
``ix_copil_tally_year`` instead of reading every meeting. Filled here from the meetings as
they stand.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30 20:00:00
"""

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # the columns name sqlmodel.sql.sqltypes.AutoString
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PARIS = ZoneInfo("Europe/Paris")


def _day(held_on: Any, starts_at: Any) -> date | None:
    # As stored: dates and datetimes on PostgreSQL, ISO text on SQLite (instants in UTC).
    if isinstance(held_on, date):
        return held_on
    if held_on is not None:
        return date.fromisoformat(str(held_on)[:10])
    if starts_at is None:
        return None
    instant = (
        starts_at if isinstance(starts_at, datetime) else datetime.fromisoformat(str(starts_at))
    )
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return instant.astimezone(PARIS).date()


def upgrade() -> None:
    tally = op.create_table(
        "copil_tally",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("definition_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("planned", sa.Integer(), nullable=False),
        sa.Column("held", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["project.id"]),
        sa.PrimaryKeyConstraint("project_id", "year"),
    )
    op.create_index(
        "ix_copil_tally_year", "copil_tally", ["year", "definition_id", "planned", "held"]
    )
    # The rule as it stands at 0017 (a migration does not read code that may change).
    found: dict[tuple[int, int], dict[str, Any]] = {}
    for project_id, definition_id, status, held_on, starts_at in op.get_bind().execute(
        sa.text(
            "SELECT meeting.project_id, project.definition_id, meeting.status,"
            " meeting.held_on, meeting.starts_at FROM meeting"
            " JOIN project ON project.id = meeting.project_id"
            " WHERE meeting.series = 'copil' AND meeting.status IN ('planned', 'held')"
        )
    ):
        day = _day(held_on, starts_at)
        if day is None:
            continue
        row = found.setdefault(
            (project_id, day.year),
            {
                "project_id": project_id,
                "year": day.year,
                "definition_id": definition_id,
                "planned": 0,
                "held": 0,
            },
        )
        row["planned"] += 1
        row["held"] += status == "held"
    rows = list(found.values())
    for start in range(0, len(rows), 10_000):
        op.bulk_insert(tally, rows[start : start + 10_000])


def downgrade() -> None:
    op.drop_index("ix_copil_tally_year", table_name="copil_tally")
    op.drop_table("copil_tally")
