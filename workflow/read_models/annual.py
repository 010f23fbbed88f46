"""The annual report of one project (seed 000, the CPOM report).

For each action it compares the planned and realised deadline and indicator, explains the
gaps and names the corrective measures; its budget table gives planned, spent, forecast
and the variance.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa

from workflow import tables
from workflow.calendar import in_paris, paris_date
from workflow.database import read
from workflow.engine import Engine
from workflow.errors import InvalidInput
from workflow.plan import check_year

__all__ = [
    "ActionRow",
    "AnnualReport",
    "BudgetRow",
    "CancelledMeeting",
    "CpomRow",
    "HeldMeeting",
    "IndicatorRow",
    "MeetingCount",
    "ObjectiveSection",
    "annual_report",
    "count_participants",
]

# -- the annual report (seed 000, CPOM form) -----------------------------------------------


@dataclass(frozen=True)
class CancelledMeeting:
    label: str
    day: date | None
    reason: str


@dataclass(frozen=True)
class HeldMeeting:
    label: str
    day: date
    participants: int


@dataclass(frozen=True)
class MeetingCount:
    """The meetings of an action (or a series) dated in the year, as of the report's date.

    A meeting expected by the programme but never scheduled has no date and counts in no
    year; a cancelled one counts as planned and cancelled, with its reason. ``participants``
    and ``structures`` are distinct people and structures over the meetings held, counted
    from their attendance lists (an attendee written ``Name (Structure)``).
    """

    planned: int
    held: tuple[HeldMeeting, ...]
    upcoming: tuple[date, ...]
    not_held: tuple[date, ...]  # planned on or before the report's date, not recorded held
    cancelled: tuple[CancelledMeeting, ...]
    participants: int
    structures: int
    gap_explanations: tuple[str, ...] = ()
    corrective_measures: tuple[str, ...] = ()


@dataclass(frozen=True)
class IndicatorRow:
    key: str
    label: str
    kind: str
    year: int | None
    planned: float | None
    realised: float | None
    unit: str
    source: str
    method: str
    gap_explanation: str
    corrective_measure: str
    corrective_measure_cpom: str


@dataclass(frozen=True)
class ActionRow:
    """A fiche-action in the report: what was planned and realised, its meetings and
    indicators, the gap and the corrective measures."""

    key: str
    label: str
    specific_objective: str  # the objective it serves when not the general one itself
    partner: str
    starts_on: date | None
    ends_on: date | None
    target_public: str
    etp: float | None
    budget_cents: int | None
    planned: str
    realised: str
    meetings: MeetingCount | None
    indicators: tuple[IndicatorRow, ...]
    gap_explanation: str
    corrective_measure: str
    corrective_measure_cpom: str


@dataclass(frozen=True)
class ObjectiveSection:
    """A general objective as entered, its specific (and operational) objectives, and the
    actions serving any of them."""

    key: str
    label: str
    specific: tuple[str, ...]
    actions: tuple[ActionRow, ...]


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
    document: str | None = None  # the file filed for the milestone (latest version)
    document_filed_on: date | None = None
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
    corrective_measure_cpom: str = ""  # the 10th column, "... fin de la 3e année du CPOM"
    cancellations: tuple[CancelledMeeting, ...] = ()
    upcoming: tuple[date, ...] = ()  # a series' meetings planned after the report's date


@dataclass(frozen=True)
class BudgetRow:
    general_objective: str
    label: str
    planned_cents: int
    spent_cents: int
    forecast_cents: int
    comment: str = ""
    id: int | None = None

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
    objectives: list[ObjectiveSection] = field(default_factory=list)
    funding: list[tuple[str, int]] = field(default_factory=list)  # (funder, basis points)

    @property
    def closed_year(self) -> bool:
        """Taken on or after the year's last day: nothing is left to forecast."""
        return self.as_of >= date(self.year, 12, 31)

    @property
    def forecast_from(self) -> date | None:
        """First day of the forecast expenses ("du 1er septembre au 31 décembre"), if any."""
        return None if self.closed_year else self.as_of + timedelta(days=1)

    @property
    def budget_total(self) -> BudgetRow:
        return BudgetRow(
            "",
            "Total",
            sum(b.planned_cents for b in self.budget),
            sum(b.spent_cents for b in self.budget),
            sum(b.forecast_cents for b in self.budget),
        )


def count_participants(attendee_lists: list[list[str]]) -> tuple[int, int]:
    """Distinct participants and structures over attendance lists. An attendee written
    ``Name (Structure)`` counts for that structure; one written without a structure counts as
    a structure of their own."""
    people: set[str] = set()
    structures: set[str] = set()
    for attendees in attendee_lists:
        for raw in attendees:
            text = " ".join(raw.split())
            if not text:
                continue
            people.add(text.casefold())
            match = _STRUCTURE.search(text)
            structures.add((match.group(1) if match else text).strip().casefold())
    return len(people), len(structures)


_STRUCTURE = re.compile(r"\(([^()]+)\)\s*$")


def _meeting_count(meetings: list[Any], year: int, as_of: date) -> MeetingCount | None:
    planned = 0
    held: list[HeldMeeting] = []
    upcoming: list[date] = []
    not_held: list[date] = []
    cancelled: list[CancelledMeeting] = []
    attended: list[list[str]] = []
    gaps: list[str] = []
    measures: list[str] = []
    for mt in meetings:
        day = mt.held_on or (in_paris(mt.starts_at).date() if mt.starts_at else None)
        if day is None or day.year != year:
            continue  # expected by the programme, never scheduled: planned in no year
        planned += 1
        if mt.gap_explanation:
            gaps.append(mt.gap_explanation)
        if mt.corrective_measure:
            measures.append(mt.corrective_measure)
        if mt.status == "cancelled":
            cancelled.append(CancelledMeeting(mt.label, day, mt.cancel_reason or ""))
        elif mt.status == "held" and mt.held_on is not None and mt.held_on <= as_of:
            held.append(HeldMeeting(mt.label, mt.held_on, len(mt.attendees or [])))
            attended.append(list(mt.attendees or []))
        elif day > as_of:
            upcoming.append(day)
        else:
            not_held.append(day)
    if planned == 0:
        return None
    participants, structures = count_participants(attended)
    return MeetingCount(
        planned=planned,
        held=tuple(sorted(held, key=lambda h: h.day)),
        upcoming=tuple(sorted(upcoming)),
        not_held=tuple(sorted(not_held)),
        cancelled=tuple(cancelled),
        participants=participants,
        structures=structures,
        gap_explanations=tuple(gaps),
        corrective_measures=tuple(measures),
    )


def _indicator_row(ind: Any, consolidated: dict[int, float]) -> IndicatorRow:
    realised = ind.realised if ind.realised is not None else consolidated.get(ind.id)
    return IndicatorRow(
        key=ind.key,
        label=ind.label,
        kind=ind.kind,
        year=ind.year,
        planned=ind.planned,
        realised=realised,
        unit=ind.unit,
        source=ind.source or "",
        method=ind.method or "",
        gap_explanation=ind.gap_explanation or "",
        corrective_measure=ind.corrective_measure or "",
        corrective_measure_cpom=ind.corrective_measure_cpom or "",
    )


def annual_report(
    engine: Engine, project_id: int, year: int | None = None, as_of: date | None = None
) -> AnnualReport:
    """The CPOM annual report of ``year`` as of ``as_of`` (default: today, or the year's last
    day for a past year; the year defaults to that of ``as_of``).

    A project with objectives is reported as entered (seed 000): each general objective with
    its specific objectives, then the actions serving them, their meetings and indicators.
    Without objectives, the actions are the programme's milestones of the year (due or done
    in it, or still open from before), its meeting series and the project's indicators, the
    general objective being the project and the specific one the phase. Indicators carry
    their year: one of another year is left out. Rows are data; ``web.pages.exports`` words
    them in the form's French.
    """
    today = engine.today()
    if year is None:
        year = (as_of or today).year
    check_year(year)
    first = date(year, 1, 1)
    if as_of is None:
        as_of = min(today, date(year, 12, 31))
    elif as_of < first:
        raise InvalidInput(
            "as_of", f"the report of {year} cannot be taken on {as_of}, before the year starts"
        )
    as_of = min(as_of, date(year, 12, 31))
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
            .where(
                tables.indicator.c.project_id == project_id,
                sa.or_(tables.indicator.c.year.is_(None), tables.indicator.c.year == year),
            )
            .order_by(tables.indicator.c.kind, tables.indicator.c.key)
        ).all()
        budget = conn.execute(
            sa.select(tables.budget_line)
            .where(
                tables.budget_line.c.project_id == project_id,
                sa.or_(tables.budget_line.c.year.is_(None), tables.budget_line.c.year == year),
            )
            .order_by(tables.budget_line.c.id)
        ).all()
        # The file filed for each milestone (its latest version: the last one read wins).
        files = {
            r.subject: (r.filename, paris_date(r.uploaded_at))
            for r in conn.execute(
                sa.select(
                    tables.document.c.subject,
                    tables.document_version.c.filename,
                    tables.document_version.c.uploaded_at,
                )
                .join(
                    tables.document_version,
                    tables.document_version.c.document_id == tables.document.c.id,
                )
                .where(
                    tables.document.c.project_id == project_id,
                    tables.document.c.attached_to == "milestone",
                )
                .order_by(tables.document_version.c.uploaded_at, tables.document_version.c.id)
            )
        }
        pilot = conn.execute(
            sa.select(tables.partner.c.id, tables.partner.c.organisation, tables.partner.c.roles)
            .where(tables.partner.c.project_id == project_id)
            .order_by(tables.partner.c.id)
        ).all()
        objectives = conn.execute(
            sa.select(tables.objective)
            .where(tables.objective.c.project_id == project_id)
            .order_by(tables.objective.c.position, tables.objective.c.id)
        ).all()
        fiches = conn.execute(
            sa.select(tables.fiche_action)
            .where(tables.fiche_action.c.project_id == project_id)
            .order_by(tables.fiche_action.c.position, tables.fiche_action.c.id)
        ).all()
        values = conn.execute(
            sa.select(tables.realised_value.c.indicator_id, tables.realised_value.c.value).where(
                tables.realised_value.c.project_id == project_id,
                tables.realised_value.c.indicator_id.is_not(None),
                tables.realised_value.c.value.is_not(None),
                tables.realised_value.c.period.like(f"{year}-Q%"),
                tables.realised_value.c.period <= quarter_of(as_of),
            )
        ).all()
        funding = conn.execute(
            sa.select(tables.funding_share.c.funder, tables.funding_share.c.share_basis_points)
            .where(
                tables.funding_share.c.project_id == project_id,
                tables.funding_share.c.year == year,
            )
            .order_by(tables.funding_share.c.share_basis_points.desc())
        ).all()
    consolidated: dict[int, float] = {}
    for v in values:  # the partners' quarterly values of the year, added up per indicator
        consolidated[v.indicator_id] = consolidated.get(v.indicator_id, 0.0) + v.value
    general = project.title
    objective_label = {o.id: o.label for o in objectives}
    sections = _sections(objectives, fiches, meetings, indicators, pilot, consolidated, year, as_of)
    actions: list[CpomRow] = []
    if not objectives:
        actions = _programme_rows(
            definition, general, milestones, meetings, indicators, consolidated, year, as_of, files
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
            BudgetRow(
                objective_label.get(b.objective_id, general),
                b.label,
                b.planned_cents,
                b.spent_cents,
                b.forecast_cents,
                b.comment or "",
                b.id,
            )
            for b in budget
        ],
        objectives=sections,
        funding=[(f.funder, f.share_basis_points) for f in funding],
    )


def quarter_of(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def _sections(
    objectives: Sequence[Any],
    fiches: Sequence[Any],
    meetings: Sequence[Any],
    indicators: Sequence[Any],
    partners: Sequence[Any],
    consolidated: dict[int, float],
    year: int,
    as_of: date,
) -> list[ObjectiveSection]:
    by_id = {o.id: o for o in objectives}

    def root(objective_id: int) -> int:
        seen = 0
        while by_id[objective_id].parent_id is not None and seen < 3:
            objective_id, seen = by_id[objective_id].parent_id, seen + 1
        return objective_id

    organisation = {p.id: p.organisation for p in partners}
    sections: list[ObjectiveSection] = []
    for general in (o for o in objectives if o.level == "general"):
        specific = tuple(
            o.label for o in objectives if o.level != "general" and root(o.id) == general.id
        )
        rows: list[ActionRow] = []
        for fa in fiches:
            if root(fa.objective_id) != general.id:
                continue
            served = by_id[fa.objective_id]
            own = [m for m in meetings if m.action_id == fa.id]
            if not own and fa.series:
                own = [m for m in meetings if m.series == fa.series and m.action_id is None]
            rows.append(
                ActionRow(
                    key=fa.key,
                    label=fa.label,
                    specific_objective="" if served.level == "general" else served.label,
                    partner=organisation.get(fa.partner_id, ""),
                    starts_on=fa.starts_on,
                    ends_on=fa.ends_on,
                    target_public=fa.target_public,
                    etp=fa.etp,
                    budget_cents=fa.budget_cents,
                    planned=fa.planned,
                    realised=fa.realised,
                    meetings=_meeting_count(own, year, as_of),
                    indicators=tuple(
                        _indicator_row(i, consolidated) for i in indicators if i.action_id == fa.id
                    ),
                    gap_explanation=fa.gap_explanation or "",
                    corrective_measure=fa.corrective_measure or "",
                    corrective_measure_cpom=fa.corrective_measure_cpom or "",
                )
            )
        sections.append(ObjectiveSection(general.key, general.label, specific, tuple(rows)))
    return sections


def _programme_rows(
    definition: Any,
    general: str,
    milestones: Sequence[Any],
    meetings: Sequence[Any],
    indicators: Sequence[Any],
    consolidated: dict[int, float],
    year: int,
    as_of: date,
    files: dict[str, tuple[str, date]],
) -> list[CpomRow]:
    first = date(year, 1, 1)
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
                document=files.get(m.key, (None, None))[0],
                document_filed_on=files.get(m.key, (None, None))[1],
                days_late=late,
            )
        )
    for series in definition.meetings:
        own = [mt for mt in meetings if mt.series == series.key]
        count = _meeting_count(own, year, as_of)
        if count is None:
            continue
        phases: list[str] = []
        for mt in own:
            day = mt.held_on or (in_paris(mt.starts_at).date() if mt.starts_at else None)
            if day is not None and day.year == year and mt.phase and mt.phase not in phases:
                phases.append(mt.phase)
        actions.append(
            CpomRow(
                kind="meeting_series",
                general_objective=general,
                specific_objective=", ".join(definition.phase_label(p) for p in phases),
                action=series.label,
                gap="meetings_missing" if count.not_held else "none",
                held_on=tuple(h.day for h in count.held),
                planned_meetings=count.planned,
                held_meetings=len(count.held),
                cancelled_meetings=len(count.cancelled),
                cancellations=count.cancelled,
                upcoming=count.upcoming,
                gap_explanation="; ".join(count.gap_explanations),
                corrective_measure="; ".join(count.corrective_measures),
            )
        )
    for ind in indicators:
        row = _indicator_row(ind, consolidated)
        if row.gap_explanation:
            gap = "stated"
        elif row.planned is not None and row.realised is not None and row.planned == row.realised:
            gap = "none"
        else:
            gap = ""
        actions.append(
            CpomRow(
                kind="indicator",
                general_objective=general,
                specific_objective="",
                action=row.label,
                gap=gap,
                indicator_kind=row.kind,
                planned=row.planned,
                realised=row.realised,
                unit=row.unit,
                gap_explanation=row.gap_explanation,
                corrective_measure=row.corrective_measure,
                corrective_measure_cpom=row.corrective_measure_cpom,
            )
        )
    return actions
