"""A project's earliest open milestone, kept on the project row (``project.open_due``).

The agency's dashboard sorts 100,000 projects by days late and counts the late ones; both read
``open_due`` through ``ix_project_open_due`` instead of grouping every open milestone of every
project on each view. The rule lives here, once: ``open_due`` is the earliest ``due_on`` of the
project's milestones not done (NULL when none is open). It changes only when a milestone opens
(:meth:`workflow.engine.Engine` opening a phase's milestones), is recorded done, or is reopened
(:mod:`workflow.records`); each of them calls :func:`refresh_open_due` in its own transaction.
A milestone's due date never changes once opened.

A project is late on a day when it is in progress (:func:`workflow.progress.in_progress`) and
``open_due`` is before that day: its days late count from ``open_due``.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from workflow.database import Raw

__all__ = ["refresh_all_open_due", "refresh_open_due"]

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
