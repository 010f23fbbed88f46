"""Whether a project is in progress, what is late in it, and when a meeting series is due.

One home for three rules that the sweep, the records, the read models (pages, API, CLI)
all apply:

- *closed*: abandoned, or in a terminal phase of its definition. Nothing can be recorded
  on a closed project (:class:`workflow.records.Records`); a suspended one still takes
  records.
- *in progress*: neither suspended nor closed. Only a project in progress has anything
  late, and only its reminders fire (:class:`workflow.sweep.Sweep`).
  :func:`in_progress` decides it for one project row, :func:`in_progress_clause` is the
  same rule as a SQL condition on ``project`` for batch reads.
- *cadence*: a series meeting "every N weeks" is expected N weeks after the last one;
  "every N months" is 30 x N days (:func:`cadence_interval`).

What is late comes back as data (:class:`OverdueItem`: a kind, the subject's key and its
label from the definition, since when, the responsible role and its label, the cadence);
pages, emails and the CLI put it into words with ``notifications.wording.say`` under the
``overdue.`` keys. :func:`overdue_by_project` computes it for a batch of project rows in
a fixed number of queries; :func:`overdue_items` for one project or the whole portfolio.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from workflow import tables
from workflow.calendar import paris_date, resolve
from workflow.conditions import AutomaticFlag
from workflow.database import read
from workflow.errors import Unmet
from workflow.lifecycle import ABANDONED, SUSPENDED

if TYPE_CHECKING:
    from workflow.definition import Definition
    from workflow.engine import Engine
    from workflow.lifecycle import Lifecycle

__all__ = [
    "OVERDUE_KINDS",
    "OverdueItem",
    "cadence_interval",
    "closed",
    "in_progress",
    "in_progress_among",
    "in_progress_clause",
    "in_progress_where",
    "overdue_by_project",
    "overdue_items",
    "phase_in_progress",
]

OVERDUE_KINDS = ("milestone", "phase", "automatic_step", "meeting_series")


# -- in progress ---------------------------------------------------------------------------


def closed(engine: Engine, row: Any) -> bool:
    """Abandoned, or in a terminal phase of the row's definition version."""
    if row.phase == ABANDONED:
        return True
    shown = engine.shown_definition(row.definition_id, row.definition_version)
    return row.phase in engine.lifecycle(shown.id, shown.version).terminal


def phase_in_progress(lifecycle: Lifecycle, phase: str) -> bool:
    """:func:`in_progress` for a phase of a loaded definition version's lifecycle."""
    return phase != SUSPENDED and phase not in lifecycle.terminal


def in_progress(engine: Engine, row: Any) -> bool:
    """Neither suspended, abandoned, nor in a terminal phase (``row``: a project row)."""
    return row.phase != SUSPENDED and not closed(engine, row)


def in_progress_clause(engine: Engine, table: sa.Table | None = None) -> Any:
    """:func:`in_progress` as a SQL condition on ``project``, for every loaded definition
    (``table``: another table carrying the project's ``definition_id``,
    ``definition_version`` and ``phase``, such as ``owed_report``).

    Written as ``NOT (... OR ...)`` so that no index can serve it: SQLite then reads the
    project table once (a few ms at 10,000 projects) instead of a MULTI-INDEX OR.
    """
    return in_progress_where(engine.registry, table)


def in_progress_among(
    definitions: Iterable[Definition],
) -> Callable[[str, int, str], bool]:
    """:func:`in_progress_where` in Python: ``live(definition_id, version, phase)``, for rows
    carrying a project's columns (a version not among ``definitions`` knows no terminal
    phase, as in SQL)."""
    terminal = {(d.id, d.version): {*d.terminal, ABANDONED} for d in definitions}

    def live(definition_id: str, version: int, phase: str) -> bool:
        return phase not in (SUSPENDED, ABANDONED) and phase not in terminal.get(
            (definition_id, version), ()
        )

    return live


def in_progress_where(definitions: Iterable[Definition], table: sa.Table | None = None) -> Any:
    """:func:`in_progress_clause` for these definitions (a migration reads them from files,
    without an engine)."""
    c = (tables.project if table is None else table).c
    terminal = [
        sa.and_(
            c.definition_id == d.id,
            c.definition_version == d.version,
            c.phase.in_(sorted({*d.terminal, ABANDONED})),  # the lifecycle's terminal phases
        )
        for d in definitions
    ]
    return sa.and_(c.phase.not_in([SUSPENDED, ABANDONED]), sa.not_(sa.or_(*terminal)))


# -- cadence ---------------------------------------------------------------------------------


def cadence_interval(every: int, unit: str) -> timedelta:
    """How long after a series meeting the next one is expected: N weeks, or 30 x N days."""
    return timedelta(weeks=every) if unit == "weeks" else timedelta(days=30 * every)


# -- overdue ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class OverdueItem:
    """Something late in a project in progress, as data.

    ``kind`` is one of :data:`OVERDUE_KINDS`; ``subject`` the key of what is late in the
    definition (milestone, phase or meeting series key; the phase for an automatic step)
    and ``label`` its label there (for an automatic step: why it could not be taken, as
    the engine recorded it). ``since`` is the first late day. ``every``/``unit`` give the
    cadence of a meeting series.
    """

    project_id: int
    kind: str
    subject: str
    label: str
    since: date
    responsible_role: str
    responsible: str
    every: int | None = None
    unit: str | None = None
    conditions: tuple[Unmet, ...] = ()  # an automatic step's unmet conditions, as data
    step: str = ""  # an automatic step's label
    label_en: str = ""  # the English label of what is late (its French ``label`` otherwise)

    def days_late(self, today: date) -> int:
        return (today - self.since).days

    @property
    def phrase_key(self) -> str:
        """The ``notifications.wording`` key that words this item (with :attr:`phrase_params`)."""
        if self.kind == "meeting_series":
            return f"overdue.meeting_series.{self.unit}"
        if self.kind == "automatic_step" and self.conditions:
            return "overdue.automatic_step.unmet"
        if self.kind == "automatic_step" and not self.label:
            return "overdue.automatic_step.no_reason"
        return f"overdue.{self.kind}"

    @property
    def phrase_params(self) -> dict[str, Any]:
        """For ``overdue.automatic_step.unmet`` the caller adds ``conditions``: the unmet
        conditions worded in its language (``refusal.<kind>``)."""
        if self.conditions:
            return {"label": self.step, "label_en": self.label_en or self.step, "every": self.every}
        return {"label": self.label, "label_en": self.label_en or self.label, "every": self.every}


def _last_meetings(conn: sa.Connection, project_ids: Sequence[int]) -> dict[tuple[int, str], date]:
    """Per project and series, the day of the last meeting held or planned."""
    # SQLite's CAST(... AS DATE) keeps only the year (NUMERIC affinity): date() there.
    planned_day = (
        sa.func.date(tables.meeting.c.starts_at)
        if conn.dialect.name == "sqlite"
        else sa.cast(tables.meeting.c.starts_at, sa.Date)
    )
    found: dict[tuple[int, str], date] = {}
    for pid, series, last in conn.execute(
        sa.select(
            tables.meeting.c.project_id,
            tables.meeting.c.series,
            sa.func.max(sa.func.coalesce(tables.meeting.c.held_on, planned_day)),
        )
        .where(
            tables.meeting.c.project_id.in_(project_ids),
            tables.meeting.c.status.in_(["held", "planned"]),
        )
        .group_by(tables.meeting.c.project_id, tables.meeting.c.series)
    ):
        if isinstance(last, str):
            last = date.fromisoformat(last[:10])
        if last is not None:
            found[pid, series] = last
    return found


def overdue_by_project(
    conn: sa.Connection,
    engine: Engine,
    rows: Iterable[Any],
    today: date,
    *,
    milestones: bool = True,
) -> dict[int, list[OverdueItem]]:
    """What is late in each of these project rows that is in progress, the oldest first.

    Three queries for the lot (open milestones past their date, the last meeting of each
    series, nothing per project). ``milestones=False`` leaves the milestones out, for a
    caller that counts them in SQL.
    """
    active = {r.id: r for r in rows if in_progress(engine, r)}
    found: dict[int, list[OverdueItem]] = defaultdict(list)
    if not active:
        return found
    ids = sorted(active)
    if milestones:
        for pid, key, label, due, role in conn.execute(
            sa.select(
                tables.milestone.c.project_id,
                tables.milestone.c.key,
                tables.milestone.c.label,
                tables.milestone.c.due_on,
                tables.milestone.c.responsible_role,
            )
            .where(
                tables.milestone.c.done_on.is_(None),
                tables.milestone.c.due_on < today,
                tables.milestone.c.project_id.in_(ids),
            )
            .order_by(tables.milestone.c.due_on, tables.milestone.c.id)
        ):
            row = active[pid]
            definition = engine.shown_definition(row.definition_id, row.definition_version)
            found[pid].append(
                OverdueItem(
                    pid,
                    "milestone",
                    key,
                    label,
                    due + timedelta(days=1),
                    role,
                    definition.role_label(role),
                    label_en=definition.label("milestone", key, "en", default=label),
                )
            )
    last_meeting = _last_meetings(conn, ids)
    for pid in ids:
        row = active[pid]
        definition = engine.shown_definition(row.definition_id, row.definition_version)
        pilot = definition.role_label("pilot")
        entered = row.phase_entered_at.date()
        phase = definition.phase(row.phase)
        if phase.planned_end is not None:
            end = resolve(phase.planned_end, project_start=row.start_date, phase_start=entered).due
            if end < today:
                found[pid].append(
                    OverdueItem(
                        pid,
                        "phase",
                        phase.key,
                        phase.label,
                        end + timedelta(days=1),
                        "pilot",
                        pilot,
                        label_en=phase.label_en,
                    )
                )
        # A step due on a day is met until the end of that day in Paris: flagged at 00:30 on
        # its day (22:30 the day before in UTC), the project is not late yet.
        flagged_since = (
            None if row.flagged_overdue_at is None else paris_date(row.flagged_overdue_at)
        )
        if flagged_since is not None and row.auto_due_on is not None:
            flagged_since = max(flagged_since, row.auto_due_on + timedelta(days=1))
        if flagged_since is not None and flagged_since <= today:
            flag = AutomaticFlag.parse(row.flag_reason)
            found[pid].append(
                OverdueItem(
                    pid,
                    "automatic_step",
                    phase.key,
                    str(flag) if flag else "",
                    flagged_since,
                    "pilot",
                    pilot,
                    conditions=flag.unmet if flag else (),
                    step=flag.step if flag else "",
                    # the engine recorded the step's French label: its English one by it
                    label_en=next(
                        (
                            t.label_en
                            for t in definition.transitions
                            if flag and flag.unmet and t.label == flag.step
                        ),
                        "",
                    ),
                )
            )
        for series in definition.meetings:
            if series.cadence is None or (
                series.phases is not None and row.phase not in series.phases
            ):
                continue
            last = last_meeting.get((pid, series.key))
            start = max(entered, last) if last else entered
            every, unit = series.cadence.every, series.cadence.unit
            expected = start + cadence_interval(every, unit)
            if expected < today:
                found[pid].append(
                    OverdueItem(
                        pid,
                        "meeting_series",
                        series.key,
                        series.label,
                        expected,
                        "pilot",
                        pilot,
                        every,
                        unit,
                        label_en=series.label_en,
                    )
                )
    for items in found.values():
        items.sort(key=lambda i: i.since)
    return found


def overdue_items(engine: Engine, today: date, project_id: int | None = None) -> list[OverdueItem]:
    """What is late in one project (or in every project in progress), the oldest first."""
    with read(engine.db) as conn:
        query = sa.select(tables.project).where(
            tables.project.c.phase.not_in([SUSPENDED, ABANDONED])
        )
        if project_id is not None:
            query = query.where(tables.project.c.id == project_id)
        by_project = overdue_by_project(conn, engine, conn.execute(query).all(), today)
    items = [i for found in by_project.values() for i in found]
    items.sort(key=lambda i: i.since)
    return items
