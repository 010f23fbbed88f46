"""The annual report of one project (seed 000, the CPOM report).

For each action it compares the planned and realised deadline and indicator, explains the
gaps and names the corrective measures; its budget table gives planned, spent, forecast
and the variance.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from workflow import tables
from workflow.calendar import in_paris
from workflow.database import read
from workflow.engine import Engine

__all__ = ["AnnualReport", "BudgetRow", "CpomRow", "annual_report"]

# -- the annual report (seed 000, CPOM form) -----------------------------------------------


@dataclass(frozen=True)
class CpomRow:
    """One action of the CPOM form, as data: a milestone, a meeting series or an indicator.

    ``gap`` says what the gap is, for the exporter to word: ``none``, ``done_late`` and
    ``not_done`` (with ``days_late``), ``upcoming`` (milestones), ``meetings_missing``
    (``planned_meetings - held_meetings`` of them, as of the report's date), ``stated``
    (an indicator's own ``gap_explanation``) or ``""`` (nothing to say).
    """

    kind: str  # milestone | meeting_series | indicator
    general_objective: str
    specific_objective: str  # the phase label(s); empty for an indicator (see indicator_kind)
    action: str
    gap: str
    planned_deadline: date | None = None
    realised_on: date | None = None  # a milestone's completion
    deliverable: str | None = None
    deliverable_ref: str | None = None
    days_late: int = 0
    held_on: tuple[date, ...] = ()  # a series' meetings held in the year
    planned_meetings: int = 0
    held_meetings: int = 0
    cancelled_meetings: int = 0
    indicator_kind: str | None = None  # process | activity | result
    planned: float | None = None
    realised: float | None = None
    unit: str = ""
    gap_explanation: str = ""  # an indicator's, as typed by the pilot
    corrective_measure: str = ""


@dataclass(frozen=True)
class BudgetRow:
    general_objective: str
    label: str
    planned_cents: int
    spent_cents: int
    forecast_cents: int

    @property
    def variance_cents(self) -> int:
        """Seed 000: budget allotted minus the expenses incurred and those still to come."""
        return self.planned_cents - self.spent_cents - self.forecast_cents


@dataclass(frozen=True)
class AnnualReport:
    project_id: int
    title: str
    programme: str
    territory: str
    year: int
    as_of: date
    structure: str
    actions: list[CpomRow]
    budget: list[BudgetRow]

    @property
    def budget_total(self) -> BudgetRow:
        return BudgetRow(
            "",
            "Total",
            sum(b.planned_cents for b in self.budget),
            sum(b.spent_cents for b in self.budget),
            sum(b.forecast_cents for b in self.budget),
        )


def annual_report(engine: Engine, project_id: int, year: int) -> AnnualReport:
    """The CPOM annual report of ``year``, as of today (or the year's end, if past).

    Actions are the programme's milestones of the year (due or done in it, or still open
    from before), its meeting series (meetings planned vs held in the year, as seed 000
    counts "COPIL: 3 réunions prévues, 2 réunions") and the project's indicators; the
    general objective is the project, the specific objective the phase (for indicators,
    their kind: process, activity, result). Rows are data; ``web.pages.exports`` words
    them in the form's French.
    """
    today = engine.today()
    as_of = min(today, date(year, 12, 31))
    first = date(year, 1, 1)
    with read(engine.db) as conn:
        project = engine.project_row(conn, project_id)
        definition = engine.shown_definition(project.definition_id, project.definition_version)
        milestones = conn.execute(
            sa.select(tables.milestone)
            .where(tables.milestone.c.project_id == project_id)
            .order_by(tables.milestone.c.due_on, tables.milestone.c.id)
        ).all()
        meetings = conn.execute(
            sa.select(tables.meeting)
            .where(tables.meeting.c.project_id == project_id)
            .order_by(tables.meeting.c.id)
        ).all()
        indicators = conn.execute(
            sa.select(tables.indicator)
            .where(tables.indicator.c.project_id == project_id)
            .order_by(tables.indicator.c.kind, tables.indicator.c.key)
        ).all()
        budget = conn.execute(
            sa.select(tables.budget_line)
            .where(tables.budget_line.c.project_id == project_id)
            .order_by(tables.budget_line.c.id)
        ).all()
        pilot = conn.execute(
            sa.select(tables.partner.c.organisation, tables.partner.c.roles)
            .where(tables.partner.c.project_id == project_id)
            .order_by(tables.partner.c.id)
        ).all()
    general = project.title
    actions: list[CpomRow] = []
    for m in milestones:
        in_year = m.due_on.year == year or (m.done_on is not None and m.done_on.year == year)
        carried = m.done_on is None and m.due_on < first
        if not (in_year or carried):
            continue
        if m.done_on is not None:
            late = max(0, (m.done_on - m.due_on).days)
            gap = "done_late" if late else "none"
        elif m.due_on < as_of:
            late, gap = (as_of - m.due_on).days, "not_done"
        else:
            late, gap = 0, "upcoming"
        actions.append(
            CpomRow(
                kind="milestone",
                general_objective=general,
                specific_objective=definition.phase_label(m.phase),
                action=m.label,
                gap=gap,
                planned_deadline=m.due_on,
                realised_on=m.done_on,
                deliverable=m.deliverable,
                deliverable_ref=m.deliverable_ref,
                days_late=late,
            )
        )
    for series in definition.meetings:
        planned, held, cancelled, phases = 0, [], 0, []
        for mt in meetings:
            if mt.series != series.key:
                continue
            day = mt.held_on or (in_paris(mt.starts_at).date() if mt.starts_at else None)
            if day is not None and day.year != year:
                continue
            if day is None and mt.status != "expected":
                continue
            if mt.phase and mt.phase not in phases:
                phases.append(mt.phase)
            if mt.status == "cancelled":
                cancelled += 1
                continue
            planned += 1
            if mt.status == "held" and mt.held_on is not None:
                held.append(mt.held_on)
        if planned == 0 and cancelled == 0:
            continue
        actions.append(
            CpomRow(
                kind="meeting_series",
                general_objective=general,
                specific_objective=", ".join(definition.phase_label(p) for p in phases),
                action=series.label,
                gap="meetings_missing" if planned > len(held) else "none",
                held_on=tuple(sorted(held)),
                planned_meetings=planned,
                held_meetings=len(held),
                cancelled_meetings=cancelled,
            )
        )
    for ind in indicators:
        if ind.gap_explanation:
            gap = "stated"
        elif ind.planned is not None and ind.realised is not None and ind.planned == ind.realised:
            gap = "none"
        else:
            gap = ""
        actions.append(
            CpomRow(
                kind="indicator",
                general_objective=general,
                specific_objective="",
                action=ind.label,
                gap=gap,
                indicator_kind=ind.kind,
                planned=ind.planned,
                realised=ind.realised,
                unit=ind.unit,
                gap_explanation=ind.gap_explanation or "",
                corrective_measure=ind.corrective_measure or "",
            )
        )
    structure = next((p.organisation for p in pilot if "pilot" in (p.roles or [])), "")
    variant = next((v.label for v in definition.variants if v.key == project.variant), None)
    return AnnualReport(
        project_id=project_id,
        title=project.title,
        programme=f"{definition.title} — {variant}" if variant else definition.title,
        territory=project.territory,
        year=year,
        as_of=as_of,
        structure=structure,
        actions=actions,
        budget=[
            BudgetRow(general, b.label, b.planned_cents, b.spent_cents, b.forecast_cents)
            for b in budget
        ],
    )
