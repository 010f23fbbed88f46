"""Due work that raised for one project: recorded against that project, never the pass's end.

The due-work pass (automatic steps, reminders, delivery) runs for every project at once. A
project whose definition version is gone, whose definition asks for an impossible date, or
whose reminders name a series its version no longer has must not stop the others: the pass
records the failure against that project (when and a short reason, shown on its page, on the
agency dashboard, in ``/health`` and ``/metrics``), logs it with its traceback, and goes on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from workflow import tables
from workflow.calendar import paris_date
from workflow.database import read

__all__ = [
    "REASON_LENGTH",
    "Failure",
    "clear_failure",
    "failed_projects",
    "reason",
    "record_failure",
]

REASON_LENGTH = 500
log = logging.getLogger("copilote.due_work")


@dataclass(frozen=True)
class Failure:
    project_id: int
    at: datetime
    reason: str
    title: str = ""

    @property
    def day(self) -> date:
        """The Paris day it failed on."""
        return paris_date(self.at)


def reason(step: str, error: BaseException) -> str:
    """A short reason: the step that failed, the error's type and its message (bounded)."""
    text = f"{step}: {type(error).__name__}: {error}".replace("\n", " ")
    return text[: REASON_LENGTH - 1] + "…" if len(text) > REASON_LENGTH else text


def record_failure(
    conn: sa.Connection, project_id: int, now: datetime, step: str, error: BaseException
) -> None:
    """Flag ``project_id`` in ``conn``'s transaction, and log the failure with its traceback."""
    why = reason(step, error)
    log.error("project %s: %s", project_id, why, exc_info=error)
    conn.execute(
        sa.update(tables.project)
        .where(tables.project.c.id == project_id)
        .values(failed_at=now, failure=why)
    )


def clear_failure(conn: sa.Connection, project_ids: list[int] | set[int]) -> None:
    """The due work of these projects went through again: their flags go."""
    if project_ids:
        conn.execute(
            sa.update(tables.project)
            .where(tables.project.c.id.in_(project_ids), tables.project.c.failed_at.is_not(None))
            .values(failed_at=None, failure=None)
        )


def failed_projects(db: sa.Engine, limit: int = 100) -> list[Failure]:
    """The projects flagged as failing, most recent first (at most ``limit``)."""
    with read(db) as conn:
        rows = conn.execute(
            sa.select(
                tables.project.c.id,
                tables.project.c.failed_at,
                tables.project.c.failure,
                tables.project.c.title,
            )
            .where(tables.project.c.failed_at.is_not(None))
            .order_by(tables.project.c.failed_at.desc(), tables.project.c.id)
            .limit(limit)
        ).all()
    return [Failure(r.id, r.failed_at, r.failure or "", r.title) for r in rows]


def project_failure(conn: sa.Connection, project_id: int) -> Failure | None:
    """The failure recorded against ``project_id``, if any."""
    row = conn.execute(
        sa.select(
            tables.project.c.id,
            tables.project.c.failed_at,
            tables.project.c.failure,
            tables.project.c.title,
        ).where(tables.project.c.id == project_id, tables.project.c.failed_at.is_not(None))
    ).one_or_none()
    return None if row is None else Failure(row.id, row.failed_at, row.failure or "", row.title)
