"""Moving a running project to a newer version of its definition, only when a pilot asks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from workflow import due_tally, owed_reports, tables
from workflow.copil_tally import refresh_copil_tally
from workflow.database import read
from workflow.definition import Definition
from workflow.engine import Engine
from workflow.errors import DefinitionGone, MigrationRefused
from workflow.failures import clear_failure
from workflow.lifecycle import ABANDONED, SUSPENDED
from workflow.occasions import SeriesCheck, parse
from workflow.progress import in_progress

__all__ = ["MigrationPlan", "apply_migration", "plan_migration"]


@dataclass(frozen=True)
class MigrationPlan:
    project_id: int
    from_version: int
    to_version: int
    changes: list[str]
    blocker: str | None
    # The pending reminders about a series or milestone the new version no longer has: they
    # are cancelled (the new version's own series and milestones are planned on applying).
    cancelled: list[str] = field(default_factory=list)
    rekeyed: list[str] = field(default_factory=list)  # meetings moved to a renamed series

    def describe(self) -> str:
        head = f"Project {self.project_id}: version {self.from_version} -> {self.to_version}"
        body = [f"  - {c}" for c in self.changes] or ["  - nothing changes for this project"]
        body += [f"  - meeting re-keyed: {c}" for c in self.rekeyed]
        body += [f"  - reminder cancelled: {c}" for c in self.cancelled]
        tail = [f"  cannot be applied: {self.blocker}"] if self.blocker else []
        return "\n".join([head, *body, *tail])


def _rekeyed(conn: sa.Connection, project_id: int, new: Definition) -> list[tuple[int, str, str]]:
    """(meeting id, old series, new series) of the project's meetings whose series ``new``
    no longer has but whose occurrence (COPIL 1...) it has under another series: a renamed
    series; the meetings, and their reminders, follow it."""
    series_of = {o.key: s.key for s in new.meetings for o in s.occurrences}
    keys = {s.key for s in new.meetings}
    return [
        (m.id, m.series, series_of[m.occurrence])
        for m in conn.execute(
            sa.select(tables.meeting.c.id, tables.meeting.c.series, tables.meeting.c.occurrence)
            .where(tables.meeting.c.project_id == project_id)
            .order_by(tables.meeting.c.id)
        )
        if m.series not in keys and m.occurrence in series_of
    ]


def _orphans(conn: sa.Connection, project_id: int, new: Definition) -> list[tuple[int, str]]:
    """(id, why) of the project's pending reminders about a meeting series or a milestone
    that ``new`` no longer has (renamed or removed) and that no re-keyed meeting keeps: they
    could only fail when due."""
    series = {s.key for s in new.meetings}
    milestones = {m.key for m in new.milestones}
    meeting_series = dict(
        conn.execute(
            sa.select(tables.meeting.c.id, tables.meeting.c.series).where(
                tables.meeting.c.project_id == project_id
            )
        ).all()
    )
    for meeting_id, _, to in _rekeyed(conn, project_id, new):
        meeting_series[meeting_id] = to
    milestone_keys = dict(
        conn.execute(
            sa.select(tables.milestone.c.id, tables.milestone.c.key).where(
                tables.milestone.c.project_id == project_id
            )
        ).all()
    )
    out: list[tuple[int, str]] = []
    for r in conn.execute(
        sa.select(
            tables.reminder.c.id,
            tables.reminder.c.kind,
            tables.reminder.c.occasion,
            tables.reminder.c.subject_id,
        )
        .where(tables.reminder.c.project_id == project_id, tables.reminder.c.status == "pending")
        .order_by(tables.reminder.c.id)
    ):
        gone = _gone(r, series, milestones, meeting_series, milestone_keys)
        if gone is not None:
            out.append((r.id, f"{r.occasion} ({gone} no longer exists)"))
    return out


def _gone(
    r: Any,
    series: set[str],
    milestones: set[str],
    meeting_series: dict[int, str],
    milestone_keys: dict[int, str],
) -> str | None:
    if r.kind == "series_behind":
        check = parse(r.occasion)
        if isinstance(check, SeriesCheck) and check.series not in series:
            return f"meeting series {check.series!r}"
    elif r.kind in ("meeting_reminder", "meeting_minutes_request"):
        key = meeting_series.get(r.subject_id)
        if key is not None and key not in series:
            return f"meeting series {key!r}"
    elif r.kind.startswith("milestone_"):
        key = milestone_keys.get(r.subject_id)
        if key is not None and key not in milestones:
            return f"milestone {key!r}"
    return None


def _diff(kind: str, old: dict[str, str], new: dict[str, str]) -> list[str]:
    out = [f"{kind} added: {new[k]} ({k})" for k in new if k not in old]
    out += [f"{kind} removed: {old[k]} ({k})" for k in old if k not in new]
    out += [
        f"{kind} renamed: {old[k]!r} -> {new[k]!r}" for k in new if k in old and old[k] != new[k]
    ]
    return out


def _changes(old: Definition, new: Definition) -> list[str]:
    changes = _diff(
        "phase", {p.key: p.label for p in old.phases}, {p.key: p.label for p in new.phases}
    )
    changes += _diff(
        "milestone",
        {m.key: m.label for m in old.milestones},
        {m.key: m.label for m in new.milestones},
    )
    changes += _diff(
        "meeting",
        {o.key: o.label for s in old.meetings for o in s.occurrences}
        | {s.key: s.label for s in old.meetings},
        {o.key: o.label for s in new.meetings for o in s.occurrences}
        | {s.key: s.label for s in new.meetings},
    )
    changes += _diff(
        "step",
        {t.trigger: t.label or t.trigger for t in old.transitions},
        {t.trigger: t.label or t.trigger for t in new.transitions},
    )
    return changes


def plan_migration(engine: Engine, project_id: int, to_version: int | None = None) -> MigrationPlan:
    with read(engine.db) as conn:
        row = engine.project_row(conn, project_id)
    new = engine.definition(row.definition_id, to_version)
    try:
        old: Definition | None = engine.project_definition(row)
    except DefinitionGone:
        old = None  # its version is no longer loaded: moving it to a loaded one is the way out
    changes = (
        _changes(old, new)
        if old is not None
        else [f"version {row.definition_version} is no longer loaded: every key is checked anew"]
    )
    phase = row.suspended_from if row.phase == SUSPENDED else row.phase
    blocker = None
    if new.version <= row.definition_version:
        blocker = f"the project is already on version {row.definition_version}"
    elif row.phase != ABANDONED and phase not in {p.key for p in new.phases}:
        blocker = f"its current phase {phase!r} no longer exists in version {new.version}"
    with read(engine.db) as conn:
        cancelled = [why for _, why in _orphans(conn, project_id, new)]
        rekeyed = [
            f"meeting {m} of series {old!r} now of {to!r}"
            for m, old, to in _rekeyed(conn, project_id, new)
        ]
    return MigrationPlan(
        project_id, row.definition_version, new.version, changes, blocker, cancelled, rekeyed
    )


def apply_migration(
    engine: Engine, project_id: int, to_version: int | None, *, actor: str
) -> MigrationPlan:
    plan = plan_migration(engine, project_id, to_version)
    if plan.blocker:
        raise MigrationRefused(project_id, plan.blocker)
    now = engine.clock.now()
    with engine.db.begin() as conn:
        row = engine.project_row(conn, project_id)
        result = conn.execute(
            sa.update(tables.project)
            .where(
                tables.project.c.id == project_id,
                tables.project.c.version == row.version,
                tables.project.c.definition_version == plan.from_version,
            )
            .values(definition_version=plan.to_version, version=row.version + 1)
        )
        if result.rowcount != 1:
            raise MigrationRefused(
                project_id, "the project changed meanwhile; plan the migration again"
            )
        if in_progress(engine, row):  # under the row's lock; counted again below as v2 says
            due_tally.project_leaves(conn, project_id)
        owed_reports.project_migrated(conn, engine.registry, project_id)
        conn.execute(
            sa.insert(tables.history).values(
                project_id=project_id,
                at=now,
                actor=actor,
                trigger="migrate",
                from_phase=row.phase,
                to_phase=row.phase,
                comment=f"definition v{plan.from_version} -> v{plan.to_version}",
            )
        )
        new = engine.definition(row.definition_id, plan.to_version)
        orphans = [id_ for id_, _ in _orphans(conn, project_id, new)]
        for meeting_id, _, to in _rekeyed(conn, project_id, new):
            conn.execute(
                sa.update(tables.meeting).where(tables.meeting.c.id == meeting_id).values(series=to)
            )
        refresh_copil_tally(conn, project_id)  # a series may have become the COPIL or left it
        if orphans:
            conn.execute(
                sa.update(tables.reminder)
                .where(tables.reminder.c.id.in_(orphans), tables.reminder.c.status == "pending")
                .values(status="cancelled", fired_at=now)
            )
        clear_failure(conn, {project_id})  # what failed is planned again for the new version
        if row.phase not in (SUSPENDED, ABANDONED):
            engine._enter_phase(
                conn,
                engine.definition(row.definition_id, plan.to_version),
                project_id,
                row.variant,
                row.phase,
                row.start_date,
                engine.today(),
            )
        if in_progress(engine, engine.project_row(conn, project_id)):
            due_tally.project_enters(conn, project_id)
    return plan
