"""Simulated parties: what a project's people do, day by day, in a simulated year.

``copilote simulate --scenario`` and the tests drive a project through a year on a fixed
clock (:func:`workflow.driver.run_until`); a scenario is the ``act`` they hand it:

- ``idle``: nobody does anything (what the reminders and escalations alone produce);
- ``diligent``: every party does its part on the day it is due: the pilot schedules each
  meeting two weeks ahead (occurrences of the phase, and the cadence of each series) and
  holds it on its day, milestones are recorded done on their due date, each partner sends
  its report on its due date, and the pilot advances the phase once its exit conditions
  hold and its planned end has come (decisions are not taken for the committee: a phase
  that needs one stays where it is).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa

from workflow import tables
from workflow.calendar import PARIS, is_working_day, next_working_day, paris_date, resolve
from workflow.conditions import active, project_partners
from workflow.database import read
from workflow.definition import DateRule, Definition
from workflow.engine import Engine, NewProject, PartnerIn
from workflow.errors import WorkflowError
from workflow.lifecycle import ABANDONED, BUILTIN_TRIGGERS, SUSPENDED
from workflow.occasions import quarter_of_period
from workflow.planner import quarter_end
from workflow.progress import cadence_interval
from workflow.records import Records

__all__ = [
    "SCENARIOS",
    "Diligent",
    "MonthlyCounts",
    "monthly_counts",
    "scenario",
    "simulated_project",
]

SCENARIOS = ("idle", "diligent")
LEAD = timedelta(days=14)  # how far ahead the diligent pilot schedules a meeting
MEETING_TIME = time(14)
ACTOR = "Pilote (simulation)"


class Diligent:
    """Every party of one project does its part on the day it is due."""

    def __init__(self, engine: Engine, records: Records, project_id: int) -> None:
        self.engine, self.records, self.project_id = engine, records, project_id

    def __call__(self, day: date) -> None:
        project = self._project()
        if project is None or project.phase in {SUSPENDED, ABANDONED}:
            return
        definition = self.engine.project_definition(project)
        if project.phase in definition.terminal:
            return
        self._hold_meetings(day)
        self._milestones(day)
        self._reports(definition, day)
        self._schedule_meetings(definition, project, day)
        self._advance(definition, day)

    # -- reading ----------------------------------------------------------------------------
    def _project(self) -> Any:
        with read(self.engine.db) as conn:
            return conn.execute(
                sa.select(tables.project).where(tables.project.c.id == self.project_id)
            ).one_or_none()

    def _rows(self, query: Any) -> list[Any]:
        with read(self.engine.db) as conn:
            return list(conn.execute(query).all())

    # -- doing ------------------------------------------------------------------------------
    def _hold_meetings(self, day: date) -> None:
        m = tables.meeting.c
        for meeting in self._rows(
            sa.select(tables.meeting).where(m.project_id == self.project_id, m.status == "planned")
        ):
            if meeting.starts_at is not None and paris_date(meeting.starts_at) <= day:
                self.records.meeting_held(
                    self.project_id, meeting_id=meeting.id, minutes_ref="compte rendu"
                )

    def _milestones(self, day: date) -> None:
        m = tables.milestone.c
        for milestone in self._rows(
            sa.select(m.key, m.due_on).where(
                m.project_id == self.project_id, m.done_on.is_(None), m.due_on <= day
            )
        ):
            self.records.milestone_done(
                self.project_id, milestone.key, by=ACTOR, deliverable_ref=f"{milestone.key}.pdf"
            )

    def _reports(self, definition: Definition, day: date) -> None:
        r = tables.reminder.c
        requested = self._rows(
            sa.select(r.schedule, r.period).where(
                r.project_id == self.project_id,
                r.kind == "report_request",
                r.status == "done",
            )
        )
        for schedule, period in requested:
            spec = next((s for s in definition.reports if s.key == schedule), None)
            if spec is None or period is None:
                continue
            year, quarter = quarter_of_period(period)
            rule = DateRule(after="project_start", offset=spec.due_after_period)
            end = quarter_end(year, quarter)
            due = resolve(
                rule,
                project_start=end,
                phase_start=end,
                move_to_working_day=definition.reminders.move_to_working_day,
            ).due
            if due != day:
                continue
            sent = {
                row.partner_id
                for row in self._rows(
                    sa.select(tables.report.c.partner_id).where(
                        tables.report.c.project_id == self.project_id,
                        tables.report.c.schedule == schedule,
                        tables.report.c.period == period,
                    )
                )
            }
            with read(self.engine.db) as conn:
                owing = active(project_partners(conn, self.project_id), day, spec.owed_by)
            for partner in owing:
                if partner.id not in sent:
                    self.records.submit_report(
                        self.project_id, partner.id, schedule, period, {"actions": "réalisées"}
                    )

    def _schedule_meetings(self, definition: Definition, project: Any, day: date) -> None:
        m = tables.meeting.c
        meetings = self._rows(
            sa.select(m.series, m.occurrence, m.status, m.starts_at, m.held_on).where(
                m.project_id == self.project_id, m.status.in_(["planned", "held"])
            )
        )
        meeting_day = day + LEAD
        if not is_working_day(meeting_day):
            meeting_day = next_working_day(meeting_day)
        when = datetime.combine(meeting_day, MEETING_TIME, tzinfo=PARIS)
        known = {row.occurrence for row in meetings if row.occurrence}
        for series in definition.meetings:
            for occurrence in series.occurrences:
                if occurrence.phase != project.phase or occurrence.key in known:
                    continue
                if occurrence.variants and project.variant not in occurrence.variants:
                    continue
                self.records.schedule_meeting(
                    self.project_id, series.key, when, occurrence=occurrence.key
                )
                return  # one meeting scheduled a day
            cadence = series.cadence
            if cadence is None or (
                series.phases is not None and project.phase not in series.phases
            ):
                continue
            own = [row for row in meetings if row.series == series.key]
            if any(row.status == "planned" for row in own):
                continue
            last = max(
                (
                    row.held_on or paris_date(row.starts_at)
                    for row in own
                    if row.held_on or row.starts_at
                ),
                default=None,
            )
            entered = paris_date(project.phase_entered_at)
            since = max(last, entered) if last is not None else entered
            if last is None or since + cadence_interval(cadence.every, cadence.unit) - LEAD <= day:
                self.records.schedule_meeting(self.project_id, series.key, when)
                return

    def _advance(self, definition: Definition, day: date) -> None:
        project = self._project()
        order = {p.key: i for i, p in enumerate(definition.phases)}
        phase = next((p for p in definition.phases if p.key == project.phase), None)
        if phase is None:
            return
        if phase.planned_end is not None:
            entered = paris_date(project.phase_entered_at)
            end = resolve(
                phase.planned_end,
                project_start=project.start_date,
                phase_start=entered,
                move_to_working_day=False,
            ).due
            if day < end:
                return
        for transition in definition.transitions:
            if (
                project.phase not in transition.source
                or transition.trigger in BUILTIN_TRIGGERS
                or transition.comment_required
                or transition.automatic is not None
                or order.get(transition.dest, len(order)) <= order[project.phase]
            ):
                continue
            if self.engine.check(self.project_id, transition.trigger):
                continue
            try:
                self.engine.advance(self.project_id, transition.trigger, actor=ACTOR)
            except WorkflowError:
                continue
            return


def scenario(
    name: str, engine: Engine, records: Records, project_id: int
) -> Callable[[date], object] | None:
    """The ``act`` of scenario ``name`` for one project (None: nobody acts)."""
    if name == "idle":
        return None
    if name == "diligent":
        return Diligent(engine, records, project_id)
    raise ValueError(f"unknown scenario {name!r}: {' or '.join(SCENARIOS)}")


PILOT_EMAIL = "pilote@example.org"
AGENCY_EMAIL = "agence@example.org"
HABITANTS_EMAIL = "habitants@example.org"


def partner_email(index: int) -> str:
    return f"partenaire.{chr(ord('a') + index)}@example.org"


def simulated_project(
    engine: Engine,
    records: Records,
    definition_id: str,
    start: date,
    *,
    partners: int = 5,
    variant: str | None = None,
    english: Iterable[int] = (),
) -> int:
    """A project of ``definition_id`` starting on ``start``: a pilot (also on the COPIL), the
    agency, ``partners`` founding partners (the first on the COPIL) and, where the
    definition has the role, the inhabitants' representative on the COPIL. ``english``: the
    indexes (from 0) of the partners who read English."""
    definition = engine.definition(definition_id)
    variant = variant or (definition.variants[0].key if definition.variants else None)
    pid = engine.create_project(
        NewProject(
            definition_id=definition.id,
            title=f"Simulation {definition.title}",
            start_date=start,
            variant=variant,
            pilot=PartnerIn("Pilote", PILOT_EMAIL, "Pilote du projet", ("pilot", "copil")),
            agency=PartnerIn("Agence", AGENCY_EMAIL, "Agence", ("agency",)),
            convention_start=start,
        )
    )
    for i in range(partners):
        name = f"Partenaire {chr(ord('A') + i)}"
        roles = ("partner", "copil") if i == 0 else ("partner",)
        lang = "en" if i in set(english) else "fr"
        records.add_partner(pid, PartnerIn(name, partner_email(i), name, roles, lang=lang), start)
    if "habitants" in {r.key for r in definition.roles}:
        records.add_partner(
            pid,
            PartnerIn("Conseil citoyen", HABITANTS_EMAIL, "", ("habitants", "copil")),
            start,
        )
    return pid


@dataclass(frozen=True)
class MonthlyCounts:
    """How many messages each person received each month."""

    months: list[str]  # "2026-05", in order
    people: list[str]  # addresses, in order of first message
    counts: dict[tuple[str, str], int]  # (person, month) -> messages

    def row(self, person: str) -> list[int]:
        return [self.counts.get((person, month), 0) for month in self.months]

    def average(self, person: str) -> float:
        return sum(self.row(person)) / len(self.months) if self.months else 0.0

    def peak(self, person: str) -> int:
        return max(self.row(person), default=0)


def monthly_counts(sent: Iterable[tuple[str, date]], first: date, last: date) -> MonthlyCounts:
    """Count ``(address, day)`` pairs per person and month, from ``first`` to ``last``."""
    months: list[str] = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    counts: Counter[tuple[str, str]] = Counter()
    people: list[str] = []
    for email, day in sent:
        if email not in people:
            people.append(email)
        counts[(email, f"{day.year:04d}-{day.month:02d}")] += 1
    return MonthlyCounts(months, people, dict(counts))
