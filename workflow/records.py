"""What a pilot records: milestones done, meetings, partners, decisions, indicators, budget, reports.

Each function is one transaction on the engine's database, with the notices it causes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from workflow import due_tally, owed_reports, tables
from workflow.budget import Budget
from workflow.calendar import in_paris, paris_date, years_later
from workflow.conventions import author, convention_anchor
from workflow.copil_tally import refresh_copil_tally
from workflow.engine import Engine, PartnerIn
from workflow.errors import AlreadyRecorded, InvalidInput, NotFound
from workflow.lateness import refresh_open_due
from workflow.lifecycle import SUSPENDED
from workflow.occasions import meeting_chains, milestone_chains
from workflow.plan import Plan, check_year, written
from workflow.planner import cancel_chains
from workflow.progress import closed, in_progress

__all__ = ["SCHEDULE_YEARS_AHEAD", "Records", "schedulable"]


INDICATOR_KINDS = ("process", "activity", "result")


SCHEDULE_YEARS_AHEAD = 3
"""A meeting is scheduled (or moved) from today to at most this many years ahead; a meeting
already held is recorded with :meth:`Records.meeting_held`, whatever its date."""


def schedulable(starts_at: datetime, today: date) -> datetime:
    """``starts_at`` if a meeting may be scheduled then (today to three years ahead, in Paris),
    else InvalidInput naming the field and the bound."""
    if starts_at.tzinfo is None:
        raise InvalidInput("starts_at", "give the time with its zone, e.g. 2026-06-12T14:00+02:00")
    last = years_later(today, SCHEDULE_YEARS_AHEAD)
    day = in_paris(starts_at).date()
    if day < today:
        raise InvalidInput(
            "starts_at",
            f"{day.isoformat()} is in the past: a meeting is scheduled from today"
            f" ({today.isoformat()}); record a meeting already held as held",
            "input.meeting_in_past",
            {"day": day, "today": today},
        )
    if day > last:
        raise InvalidInput(
            "starts_at",
            f"{day.isoformat()} is more than {SCHEDULE_YEARS_AHEAD} years ahead"
            f" (at most {last.isoformat()})",
            "input.meeting_too_far",
            {"day": day, "last": last, "years": SCHEDULE_YEARS_AHEAD},
        )
    return starts_at


class Records:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.plan = Plan(engine)  # objectives, fiches-actions, notes (workflow.plan)
        self.budget = Budget(engine)  # the budget per year (workflow.budget)

    def _open(self, conn: sa.Connection, project_id: int) -> Any:
        row = self.engine.project_row(conn, project_id)
        if closed(self.engine, row):
            raise InvalidInput(
                "project", f"project {project_id} is closed ({row.phase}); nothing can be recorded"
            )
        return row

    # -- milestones ----------------------------------------------------------------------
    def milestone_done(
        self,
        project_id: int,
        key: str,
        *,
        by: str,
        deliverable_ref: str | None = None,
        on: date | None = None,
        correct: bool = False,
        comment: str | None = None,
    ) -> None:
        """Record an open milestone done (its reminders stop), once.

        A milestone already done is refused with :class:`AlreadyRecorded` naming who recorded
        it and when: a second record would silently replace the first. ``correct=True`` is the
        explicit correction of a done milestone: it needs a ``comment`` saying why, replaces
        the record in force on the milestone row, and keeps the earlier one in
        ``milestone_completion`` (one row per record, the first included).
        """
        today = self.engine.today()
        comment = (comment or "").strip() or None
        if correct and comment is None:
            raise InvalidInput("comment", "a correction needs a comment saying what was wrong")
        now = self.engine.clock.now()
        with self.engine.db.begin() as conn:
            project = self._open(conn, project_id)
            row = conn.execute(
                sa.select(
                    tables.milestone.c.id,
                    tables.milestone.c.done_on,
                    tables.milestone.c.done_by,
                    tables.milestone.c.deliverable_ref,
                    tables.milestone.c.due_on,
                ).where(tables.milestone.c.project_id == project_id, tables.milestone.c.key == key)
            ).one_or_none()
            if row is None:
                still_open = (
                    conn.execute(
                        sa.select(tables.milestone.c.key)
                        .where(
                            tables.milestone.c.project_id == project_id,
                            tables.milestone.c.done_on.is_(None),
                        )
                        .order_by(tables.milestone.c.due_on, tables.milestone.c.id)
                    )
                    .scalars()
                    .all()
                )
                raise InvalidInput(
                    "milestone",
                    f"project {project_id} has no milestone {key!r} opened so far "
                    f"(still to do: {', '.join(still_open) or 'none'})",
                )
            if correct and row.done_on is None:
                raise InvalidInput(
                    "correct",
                    f"milestone {key!r} of project {project_id} is not recorded done yet: "
                    "record it without correcting",
                )
            if not correct and row.done_on is not None:
                raise self._already_recorded(conn, project_id, project.phase, key, row)
            values: dict[str, Any] = {"done_on": on or today, "done_by": by}
            if deliverable_ref is not None or not correct:  # a correction keeps it unless given
                values["deliverable_ref"] = deliverable_ref
            update = (
                sa.update(tables.milestone).where(tables.milestone.c.id == row.id).values(**values)
            )
            if not correct:  # a concurrent first record wins; this one is then refused
                update = update.where(tables.milestone.c.done_on.is_(None))
            if conn.execute(update).rowcount != 1:
                raced = conn.execute(
                    sa.select(
                        tables.milestone.c.id,
                        tables.milestone.c.done_on,
                        tables.milestone.c.done_by,
                    ).where(tables.milestone.c.id == row.id)
                ).one()
                raise self._already_recorded(conn, project_id, project.phase, key, raced)
            conn.execute(
                sa.insert(tables.milestone_completion).values(
                    project_id=project_id,
                    milestone_id=row.id,
                    done_on=on or today,
                    done_by=by,
                    deliverable_ref=values.get("deliverable_ref", row.deliverable_ref),
                    comment=comment,
                    recorded_at=now,
                )
            )
            if not correct:
                refresh_open_due(conn, project_id)
                self._tally(conn, project_id, row.due_on, due_tally.milestone_closed)
                self.engine.planner.on_milestone_done(conn, row.id)

    def _tally(
        self,
        conn: sa.Connection,
        project_id: int,
        due_on: date,
        change: Callable[[sa.Connection, str, date], None],
    ) -> None:
        """Count a milestone opened or closed in :mod:`workflow.due_tally` if its project is
        in progress, read under the project row's lock: an advance suspending the project
        at the same time takes its open milestones away before or after, never beside."""
        project = conn.execute(
            sa.select(
                tables.project.c.phase,
                tables.project.c.definition_id,
                tables.project.c.definition_version,
            )
            .where(tables.project.c.id == project_id)
            .with_for_update()
        ).one()
        if in_progress(self.engine, project):
            change(conn, project.definition_id, due_on)

    @staticmethod
    def _already_recorded(
        conn: sa.Connection, project_id: int, phase: str, key: str, row: Any
    ) -> AlreadyRecorded:
        recorded_at = conn.execute(
            sa.select(sa.func.max(tables.milestone_completion.c.recorded_at)).where(
                tables.milestone_completion.c.milestone_id == row.id
            )
        ).scalar()
        return AlreadyRecorded(project_id, phase, key, row.done_on, row.done_by or "", recorded_at)

    def reopen_milestone(self, project_id: int, key: str, *, by: str, comment: str) -> None:
        """Reopen a milestone recorded done by mistake: it is open again (due on its date,
        its reminders still to come resumed) and the reopening is kept, with its comment, in
        ``milestone_completion``."""
        comment = comment.strip()
        if not comment:
            raise InvalidInput("comment", "reopening a milestone needs a comment saying why")
        now = self.engine.clock.now()
        with self.engine.db.begin() as conn:
            self._open(conn, project_id)
            row = conn.execute(
                sa.select(
                    tables.milestone.c.id, tables.milestone.c.done_on, tables.milestone.c.due_on
                ).where(tables.milestone.c.project_id == project_id, tables.milestone.c.key == key)
            ).one_or_none()
            if row is None:
                raise NotFound("milestone", key)
            if row.done_on is None:
                raise InvalidInput("milestone", f"milestone {key!r} is not recorded done")
            conn.execute(
                sa.update(tables.milestone)
                .where(tables.milestone.c.id == row.id)
                .values(done_on=None, done_by=None, deliverable_ref=None)
            )
            refresh_open_due(conn, project_id)
            self._tally(conn, project_id, row.due_on, due_tally.milestone_reopened)
            conn.execute(
                sa.insert(tables.milestone_completion).values(
                    project_id=project_id,
                    milestone_id=row.id,
                    done_on=row.done_on,
                    done_by=by,
                    comment=f"reopened: {comment}",
                    recorded_at=now,
                )
            )
            conn.execute(
                sa.update(tables.reminder)
                .where(
                    tables.reminder.c.chain.in_(milestone_chains(row.id)),
                    tables.reminder.c.status == "cancelled",
                    tables.reminder.c.due_at > now,
                )
                .values(status="pending")
            )

    # -- meetings ------------------------------------------------------------------------
    def schedule_meeting(
        self,
        project_id: int,
        series: str,
        starts_at: datetime,
        *,
        occurrence: str | None = None,
        location: str = "",
        label: str | None = None,
        agenda: str = "",
    ) -> int:
        now = self.engine.clock.now()
        schedulable(starts_at, paris_date(now))
        with self.engine.db.begin() as conn:
            project = self._open(conn, project_id)
            definition = self.engine.definition(project.definition_id, project.definition_version)
            if series not in {s.key for s in definition.meetings}:
                raise InvalidInput(
                    "series",
                    f"unknown meeting series {series!r} "
                    f"(known: {', '.join(s.key for s in definition.meetings)})",
                )
            spec = definition.series(series)
            ends_at = starts_at + timedelta(minutes=spec.duration_minutes)
            meeting_id = None
            if occurrence is not None:
                meeting_id = conn.execute(
                    sa.select(tables.meeting.c.id).where(
                        tables.meeting.c.project_id == project_id,
                        tables.meeting.c.occurrence == occurrence,
                        tables.meeting.c.status.in_(["expected", "cancelled"]),
                    )
                ).scalar()
                if meeting_id is None:
                    occ = definition.occurrences().get(occurrence)
                    if occ is None or occ[0].key != series:
                        raise InvalidInput(
                            "occurrence", f"{occurrence!r} is not a meeting of {series!r}"
                        )
                    raise InvalidInput(
                        "occurrence", f"{occurrence!r} is already planned or held; move it instead"
                    )
            if meeting_id is not None:
                conn.execute(
                    sa.update(tables.meeting)
                    .where(tables.meeting.c.id == meeting_id)
                    .values(
                        status="planned",
                        starts_at=starts_at,
                        ends_at=ends_at,
                        location=location,
                        agenda=agenda,
                        sequence=tables.meeting.c.sequence + 1,
                    )
                )
            else:
                count = conn.execute(
                    sa.select(sa.func.count()).where(
                        tables.meeting.c.project_id == project_id, tables.meeting.c.series == series
                    )
                ).scalar_one()
                meeting_id = conn.execute(
                    sa.insert(tables.meeting)
                    .values(
                        project_id=project_id,
                        series=series,
                        occurrence=None,
                        label=label or f"{spec.label} n°{count + 1}",
                        status="planned",
                        starts_at=starts_at,
                        ends_at=ends_at,
                        location=location,
                        agenda=agenda,
                        sequence=0,
                        attendees=[],
                        phase=project.phase,
                    )
                    .returning(tables.meeting.c.id)
                ).scalar_one()
            meeting = conn.execute(
                sa.select(tables.meeting).where(tables.meeting.c.id == meeting_id)
            ).one()
            self.engine.planner.on_meeting(
                conn, definition, project, meeting, "scheduled", now, paris_date(now)
            )
            refresh_copil_tally(conn, project_id)
        return int(meeting_id)

    def _meeting(self, conn: sa.Connection, project_id: int, meeting_id: int) -> Any:
        row = conn.execute(
            sa.select(tables.meeting).where(
                tables.meeting.c.id == meeting_id, tables.meeting.c.project_id == project_id
            )
        ).one_or_none()
        if row is None:
            raise NotFound("meeting", meeting_id)
        return row

    def move_meeting(
        self, project_id: int, meeting_id: int, starts_at: datetime, location: str | None = None
    ) -> None:
        now = self.engine.clock.now()
        schedulable(starts_at, paris_date(now))
        with self.engine.db.begin() as conn:
            project = self._open(conn, project_id)
            meeting = self._meeting(conn, project_id, meeting_id)
            if meeting.status != "planned":
                raise InvalidInput(
                    "meeting",
                    f"meeting {meeting_id} is {meeting.status}; only a planned meeting moves",
                )
            duration = meeting.ends_at - meeting.starts_at
            conn.execute(
                sa.update(tables.meeting)
                .where(tables.meeting.c.id == meeting_id)
                .values(
                    starts_at=starts_at,
                    ends_at=starts_at + duration,
                    sequence=meeting.sequence + 1,
                    location=meeting.location if location is None else location,
                )
            )
            definition = self.engine.definition(project.definition_id, project.definition_version)
            self.engine.planner.on_meeting(
                conn,
                definition,
                project,
                self._meeting(conn, project_id, meeting_id),
                "moved",
                now,
                paris_date(now),
            )
            refresh_copil_tally(conn, project_id)

    def cancel_meeting(self, project_id: int, meeting_id: int, reason: str | None = None) -> None:
        """Cancel a planned meeting, with why (the CPOM report shows it as planned and
        cancelled, with this reason)."""
        now = self.engine.clock.now()
        reason = (reason or "").strip() or None
        with self.engine.db.begin() as conn:
            project = self._open(conn, project_id)
            meeting = self._meeting(conn, project_id, meeting_id)
            if meeting.status != "planned":
                raise InvalidInput(
                    "meeting",
                    f"meeting {meeting_id} is {meeting.status}; only a planned meeting is cancelled",
                )
            conn.execute(
                sa.update(tables.meeting)
                .where(tables.meeting.c.id == meeting_id)
                .values(status="cancelled", sequence=meeting.sequence + 1, cancel_reason=reason)
            )
            definition = self.engine.definition(project.definition_id, project.definition_version)
            self.engine.planner.on_meeting(
                conn,
                definition,
                project,
                self._meeting(conn, project_id, meeting_id),
                "cancelled",
                now,
                paris_date(now),
            )
            refresh_copil_tally(conn, project_id)

    def meeting_held(
        self,
        project_id: int,
        *,
        meeting_id: int | None = None,
        occurrence: str | None = None,
        held_on: date | None = None,
        attendees: list[str] | None = None,
        minutes_ref: str | None = None,
        series: str | None = None,
    ) -> int:
        """Record a meeting as held: by id, by occurrence key (COPIL 1), or a new one of a series."""
        today = self.engine.today()
        held_on = held_on or today
        if held_on > today:
            raise InvalidInput(
                "held_on", f"{held_on} is in the future: a meeting is recorded once held"
            )
        with self.engine.db.begin() as conn:
            project = self._open(conn, project_id)
            definition = self.engine.definition(project.definition_id, project.definition_version)
            if meeting_id is None and occurrence is not None:
                meeting_id = conn.execute(
                    sa.select(tables.meeting.c.id).where(
                        tables.meeting.c.project_id == project_id,
                        tables.meeting.c.occurrence == occurrence,
                    )
                ).scalar()
                if meeting_id is None:
                    raise InvalidInput(
                        "occurrence",
                        f"project {project_id} has no meeting {occurrence!r} "
                        "open yet (it opens with its phase)",
                    )
            if meeting_id is None:
                if series not in {s.key for s in definition.meetings}:
                    raise InvalidInput(
                        "series",
                        f"give a meeting id, an occurrence or a known series "
                        f"({', '.join(s.key for s in definition.meetings)})",
                    )
                spec = definition.series(series)
                count = conn.execute(
                    sa.select(sa.func.count()).where(
                        tables.meeting.c.project_id == project_id, tables.meeting.c.series == series
                    )
                ).scalar_one()
                meeting_id = conn.execute(
                    sa.insert(tables.meeting)
                    .values(
                        project_id=project_id,
                        series=series,
                        label=f"{spec.label} n°{count + 1}",
                        status="held",
                        held_on=held_on,
                        attendees=attendees or [],
                        minutes_ref=minutes_ref,
                        location="",
                        sequence=0,
                        phase=project.phase,
                    )
                    .returning(tables.meeting.c.id)
                ).scalar_one()
            else:
                self._meeting(conn, project_id, meeting_id)
                conn.execute(
                    sa.update(tables.meeting)
                    .where(tables.meeting.c.id == meeting_id)
                    .values(
                        status="held",
                        held_on=held_on,
                        attendees=attendees or [],
                        minutes_ref=minutes_ref,
                    )
                )
            # Recorded as held: the minutes request planned for it is dropped.
            cancel_chains(conn, meeting_chains(meeting_id)[1:])
            refresh_copil_tally(conn, project_id)
        return int(meeting_id)

    # -- partners ------------------------------------------------------------------------
    def add_partner(
        self, project_id: int, partner: PartnerIn, joined_on: date | None = None
    ) -> int:
        now = self.engine.clock.now()
        joined_on = joined_on or paris_date(now)
        with self.engine.db.begin() as conn:
            project = self._open(conn, project_id)
            definition = self.engine.definition(project.definition_id, project.definition_version)
            roles = {r.key for r in definition.roles}
            unknown = [r for r in partner.roles if r not in roles]
            if unknown:
                raise InvalidInput(
                    "roles",
                    f"unknown role(s) {', '.join(unknown)} for {definition.id} "
                    f"(roles: {', '.join(sorted(roles))})",
                )
            partner_id = self.engine._add_partner(
                conn, project_id, partner, joined_on, field="partner"
            )
            row = conn.execute(
                sa.select(tables.partner).where(tables.partner.c.id == partner_id)
            ).one()
            owed_reports.owe(conn, [definition], project_id)
            self.engine.planner.on_partner_change(conn, project, row, True, joined_on, now)
        return partner_id

    def partner_leaves(self, project_id: int, partner_id: int, *, on: date | None = None) -> date:
        """A partner leaves at the convention's annual deadline (seed 001), unless ``on`` is given."""
        now = self.engine.clock.now()
        today = paris_date(now)
        with self.engine.db.begin() as conn:
            project = self._open(conn, project_id)
            row = conn.execute(
                sa.select(tables.partner).where(
                    tables.partner.c.id == partner_id, tables.partner.c.project_id == project_id
                )
            ).one_or_none()
            if row is None:
                raise NotFound("partner", partner_id)
            if row.left_on is not None:
                raise InvalidInput("partner", f"{row.organisation} already leaves on {row.left_on}")
            if on is None:
                anchor = convention_anchor(conn, project)
                on = self.annual_deadline(project, max(today, row.joined_on), anchor)
            if on < today:
                raise InvalidInput("on", f"{on} is in the past")
            if on < row.joined_on:
                raise InvalidInput(
                    "on",
                    f"{row.organisation} cannot leave on {on}, before joining on {row.joined_on}",
                )
            conn.execute(
                sa.update(tables.partner)
                .where(tables.partner.c.id == partner_id)
                .values(left_on=on)
            )
            owed_reports.partner_leaves(conn, self.engine.registry, partner_id, on)
            self.engine.planner.on_partner_change(conn, project, row, False, on, now)
        return on

    @staticmethod
    def annual_deadline(project: Any, today: date, anchor: date | None = None) -> date:
        """The next anniversary on or after ``today`` of ``anchor`` (the project's first
        convention taking effect, :func:`workflow.conventions.convention_anchor`), else of the
        convention start given at creation, else of the project's start."""
        anchor = anchor or project.convention_start or project.start_date
        for year in range(today.year, today.year + 2):
            candidate = years_later(anchor, year - anchor.year)
            if candidate >= today:
                return candidate
        return years_later(anchor, today.year + 1 - anchor.year)

    # -- decisions, indicators, budget, reports -----------------------------------------------
    def record_decision(
        self,
        project_id: int,
        key: str,
        *,
        by: str,
        text: str = "",
        label: str = "",
        on: date | None = None,
    ) -> int:
        with self.engine.db.begin() as conn:
            project = self._open(conn, project_id)
            if not label:  # a decision a step waits for is named as its definition names it
                definition = self.engine.definition(
                    project.definition_id, project.definition_version
                )
                label = definition.decision_label(key)
            return int(
                conn.execute(
                    sa.insert(tables.decision)
                    .values(
                        project_id=project_id,
                        key=key,
                        label=label,
                        decided_on=on or self.engine.today(),
                        decided_by=by,
                        text=text,
                    )
                    .returning(tables.decision.c.id)
                ).scalar_one()
            )

    def set_indicator(
        self,
        project_id: int,
        key: str,
        *,
        label: str | None = None,
        kind: str | None = None,
        planned: float | None = None,
        realised: float | None = None,
        unit: str | None = None,
        period: str | None = None,
        gap_explanation: str | None = None,
        corrective_measure: str | None = None,
        action: str | None = None,
        year: int | None = None,
        source: str | None = None,
        method: str | None = None,
        corrective_measure_cpom: str | None = None,
        by: str,
    ) -> None:
        """Create an indicator (label and kind needed) or change the values given. Issue 13:
        it may belong to a fiche-action (``action``, its key) and to a ``year``."""
        by = author(by)
        if year is not None:
            check_year(year)
        if kind is not None and kind not in INDICATOR_KINDS:
            raise InvalidInput(
                "kind", f"{kind!r} is not an indicator kind ({', '.join(INDICATOR_KINDS)})"
            )
        values = {
            k: v
            for k, v in dict(
                label=label,
                kind=kind,
                planned=planned,
                realised=realised,
                unit=unit,
                period=period,
                gap_explanation=gap_explanation,
                corrective_measure=corrective_measure,
                year=year,
                source=source,
                method=method,
                corrective_measure_cpom=corrective_measure_cpom,
            ).items()
            if v is not None
        }
        with self.engine.db.begin() as conn:
            project = self._open(conn, project_id)
            if action is not None:
                values["action_id"] = Plan.action_row(conn, project_id, action).id
            exists = conn.execute(
                sa.select(tables.indicator).where(
                    tables.indicator.c.project_id == project_id, tables.indicator.c.key == key
                )
            ).one_or_none()
            if exists is None:
                if "label" not in values or "kind" not in values:
                    raise InvalidInput(
                        "indicator", f"a new indicator {key!r} needs a label and a kind"
                    )
                conn.execute(
                    sa.insert(tables.indicator).values(
                        project_id=project_id,
                        key=key,
                        **{"unit": "", "period": "", "source": "", "method": "", **values},
                    )
                )
                written(self.engine, conn, project, "indicator_created", by, str(values["label"]))
            elif values:
                conn.execute(
                    sa.update(tables.indicator)
                    .where(tables.indicator.c.id == exists.id)
                    .values(**values)
                )
                shown = str(values.get("label", exists.label))
                written(self.engine, conn, project, "indicator_changed", by, shown)

    def add_budget_line(
        self,
        project_id: int,
        label: str,
        *,
        planned_cents: int,
        spent_cents: int = 0,
        forecast_cents: int = 0,
        by: str,
    ) -> int:
        """A budget line of the current year (the budget's one home: :mod:`workflow.budget`)."""
        return self.budget.set_budget_line(
            project_id,
            None,
            year=self.engine.today().year,
            label=label,
            planned_cents=planned_cents,
            spent_cents=spent_cents,
            forecast_cents=forecast_cents,
            by=by,
        )

    def edit_budget_line(
        self,
        project_id: int,
        line_id: int,
        *,
        label: str,
        planned_cents: int,
        spent_cents: int,
        forecast_cents: int,
        by: str,
    ) -> None:
        """Correct a budget line: its label and its three amounts."""
        self.budget.set_budget_line(
            project_id,
            line_id,
            label=label,
            planned_cents=planned_cents,
            spent_cents=spent_cents,
            forecast_cents=forecast_cents,
            by=by,
        )

    def submit_report(
        self, project_id: int, partner_id: int, schedule: str, period: str, content: dict[str, Any]
    ) -> int:
        now = self.engine.clock.now()
        with self.engine.db.begin() as conn:
            project = self.engine.project_row(conn, project_id)
            if project.phase == SUSPENDED:
                raise InvalidInput("project", f"project {project_id} is suspended")
            definition = self.engine.definition(project.definition_id, project.definition_version)
            if schedule not in {r.key for r in definition.reports}:
                raise InvalidInput("schedule", f"unknown report {schedule!r}")
            partner = conn.execute(
                sa.select(tables.partner.c.id).where(
                    tables.partner.c.id == partner_id, tables.partner.c.project_id == project_id
                )
            ).scalar()
            if partner is None:
                raise NotFound("partner", partner_id)
            exists = conn.execute(
                sa.select(tables.report.c.id).where(
                    tables.report.c.project_id == project_id,
                    tables.report.c.partner_id == partner_id,
                    tables.report.c.schedule == schedule,
                    tables.report.c.period == period,
                )
            ).scalar()
            if exists is not None:
                conn.execute(
                    sa.update(tables.report)
                    .where(tables.report.c.id == exists)
                    .values(content=content, submitted_at=now)
                )
                report_id = int(exists)
            else:
                owed_reports.received(
                    conn, self.engine.registry, project_id, partner_id, schedule, period, now
                )
                report_id = int(
                    conn.execute(
                        sa.insert(tables.report)
                        .values(
                            project_id=project_id,
                            partner_id=partner_id,
                            schedule=schedule,
                            period=period,
                            submitted_at=now,
                            content=content,
                        )
                        .returning(tables.report.c.id)
                    ).scalar_one()
                )
            self.plan.record_realised(conn, project_id, report_id, partner_id, period, content)
            return report_id
