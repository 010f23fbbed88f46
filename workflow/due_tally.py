"""The open milestones of the projects in progress, counted per programme and due date
(``due_tally``), kept here and only here.

The agency's dashboard shows how many milestones are overdue across the portfolio. Counted
from the milestones, that is every open milestone past its date less those of the projects
not in progress: at 100,000 projects, hundreds of thousands of index entries on each view,
and more each year as ended projects pile up. Here a row per programme and day holds how
many milestones due that day are open in projects in progress; the overdue count is the sum
of the rows due before today (a row per programme and day: a few thousand rows, whatever
the number of projects).

The rule (one home): a milestone is counted on its ``due_on`` (fixed once opened) while it
is not done and its project is in progress (:func:`workflow.progress.in_progress`). The
count changes when, and only when, one of these happens; each writer calls this module in
its own transaction:

- a phase opens milestones in a project in progress (:meth:`workflow.engine.Engine.advance`):
  :func:`opened`;
- a project starts or stops being in progress: created, suspended, resumed, abandoned, a
  terminal phase entered or left (the advance), moved to another definition version
  (:func:`workflow.migration.apply_migration`): :func:`project_enters`, :func:`project_leaves`
  (the project's open milestones, read by its index);
- a milestone is recorded done, or reopened (:mod:`workflow.records`): :func:`milestone_closed`,
  :func:`milestone_reopened`.

:func:`recount` writes the table anew from the milestones (migration 0020, ``bench/``);
:func:`counted` reads it from scratch as the rule says, so tests compare the two.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date
from typing import Any

import sqlalchemy as sa

from workflow import tables
from workflow.database import Raw, raw
from workflow.definition import Definition
from workflow.progress import in_progress_where

__all__ = [
    "counted",
    "milestone_closed",
    "milestone_reopened",
    "opened",
    "overdue",
    "overdue_per_programme",
    "project_enters",
    "project_leaves",
    "recount",
]

_UPSERT = (
    " ON CONFLICT (definition_id, due_on) DO UPDATE"
    " SET open_milestones = due_tally.open_milestones + excluded.open_milestones"
)
_ADD = (
    "INSERT INTO due_tally (definition_id, due_on, open_milestones)"
    " VALUES (:definition_id, :due_on, :n)" + _UPSERT
)
# A project's open milestones, grouped by day, added (sign 1) or taken away (-1).
_SHIFT = (
    "INSERT INTO due_tally (definition_id, due_on, open_milestones)"
    " SELECT project.definition_id, milestone.due_on, :sign * count(*) FROM milestone"
    " JOIN project ON project.id = milestone.project_id"
    " WHERE milestone.project_id = :project_id AND milestone.done_on IS NULL"
    " GROUP BY project.definition_id, milestone.due_on" + _UPSERT
)


def _raw(db: Raw | sa.Connection) -> Raw:
    return db if isinstance(db, Raw) else raw(db)


def opened(db: Raw | sa.Connection, definition_id: str, due: Iterable[date]) -> None:
    """Milestones due on these days were opened in a project in progress of the programme."""
    r = _raw(db)
    r.executemany(
        _ADD,
        [
            {"definition_id": definition_id, "due_on": r.day(day), "n": n}
            for day, n in sorted(Counter(due).items())
        ],
    )


def project_enters(db: Raw | sa.Connection, project_id: int) -> None:
    """The project is now in progress: its open milestones count."""
    _raw(db).execute(_SHIFT, {"sign": 1, "project_id": project_id})


def project_leaves(db: Raw | sa.Connection, project_id: int) -> None:
    """The project is no longer in progress: its open milestones no longer count."""
    _raw(db).execute(_SHIFT, {"sign": -1, "project_id": project_id})


def milestone_closed(db: Raw | sa.Connection, definition_id: str, due_on: date) -> None:
    """A milestone of a project in progress was recorded done."""
    r = _raw(db)
    r.execute(_ADD, {"definition_id": definition_id, "due_on": r.day(due_on), "n": -1})


def milestone_reopened(db: Raw | sa.Connection, definition_id: str, due_on: date) -> None:
    """A milestone of a project in progress was reopened."""
    r = _raw(db)
    r.execute(_ADD, {"definition_id": definition_id, "due_on": r.day(due_on), "n": 1})


def overdue(conn: sa.Connection, today: date, definition_id: str = "") -> int:
    """How many open milestones of projects in progress are past their date (of one
    programme when ``definition_id`` is given)."""
    t = tables.due_tally.c
    where = [t.due_on < today]
    if definition_id:
        where.append(t.definition_id == definition_id)
    found = conn.execute(sa.select(sa.func.sum(t.open_milestones)).where(*where)).scalar()
    return int(found or 0)


def overdue_per_programme(conn: sa.Connection, today: date) -> dict[str, int]:
    """:func:`overdue` for each programme at once (the daily count of the trend)."""
    t = tables.due_tally.c
    return {
        programme: int(n)
        for programme, n in conn.execute(
            sa.select(t.definition_id, sa.func.sum(t.open_milestones))
            .where(t.due_on < today)
            .group_by(t.definition_id)
        )
        if n
    }


def counted(definitions: Iterable[Definition]) -> Any:
    """The rule read from the milestones, for these loaded definitions: ``SELECT
    definition_id, due_on, open_milestones`` of the open milestones of the projects in
    progress (:func:`workflow.progress.in_progress_where`)."""
    m, p = tables.milestone.c, tables.project.c
    return (
        sa.select(p.definition_id, m.due_on, sa.func.count().label("open_milestones"))
        .select_from(tables.milestone.join(tables.project, p.id == m.project_id))
        .where(m.done_on.is_(None), in_progress_where(definitions))
        .group_by(p.definition_id, m.due_on)
    )


def recount(conn: sa.Connection, definitions: Iterable[Definition]) -> None:
    """Write the table anew from the milestones (a migration, a bulk load)."""
    conn.execute(sa.delete(tables.due_tally))
    conn.execute(
        sa.insert(tables.due_tally).from_select(
            ["definition_id", "due_on", "open_milestones"], counted(definitions)
        )
    )
