"""One project's board: the *tableau de bord* of seed 001 (the project page).

The tableau de bord (seed 001, "Le suivi de mise en œuvre du projet") lists the steps
(phases) and their tasks (milestones) with who is responsible, start date, end date,
deliverables, and one column per month, like a Gantt chart. The annual report (seed 000)
is :mod:`workflow.read_models.annual`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

import sqlalchemy as sa

from workflow import tables
from workflow.calendar import paris_date
from workflow.database import read
from workflow.definition import Definition
from workflow.engine import Engine
from workflow.forecast import phase_dates
from workflow.outbox import decode
from workflow.progress import OverdueItem
from workflow.read_models.detail import (
    BudgetLine,
    HistoryLine,
    IndicatorLine,
    MeetingLine,
    MilestoneLine,
    ProjectDetail,
    project_detail,
)
from workflow.read_models.plan import PlanView

__all__ = [
    "Board",
    "BoardPartner",
    "IndicatorRow",
    "MessageRenderer",
    "ReceivedReport",
    "SentMessage",
    "Step",
    "Task",
    "indicator_rows",
    "project_board",
    "received_reports",
]


MAX_MONTHS = 18
MIN_MONTHS = 6
OUTBOX_SHOWN = 100


def _month(day: date) -> date:
    return day.replace(day=1)


def _add_month(day: date, n: int = 1) -> date:
    index = day.month - 1 + n
    return date(day.year + index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Task:
    """A milestone, as a line of the tableau de bord."""

    key: str
    label: str
    deliverable: str | None
    responsible: str
    holders: tuple[str, ...]
    start: date | None
    due_on: date
    moved_from: date | None
    done_on: date | None
    done_by: str | None
    deliverable_ref: str | None
    days_late: int  # 0 when done or not yet due
    cells: tuple[str, ...]  # per month: "" | "span" | "due" | "done" | "late"


@dataclass(frozen=True)
class Step:
    """A phase of the programme, with its tasks."""

    key: str
    label: str
    current: bool
    start: date | None
    end: date | None
    planned_end: date | None
    cells: tuple[str, ...]  # per month: "" | "start" | "span" | "planned"
    tasks: list[Task] = field(default_factory=list)
    # not entered yet: planned from the phases before it (workflow.forecast)
    planned_start: date | None = None
    forecast: bool = False
    state: str = "todo"  # done | current | late (current, planned end passed) | planned | todo


@dataclass(frozen=True)
class BoardPartner:
    id: int
    organisation: str
    contact_name: str
    email: str
    roles: list[str]  # role labels
    joined_on: date
    left_on: date | None
    active: bool


@dataclass(frozen=True)
class SentMessage:
    """An outbox message of the project: its subject as rendered, else its items' kinds."""

    created_at: datetime
    recipient: str
    email: str
    kind: str
    subject: str
    status: str
    attempts: int
    sent_at: datetime | None
    last_error: str | None


@dataclass(frozen=True)
class ReceivedReport:
    partner: str
    schedule: str
    period: str
    submitted_at: datetime
    content: dict[str, Any]


@dataclass(frozen=True)
class SeriesCount:
    label: str
    planned: int
    held: int
    cancelled: int


@dataclass
class Board:
    project: ProjectDetail
    definition: Definition
    programme: str
    phase_label: str
    funding_instrument: str | None  # decision | convention | None
    today: date
    months: list[date]
    steps: list[Step]
    partners: list[BoardPartner]
    meetings: list[MeetingLine]
    series: list[SeriesCount]
    indicators: list[IndicatorLine]
    budget: list[BudgetLine]
    history: list[HistoryLine]  # oldest first
    outbox: list[SentMessage]
    outbox_total: int
    alerts: list[OverdueItem]
    open_milestones: list[MilestoneLine]
    open_meetings: list[MeetingLine]
    # the month column holding today, and how far through it today is (percent)
    today_column: int | None = None
    today_percent: int = 0
    answers: dict[int, dict[str, list[str]]] = field(default_factory=dict)
    # the partners' comments on their invitation, per meeting: (organisation, comment)
    comments: dict[int, list[tuple[str, str]]] = field(default_factory=dict)


def _phase_spans(history: Sequence[Any]) -> dict[str, tuple[date, date | None]]:
    """First entry into each phase, and when it was last left (None: still in it)."""
    spans: dict[str, tuple[date, date | None]] = {}
    for h in history:
        day = paris_date(h.at)
        if h.from_phase and h.from_phase in spans:
            start, _ = spans[h.from_phase]
            spans[h.from_phase] = (start, day)
        if h.to_phase not in spans:
            spans[h.to_phase] = (day, None)
        else:
            spans[h.to_phase] = (spans[h.to_phase][0], None)
    return spans


_ANSWERED = ("planned", "held")


def _meeting_comments(
    partners: list[Any], answered: Sequence[Any]
) -> dict[int, list[tuple[str, str]]]:
    """Every comment a partner gave with their answer, kept in sight after the meeting is
    held and after the partner has left."""
    names = {p.id: p.organisation for p in partners}
    found: dict[int, list[tuple[str, str]]] = {}
    for a in answered:
        if a.comment and a.partner_id in names:
            found.setdefault(a.meeting_id, []).append((names[a.partner_id], a.comment))
    return found


def _member_on(partner: Any, day: date) -> bool:
    return bool(partner.joined_on <= day and (partner.left_on is None or partner.left_on > day))


def _meeting_answers(
    definition: Definition,
    meetings: Sequence[Any],
    partners: list[Any],
    answered: Sequence[Any],
    today: date,
) -> dict[int, dict[str, list[str]]]:
    """For each planned or held meeting (the answers stay in sight once it is held), the
    invited partners by their answer from their invitation link: ``yes``, ``maybe``, ``no``,
    and ``none`` for those who have not answered. A held meeting keeps the partners who
    were members on its day, even if they have left since."""
    invited_roles = {s.key: set(s.attendees) for s in definition.meetings}
    names = {p.id: p.organisation for p in partners}
    given = {(a.meeting_id, a.partner_id): a.answer for a in answered}
    found: dict[int, dict[str, list[str]]] = {}
    for m in meetings:
        if m.status not in _ANSWERED:
            continue
        roles = invited_roles.get(m.series, set())
        day = m.held_on if m.status == "held" and m.held_on is not None else today
        by_answer: dict[str, list[str]] = {"yes": [], "maybe": [], "no": [], "none": []}
        for p in partners:
            if _member_on(p, day) and roles & set(p.roles):
                by_answer[given.get((m.id, p.id), "none")].append(names[p.id])
        found[m.id] = by_answer
    return found


class MessageRenderer(Protocol):
    """What renders a queued message (``notifications.Renderer``): the board shows its subject."""

    def render(self, lang: str, recipient_name: str, items: list[dict[str, Any]]) -> Any: ...


def project_board(engine: Engine, renderer: MessageRenderer | None, project_id: int) -> Board:
    """Everything the project page shows, read in one connection."""
    with read(engine.db) as conn:
        project = project_detail(engine, conn, project_id)
        outbox_total = conn.execute(
            sa.select(sa.func.count())
            .select_from(tables.outbox)
            .where(tables.outbox.c.project_id == project_id)
        ).scalar_one()
        outbox = conn.execute(
            sa.select(tables.outbox)
            .where(tables.outbox.c.project_id == project_id)
            .order_by(tables.outbox.c.created_at.desc(), tables.outbox.c.id.desc())
            .limit(OUTBOX_SHOWN)
        ).all()
        planned = [m.id for m in project.meetings if m.status in _ANSWERED]
        answered = (
            conn.execute(
                sa.select(
                    tables.attendance.c.meeting_id,
                    tables.attendance.c.partner_id,
                    tables.attendance.c.answer,
                    tables.attendance.c.comment,
                )
                .where(tables.attendance.c.meeting_id.in_(planned))
                .order_by(tables.attendance.c.answered_at)
            ).all()
            if planned
            else []
        )

    today = project.today
    definition = engine.shown_definition(project.definition_id, project.definition_version)
    milestones, partners, meetings = project.milestones, project.partners, project.meetings
    budget = project.budget
    indicators = sorted(project.indicators, key=lambda i: (i.kind, i.key))
    history = sorted(project.history, key=lambda h: (h.at, h.id))
    alerts = [i for i in project.overdue if i.kind != "milestone"]
    active = [
        p for p in partners if p.joined_on <= today and (p.left_on is None or p.left_on > today)
    ]
    spans = _phase_spans(history)
    current_phase = project.suspended_from or project.phase
    phases = {
        d.key: d for d in phase_dates(definition, project.start_date, spans, current_phase, today)
    }
    dates = [project.start_date, today, *(m.due_on for m in milestones)]
    dates += [d for p in phases.values() for d in (p.start, p.end) if d is not None]
    first, last = _month(min(dates)), _month(max(dates))
    last = max(last, _add_month(first, MIN_MONTHS - 1))
    months = []
    cursor = first
    while cursor <= last:
        months.append(cursor)
        cursor = _add_month(cursor)
    if len(months) > MAX_MONTHS:  # keep the months around today
        around = max(0, months.index(_month(today)) - 3)
        months = months[around : around + MAX_MONTHS]

    def cells(
        start: date | None, end: date | None, mark: date | None, kind: str, span: str = "span"
    ) -> tuple[str, ...]:
        found = []
        for m in months:
            nxt = _add_month(m)
            if mark is not None and m <= mark < nxt:
                found.append(kind)
            elif start is not None and end is not None and start < nxt and end >= m:
                found.append(span)
            else:
                found.append("")
        return tuple(found)

    by_phase: dict[str, list[Task]] = defaultdict(list)
    for m in milestones:
        start = spans.get(m.phase, (None, None))[0]
        late = 0 if m.done_on is not None or m.due_on >= today else (today - m.due_on).days
        end = m.done_on or m.due_on
        mark_kind = "done" if m.done_on else ("late" if late else "due")
        by_phase[m.phase].append(
            Task(
                key=m.key,
                label=m.label,
                deliverable=m.deliverable,
                responsible=definition.role_label(m.responsible_role),
                holders=tuple(p.organisation for p in active if m.responsible_role in p.roles),
                start=start,
                due_on=m.due_on,
                moved_from=m.moved_from,
                done_on=m.done_on,
                done_by=m.done_by,
                deliverable_ref=m.deliverable_ref,
                days_late=late,
                cells=cells(start, end, m.done_on or m.due_on, mark_kind),
            )
        )
    steps = []
    for phase in definition.phases:
        dated = phases[phase.key]
        current = phase.key == current_phase
        if dated.forecast:
            state = "planned"
            row = cells(dated.start, dated.end or dated.start, None, "", "planned")
        else:
            start, left = spans.get(phase.key, (None, None))
            left = None if current else left  # suspended: still in the phase
            if left is not None:
                state = "done"
            elif current:
                late = dated.end is not None and dated.end < today
                state = "late" if late else "current"
            else:
                state = "todo"
            until = left if left is not None else dated.end if start else None
            row = cells(start, until or today if start else None, start, "start")
        steps.append(
            Step(
                key=phase.key,
                label=phase.label,
                current=current,
                start=None if dated.forecast else dated.start,
                end=dated.end if dated.left else None,
                planned_end=None if dated.left and not current else dated.end,
                cells=row,
                tasks=by_phase.get(phase.key, []),
                planned_start=dated.start if dated.forecast else None,
                forecast=dated.forecast,
                state=state,
            )
        )
    today_month = _month(today)
    today_column = months.index(today_month) if today_month in months else None
    month_days = (_add_month(today_month) - today_month).days
    today_percent = round((today.day - 0.5) * 100 / month_days)

    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for mt in meetings:
        c = counts[mt.series]
        if mt.status == "cancelled":
            c[2] += 1
        else:
            c[0] += 1
            if mt.status == "held":
                c[1] += 1
    series = [SeriesCount(s.label, *counts[s.key]) for s in definition.meetings if s.key in counts]
    roles = {r.key: r.label for r in definition.roles}
    partner_rows = [
        BoardPartner(
            id=p.id,
            organisation=p.organisation,
            contact_name=p.contact_name,
            email=p.email,
            roles=[roles.get(r, r) for r in p.roles],
            joined_on=p.joined_on,
            left_on=p.left_on,
            active=p in active,
        )
        for p in partners
    ]
    sent = []
    for o in outbox:
        items = decode(o.items)
        subject = None
        if renderer is not None and items:
            try:
                subject = renderer.render(o.lang, o.recipient_name, items).subject
            except (LookupError, ValueError, TypeError):
                subject = None  # an item of a kind this version cannot render any more
        sent.append(
            SentMessage(
                created_at=o.created_at,
                recipient=o.recipient_name,
                email=o.recipient_email,
                kind=o.kind,
                subject=subject or ", ".join(str(i.get("kind", "")) for i in items),
                status=o.status,
                attempts=o.attempts,
                sent_at=o.sent_at,
                last_error=o.last_error,
            )
        )
    variant = project.variant_label
    return Board(
        answers=_meeting_answers(definition, meetings, partners, answered, today),
        comments=_meeting_comments(partners, answered),
        today_column=today_column,
        today_percent=today_percent,
        project=project,
        definition=definition,
        programme=f"{definition.title} — {variant}" if variant else definition.title,
        phase_label=definition.phase_label(project.phase),
        funding_instrument=project.funding_instrument,
        today=today,
        months=months,
        steps=steps,
        partners=partner_rows,
        meetings=meetings,
        series=series,
        indicators=indicators,
        budget=budget,
        history=history,
        outbox=sent,
        outbox_total=outbox_total,
        alerts=alerts,
        open_milestones=[m for m in milestones if m.done_on is None],
        open_meetings=[m for m in meetings if m.status in ("expected", "planned")],
    )


@dataclass(frozen=True)
class IndicatorRow:
    """One indicator of a fiche-action for one year, under its objective: planned vs realised
    (the project page's small tableau de bord of the plan d'actions)."""

    objective: str  # the objective's label
    action_key: str
    action: str
    key: str
    label: str
    kind: str
    planned: float | None
    realised: float | None
    unit: str
    behind: bool  # realised below planned


def indicator_rows(plan: PlanView, year: int) -> list[IndicatorRow]:
    """The indicators of ``year`` (and those without a year) of every fiche-action, in the
    order of the objectives tree, then of the actions."""
    objectives = {o.key: o for o in plan.objectives}
    order = {o.key: (o.position, n) for n, o in enumerate(plan.objectives)}
    rows = []
    for action in sorted(plan.actions, key=lambda a: order.get(a.objective, (0, len(order)))):
        objective = objectives.get(action.objective)
        for i in action.indicators:
            if i.year is not None and i.year != year:
                continue
            rows.append(
                IndicatorRow(
                    objective=objective.label if objective else "",
                    action_key=action.key,
                    action=action.label,
                    key=i.key,
                    label=i.label,
                    kind=i.kind,
                    planned=i.planned,
                    realised=i.realised,
                    unit=i.unit,
                    behind=i.planned is not None
                    and i.realised is not None
                    and i.realised < i.planned,
                )
            )
    return rows


def received_reports(engine: Engine, project_id: int) -> list[ReceivedReport]:
    """The partners' reports of the project, the latest period first."""
    with read(engine.db) as conn:
        rows = conn.execute(
            sa.select(tables.report, tables.partner.c.organisation)
            .join(tables.partner, tables.partner.c.id == tables.report.c.partner_id)
            .where(tables.report.c.project_id == project_id)
            .order_by(
                tables.report.c.period.desc(), tables.partner.c.organisation, tables.report.c.id
            )
        ).all()
    return [
        ReceivedReport(
            partner=r.organisation,
            schedule=r.schedule,
            period=r.period,
            submitted_at=r.submitted_at,
            content=r.content or {},
        )
        for r in rows
    ]
