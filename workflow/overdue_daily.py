"""The daily count of what is late, per programme: the history behind the dashboard's trend.

What is late changes every day and is computed from the records as of *today*
(:mod:`workflow.progress`); yesterday's figure cannot be recomputed later (a milestone done
since then was late then). So the due work writes each day's figures in ``overdue_daily``,
one row per day (Paris) and programme, and the dashboard's trend reads those rows.

:func:`record_overdue_daily` is the step of :func:`workflow.driver.run_due` that does it. It
is idempotent: the row of a day and programme is inserted, or updated by a later pass of the
same day (``INSERT ... ON CONFLICT DO UPDATE``, so two instances at once write one row). The
scheduler passes every minute; the figures are taken again only when the day's row is older
than :data:`REFRESH`, so the counting (a few grouped queries, and the late phases and
cadences of the projects in progress, in batches) costs once an hour, not once a minute.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from workflow import due_tally, tables
from workflow.calendar import paris_date
from workflow.database import read
from workflow.engine import Engine
from workflow.progress import in_progress_clause, overdue_by_project
from workflow.read_models.portfolio import Filters, missing_reports

__all__ = ["BATCH", "FIGURES", "REFRESH", "record_overdue_daily"]

REFRESH = timedelta(hours=1)
BATCH = 1000  # projects read at once to find the late phases and cadences
FIGURES = ("overdue_milestones", "missing_reports", "late_projects", "projects")


def _fresh(conn: sa.Connection, now: datetime) -> bool:
    """Whether today's figures were taken less than :data:`REFRESH` ago."""
    last = conn.execute(
        sa.select(sa.func.min(tables.overdue_daily.c.recorded_at)).where(
            tables.overdue_daily.c.day == paris_date(now)
        )
    ).scalar_one()
    return last is not None and now - last < REFRESH


def _counts(engine: Engine, now: datetime) -> dict[str, dict[str, int]]:
    today = paris_date(now)
    project = tables.project
    active = in_progress_clause(engine)
    found: dict[str, dict[str, int]] = {
        d.id: dict.fromkeys(FIGURES, 0) for d in engine.registry.latest()
    }
    with read(engine.db) as conn:
        for programme, count in conn.execute(
            sa.select(project.c.definition_id, sa.func.count())
            .where(active)
            .group_by(project.c.definition_id)
        ):
            found.setdefault(programme, dict.fromkeys(FIGURES, 0))["projects"] = count
        for programme, count in due_tally.overdue_per_programme(conn, today).items():
            found.setdefault(programme, dict.fromkeys(FIGURES, 0))["overdue_milestones"] = count
        late: Counter[str] = Counter()
        after = 0
        while True:
            rows: list[Any] = list(
                conn.execute(
                    sa.select(project)
                    .where(active, project.c.id > after)
                    .order_by(project.c.id)
                    .limit(BATCH)
                )
            )
            if not rows:
                break
            by_id = {r.id: r for r in rows}
            for pid in overdue_by_project(conn, engine, rows, today):
                late[by_id[pid].definition_id] += 1
            after = rows[-1].id
        for programme, count in late.items():
            found[programme]["late_projects"] = count
    # One home for a missing report: the dashboard's own query, one programme at a time.
    for programme, figures in found.items():
        if figures["projects"]:
            figures["missing_reports"] = missing_reports(
                engine, now, Filters(programme=programme), size=1
            ).total
    return found


def record_overdue_daily(engine: Engine, now: datetime) -> int:
    """Write (or refresh) today's row of every programme; returns how many rows it wrote
    (0 when today's figures are fresh)."""
    with read(engine.db) as conn:
        if _fresh(conn, now):
            return 0
    found = _counts(engine, now)  # every loaded programme, so never empty
    day = paris_date(now)
    values = [
        {"day": day, "programme": programme, "recorded_at": now, **figures}
        for programme, figures in sorted(found.items())
    ]
    with engine.db.begin() as conn:
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        insert = dialect.insert(tables.overdue_daily).values(values)
        updated = {name: insert.excluded[name] for name in (*FIGURES, "recorded_at")}
        conn.execute(
            insert.on_conflict_do_update(index_elements=["day", "programme"], set_=updated)
        )
    return len(values)
