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

The same writers keep ``owed_tally``, the count of missing reports as events: a row of a
project in progress, not received, adds +1 on the day it starts being missing (the later of
its reminder's day in Paris and its partner's joining day) and -1 on its partner's leaving
day (nothing when the partner leaves before). The sum of the events up to today, less the
rows whose reminder time is later today, is how many reports are missing
(:func:`missing_count`): a few thousand rows summed, instead of every row owed. Each writer
takes the rows' events away before it changes them and adds them back after
(:func:`_shift`); :func:`recount` writes the table anew (migration 0021, ``bench/``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from workflow import tables
from workflow.calendar import paris_date
from workflow.database import Raw, raw
from workflow.definition import Definition
from workflow.progress import in_progress_among

__all__ = [
    "missing_count",
    "owe",
    "partner_leaves",
    "project_migrated",
    "project_moved",
    "received",
    "recount",
]


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


# -- the tally of missing reports --------------------------------------------------------

_EVENT_COLUMNS = (
    "definition_id, definition_version, phase, overdue_at, partner_joined_on, partner_left_on"
)
_ADD_EVENT = (
    "INSERT INTO owed_tally (definition_id, definition_version, day, delta)"
    " VALUES (:definition_id, :definition_version, :day, :delta)"
    " ON CONFLICT (definition_id, definition_version, day) DO UPDATE"
    " SET delta = owed_tally.delta + excluded.delta"
)
Live = Callable[[str, int, str], bool]


def _events(rows: Iterable[Sequence[Any]], live: Live, r: Raw) -> Counter[tuple[str, int, date]]:
    """The events of these rows not received (``_EVENT_COLUMNS``, as the driver returns
    them): +1 on the day each starts being missing, -1 on its partner's leaving day."""
    found: Counter[tuple[str, int, date]] = Counter()
    for definition_id, version, phase, overdue_at, joined, left in rows:
        if not live(definition_id, version, phase):
            continue
        instant, joined_on = r.to_instant(overdue_at), r.to_day(joined)
        assert instant is not None and joined_on is not None  # both columns are NOT NULL
        starts = max(paris_date(instant), joined_on)
        ends = r.to_day(left)
        if ends is not None and ends <= starts:
            continue  # gone before it was missing
        found[(definition_id, version, starts)] += 1
        if ends is not None:
            found[(definition_id, version, ends)] -= 1
    return found


def _apply(r: Raw, events: Counter[tuple[str, int, date]], sign: int) -> None:
    r.executemany(
        _ADD_EVENT,
        [
            {"definition_id": d, "definition_version": v, "day": r.day(day), "delta": sign * n}
            for (d, v, day), n in sorted(events.items())
            if n
        ],
    )


def _shift(
    db: Raw | sa.Connection, where: str, params: dict[str, Any], live: Live, sign: int
) -> None:
    """Add (``sign`` 1) or take away (-1) the events of the rows not received ``where`` says."""
    r = db if isinstance(db, Raw) else raw(db)
    rows = r.execute(
        f"SELECT {_EVENT_COLUMNS} FROM owed_report WHERE received_at IS NULL AND {where}", params
    ).fetchall()
    _apply(r, _events(rows, live, r), sign)


def _lock(conn: sa.Connection, project_id: Any) -> None:
    """Take the project row's lock before reading the rows whose events change (PostgreSQL;
    SQLite has one writer at a time): an advance suspending or resuming the project holds it
    while it shifts the project's events, so the two never count the same row both ways."""
    conn.execute(
        sa.select(tables.project.c.id).where(tables.project.c.id == project_id).with_for_update()
    )


def _always(definition_id: str, version: int, phase: str) -> bool:
    return True


def recount(conn: sa.Connection, definitions: Iterable[Definition]) -> None:
    """Write ``owed_tally`` anew from the rows (a migration, a bulk load)."""
    conn.execute(sa.delete(tables.owed_tally))
    _shift(conn, "1 = 1", {}, in_progress_among(definitions), 1)


def missing_count(
    conn: sa.Connection,
    definitions: Iterable[Definition],
    now: datetime,
    programme: str = "",
    later_today: Any = None,
) -> int:
    """How many reports are missing at ``now`` (of one programme): the events up to today,
    less the rows counted from today whose reminder time is later today (``later_today``:
    ``SELECT count`` of those, which the caller words with its own filters)."""
    today = paris_date(now)
    t = tables.owed_tally.c
    loaded = [
        sa.and_(t.definition_id == d.id, t.definition_version == d.version) for d in definitions
    ]
    where = [t.day <= today, sa.or_(sa.false(), *loaded)]
    if programme:
        where.append(t.definition_id == programme)
    total = conn.execute(sa.select(sa.func.sum(t.delta)).where(*where)).scalar()
    later = conn.execute(later_today).scalar_one() if later_today is not None else 0
    return int(total or 0) - int(later)


# -- the writers ----------------------------------------------------------------------------


def owe(
    conn: sa.Connection, definitions: Iterable[Definition], project_id: int | None = None
) -> None:
    """Write the owed rows missing for ``project_id`` (every project: ``None``): one per
    ``report_overdue`` reminder and partner holding the role that owes its report. Rows
    already there are left as they are; a report already sent is written received.

    The events of the rows written for a project are added to ``owed_tally``; for every
    project (a backfill: migration 0019, ``bench/``) the caller runs :func:`recount`."""
    definitions = list(definitions)
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
    o = tables.owed_report.c
    statement = insert.from_select(
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
    if project_id is None:
        conn.execute(statement)
        return  # the caller recounts
    _lock(conn, project_id)
    written = conn.execute(
        statement.returning(
            o.definition_id,
            o.definition_version,
            o.phase,
            o.overdue_at,
            o.partner_joined_on,
            o.partner_left_on,
            o.received_at,
        )
    ).all()
    driver = raw(conn)
    opened = [  # as the driver returns them, as :func:`_events` reads them
        (
            x.definition_id,
            x.definition_version,
            x.phase,
            driver.instant(x.overdue_at),
            driver.day(x.partner_joined_on),
            driver.day(x.partner_left_on),
        )
        for x in written
        if x.received_at is None
    ]
    _apply(driver, _events(opened, in_progress_among(definitions), driver), 1)


def received(
    conn: sa.Connection,
    definitions: Iterable[Definition],
    project_id: int,
    partner_id: int,
    schedule: str,
    period: str,
    at: datetime,
) -> None:
    """The partner's report for this period has been sent (the first sending counts)."""
    o = tables.owed_report.c
    _lock(conn, project_id)
    _shift(
        conn,
        "project_id = :project_id AND partner_id = :partner_id AND schedule = :schedule"
        " AND period = :period",
        {
            "project_id": project_id,
            "partner_id": partner_id,
            "schedule": schedule,
            "period": period,
        },
        in_progress_among(definitions),
        -1,
    )
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


def partner_leaves(
    conn: sa.Connection, definitions: Iterable[Definition], partner_id: int, on: date
) -> None:
    """The partner leaves the project on ``on`` (its reports are no longer listed from then)."""
    live = in_progress_among(definitions)
    _lock(
        conn,
        sa.select(tables.partner.c.project_id)
        .where(tables.partner.c.id == partner_id)
        .scalar_subquery(),
    )
    _shift(conn, "partner_id = :partner_id", {"partner_id": partner_id}, live, -1)
    conn.execute(
        sa.update(tables.owed_report)
        .where(tables.owed_report.c.partner_id == partner_id)
        .values(partner_left_on=on)
    )
    _shift(conn, "partner_id = :partner_id", {"partner_id": partner_id}, live, 1)


_MOVED = "UPDATE owed_report SET phase = :phase WHERE project_id = :id"


def project_moved(db: Raw, project_id: int, phase: str, was_live: bool, live: bool) -> None:
    """The project is now in ``phase`` (the engine's hot path: one indexed UPDATE), and was
    and is in progress or not (:func:`workflow.progress.phase_in_progress`): when that
    changes, its rows' events are taken away or added."""
    if was_live and not live:
        _shift(db, "project_id = :project_id", {"project_id": project_id}, _always, -1)
    db.execute(_MOVED, {"phase": phase, "id": project_id})
    if live and not was_live:
        _shift(db, "project_id = :project_id", {"project_id": project_id}, _always, 1)


def project_migrated(
    conn: sa.Connection, definitions: Iterable[Definition], project_id: int
) -> None:
    """The project runs another definition version, where other roles may owe its reports:
    its rows are written again from the reminders and the reports."""
    definitions = list(definitions)
    _shift(
        conn,
        "project_id = :project_id",
        {"project_id": project_id},
        in_progress_among(definitions),
        -1,
    )
    conn.execute(sa.delete(tables.owed_report).where(tables.owed_report.c.project_id == project_id))
    owe(conn, definitions, project_id)
