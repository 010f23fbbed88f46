"""COPIL meetings per project and year, kept beside the meetings (``copil_tally``).

The agency's chart "COPIL meetings planned and held this year, per programme" sums this table
(one row per project and year, its programme on the row, ``ix_copil_tally_year``) instead of
reading every meeting of every project on each view. The rule lives here, once: a project's
COPIL meetings *planned* in a year are those held or still planned, dated that year (a held one
by the day it was held, a planned one by its start, in Paris); *held* are those held.

:func:`refresh_copil_tally` recomputes a project's rows from its meetings, in the transaction
that changed them: a meeting scheduled, moved, cancelled or recorded held
(:mod:`workflow.records`), a series renamed by a definition migration
(:mod:`workflow.migration`).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from workflow import tables
from workflow.calendar import paris_date

__all__ = ["COPIL_SERIES", "refresh_all_copil_tallies", "refresh_copil_tally"]

COPIL_SERIES = "copil"


def _rows(conn: sa.Connection, *where: Any) -> list[dict[str, Any]]:
    """The tally rows of the COPIL meetings matching ``where``."""
    m, p = tables.meeting, tables.project
    found: dict[tuple[int, int], dict[str, Any]] = {}
    for project_id, definition_id, status, held_on, starts_at in conn.execute(
        sa.select(m.c.project_id, p.c.definition_id, m.c.status, m.c.held_on, m.c.starts_at)
        .select_from(m.join(p))
        .where(m.c.series == COPIL_SERIES, m.c.status.in_(["planned", "held"]), *where)
    ):
        day = held_on if held_on is not None else paris_date(starts_at) if starts_at else None
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
    return list(found.values())


def refresh_copil_tally(conn: sa.Connection, project_id: int) -> None:
    """Recompute the project's tally from its meetings (inside the caller's transaction)."""
    rows = _rows(conn, tables.meeting.c.project_id == project_id)
    conn.execute(sa.delete(tables.copil_tally).where(tables.copil_tally.c.project_id == project_id))
    if rows:
        conn.execute(sa.insert(tables.copil_tally), rows)


def refresh_all_copil_tallies(conn: sa.Connection) -> None:
    """Recompute every project's tally (a bulk load, as in bench/dashboard.py)."""
    rows = _rows(conn)
    conn.execute(sa.delete(tables.copil_tally))
    for start in range(0, len(rows), 10_000):
        conn.execute(sa.insert(tables.copil_tally), rows[start : start + 10_000])
