"""Who owes which quarterly report: the ``owed_report`` table, kept here and only here.

The rule (one home): a partner owes a period's report once the sweep has planned that
period's ``report_overdue`` reminder (``report:{project}:{schedule}:{period}:overdue``, at
the due date plus the programme's grace), if the partner holds the role that owes the report
in the project's definition version. The report is received once a report row of that
partner for that period exists. The dashboard lists a report as missing from the reminder's
time while the project is in progress and the partner active that day
(:func:`workflow.read_models.portfolio.missing_reports`).

Each row also carries the project's and the partner's columns that listing orders by
(title, organisation: written once, never changed) and filters on (programme, definition
version, phase, territory; the partner's joined and left dates), so that the count and
the page read ``ix_owed_report_open`` alone, in its order. The writers of the columns that
do change call this module in the same transaction:

- :func:`owe`: a report's overdue reminder is planned (the sweep), a partner joins
  (:meth:`workflow.records.Records.add_partner`), and the backfill (migration 0019,
  ``bench/dashboard.py``): every owed row that is not there yet, from the reminders;
- :func:`received`: a report is sent (:meth:`workflow.records.Records.submit_report`);
- :func:`partner_leaves`: a partner's leaving date is set (records, conventions' notice);
- :func:`project_moved`: the project changes phase (the engine's ``_MOVE``);
- :func:`project_migrated`: the project runs another definition version.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from workflow import tables
from workflow.database import Raw
from workflow.definition import Definition

__all__ = ["owe", "partner_leaves", "project_migrated", "project_moved", "received"]


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _owed_by(definitions: Iterable[Definition]) -> list[Any]:
    """Per report of each definition version: its projects, its schedule, the role owing it."""
    return [
        sa.and_(
            tables.project.c.definition_id == definition.id,
            tables.project.c.definition_version == definition.version,
            tables.reminder.c.schedule == spec.key,
            sa.cast(tables.partner.c.roles, sa.Text).like(
                f'%"{_like_escape(spec.owed_by)}"%', escape="\\"
            ),
        )
        for definition in definitions
        for spec in definition.reports
    ]


def owe(
    conn: sa.Connection, definitions: Iterable[Definition], project_id: int | None = None
) -> None:
    """Write the owed rows missing for ``project_id`` (every project: ``None``): one per
    ``report_overdue`` reminder and partner holding the role that owes its report. Rows
    already there are left as they are; a report already sent is written received."""
    owed = _owed_by(definitions)
    if not owed:
        return
    r, p, pr = tables.reminder.c, tables.partner.c, tables.project.c
    sent = (
        sa.select(tables.report.c.submitted_at)
        .where(
            tables.report.c.project_id == r.project_id,
            tables.report.c.partner_id == p.id,
            tables.report.c.schedule == r.schedule,
            tables.report.c.period == r.period,
        )
        .scalar_subquery()
    )
    where = [r.kind == sa.literal_column("'report_overdue'"), sa.or_(*owed)]
    if project_id is not None:
        where.append(r.project_id == project_id)
    rows = (
        sa.select(
            r.project_id,
            p.id,
            r.schedule,
            r.period,
            r.due_at,
            sent,
            pr.definition_id,
            pr.definition_version,
            pr.phase,
            pr.territory,
            pr.title,
            p.organisation,
            p.joined_on,
            p.left_on,
        )
        .select_from(
            tables.reminder.join(tables.partner, p.project_id == r.project_id).join(
                tables.project, pr.id == r.project_id
            )
        )
        .where(*where)
    )
    insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(
        tables.owed_report
    )
    conn.execute(
        insert.from_select(
            [
                "project_id",
                "partner_id",
                "schedule",
                "period",
                "overdue_at",
                "received_at",
                "definition_id",
                "definition_version",
                "phase",
                "territory",
                "project_title",
                "partner_organisation",
                "partner_joined_on",
                "partner_left_on",
            ],
            rows,
        ).on_conflict_do_nothing()
    )


def received(
    conn: sa.Connection, project_id: int, partner_id: int, schedule: str, period: str, at: datetime
) -> None:
    """The partner's report for this period has been sent (the first sending counts)."""
    o = tables.owed_report.c
    conn.execute(
        sa.update(tables.owed_report)
        .where(
            o.project_id == project_id,
            o.partner_id == partner_id,
            o.schedule == schedule,
            o.period == period,
            o.received_at.is_(None),
        )
        .values(received_at=at)
    )


def partner_leaves(conn: sa.Connection, partner_id: int, on: date) -> None:
    """The partner leaves the project on ``on`` (its reports are no longer listed from then)."""
    conn.execute(
        sa.update(tables.owed_report)
        .where(tables.owed_report.c.partner_id == partner_id)
        .values(partner_left_on=on)
    )


_MOVED = "UPDATE owed_report SET phase = :phase WHERE project_id = :id"


def project_moved(db: Raw, project_id: int, phase: str) -> None:
    """The project is now in ``phase`` (the engine's hot path: one indexed UPDATE)."""
    db.execute(_MOVED, {"phase": phase, "id": project_id})


def project_migrated(
    conn: sa.Connection, definitions: Iterable[Definition], project_id: int
) -> None:
    """The project runs another definition version, where other roles may owe its reports:
    its rows are written again from the reminders and the reports."""
    conn.execute(sa.delete(tables.owed_report).where(tables.owed_report.c.project_id == project_id))
    owe(conn, definitions, project_id)
