"""What is late, since when, and who is responsible: computed from the records, never stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa

from workflow import tables
from workflow.calendar import resolve
from workflow.database import read
from workflow.engine import Engine
from workflow.lifecycle import ABANDONED, SUSPENDED

__all__ = ["OverdueItem", "overdue_items"]


@dataclass(frozen=True)
class OverdueItem:
    project_id: int
    kind: str  # milestone | meeting_series | phase | automatic_step
    label: str
    since: date
    responsible: str

    def days_late(self, today: date) -> int:
        return (today - self.since).days


def overdue_items(engine: Engine, today: date, project_id: int | None = None) -> list[OverdueItem]:
    """Overdue milestones, meeting series behind cadence, phases past their planned end."""
    items: list[OverdueItem] = []
    with read(engine.db) as conn:
        query = sa.select(tables.project).where(
            tables.project.c.phase.not_in([SUSPENDED, ABANDONED])
        )
        if project_id is not None:
            query = query.where(tables.project.c.id == project_id)
        projects = {r.id: r for r in conn.execute(query)}
        active = [
            pid
            for pid, r in projects.items()
            if r.phase not in engine.lifecycle(r.definition_id, r.definition_version).terminal
        ]
        if not active:
            return []
        late = conn.execute(
            sa.select(
                tables.milestone.c.project_id,
                tables.milestone.c.label,
                tables.milestone.c.due_on,
                tables.milestone.c.responsible_role,
            ).where(
                tables.milestone.c.done_on.is_(None),
                tables.milestone.c.due_on < today,
                tables.milestone.c.project_id.in_(active),
            )
        ).all()
        # SQLite's CAST(... AS DATE) keeps only the year (NUMERIC affinity): date() there.
        planned_day = (
            sa.func.date(tables.meeting.c.starts_at)
            if conn.dialect.name == "sqlite"
            else sa.cast(tables.meeting.c.starts_at, sa.Date)
        )
        held = conn.execute(
            sa.select(
                tables.meeting.c.project_id,
                tables.meeting.c.series,
                sa.func.max(sa.func.coalesce(tables.meeting.c.held_on, planned_day)),
            )
            .where(
                tables.meeting.c.project_id.in_(active),
                tables.meeting.c.status.in_(["held", "planned"]),
            )
            .group_by(tables.meeting.c.project_id, tables.meeting.c.series)
        ).all()
    last_meeting = {(pid, series): last for pid, series, last in held}
    for pid, label, due, role in late:
        definition = engine.definition(
            projects[pid].definition_id, projects[pid].definition_version
        )
        items.append(
            OverdueItem(
                pid, "milestone", label, due + timedelta(days=1), definition.role_label(role)
            )
        )
    for pid in active:
        row = projects[pid]
        definition = engine.definition(row.definition_id, row.definition_version)
        entered = row.phase_entered_at.date()
        phase = definition.phase(row.phase)
        if phase.planned_end is not None:
            end = resolve(phase.planned_end, project_start=row.start_date, phase_start=entered).due
            if end < today:
                items.append(
                    OverdueItem(
                        pid,
                        "phase",
                        f"phase {phase.label} past its planned end",
                        end + timedelta(days=1),
                        definition.role_label("pilot"),
                    )
                )
        if row.flagged_overdue_at is not None:
            items.append(
                OverdueItem(
                    pid,
                    "automatic_step",
                    row.flag_reason or "automatic step not possible",
                    row.flagged_overdue_at.date(),
                    definition.role_label("pilot"),
                )
            )
        for series in definition.meetings:
            if series.cadence is None or (
                series.phases is not None and row.phase not in series.phases
            ):
                continue
            last = last_meeting.get((pid, series.key))
            if isinstance(last, str):
                last = date.fromisoformat(last[:10])
            start = max(entered, last) if last else entered
            every = series.cadence.every
            expected = start + (
                timedelta(weeks=every)
                if series.cadence.unit == "weeks"
                else timedelta(days=30 * every)
            )
            if expected < today:
                items.append(
                    OverdueItem(
                        pid,
                        "meeting_series",
                        f"{series.label}: none held or planned {series.cadence.describe()}",
                        expected,
                        definition.role_label("pilot"),
                    )
                )
    items.sort(key=lambda i: i.since)
    return items
