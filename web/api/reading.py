"""What the API shows of a project, read from the tables in one read-only connection.

Instants are given in Europe/Paris time (with their offset), as people see them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from notifications.days import non_working_day
from web.api.schemas import (
    BudgetLineOut,
    CompletionOut,
    DecisionOut,
    DefinitionDetail,
    DefinitionSummary,
    HistoryOut,
    IndicatorOut,
    MeetingOut,
    MeetingSeriesOut,
    MilestoneOut,
    MilestoneSpecOut,
    OccurrenceOut,
    OutboxOut,
    OverdueOut,
    PartnerOut,
    PhaseOut,
    ProjectDetail,
    ProjectSummary,
    ReportOut,
    ReportSpecOut,
    RoleOut,
    TransitionOut,
    VariantOut,
)
from workflow import tables
from workflow.calendar import PARIS, non_working_reason
from workflow.definition import Definition
from workflow.diagram import describe_condition
from workflow.lifecycle import BUILTIN_TRIGGERS
from workflow.models import (
    funding_instrument,
)
from workflow.overdue import OverdueItem, overdue_items
from workflow.records import milestone_completions

if TYPE_CHECKING:
    from workflow.engine import Engine

__all__ = [
    "budget",
    "decisions",
    "definition_detail",
    "definition_summary",
    "history",
    "indicators",
    "meetings",
    "milestones",
    "outbox",
    "overdue",
    "partners",
    "project_detail",
    "project_summaries",
    "reports",
]


def _non_working(day: date) -> str | None:
    """Why ``day`` is not worked, in words (the API speaks the programmes' language)."""
    off = non_working_reason(day)
    return non_working_day(off, "fr") if off is not None else None


def _paris(value: datetime) -> datetime:
    return value.astimezone(PARIS)


def _maybe_paris(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(PARIS)


# -- definitions -------------------------------------------------------------------------------
def definition_summary(d: Definition) -> DefinitionSummary:
    return DefinitionSummary(
        id=d.id, version=d.version, title=d.title, source=d.source, description=d.description
    )


def definition_detail(d: Definition) -> DefinitionDetail:
    return DefinitionDetail(
        **definition_summary(d).model_dump(),
        initial=d.initial,
        terminal=list(d.terminal),
        builtin_triggers=list(BUILTIN_TRIGGERS),
        roles=[RoleOut(key=r.key, label=r.label, description=r.description) for r in d.roles],
        variants=[VariantOut(key=v.key, label=v.label) for v in d.variants],
        phases=[
            PhaseOut(
                key=p.key,
                label=p.label,
                description=p.description,
                terminal=p.key in d.terminal,
                initial=p.key == d.initial,
                planned_end=p.planned_end.describe() if p.planned_end else None,
                reporting=p.reporting,
            )
            for p in d.phases
        ],
        transitions=[
            TransitionOut(
                trigger=t.trigger,
                label=t.label,
                source=list(t.source),
                dest=t.dest,
                conditions=[describe_condition(c) for c in t.conditions],
                automatic=t.automatic.at.describe() if t.automatic else None,
                comment_required=t.comment_required,
            )
            for t in d.transitions
        ],
        milestones=[
            MilestoneSpecOut(
                key=m.key,
                label=m.label,
                phase=m.phase,
                deliverable=m.deliverable,
                responsible=m.responsible,
                responsible_label=d.role_label(m.responsible),
                deadline=m.deadline.describe(),
                variants=m.variants,
            )
            for m in d.milestones
        ],
        meetings=[
            MeetingSeriesOut(
                key=s.key,
                label=s.label,
                duration_minutes=s.duration_minutes,
                attendees=list(s.attendees),
                cadence=s.cadence.describe() if s.cadence else None,
                phases=s.phases,
                occurrences=[
                    OccurrenceOut(
                        key=o.key,
                        label=o.label,
                        phase=o.phase,
                        due=o.due.describe() if o.due else None,
                    )
                    for o in s.occurrences
                ],
            )
            for s in d.meetings
        ],
        reports=[
            ReportSpecOut(
                key=r.key,
                label=r.label,
                frequency=r.frequency,
                owed_by=r.owed_by,
                sent_to=r.sent_to,
                due_after_period=str(r.due_after_period),
            )
            for r in d.reports
        ],
    )


# -- projects ----------------------------------------------------------------------------------
def _summary(engine: Engine, row: Any) -> ProjectSummary:
    d = engine.definition(row.definition_id, row.definition_version)
    return ProjectSummary(
        id=row.id,
        definition_id=row.definition_id,
        definition_version=row.definition_version,
        variant=row.variant,
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
    readable: set[int] | None,
    *,
    programme: str | None = None,
    territory: str | None = None,
    phase: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[ProjectSummary]:
    """Projects the caller may read (``readable`` None: all), by id, with the filters."""
    query = sa.select(tables.project).order_by(tables.project.c.id).limit(limit).offset(offset)
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
    return [_summary(engine, row) for row in conn.execute(query)]


def milestones(
    conn: sa.Connection, d: Definition, project_id: int, today: date
) -> list[MilestoneOut]:
    rows = conn.execute(
        sa.select(tables.milestone)
        .where(tables.milestone.c.project_id == project_id)
        .order_by(tables.milestone.c.due_on, tables.milestone.c.id)
    ).all()
    completions = milestone_completions(conn, project_id)
    return [
        MilestoneOut(
            key=m.key,
            label=m.label,
            phase=m.phase,
            deliverable=m.deliverable,
            responsible_role=m.responsible_role,
            responsible_label=d.role_label(m.responsible_role),
            due_on=m.due_on,
            moved_from=m.moved_from,
            non_working_day=_non_working(m.due_on),
            state="done" if m.done_on else ("late" if m.due_on < today else "open"),
            done_on=m.done_on,
            done_by=m.done_by,
            deliverable_ref=m.deliverable_ref,
            completions=[
                CompletionOut(
                    done_on=c.done_on,
                    done_by=c.done_by,
                    deliverable_ref=c.deliverable_ref,
                    comment=c.comment,
                    recorded_at=c.recorded_at,
                )
                for c in completions.get(m.key, ())
            ],
        )
        for m in rows
    ]


def _meeting(m: Any) -> MeetingOut:
    return MeetingOut(
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
    )


def meetings(
    conn: sa.Connection, project_id: int, meeting_id: int | None = None
) -> list[MeetingOut]:
    query = (
        sa.select(tables.meeting)
        .where(tables.meeting.c.project_id == project_id)
        .order_by(tables.meeting.c.id)
    )
    if meeting_id is not None:
        query = query.where(tables.meeting.c.id == meeting_id)
    return [_meeting(m) for m in conn.execute(query)]


def partners(
    conn: sa.Connection, project_id: int, partner_id: int | None = None
) -> list[PartnerOut]:
    query = (
        sa.select(tables.partner)
        .where(tables.partner.c.project_id == project_id)
        .order_by(tables.partner.c.id)
    )
    if partner_id is not None:
        query = query.where(tables.partner.c.id == partner_id)
    return [
        PartnerOut(
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


def indicators(conn: sa.Connection, project_id: int, key: str | None = None) -> list[IndicatorOut]:
    query = (
        sa.select(tables.indicator)
        .where(tables.indicator.c.project_id == project_id)
        .order_by(tables.indicator.c.id)
    )
    if key is not None:
        query = query.where(tables.indicator.c.key == key)
    return [
        IndicatorOut(
            key=i.key,
            label=i.label,
            kind=i.kind,
            planned=i.planned,
            realised=i.realised,
            unit=i.unit,
            gap_explanation=i.gap_explanation,
            corrective_measure=i.corrective_measure,
        )
        for i in conn.execute(query)
    ]


def decisions(
    conn: sa.Connection, project_id: int, decision_id: int | None = None
) -> list[DecisionOut]:
    query = (
        sa.select(tables.decision)
        .where(tables.decision.c.project_id == project_id)
        .order_by(tables.decision.c.id)
    )
    if decision_id is not None:
        query = query.where(tables.decision.c.id == decision_id)
    return [
        DecisionOut(
            id=x.id,
            key=x.key,
            label=x.label,
            decided_on=x.decided_on,
            decided_by=x.decided_by,
            text=x.text,
        )
        for x in conn.execute(query)
    ]


def budget(conn: sa.Connection, project_id: int, line_id: int | None = None) -> list[BudgetLineOut]:
    query = (
        sa.select(tables.budget_line)
        .where(tables.budget_line.c.project_id == project_id)
        .order_by(tables.budget_line.c.id)
    )
    if line_id is not None:
        query = query.where(tables.budget_line.c.id == line_id)
    return [
        BudgetLineOut(
            id=b.id,
            label=b.label,
            planned_cents=b.planned_cents,
            spent_cents=b.spent_cents,
            forecast_cents=b.forecast_cents,
        )
        for b in conn.execute(query)
    ]


def reports(conn: sa.Connection, project_id: int, report_id: int | None = None) -> list[ReportOut]:
    query = (
        sa.select(tables.report, tables.partner.c.organisation)
        .join(tables.partner, tables.partner.c.id == tables.report.c.partner_id)
        .where(tables.report.c.project_id == project_id)
        .order_by(tables.report.c.id)
    )
    if report_id is not None:
        query = query.where(tables.report.c.id == report_id)
    return [
        ReportOut(
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


def history(conn: sa.Connection, project_id: int) -> list[HistoryOut]:
    rows = conn.execute(
        sa.select(tables.history)
        .where(tables.history.c.project_id == project_id)
        .order_by(tables.history.c.id)
    )
    return [
        HistoryOut(
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


def outbox(
    conn: sa.Connection, project_id: int, status: str | None, limit: int, offset: int
) -> list[OutboxOut]:
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
        OutboxOut(
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


def overdue(items: Iterable[OverdueItem], today: date) -> list[OverdueOut]:
    return [
        OverdueOut(
            project_id=i.project_id,
            kind=i.kind,
            label=i.label,
            since=i.since,
            days_late=i.days_late(today),
            responsible=i.responsible,
        )
        for i in items
    ]


def project_detail(engine: Engine, conn: sa.Connection, project_id: int) -> ProjectDetail:
    """Everything about one project: the tableau de bord's content, as data."""
    row = engine.project_row(conn, project_id)
    d = engine.definition(row.definition_id, row.definition_version)
    today = engine.today()
    return ProjectDetail(
        **_summary(engine, row).model_dump(),
        definition_title=d.title,
        lang=row.lang,
        convention_start=row.convention_start,
        convention_end=row.convention_end,
        funding_cents=row.funding_cents,
        funding_instrument=funding_instrument(row.funding_cents),
        phase_entered_at=_paris(row.phase_entered_at),
        suspended_from=row.suspended_from,
        flag_reason=row.flag_reason,
        next_steps=engine.lifecycle(row.definition_id, row.definition_version).triggers_from(
            row.phase
        ),
        milestones=milestones(conn, d, project_id, today),
        meetings=meetings(conn, project_id),
        partners=partners(conn, project_id),
        indicators=indicators(conn, project_id),
        decisions=decisions(conn, project_id),
        budget=budget(conn, project_id),
        overdue=overdue(overdue_items(engine, today, project_id), today),
    )
