"""One project as data, and the list of projects: what the API and ``copilote project show``
read.

Each function reads through the connection it is given (the API checks rights and reads a
project's parts in one read-only connection) and returns dataclasses. Instants are given
in Europe/Paris time (with their offset), as people see them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from workflow import tables
from workflow.calendar import NonWorkingDay, in_paris, non_working_reason
from workflow.conditions import AutomaticFlag
from workflow.database import read
from workflow.definition import Definition
from workflow.engine import Engine
from workflow.models import funding_instrument
from workflow.progress import OverdueItem, overdue_by_project

__all__ = [
    "Agenda",
    "BudgetLine",
    "DecisionLine",
    "HistoryLine",
    "IndicatorLine",
    "MeetingLine",
    "MilestoneLine",
    "OutboxLine",
    "PartnerLine",
    "ProjectDetail",
    "ProjectSummary",
    "ReportLine",
    "agenda",
    "budget",
    "decisions",
    "history",
    "indicators",
    "meetings",
    "milestones",
    "outbox",
    "partners",
    "project_detail",
    "project_summaries",
    "reports",
    "summary",
]


def _paris(value: datetime) -> datetime:
    return in_paris(value)


def _maybe_paris(value: datetime | None) -> datetime | None:
    return None if value is None else in_paris(value)


# -- projects ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ProjectSummary:
    id: int
    definition_id: str
    definition_version: int
    definition_title: str
    variant: str | None
    variant_label: str | None
    title: str
    territory: str
    phase: str
    phase_label: str
    start_date: date
    version: int
    flagged_overdue: bool


def summary(engine: Engine, row: Any) -> ProjectSummary:
    d = engine.shown_definition(row.definition_id, row.definition_version)
    return ProjectSummary(
        id=row.id,
        definition_id=row.definition_id,
        definition_version=row.definition_version,
        definition_title=d.title,
        variant=row.variant,
        variant_label=next((v.label for v in d.variants if v.key == row.variant), None),
        title=row.title,
        territory=row.territory,
        phase=row.phase,
        phase_label=d.phase_label(row.phase),
        start_date=row.start_date,
        version=row.version,
        flagged_overdue=row.flagged_overdue_at is not None,
    )


def project_summaries(
    engine: Engine,
    conn: sa.Connection,
    readable: set[int] | None = None,
    *,
    programme: str | None = None,
    territory: str | None = None,
    phase: str | None = None,
    limit: int | None = 100,
    offset: int = 0,
) -> list[ProjectSummary]:
    """Projects among ``readable`` (None: all), by id, with the filters (``limit`` None: all)."""
    query = sa.select(tables.project).order_by(tables.project.c.id).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    if readable is not None:
        if not readable:
            return []
        query = query.where(tables.project.c.id.in_(sorted(readable)))
    if programme:
        query = query.where(tables.project.c.definition_id == programme)
    if territory:
        query = query.where(tables.project.c.territory == territory)
    if phase:
        query = query.where(tables.project.c.phase == phase)
    return [summary(engine, row) for row in conn.execute(query)]


# -- a project's parts -------------------------------------------------------------------------
@dataclass(frozen=True)
class CompletionLine:
    """One record of a milestone done: the first, then each correction (with its comment)."""

    done_on: date
    done_by: str
    deliverable_ref: str | None
    comment: str | None
    recorded_at: datetime


def milestone_completions(conn: sa.Connection, project_id: int) -> dict[str, list[CompletionLine]]:
    """Every record of the project's milestones by milestone key, oldest first."""
    found: dict[str, list[CompletionLine]] = {}
    c = tables.milestone_completion.c
    for row in conn.execute(
        sa.select(
            tables.milestone.c.key,
            c.done_on,
            c.done_by,
            c.deliverable_ref,
            c.comment,
            c.recorded_at,
        )
        .join(tables.milestone, tables.milestone.c.id == c.milestone_id)
        .where(c.project_id == project_id)
        .order_by(c.recorded_at, c.id)
    ):
        found.setdefault(row.key, []).append(
            CompletionLine(
                row.done_on, row.done_by, row.deliverable_ref, row.comment, row.recorded_at
            )
        )
    return found


@dataclass(frozen=True)
class MilestoneLine:
    key: str
    label: str
    phase: str
    deliverable: str | None
    responsible_role: str
    responsible_label: str
    due_on: date
    moved_from: date | None
    non_working_day: NonWorkingDay | None  # why the due day is not worked, if so (data)
    state: str  # done | late | open
    done_on: date | None
    done_by: str | None
    deliverable_ref: str | None
    id: int
    completions: tuple[CompletionLine, ...] = ()


def milestones(
    conn: sa.Connection, d: Definition, project_id: int, today: date
) -> list[MilestoneLine]:
    rows = conn.execute(
        sa.select(tables.milestone)
        .where(tables.milestone.c.project_id == project_id)
        .order_by(tables.milestone.c.due_on, tables.milestone.c.id)
    ).all()
    completions = milestone_completions(conn, project_id)
    return [
        MilestoneLine(
            key=m.key,
            label=m.label,
            phase=m.phase,
            deliverable=m.deliverable,
            responsible_role=m.responsible_role,
            responsible_label=d.role_label(m.responsible_role),
            due_on=m.due_on,
            moved_from=m.moved_from,
            non_working_day=non_working_reason(m.due_on),
            state="done" if m.done_on else ("late" if m.due_on < today else "open"),
            done_on=m.done_on,
            done_by=m.done_by,
            deliverable_ref=m.deliverable_ref,
            id=m.id,
            completions=tuple(completions.get(m.key, ())),
        )
        for m in rows
    ]


@dataclass(frozen=True)
class MeetingLine:
    id: int
    series: str
    occurrence: str | None
    label: str
    status: str
    starts_at: datetime | None
    ends_at: datetime | None
    location: str
    held_on: date | None
    attendees: list[str]
    minutes_ref: str | None
    phase: str | None
    sequence: int  # of the invitation (iCalendar SEQUENCE)
    cancel_reason: str | None = None  # why a cancelled meeting was cancelled


def meetings(
    conn: sa.Connection, project_id: int, meeting_id: int | None = None
) -> list[MeetingLine]:
    """The project's meetings in date order (held or planned day; those without a date yet
    last, in the definition's order), numbered in that order: "COPIL n°6" comes before
    "COPIL n°7" in time, whichever was recorded first."""
    rows = list(
        conn.execute(
            sa.select(tables.meeting)
            .where(tables.meeting.c.project_id == project_id)
            .order_by(tables.meeting.c.id)
        )
    )
    lines = [
        MeetingLine(
            id=m.id,
            series=m.series,
            occurrence=m.occurrence,
            label=m.label,
            status=m.status,
            starts_at=_maybe_paris(m.starts_at),
            ends_at=_maybe_paris(m.ends_at),
            location=m.location,
            held_on=m.held_on,
            attendees=list(m.attendees or []),
            minutes_ref=m.minutes_ref,
            phase=m.phase,
            sequence=m.sequence,
            cancel_reason=m.cancel_reason,
        )
        for m in rows
    ]
    lines.sort(key=_date_order)
    lines = _numbered(lines)
    if meeting_id is not None:
        return [line for line in lines if line.id == meeting_id]
    return lines


def _day_of(line: MeetingLine) -> date | None:
    if line.held_on is not None:
        return line.held_on
    return line.starts_at.date() if line.starts_at is not None else None


def _date_order(line: MeetingLine) -> tuple[bool, date, int]:
    day = _day_of(line)
    return (day is None, day or date.min, line.id)


_NUMBERED = re.compile(r"^(?P<stem>.+) n°(?P<n>\d+)$")


def _numbered(lines: list[MeetingLine]) -> list[MeetingLine]:
    """Meetings numbered when recorded ("Comité de pilotage n°7": their rank in the series,
    see workflow.records) renumbered by their rank in date order; the series' other meetings
    (COPIL 1, a label the pilot gave, cancelled ones) count but keep their label. Meetings
    the programme expects and that have no date yet (its own numbered ones) count first, as
    when the number was given."""
    ranks: dict[str, int] = {}
    for line in lines:
        if _day_of(line) is None:
            ranks[line.series] = ranks.get(line.series, 0) + 1
    out = []
    for line in lines:
        found = _NUMBERED.match(line.label)
        if _day_of(line) is None:
            out.append(line)  # counted above
            continue
        ranks[line.series] = ranks.get(line.series, 0) + 1
        if found is None:
            out.append(line)
            continue
        out.append(replace(line, label=f"{found.group('stem')} n°{ranks[line.series]}"))
    return out


@dataclass(frozen=True)
class PartnerLine:
    id: int
    organisation: str
    contact_name: str
    email: str
    roles: list[str]
    lang: str
    joined_on: date
    left_on: date | None


def partners(
    conn: sa.Connection, project_id: int, partner_id: int | None = None
) -> list[PartnerLine]:
    query = (
        sa.select(tables.partner)
        .where(tables.partner.c.project_id == project_id)
        .order_by(tables.partner.c.id)
    )
    if partner_id is not None:
        query = query.where(tables.partner.c.id == partner_id)
    return [
        PartnerLine(
            id=p.id,
            organisation=p.organisation,
            contact_name=p.contact_name,
            email=p.email,
            roles=list(p.roles or []),
            lang=p.lang,
            joined_on=p.joined_on,
            left_on=p.left_on,
        )
        for p in conn.execute(query)
    ]


@dataclass(frozen=True)
class IndicatorLine:
    key: str
    label: str
    kind: str
    planned: float | None
    realised: float | None
    unit: str
    period: str
    gap_explanation: str | None
    corrective_measure: str | None


def indicators(conn: sa.Connection, project_id: int, key: str | None = None) -> list[IndicatorLine]:
    query = (
        sa.select(tables.indicator)
        .where(tables.indicator.c.project_id == project_id)
        .order_by(tables.indicator.c.id)
    )
    if key is not None:
        query = query.where(tables.indicator.c.key == key)
    return [
        IndicatorLine(
            key=i.key,
            label=i.label,
            kind=i.kind,
            planned=i.planned,
            realised=i.realised,
            unit=i.unit,
            period=i.period,
            gap_explanation=i.gap_explanation,
            corrective_measure=i.corrective_measure,
        )
        for i in conn.execute(query)
    ]


@dataclass(frozen=True)
class DecisionLine:
    id: int
    key: str
    label: str
    decided_on: date
    decided_by: str
    text: str


def decisions(
    conn: sa.Connection, project_id: int, decision_id: int | None = None
) -> list[DecisionLine]:
    query = (
        sa.select(tables.decision)
        .where(tables.decision.c.project_id == project_id)
        .order_by(tables.decision.c.id)
    )
    if decision_id is not None:
        query = query.where(tables.decision.c.id == decision_id)
    return [
        DecisionLine(
            id=x.id,
            key=x.key,
            label=x.label,
            decided_on=x.decided_on,
            decided_by=x.decided_by,
            text=x.text,
        )
        for x in conn.execute(query)
    ]


@dataclass(frozen=True)
class BudgetLine:
    id: int
    label: str
    planned_cents: int
    spent_cents: int
    forecast_cents: int
    year: int | None = None
    comment: str = ""


def budget(conn: sa.Connection, project_id: int, line_id: int | None = None) -> list[BudgetLine]:
    query = (
        sa.select(tables.budget_line)
        .where(tables.budget_line.c.project_id == project_id)
        .order_by(tables.budget_line.c.year, tables.budget_line.c.id)
    )
    if line_id is not None:
        query = query.where(tables.budget_line.c.id == line_id)
    return [
        BudgetLine(
            id=b.id,
            label=b.label,
            planned_cents=b.planned_cents,
            spent_cents=b.spent_cents,
            forecast_cents=b.forecast_cents,
            year=b.year,
            comment=b.comment or "",
        )
        for b in conn.execute(query)
    ]


@dataclass(frozen=True)
class ReportLine:
    id: int
    partner_id: int
    organisation: str
    schedule: str
    period: str
    submitted_at: datetime
    content: dict[str, Any]


def reports(conn: sa.Connection, project_id: int, report_id: int | None = None) -> list[ReportLine]:
    query = (
        sa.select(tables.report, tables.partner.c.organisation)
        .join(tables.partner, tables.partner.c.id == tables.report.c.partner_id)
        .where(tables.report.c.project_id == project_id)
        .order_by(tables.report.c.id)
    )
    if report_id is not None:
        query = query.where(tables.report.c.id == report_id)
    return [
        ReportLine(
            id=r.id,
            partner_id=r.partner_id,
            organisation=r.organisation,
            schedule=r.schedule,
            period=r.period,
            submitted_at=_paris(r.submitted_at),
            content=dict(r.content or {}),
        )
        for r in conn.execute(query)
    ]


@dataclass(frozen=True)
class HistoryLine:
    id: int
    at: datetime
    actor: str
    trigger: str
    from_phase: str
    to_phase: str
    comment: str | None


def history(conn: sa.Connection, project_id: int) -> list[HistoryLine]:
    rows = conn.execute(
        sa.select(tables.history)
        .where(tables.history.c.project_id == project_id)
        .order_by(tables.history.c.id)
    )
    return [
        HistoryLine(
            id=h.id,
            at=_paris(h.at),
            actor=h.actor,
            trigger=h.trigger,
            from_phase=h.from_phase,
            to_phase=h.to_phase,
            comment=h.comment,
        )
        for h in rows
    ]


@dataclass(frozen=True)
class OutboxLine:
    id: int
    kind: str
    recipient_name: str
    recipient_email: str
    status: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None
    last_error: str | None


def outbox(
    conn: sa.Connection, project_id: int, status: str | None, limit: int, offset: int
) -> list[OutboxLine]:
    query = (
        sa.select(tables.outbox)
        .where(tables.outbox.c.project_id == project_id)
        .order_by(tables.outbox.c.id)
        .limit(limit)
        .offset(offset)
    )
    if status is not None:
        query = query.where(tables.outbox.c.status == status)
    return [
        OutboxLine(
            id=o.id,
            kind=o.kind,
            recipient_name=o.recipient_name,
            recipient_email=o.recipient_email,
            status=o.status,
            attempts=o.attempts,
            created_at=_paris(o.created_at),
            next_attempt_at=_paris(o.next_attempt_at),
            sent_at=_maybe_paris(o.sent_at),
            last_error=o.last_error,
        )
        for o in conn.execute(query)
    ]


# -- the whole project -------------------------------------------------------------------------
@dataclass(frozen=True)
class ProjectDetail(ProjectSummary):
    lang: str
    convention_start: date | None
    convention_end: date | None
    funding_cents: int | None
    funding_instrument: str | None  # decision | convention | None (workflow.models)
    phase_entered_at: datetime
    suspended_from: str | None
    flag_reason: str | None
    next_steps: list[str]
    milestones: list[MilestoneLine]
    meetings: list[MeetingLine]
    partners: list[PartnerLine]
    indicators: list[IndicatorLine]
    decisions: list[DecisionLine]
    budget: list[BudgetLine]
    history: list[HistoryLine]
    today: date
    overdue: list[OverdueItem]  # the oldest first


def project_detail(engine: Engine, conn: sa.Connection, project_id: int) -> ProjectDetail:
    """Everything about one project (``NotFound`` if there is none): the tableau de bord's
    content, as data, with what is late in it."""
    row = engine.project_row(conn, project_id)
    d = engine.shown_definition(row.definition_id, row.definition_version)
    today = engine.today()
    return ProjectDetail(
        **vars(summary(engine, row)),
        lang=row.lang,
        convention_start=row.convention_start,
        convention_end=row.convention_end,
        funding_cents=row.funding_cents,
        funding_instrument=funding_instrument(row.funding_cents),
        phase_entered_at=_paris(row.phase_entered_at),
        suspended_from=row.suspended_from,
        flag_reason=str(flag) if (flag := AutomaticFlag.parse(row.flag_reason)) else None,
        next_steps=engine.lifecycle(d.id, d.version).triggers_from(row.phase),
        milestones=milestones(conn, d, project_id, today),
        meetings=meetings(conn, project_id),
        partners=partners(conn, project_id),
        indicators=indicators(conn, project_id),
        decisions=decisions(conn, project_id),
        budget=budget(conn, project_id),
        history=history(conn, project_id),
        today=today,
        overdue=overdue_by_project(conn, engine, [row], today).get(project_id, []),
    )


@dataclass(frozen=True)
class Agenda:
    """A project's dated things: its meetings and its milestone deadlines (calendar feed)."""

    project: ProjectSummary
    meetings: list[MeetingLine]
    milestones: list[MilestoneLine]


def agenda(engine: Engine, project_id: int) -> Agenda:
    with read(engine.db) as conn:
        row = engine.project_row(conn, project_id)
        d = engine.shown_definition(row.definition_id, row.definition_version)
        return Agenda(
            summary(engine, row),
            meetings(conn, project_id),
            milestones(conn, d, project_id, engine.today()),
        )
