"""What the API shows: definitions, and the read models of :mod:`workflow.read_models.detail`
as the API's response models.

Instants are given in Europe/Paris time (with their offset), as people see them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import fields as dataclass_fields
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa
from pydantic import BaseModel

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
from workflow.definition import Definition
from workflow.diagram import describe_condition
from workflow.lifecycle import BUILTIN_TRIGGERS
from workflow.progress import OverdueItem
from workflow.read_models import detail

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


M = TypeVar("M", bound=BaseModel)


def _out(model: type[M], lines: Iterable[Any]) -> list[M]:
    """Read-model dataclasses as the API's response models (same field names)."""
    return [model.model_validate(line, from_attributes=True) for line in lines]


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
    found = detail.project_summaries(
        engine,
        conn,
        readable,
        programme=programme,
        territory=territory,
        phase=phase,
        limit=limit,
        offset=offset,
    )
    return _out(ProjectSummary, found)


def milestones(
    conn: sa.Connection, d: Definition, project_id: int, today: date
) -> list[MilestoneOut]:
    return _milestones_out(detail.milestones(conn, d, project_id, today))


def meetings(
    conn: sa.Connection, project_id: int, meeting_id: int | None = None
) -> list[MeetingOut]:
    return _out(MeetingOut, detail.meetings(conn, project_id, meeting_id))


def partners(
    conn: sa.Connection, project_id: int, partner_id: int | None = None
) -> list[PartnerOut]:
    return _out(PartnerOut, detail.partners(conn, project_id, partner_id))


def indicators(conn: sa.Connection, project_id: int, key: str | None = None) -> list[IndicatorOut]:
    return _out(IndicatorOut, detail.indicators(conn, project_id, key))


def decisions(
    conn: sa.Connection, project_id: int, decision_id: int | None = None
) -> list[DecisionOut]:
    return _out(DecisionOut, detail.decisions(conn, project_id, decision_id))


def budget(conn: sa.Connection, project_id: int, line_id: int | None = None) -> list[BudgetLineOut]:
    return _out(BudgetLineOut, detail.budget(conn, project_id, line_id))


def reports(conn: sa.Connection, project_id: int, report_id: int | None = None) -> list[ReportOut]:
    return _out(ReportOut, detail.reports(conn, project_id, report_id))


def history(conn: sa.Connection, project_id: int) -> list[HistoryOut]:
    return _out(HistoryOut, detail.history(conn, project_id))


def outbox(
    conn: sa.Connection, project_id: int, status: str | None, limit: int, offset: int
) -> list[OutboxOut]:
    return _out(OutboxOut, detail.outbox(conn, project_id, status, limit, offset))


def overdue(items: Iterable[OverdueItem], today: date) -> list[OverdueOut]:
    return [
        OverdueOut(
            project_id=i.project_id,
            kind=i.kind,
            subject=i.subject,
            label=i.label,
            since=i.since,
            days_late=i.days_late(today),
            responsible_role=i.responsible_role,
            responsible=i.responsible,
            every=i.every,
            unit=i.unit,
        )
        for i in items
    ]


def _milestones_out(lines: Iterable[detail.MilestoneLine]) -> list[MilestoneOut]:
    return [
        MilestoneOut.model_validate(
            {
                **{f.name: getattr(m, f.name) for f in dataclass_fields(m)},
                # The API speaks the programmes' language for why a day is not worked.
                "non_working_day": (
                    non_working_day(m.non_working_day, "fr") if m.non_working_day else None
                ),
                "completions": _out(CompletionOut, m.completions),
            }
        )
        for m in lines
    ]


def project_detail(engine: Engine, conn: sa.Connection, project_id: int) -> ProjectDetail:
    """Everything about one project: the tableau de bord's content, as data."""
    found = detail.project_detail(engine, conn, project_id)
    fields = {name: getattr(found, name) for name in ProjectDetail.model_fields}
    fields["overdue"] = overdue(found.overdue, found.today)
    fields["milestones"] = _milestones_out(found.milestones)
    return ProjectDetail.model_validate(fields, from_attributes=True)
