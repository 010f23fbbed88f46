"""A project's earliest open milestone, kept on the project row (``project.open_due``).

The agency's dashboard sorts 100,000 projects by days late and counts the late ones; both read
``open_due`` through ``ix_project_open_due`` instead of grouping every open milestone of every
project on each view. The rule lives here, once: ``open_due`` is the earliest ``due_on`` of the
project's milestones not done (NULL when none is open). It changes only when a milestone opens
(:meth:`workflow.engine.Engine` opening a phase's milestones: an advance lowers it with
:data:`LOWER_OPEN_DUE` in the phase's UPDATE, a new project or a migration refreshes it), is
recorded done, or is reopened (:mod:`workflow.records`); each of them writes it in its own
transaction.
A milestone's due date never changes once opened.

A project is late on a day when it is in progress (:func:`workflow.progress.in_progress`) and
``open_due`` is before that day: its days late count from ``open_due``.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from workflow.database import Raw

__all__ = ["LOWER_OPEN_DUE", "refresh_all_open_due", "refresh_open_due"]

LOWER_OPEN_DUE = (
    # each use of the parameter sits beside the column, so PostgreSQL types it as a date
    "COALESCE(CASE WHEN :opened_due < open_due THEN :opened_due ELSE open_due END, :opened_due)"
)
"""The rule for milestones being opened, as an expression in an ``UPDATE project``: the
earliest due date of the new ones (``:opened_due``, NULL when none) lowers ``open_due``. The
phase move writes it in its own UPDATE (one statement on the hot path), read at the row's
current value, so a milestone recorded done meanwhile is seen."""

_SET_OPEN_DUE = (
    "UPDATE project SET open_due = (SELECT min(milestone.due_on) FROM milestone"
    " WHERE milestone.project_id = project.id AND milestone.done_on IS NULL)"
)
_ONE = _SET_OPEN_DUE + " WHERE project.id = :project_id"


def refresh_open_due(db: Raw | sa.Connection, project_id: int) -> None:
    """Set ``project.open_due`` from the project's open milestones (inside the caller's
    transaction: ``db`` is the engine's raw connection or a SQLAlchemy one)."""
    params: dict[str, Any] = {"project_id": project_id}
    if isinstance(db, Raw):
        db.execute(_ONE, params)
    else:
        db.execute(sa.text(_ONE), params)


def refresh_all_open_due(conn: sa.Connection) -> None:
    """Set ``open_due`` on every project (a bulk load, as in bench/dashboard.py)."""
    conn.execute(sa.text(_SET_OPEN_DUE))
