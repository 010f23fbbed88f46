"""The engine: creates projects and moves them through their phases.

Every public method is one database transaction: the state change, its history row, the
milestones and meetings it opens and the notifications it queues commit together or not
at all. The engine never reads the wall clock (``self.clock``) and never sends anything:
it writes outbox rows that delivery sends after commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple

import sqlalchemy as sa

from workflow import due_tally, owed_reports, tables
from workflow.addresses import check_email
from workflow.calendar import months_later, paris_date, resolve
from workflow.clock import Clock
from workflow.conditions import AutomaticFlag, comment_required, project_partners, unmet_conditions
from workflow.conventions import DEFAULT_LABEL, insert_convention, period_months
from workflow.database import Raw, raw, read, write
from workflow.definition import Definition, Transition
from workflow.errors import (
    ConflictError,
    DefinitionGone,
    InvalidInput,
    NotFound,
    StepNotAvailable,
    TransitionRefused,
    UnknownTrigger,
    Unmet,
)
from workflow.failures import clear_failure, reason, record_failure
from workflow.lateness import LOWER_OPEN_DUE, refresh_open_due
from workflow.lifecycle import ABANDONED, SUSPENDED, Lifecycle, ProjectState
from workflow.loader import DefinitionRegistry
from workflow.planner import AUTOMATIC_ACTOR, Planner, TransitionEvent
from workflow.progress import phase_in_progress

__all__ = ["AdvanceResult", "Engine", "NewProject", "PartnerIn", "StepNotAvailable"]


class _Current(NamedTuple):
    """What an advance needs of the project row."""

    id: int
    definition_id: str
    definition_version: int
    variant: str | None
    title: str
    start_date: date
    phase: str
    suspended_from: str | None
    phase_entered_at: datetime
    version: int


# The statements of an advance, written once (see workflow.database.Raw for why).
_CURRENT = (
    "SELECT id, definition_id, definition_version, variant, title, start_date, phase,"
    " suspended_from, phase_entered_at, version FROM project WHERE id = :id"
)
# The phase UPDATE, guarded by the version read. ``entered_at`` NULL keeps the phase's start
# (a suspension); ``reschedules`` false keeps when the automatic step is due (a suspension,
# an abandon, a resume), true sets ``auto_due_on`` (NULL: the new phase has none).
_MOVE = (
    "UPDATE project SET phase = :phase, suspended_from = :suspended_from,"
    " phase_entered_at = COALESCE(:entered_at, phase_entered_at),"
    " flagged_overdue_at = NULL, flag_reason = NULL,"
    " auto_due_on = CASE WHEN :reschedules THEN :auto_due_on ELSE auto_due_on END,"
    f" open_due = {LOWER_OPEN_DUE},"  # the milestones the new phase opens (workflow.lateness)
    " version = :new_version WHERE id = :id AND version = :version"
)
_PHASE = "SELECT phase FROM project WHERE id = :id"
_HISTORY = (
    'INSERT INTO history (project_id, at, actor, "trigger", from_phase, to_phase, comment)'
    " VALUES (:project_id, :at, :actor, :trigger, :from_phase, :to_phase, :comment)"
)
_MILESTONE_KEYS = 'SELECT "key" FROM milestone WHERE project_id = :project_id'
_OCCURRENCES = (
    "SELECT occurrence FROM meeting WHERE project_id = :project_id AND occurrence IS NOT NULL"
)
_OPEN_MILESTONE = (
    'INSERT INTO milestone (project_id, "key", label, phase, deliverable, responsible_role,'
    " due_on, moved_from) VALUES (:project_id, :key, :label, :phase, :deliverable,"
    " :responsible_role, :due_on, :moved_from)"
)
_EXPECT_MEETING = (
    "INSERT INTO meeting (project_id, series, occurrence, label, status, phase, attendees,"
    " location, sequence) VALUES (:project_id, :series, :occurrence, :label, 'expected',"
    " :phase, :attendees, '', 0)"
)


@dataclass(frozen=True)
class PartnerIn:
    organisation: str
    email: str
    contact_name: str = ""
    roles: tuple[str, ...] = ("partner",)
    lang: str = "fr"


@dataclass(frozen=True, kw_only=True)
class NewProject:
    """What a project is created from (:meth:`Engine.create_project` checks every field).

    ``version``: of the programme definition (default: the newest); ``actor``: who appears
    in the history (default: the pilot's contact, else email); ``convention_end``: default
    one year after ``convention_start``.
    """

    definition_id: str
    title: str
    start_date: date
    pilot: PartnerIn
    territory: str = ""
    variant: str | None = None
    agency: PartnerIn | None = None
    convention_start: date | None = None
    convention_end: date | None = None
    funding_cents: int | None = None
    version: int | None = None
    actor: str = ""
    lang: str = "fr"


@dataclass(frozen=True)
class AdvanceResult:
    project_id: int
    trigger: str
    from_phase: str
    to_phase: str
    version: int


def _auto_due(lifecycle: Lifecycle, phase: str, project_start: date, today: date) -> date | None:
    """When the automatic step out of ``phase`` is due, entering it ``today`` (None: none)."""
    auto = lifecycle.automatic_from(phase)
    if auto is None or auto.automatic is None:
        return None
    return resolve(auto.automatic.at, project_start=project_start, phase_start=today).due


class Engine:
    def __init__(
        self,
        db: sa.Engine,
        registry: DefinitionRegistry,
        clock: Clock,
        planner: Planner | None = None,
    ) -> None:
        self.db, self.registry, self.clock = db, registry, clock
        self.planner = planner or Planner(registry)
        self._lifecycles: dict[tuple[str, int], Lifecycle] = {}

    # -- definitions -------------------------------------------------------------------
    def definition(self, definition_id: str, version: int | None = None) -> Definition:
        try:
            return self.registry.get(definition_id, version)
        except KeyError:
            raise NotFound(
                "programme definition",
                definition_id if version is None else f"{definition_id} v{version}",
            ) from None

    def shown_definition(self, definition_id: str, version: int) -> Definition:
        """The definition to show a project with: its version, or where that version is no
        longer loaded, the latest loaded one of its programme (labels only: its due work is
        flagged, see :meth:`project_definition`), so one such project never takes a list or
        the dashboard down."""
        try:
            return self.registry.get(definition_id, version)
        except KeyError:
            return self.definition(definition_id)

    def project_definition(self, project: Any) -> Definition:
        """The definition version ``project`` (a row) runs; :class:`DefinitionGone` if it is
        no longer loaded."""
        try:
            return self.registry.get(project.definition_id, project.definition_version)
        except KeyError:
            raise DefinitionGone(
                project.id, project.definition_id, project.definition_version
            ) from None

    def lifecycle(self, definition_id: str, version: int) -> Lifecycle:
        """The shared machine of a definition version, built once."""
        key = (definition_id, version)
        lifecycle = self._lifecycles.get(key)
        if lifecycle is None:
            lifecycle = self._lifecycles[key] = Lifecycle(self.definition(definition_id, version))
        return lifecycle

    def today(self) -> date:
        return paris_date(self.clock.now())

    # -- projects ----------------------------------------------------------------------
    def create_project(self, new: NewProject) -> int:
        """Create ``new`` in its programme's first phase; its fields are checked here."""
        definition = self.definition(new.definition_id, new.version)
        if not new.title.strip():
            raise InvalidInput("title", "a project needs a title")
        variants = [v.key for v in definition.variants]
        if variants and new.variant not in variants:
            raise InvalidInput(
                "variant", f"choose one of {', '.join(variants)} for {definition.id}"
            )
        if not variants and new.variant is not None:
            raise InvalidInput("variant", f"{definition.id} has no variants")
        if new.funding_cents is not None and new.funding_cents < 0:
            raise InvalidInput("funding", "a funding amount cannot be negative")
        convention_start, convention_end = new.convention_start, new.convention_end
        if convention_start and convention_end and convention_end <= convention_start:
            raise InvalidInput(
                "convention_end",
                f"the convention ends on {convention_end}, not after it starts on "
                f"{convention_start}",
            )
        if not convention_start and convention_end and convention_end <= new.start_date:
            raise InvalidInput(
                "convention_end",
                f"the convention ends on {convention_end}, not after the project starts on "
                f"{new.start_date}",
            )
        if convention_start and not convention_end:
            # Seed 001: a convention lasts one year from signature, renewable expressly.
            convention_end = months_later(convention_start, period_months(definition))
        now = self.clock.now()
        with self.db.begin() as conn:
            project_id = conn.execute(
                sa.insert(tables.project)
                .values(
                    definition_id=definition.id,
                    definition_version=definition.version,
                    variant=new.variant,
                    title=new.title.strip(),
                    territory=new.territory.strip(),
                    start_date=new.start_date,
                    convention_start=convention_start,
                    convention_end=convention_end,
                    funding_cents=new.funding_cents,
                    lang=new.lang,
                    phase=definition.initial,
                    phase_entered_at=now,
                    version=1,
                    created_at=now,
                )
                .returning(tables.project.c.id)
            ).scalar_one()
            # The pilot steers (a COPIL member) but owes no partner reports unless told so.
            pilot = new.pilot
            roles = (
                "pilot",
                "copil",
                *(r for r in pilot.roles if r not in ("pilot", "copil", "partner")),
            )
            self._add_partner(
                conn,
                project_id,
                PartnerIn(pilot.organisation, pilot.email, pilot.contact_name, roles, pilot.lang),
                new.start_date,
                field="pilot",
            )
            if new.agency is not None:
                self._add_partner(conn, project_id, new.agency, new.start_date, field="agency")
            conn.execute(
                sa.insert(tables.history).values(
                    project_id=project_id,
                    at=now,
                    actor=new.actor or new.pilot.contact_name or new.pilot.email,
                    trigger="create",
                    from_phase="",
                    to_phase=definition.initial,
                    comment=None,
                )
            )
            self._enter_phase(
                conn,
                definition,
                project_id,
                new.variant,
                definition.initial,
                new.start_date,
                max(new.start_date, paris_date(now)),
            )
            if phase_in_progress(
                self.lifecycle(definition.id, definition.version), definition.initial
            ):
                due_tally.project_enters(conn, project_id)
            if convention_end is not None:
                # The dates of a convention signed before the project was recorded: a
                # convention in force, whose parties are added as they join.
                start = convention_start or new.start_date
                convention_id = insert_convention(
                    conn,
                    project_id=project_id,
                    label=DEFAULT_LABEL,
                    duration_months=period_months(definition),
                    parties=(),
                    by=new.actor or new.pilot.contact_name or new.pilot.email,
                    now=now,
                    effective_on=start,
                    ends_on=convention_end,
                )
                self.planner.plan_convention_end(
                    conn, definition, project_id, convention_id, convention_end
                )
            self.planner.on_project_created(
                conn, definition, project_id, convention_start, convention_end
            )
        return int(project_id)

    def _add_partner(
        self, conn: sa.Connection, project_id: int, partner: PartnerIn, joined_on: date, field: str
    ) -> int:
        if not partner.organisation.strip():
            raise InvalidInput(f"{field}.organisation", "an organisation name is required")
        email = check_email(f"{field}.email", partner.email)
        return int(
            conn.execute(
                sa.insert(tables.partner)
                .values(
                    project_id=project_id,
                    organisation=partner.organisation.strip(),
                    contact_name=partner.contact_name.strip(),
                    email=email,
                    roles=list(partner.roles),
                    lang=partner.lang,
                    joined_on=joined_on,
                    left_on=None,
                )
                .returning(tables.partner.c.id)
            ).scalar_one()
        )

    def project_row(self, conn: sa.Connection, project_id: int) -> Any:
        row = conn.execute(
            sa.select(tables.project).where(tables.project.c.id == project_id)
        ).one_or_none()
        if row is None:
            raise NotFound("project", project_id)
        return row

    # -- phases ------------------------------------------------------------------------
    def _transition_for(
        self, definition: Definition, trigger: str, phase: str
    ) -> Transition | None:
        return self.lifecycle(definition.id, definition.version).transition(trigger, phase)

    def _current(self, db: Raw, project_id: int) -> _Current:
        found = db.execute(_CURRENT, {"id": project_id}).fetchone()
        if found is None:
            raise NotFound("project", project_id)
        (
            pid,
            definition_id,
            version_of_definition,
            variant,
            title,
            start,
            phase,
            suspended_from,
            entered,
            version,
        ) = found
        return _Current(
            pid,
            definition_id,
            version_of_definition,
            variant,
            title,
            db.to_day(start),  # type: ignore[arg-type]
            phase,
            suspended_from,
            db.to_instant(entered),  # type: ignore[arg-type]
            version,
        )

    def check(self, project_id: int, trigger: str) -> list[Unmet]:
        """The unmet conditions of ``trigger`` for the project now (empty: it may advance)."""
        with read(self.db) as conn:
            row = self._current(raw(conn), project_id)
            definition = self.definition(row.definition_id, row.definition_version)
            transition = self._transition_for(definition, trigger, row.phase)
            if transition is None:
                return []
            return unmet_conditions(
                conn,
                definition,
                transition,
                project_id=project_id,
                phase_started=paris_date(row.phase_entered_at),
                today=self.today(),
            )

    def advance(
        self,
        project_id: int,
        trigger: str,
        *,
        actor: str,
        comment: str | None = None,
        expected_phase: str | None = None,
        expected_version: int | None = None,
    ) -> AdvanceResult:
        """Move the project by ``trigger``; refuse with every unmet condition, or a conflict.

        ``expected_phase`` / ``expected_version``: what the caller last read; a project that
        moved since is a conflict, checked in the same transaction as the step.

        One transaction: the phase UPDATE guarded by the version read (with the automatic
        step's date of the new phase), the history row, the milestones and meetings the
        phase opens, and the notices and reminders the planner queues. The partners are
        read once, for the conditions and for who is told.
        """
        now = self.clock.now()
        today = paris_date(now)
        with write(self.db) as db:
            row = self._current(db, project_id)
            lifecycle = self.lifecycle(row.definition_id, row.definition_version)
            definition = lifecycle.definition
            if expected_phase is not None and row.phase != expected_phase:
                raise ConflictError(project_id, row.phase, f"you expected {expected_phase!r}")
            if expected_version is not None and row.version != expected_version:
                raise ConflictError(
                    project_id,
                    row.phase,
                    f"you read version {expected_version}; it is now version {row.version}",
                )
            internal = trigger
            if trigger == "resume":
                internal = f"resume_to_{row.suspended_from}" if row.phase == SUSPENDED else trigger
            allowed = lifecycle.triggers_from(row.phase)
            if trigger not in allowed:
                if trigger in lifecycle.known_triggers:
                    raise StepNotAvailable(project_id, trigger, row.phase, allowed)
                raise UnknownTrigger(project_id, trigger, row.phase, allowed)
            transition = lifecycle.transition(trigger, row.phase)
            partners = project_partners(db, project_id)
            unmet: list[Unmet] = []
            if transition is not None:
                unmet = unmet_conditions(
                    db,
                    definition,
                    transition,
                    project_id=project_id,
                    phase_started=paris_date(row.phase_entered_at),
                    today=today,
                    partners=partners,
                )
                if transition.comment_required and not (comment or "").strip():
                    unmet.append(comment_required(trigger, transition.label or trigger))
            if trigger in ("suspend", "abandon") and not (comment or "").strip():
                unmet.append(comment_required(trigger, trigger))
            if unmet:
                raise TransitionRefused(project_id, trigger, unmet)
            state = ProjectState(row.phase)
            if not lifecycle.fire(state, internal):  # the machine is the last word on the step
                raise StepNotAvailable(project_id, trigger, row.phase, allowed)
            dest = state.state
            enters = dest not in (SUSPENDED, ABANDONED) and trigger != "resume"
            auto_due = _auto_due(lifecycle, dest, row.start_date, today) if enters else None
            opened = (
                self._milestones_to_open(
                    db, lifecycle, project_id, row.variant, dest, row.start_date, today
                )
                if enters
                else []
            )
            moved = db.execute(
                _MOVE,
                {
                    "phase": dest,
                    "suspended_from": row.phase if dest == SUSPENDED else None,
                    "entered_at": None if dest == SUSPENDED else db.instant(now),
                    "reschedules": enters,
                    "auto_due_on": db.day(auto_due),
                    "opened_due": db.day(min((n["due_on"] for n in opened), default=None)),
                    "new_version": row.version + 1,
                    "id": project_id,
                    "version": row.version,
                },
            )
            if moved.rowcount != 1:
                current = db.execute(_PHASE, {"id": project_id})
                raise ConflictError(project_id, current.fetchone()[0])
            was_live = phase_in_progress(lifecycle, row.phase)
            live = phase_in_progress(lifecycle, dest)
            owed_reports.project_moved(db, project_id, dest, was_live, live)
            if was_live and not live:  # before the phase opens any (a terminal one may)
                due_tally.project_leaves(db, project_id)
            db.execute(
                _HISTORY,
                {
                    "project_id": project_id,
                    "at": db.instant(now),
                    "actor": actor,
                    "trigger": trigger,
                    "from_phase": row.phase,
                    "to_phase": dest,
                    "comment": comment,
                },
            )
            if enters:  # auto_due_on and open_due are written by the UPDATE above
                self._open_phase(
                    db, lifecycle, project_id, row.variant, dest, row.start_date, today, opened
                )
            if live and not was_live:  # resumed, or reopened from a terminal phase
                due_tally.project_enters(db, project_id)
            elif live and opened:
                due_tally.opened(db, row.definition_id, [n["due_on"] for n in opened])
            self.planner.on_transition(
                db,
                TransitionEvent(
                    definition, row, trigger, row.phase, dest, actor, comment, now, partners
                ),
            )
        return AdvanceResult(project_id, trigger, row.phase, dest, row.version + 1)

    def _enter_phase(
        self,
        conn: sa.Connection,
        definition: Definition,
        project_id: int,
        variant: str | None,
        phase: str,
        project_start: date,
        today: date,
    ) -> None:
        """Open the phase (see :meth:`_open_phase`) and set when its automatic step is due."""
        lifecycle = self.lifecycle(definition.id, definition.version)
        self._open_phase(raw(conn), lifecycle, project_id, variant, phase, project_start, today)
        auto_due = _auto_due(lifecycle, phase, project_start, today)
        conn.execute(
            sa.update(tables.project)
            .where(tables.project.c.id == project_id)
            .values(auto_due_on=auto_due)
        )

    def _milestones_to_open(
        self,
        db: Raw,
        lifecycle: Lifecycle,
        project_id: int,
        variant: str | None,
        phase: str,
        project_start: date,
        today: date,
    ) -> list[dict[str, Any]]:
        """The milestones the phase opens that the project does not have yet, with their
        deadlines resolved (nothing written)."""
        definition = lifecycle.definition
        candidates, _ = lifecycle.opened_in(phase, variant)
        new_milestones: list[dict[str, Any]] = []
        if candidates:
            existing = {key for (key,) in db.execute(_MILESTONE_KEYS, {"project_id": project_id})}
            policy = definition.reminders
            for m in candidates:
                if m.key in existing:
                    continue
                deadline = resolve(
                    m.deadline,
                    project_start=project_start,
                    phase_start=today,
                    on_non_working_day=policy.deadline_rule(
                        m.responsible, m.on_non_working_day, m.move_to_working_day
                    ),
                )
                new_milestones.append(
                    dict(
                        project_id=project_id,
                        key=m.key,
                        label=m.label,
                        phase=m.phase,
                        deliverable=m.deliverable,
                        responsible_role=m.responsible,
                        due_on=deadline.due,
                        moved_from=deadline.moved_from,
                    )
                )
        return new_milestones

    def _open_phase(
        self,
        db: Raw,
        lifecycle: Lifecycle,
        project_id: int,
        variant: str | None,
        phase: str,
        project_start: date,
        today: date,
        opened: list[dict[str, Any]] | None = None,
    ) -> None:
        """Open the phase's milestones and expected meetings (kept if the phase is re-entered).

        ``opened``: :meth:`_milestones_to_open`, when the caller read them already and has
        lowered ``open_due`` for them in its own UPDATE of the project (an advance);
        otherwise they are read here and ``open_due`` refreshed."""
        definition = lifecycle.definition
        _, expected = lifecycle.opened_in(phase, variant)
        new_milestones = opened
        if new_milestones is None:
            new_milestones = self._milestones_to_open(
                db, lifecycle, project_id, variant, phase, project_start, today
            )
        if new_milestones:
            db.executemany(
                _OPEN_MILESTONE,
                [
                    {**n, "due_on": db.day(n["due_on"]), "moved_from": db.day(n["moved_from"])}
                    for n in new_milestones
                ],
            )
            if opened is None:
                refresh_open_due(db, project_id)
        if expected:
            known_occ = {occ for (occ,) in db.execute(_OCCURRENCES, {"project_id": project_id})}
            missing = [(s, o) for s, o in expected if o.key not in known_occ]
            if missing:  # the steady state re-enters phases whose meetings exist already
                no_one = db.json([])
                db.executemany(
                    _EXPECT_MEETING,
                    [
                        {
                            "project_id": project_id,
                            "series": s.key,
                            "occurrence": o.key,
                            "label": o.label,
                            "phase": o.phase,
                            "attendees": no_one,
                        }
                        for s, o in missing
                    ],
                )
        if new_milestones:
            self.planner.on_milestones_opened(db, definition, project_id, new_milestones)

    # -- timed transitions ---------------------------------------------------------------
    def run_timed_transitions(self, now: datetime | None = None) -> list[str]:
        """Fire the automatic transitions whose moment has come; flag the projects that can't.

        Returns one line per project acted on, for logs and ``copilote tick``.
        """
        today = paris_date(now or self.clock.now())
        with read(self.db) as conn:
            due = conn.execute(
                sa.select(
                    tables.project.c.id,
                    tables.project.c.phase,
                    tables.project.c.definition_id,
                    tables.project.c.definition_version,
                    tables.project.c.flagged_overdue_at,
                    tables.project.c.failed_at,
                ).where(
                    tables.project.c.auto_due_on.is_not(None), tables.project.c.auto_due_on <= today
                )
            ).all()
        report = []
        for row in due:
            try:
                line = self._timed_transition(row)
            except Exception as error:  # one project's failure never stops the others
                with self.db.begin() as conn:
                    record_failure(conn, row.id, self.clock.now(), "automatic step", error)
                report.append(f"project {row.id}: failed ({reason('automatic step', error)})")
                continue
            if line is not None:
                report.append(line)
        return report

    def _timed_transition(self, row: Any) -> str | None:
        definition = self.project_definition(row)
        transition = next(
            (t for t in definition.transitions if t.automatic and row.phase in t.source), None
        )
        if transition is None:
            return None
        try:
            self.advance(
                row.id,
                transition.trigger,
                actor=AUTOMATIC_ACTOR,
                comment="fin de la fenêtre calendaire",
                expected_phase=row.phase,
            )
        except TransitionRefused as refused:
            if row.flagged_overdue_at is None:
                flag = AutomaticFlag(transition.label or transition.trigger, tuple(refused.unmet))
                self._flag(row.id, flag.to_json())
                unmet = "; ".join(str(u) for u in refused.unmet)
                return f"project {row.id}: flagged overdue ({unmet})"
            return None
        except ConflictError:
            return None  # someone moved it meanwhile: the next sweep sees the new phase
        if row.failed_at is not None:
            with self.db.begin() as conn:
                clear_failure(conn, {row.id})
        return f"project {row.id}: {transition.trigger} done automatically"

    def _flag(self, project_id: int, reason: str) -> None:
        with self.db.begin() as conn:
            conn.execute(
                sa.update(tables.project)
                .where(
                    tables.project.c.id == project_id, tables.project.c.flagged_overdue_at.is_(None)
                )
                .values(flagged_overdue_at=self.clock.now(), flag_reason=reason)
            )
