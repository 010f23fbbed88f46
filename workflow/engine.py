"""The engine: creates projects and moves them through their phases.

Every public method is one database transaction: the state change, its history row, the
milestones and meetings it opens and the notifications it queues commit together or not
at all. The engine never reads the wall clock (``self.clock``) and never sends anything:
it writes outbox rows that delivery sends after commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from workflow.calendar import paris_date, resolve
from workflow.clock import Clock
from workflow.conditions import unmet_conditions
from workflow.database import read
from workflow.definition import Definition, Transition
from workflow.errors import ConflictError, InvalidInput, NotFound, TransitionRefused, UnknownTrigger
from workflow.lifecycle import ABANDONED, SUSPENDED, Lifecycle, ProjectState
from workflow.loader import DefinitionRegistry
from workflow.models import HistoryEntry, Meeting, Milestone, Partner, Project
from workflow.planner import Planner

__all__ = ["AdvanceResult", "Engine", "PartnerIn", "StepNotAvailable"]

P = Project.__table__  # type: ignore[attr-defined]
H = HistoryEntry.__table__  # type: ignore[attr-defined]
M = Milestone.__table__  # type: ignore[attr-defined]
MT = Meeting.__table__  # type: ignore[attr-defined]
PT = Partner.__table__  # type: ignore[attr-defined]

AUTOMATIC_ACTOR = "Copilote (automatique)"


class StepNotAvailable(ConflictError):
    """The step exists in the programme, but not from the phase the project is in now."""

    def __init__(
        self, project_id: int, trigger: str, current_phase: str, allowed: list[str]
    ) -> None:
        super().__init__(
            project_id,
            current_phase,
            f"{trigger!r} is not possible from {current_phase!r}; possible from here: "
            + (", ".join(allowed) or "none"),
        )
        self.trigger, self.allowed = trigger, allowed


@dataclass(frozen=True)
class PartnerIn:
    organisation: str
    email: str
    contact_name: str = ""
    roles: tuple[str, ...] = ("partner",)
    lang: str = "fr"


@dataclass(frozen=True)
class AdvanceResult:
    project_id: int
    trigger: str
    from_phase: str
    to_phase: str
    version: int


def _check_email(field: str, email: str) -> str:
    email = email.strip()
    local, _, domain = email.partition("@")
    if not local or "." not in domain or any(c in email for c in " \r\n<>,;"):
        raise InvalidInput(field, f"{email!r} is not an email address (expected name@domain.fr)")
    return email


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
    def create_project(
        self,
        *,
        definition_id: str,
        title: str,
        start_date: date,
        pilot: PartnerIn,
        territory: str = "",
        variant: str | None = None,
        agency: PartnerIn | None = None,
        convention_start: date | None = None,
        convention_end: date | None = None,
        funding_cents: int | None = None,
        version: int | None = None,
        actor: str = "",
        lang: str = "fr",
    ) -> int:
        definition = self.definition(definition_id, version)
        if not title.strip():
            raise InvalidInput("title", "a project needs a title")
        variants = [v.key for v in definition.variants]
        if variants and variant not in variants:
            raise InvalidInput(
                "variant", f"choose one of {', '.join(variants)} for {definition.id}"
            )
        if not variants and variant is not None:
            raise InvalidInput("variant", f"{definition.id} has no variants")
        if funding_cents is not None and funding_cents < 0:
            raise InvalidInput("funding", "a funding amount cannot be negative")
        if convention_start and convention_end and convention_end <= convention_start:
            raise InvalidInput("convention_end", "the convention must end after it starts")
        if convention_start and not convention_end:
            # Seed 001: a convention lasts one year from signature, renewable expressly.
            convention_end = date(
                convention_start.year + 1, convention_start.month, min(convention_start.day, 28)
            )
        now = self.clock.now()
        with self.db.begin() as conn:
            project_id = conn.execute(
                sa.insert(P)
                .values(
                    definition_id=definition.id,
                    definition_version=definition.version,
                    variant=variant,
                    title=title.strip(),
                    territory=territory.strip(),
                    start_date=start_date,
                    convention_start=convention_start,
                    convention_end=convention_end,
                    funding_cents=funding_cents,
                    lang=lang,
                    phase=definition.initial,
                    phase_entered_at=now,
                    version=1,
                    created_at=now,
                )
                .returning(P.c.id)
            ).scalar_one()
            # The pilot steers (a COPIL member) but owes no partner reports unless told so.
            roles = ("pilot", "copil", *(r for r in pilot.roles if r not in ("pilot", "copil", "partner")))
            self._add_partner(
                conn,
                project_id,
                PartnerIn(pilot.organisation, pilot.email, pilot.contact_name, roles, pilot.lang),
                start_date,
                field="pilot",
            )
            if agency is not None:
                self._add_partner(conn, project_id, agency, start_date, field="agency")
            conn.execute(
                sa.insert(H).values(
                    project_id=project_id,
                    at=now,
                    actor=actor or pilot.contact_name or pilot.email,
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
                variant,
                definition.initial,
                start_date,
                max(start_date, paris_date(now)),
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
        email = _check_email(f"{field}.email", partner.email)
        return int(
            conn.execute(
                sa.insert(PT)
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
                .returning(PT.c.id)
            ).scalar_one()
        )

    def project_row(self, conn: sa.Connection, project_id: int) -> Any:
        row = conn.execute(sa.select(P).where(P.c.id == project_id)).one_or_none()
        if row is None:
            raise NotFound("project", project_id)
        return row

    # -- phases ------------------------------------------------------------------------
    def _transition_for(
        self, definition: Definition, trigger: str, phase: str
    ) -> Transition | None:
        for t in definition.transitions:
            if t.trigger == trigger and phase in t.source:
                return t
        return None

    def check(self, project_id: int, trigger: str) -> list[str]:
        """The unmet conditions of ``trigger`` for the project now (empty: it may advance)."""
        with read(self.db) as conn:
            row = self.project_row(conn, project_id)
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
    ) -> AdvanceResult:
        """Move the project by ``trigger``; refuse with every unmet condition, or a conflict."""
        now = self.clock.now()
        today = paris_date(now)
        with self.db.begin() as conn:
            row = self.project_row(conn, project_id)
            lifecycle = self.lifecycle(row.definition_id, row.definition_version)
            definition = lifecycle.definition
            if expected_phase is not None and row.phase != expected_phase:
                raise ConflictError(project_id, row.phase, f"you expected {expected_phase!r}")
            internal = trigger
            if trigger == "resume":
                internal = f"resume_to_{row.suspended_from}" if row.phase == SUSPENDED else trigger
            allowed = lifecycle.triggers_from(row.phase)
            known = {t.trigger for t in definition.transitions} | {"suspend", "resume", "abandon"}
            if trigger not in allowed:
                if trigger in known:
                    raise StepNotAvailable(project_id, trigger, row.phase, allowed)
                raise UnknownTrigger(project_id, trigger, row.phase, allowed)
            transition = self._transition_for(definition, trigger, row.phase)
            unmet: list[str] = []
            if transition is not None:
                unmet = unmet_conditions(
                    conn,
                    definition,
                    transition,
                    project_id=project_id,
                    phase_started=paris_date(row.phase_entered_at),
                    today=today,
                )
                if transition.comment_required and not (comment or "").strip():
                    unmet.append("a comment saying why is required for this step")
            if trigger in ("suspend", "abandon") and not (comment or "").strip():
                unmet.append(f"a comment saying why is required to {trigger} a project")
            if unmet:
                raise TransitionRefused(project_id, trigger, unmet)
            state = ProjectState(row.phase)
            if not lifecycle.fire(state, internal):  # the machine is the last word on the step
                raise StepNotAvailable(project_id, trigger, row.phase, allowed)
            dest = state.state
            values: dict[str, Any] = {
                "phase": dest,
                "version": row.version + 1,
                "flagged_overdue_at": None,
                "flag_reason": None,
            }
            if dest == SUSPENDED:
                values["suspended_from"] = row.phase
            else:
                values["suspended_from"] = None
                values["phase_entered_at"] = now
            result = conn.execute(
                sa.update(P)
                .where(P.c.id == project_id, P.c.version == row.version)
                .values(**values)
            )
            if result.rowcount != 1:
                current = conn.execute(
                    sa.select(P.c.phase).where(P.c.id == project_id)
                ).scalar_one()
                raise ConflictError(project_id, current)
            conn.execute(
                sa.insert(H).values(
                    project_id=project_id,
                    at=now,
                    actor=actor,
                    trigger=trigger,
                    from_phase=row.phase,
                    to_phase=dest,
                    comment=comment,
                )
            )
            if dest not in (SUSPENDED, ABANDONED) and trigger != "resume":
                self._enter_phase(
                    conn, definition, project_id, row.variant, dest, row.start_date, today
                )
            self.planner.on_transition(
                conn, definition, row, trigger, row.phase, dest, actor, comment, now
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
        """Open the phase's milestones and expected meetings (kept if the phase is re-entered)."""
        existing = set(
            conn.execute(sa.select(M.c.key).where(M.c.project_id == project_id)).scalars()
        )
        policy = definition.reminders
        new_milestones = []
        for m in definition.milestones:
            if m.phase != phase or m.key in existing or (m.variants and variant not in m.variants):
                continue
            move = (
                policy.move_to_working_day
                if m.move_to_working_day is None
                else m.move_to_working_day
            )
            deadline = resolve(
                m.deadline, project_start=project_start, phase_start=today, move_to_working_day=move
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
        if new_milestones:
            conn.execute(sa.insert(M), new_milestones)
        known_occ = set(
            conn.execute(
                sa.select(MT.c.occurrence).where(
                    MT.c.project_id == project_id, MT.c.occurrence.is_not(None)
                )
            ).scalars()
        )
        meetings = [
            dict(
                project_id=project_id,
                series=s.key,
                occurrence=o.key,
                label=o.label,
                status="expected",
                phase=o.phase,
                attendees=[],
                location="",
                sequence=0,
            )
            for s in definition.meetings
            for o in s.occurrences
            if o.phase == phase
            and o.key not in known_occ
            and (not o.variants or variant in o.variants)
        ]
        if meetings:
            conn.execute(sa.insert(MT), meetings)
        auto = next((t for t in definition.transitions if t.automatic and phase in t.source), None)
        auto_due = None
        if auto is not None and auto.automatic is not None:
            auto_due = resolve(
                auto.automatic.at, project_start=project_start, phase_start=today
            ).due
        conn.execute(sa.update(P).where(P.c.id == project_id).values(auto_due_on=auto_due))
        if new_milestones:
            self.planner.on_milestones_opened(conn, definition, project_id, new_milestones)

    # -- timed transitions ---------------------------------------------------------------
    def run_timed_transitions(self, now: datetime | None = None) -> list[str]:
        """Fire the automatic transitions whose moment has come; flag the projects that can't.

        Returns one line per project acted on, for logs and ``copilote tick``.
        """
        today = paris_date(now or self.clock.now())
        with read(self.db) as conn:
            due = conn.execute(
                sa.select(
                    P.c.id,
                    P.c.phase,
                    P.c.definition_id,
                    P.c.definition_version,
                    P.c.flagged_overdue_at,
                ).where(P.c.auto_due_on.is_not(None), P.c.auto_due_on <= today)
            ).all()
        report = []
        for row in due:
            definition = self.definition(row.definition_id, row.definition_version)
            transition = next(
                (t for t in definition.transitions if t.automatic and row.phase in t.source), None
            )
            if transition is None:
                continue
            try:
                self.advance(
                    row.id,
                    transition.trigger,
                    actor=AUTOMATIC_ACTOR,
                    comment="fin de la fenêtre calendaire",
                    expected_phase=row.phase,
                )
                report.append(f"project {row.id}: {transition.trigger} done automatically")
            except TransitionRefused as refused:
                if row.flagged_overdue_at is None:
                    self._flag(
                        row.id,
                        f"{transition.label or transition.trigger}: " + "; ".join(refused.unmet),
                    )
                    report.append(f"project {row.id}: flagged overdue ({'; '.join(refused.unmet)})")
            except ConflictError:
                continue  # someone moved it meanwhile: the next sweep sees the new phase
        return report

    def _flag(self, project_id: int, reason: str) -> None:
        with self.db.begin() as conn:
            conn.execute(
                sa.update(P)
                .where(P.c.id == project_id, P.c.flagged_overdue_at.is_(None))
                .values(flagged_overdue_at=self.clock.now(), flag_reason=reason)
            )
