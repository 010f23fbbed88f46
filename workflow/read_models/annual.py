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
from workflow.calendar import paris_date
from workflow.database import read
from workflow.engine import Engine

__all__ = ["AnnualReport", "BudgetRow", "CpomRow", "annual_report"]

INDICATOR_KINDS = {
    "process": "Indicateurs de processus",
    "activity": "Indicateurs d'activité",
    "result": "Indicateurs de résultats",
}


# -- the annual report (seed 000, CPOM form) -----------------------------------------------


@dataclass(frozen=True)
class CpomRow:
    general_objective: str
    specific_objective: str
    action: str
    planned_deadline: date | str
    realised_deadline: date | str
    planned_indicator: str
    realised_indicator: str
    gap_explanation: str
    corrective_measure: str


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


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return ""
    text = f"{value:g}".replace(".", ",")
    return f"{text} {unit}".strip()


def annual_report(engine: Engine, project_id: int, year: int) -> AnnualReport:
    """The CPOM annual report of ``year``, as of today (or the year's end, if past).

    Actions are the programme's milestones of the year (due or done in it, or still open
    from before), its meeting series (meetings planned vs held in the year, as seed 000
    counts "COPIL: 3 réunions prévues, 2 réunions") and the project's indicators; the
    general objective is the project, the specific objective the phase (for indicators,
    their kind: process, activity, result).
    """
    today = engine.today()
    as_of = min(today, date(year, 12, 31))
    first = date(year, 1, 1)
    with read(engine.db) as conn:
        project = engine.project_row(conn, project_id)
        definition = engine.definition(project.definition_id, project.definition_version)
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
            late = (m.done_on - m.due_on).days
            gap = f"Réalisé avec {late} jour(s) de retard" if late > 0 else "Pas d'écart"
        elif m.due_on < as_of:
            gap = f"Non réalisé : {(as_of - m.due_on).days} jour(s) de retard"
        else:
            gap = "Échéance à venir"
        actions.append(
            CpomRow(
                general_objective=general,
                specific_objective=definition.phase_label(m.phase),
                action=m.label,
                planned_deadline=m.due_on,
                realised_deadline=m.done_on or "",
                planned_indicator=f"Livrable : {m.deliverable}" if m.deliverable else "Réalisé",
                realised_indicator=(
                    (m.deliverable_ref or "Livré") if m.done_on is not None else "Non réalisé"
                ),
                gap_explanation=gap,
                corrective_measure="",
            )
        )
    for series in definition.meetings:
        planned, held, cancelled, phases = 0, [], 0, []
        for mt in meetings:
            if mt.series != series.key:
                continue
            day = mt.held_on or (paris_date(mt.starts_at) if mt.starts_at else None)
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
        missing = planned - len(held)
        if missing <= 0:
            gap = "Pas d'écart"
        else:
            gap = f"{missing} réunion(s) non tenue(s) à la date du {as_of:%d/%m/%Y}"
        if cancelled:
            gap += f" ; {cancelled} annulée(s)"
        actions.append(
            CpomRow(
                general_objective=general,
                specific_objective=", ".join(definition.phase_label(p) for p in phases),
                action=series.label,
                planned_deadline="",
                realised_deadline=", ".join(f"{d:%d/%m/%Y}" for d in sorted(held)),
                planned_indicator=f"{planned} réunion(s)",
                realised_indicator=f"{len(held)} réunion(s)",
                gap_explanation=gap,
                corrective_measure="",
            )
        )
    for ind in indicators:
        if ind.gap_explanation:
            gap = ind.gap_explanation
        elif ind.planned is not None and ind.realised is not None and ind.planned == ind.realised:
            gap = "Pas d'écart"
        else:
            gap = ""
        actions.append(
            CpomRow(
                general_objective=general,
                specific_objective=INDICATOR_KINDS.get(ind.kind, ind.kind),
                action=ind.label,
                planned_deadline="",
                realised_deadline="",
                planned_indicator=_number(ind.planned, ind.unit),
                realised_indicator=_number(ind.realised, ind.unit),
                gap_explanation=gap,
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
