"""Who is told what, and when: the project rules of reminders and notifications.

The planner runs inside the engine's transactions. Immediate notices (a phase change, a
meeting invitation) go straight to the outbox; anything that is due later becomes a
:class:`~workflow.models.Reminder` row (a moment, an occasion key, a chain) that the sweep
(:mod:`workflow.sweep`) turns into messages when its moment comes. Reminders of one
``chain`` replace each other: when several are overdue at once (downtime), only the latest
is sent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from workflow.calendar import (
    PARIS,
    at_paris_time,
    months_before,
    non_working_reason,
    paris_date,
    years_later,
)
from workflow.conditions import PartnerRow, active, project_partners
from workflow.database import Conn, Raw, placeholders, raw
from workflow.definition import Definition
from workflow.loader import DefinitionRegistry
from workflow.occasions import (
    AnnualReview,
    ConventionEnding,
    MeetingBefore,
    MeetingMinutes,
    MeetingNotice,
    MilestoneBefore,
    MilestoneEscalation,
    MilestoneOverdue,
    MinutesShared,
    Occasion,
    PartnerChange,
    Planned,
    ReportRequest,
    SeriesCheck,
    Transition,
    meeting_chains,
    milestone_chains,
    period_of,
)
from workflow.outbox import NoticeBudget, Outgoing, personal_key, queue, queue_within_budget
from workflow.progress import cadence_interval
from workflow.routing import ORGANISED, audience, expand

__all__ = [
    "AUTOMATIC_ACTOR",
    "LinkMaker",
    "Planner",
    "TransitionEvent",
    "cancel_chains",
    "notice_budget",
    "plan",
    "quarter_end",
    "quarter_of",
    "reader",
    "recipients",
    "schedule",
]


AUTOMATIC_ACTOR = "Copilote (automatique)"
"""Who the history says made an automatic step (the engine's, at a calendar window's end);
messages say it in the recipient's language from their item's ``automatic`` flag."""


def recipients(
    conn: Conn,
    project_id: int,
    roles: Iterable[str],
    today: date,
    partners: Sequence[PartnerRow] | None = None,
) -> list[PartnerRow]:
    """Active people of the project holding any of ``roles``, once each.

    ``partners``: the project's partner rows when the caller has read them already.
    """
    if partners is None:
        partners = project_partners(conn, project_id)
    seen: dict[str, PartnerRow] = {}
    for role in roles:
        for p in active(partners, today, role):
            seen.setdefault(p.email.lower(), p)
    return list(seen.values())


# ``ON CONFLICT DO NOTHING``: an occasion already planned stays as it is (one statement
# instead of a SELECT then an INSERT; two transactions planning it at once no longer fail).
_PLAN = (
    "INSERT INTO reminder (project_id, occasion, kind, chain, due_at, subject_id, schedule,"
    " period, step, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending')"
    " ON CONFLICT (occasion) DO NOTHING"
)


def schedule(
    conn: Conn,
    *,
    project_id: int,
    occasion: str,
    kind: str,
    chain: str,
    due_at: datetime,
    subject_id: int | None = None,
) -> None:
    """Plan a reminder unless that occasion is planned already (an occasion outside
    :mod:`workflow.occasions`; the planner's own go through :func:`plan`)."""
    db = raw(conn)
    db.execute(
        _PLAN,
        (project_id, occasion, kind, chain, db.instant(due_at), subject_id, None, None, None),
    )


def _row(db: Raw, project_id: int, occasion: Planned, due_at: datetime) -> tuple[Any, ...]:
    return (
        project_id,
        occasion.key,
        occasion.kind,
        occasion.chain,
        db.instant(due_at),
        occasion.subject_id,
        *occasion.columns(),
    )


def plan(conn: Conn, project_id: int, occasion: Planned, due_at: datetime) -> None:
    """Plan ``occasion`` at ``due_at`` unless it is planned already."""
    db = raw(conn)
    db.execute(_PLAN, _row(db, project_id, occasion, due_at))


def _plan_many(db: Raw, rows: list[tuple[int, Planned, datetime]]) -> None:
    """:func:`plan` for several reminders, in one ``executemany``."""
    db.executemany(_PLAN, [_row(db, p, o, due) for p, o, due in rows])


def _withdraw_unsent(conn: Conn, project_id: int, meeting_id: int) -> set[str]:
    """Take back this meeting's invitations that no delivery has touched yet (pending, never
    attempted, so never on the wire); the addresses they were for, lower-cased. A message a
    worker has claimed is ``sending``, not ``pending``: it is left alone and goes out."""
    gone = raw(conn).execute(
        "DELETE FROM outbox WHERE project_id = ? AND subject_id = ?"
        " AND kind = 'meeting_invitation' AND status = 'pending' AND attempts = 0"
        " RETURNING recipient_email",
        (project_id, meeting_id),
    )
    return {email.lower() for (email,) in gone.fetchall()}


def cancel_chains(conn: Conn, chains: Sequence[str]) -> None:
    """Cancel the pending reminders of these chains."""
    raw(conn).execute(
        f"UPDATE reminder SET status = 'cancelled' WHERE chain IN ({placeholders(chains)})"
        " AND status = 'pending'",
        tuple(chains),
    )


def quarter_of(day: date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def quarter_end(year: int, quarter: int) -> date:
    month = quarter * 3
    return (date(year + (month // 12), month % 12 + 1, 1)) - timedelta(days=1)


def deadline_flags(due: date, moved_from: date | None = None) -> dict[str, Any]:
    """Whether a deadline falls (or fell, before it was moved) on a non-working day, and which
    kind of day: data the templates word in the recipient's language."""
    reason = non_working_reason(moved_from or due)
    return {
        "due_is_non_working": reason is not None,
        "non_working_day": reason.as_item() if reason is not None else None,
        "moved_from": moved_from,
    }


def notice_budget(definition: Definition) -> NoticeBudget:
    """The definition's notice budget (its ``reminders`` section), for :func:`_notify`."""
    policy = definition.reminders
    return NoticeBudget(policy.notices_per_window, timedelta(hours=policy.notice_window_hours))


_TRANSITION_KINDS = {
    "suspend": "project_suspended",
    "resume": "project_resumed",
    "abandon": "project_abandoned",
}


@dataclass(frozen=True)
class TransitionEvent:
    """A phase change, as the engine tells the planner (in the advance's transaction).

    ``project``: the project row as it was before the change (``id``, ``version``, ``title``,
    ``definition_id``...); ``partners``: its partner rows when the engine has read them
    already (None: the planner reads them)."""

    definition: Definition
    project: Any
    trigger: str
    source: str
    dest: str
    actor: str
    comment: str | None
    now: datetime
    partners: Sequence[PartnerRow] | None = None


@dataclass(frozen=True)
class _Step:
    """What a phase change from one phase to another implies, from the definition alone."""

    from_label: str
    to_label: str
    from_label_en: str
    to_label_en: str
    informed: tuple[str, ...]  # the roles informed of this step (RACI and rules), sorted
    closing: bool  # into a terminal phase
    reporting: bool  # into a phase where partners owe reports
    series: tuple[tuple[str, int, str], ...]  # meeting series checked there: key, every, unit

    @classmethod
    def of(cls, definition: Definition, source: str, dest: str) -> _Step:
        roles: set[str] = set()
        for rule in definition.notifications:
            if (rule.on == "enter" and rule.phase == dest) or (
                rule.on == "leave" and rule.phase == source
            ):
                roles.update(rule.notify)
        for entry in definition.raci:
            if entry.phase == dest:
                roles.update(entry.informed)
        return cls(
            definition.phase_label(source),
            definition.phase_label(dest),
            definition.phase_label(source, "en"),
            definition.phase_label(dest, "en"),
            tuple(sorted(roles)),
            dest in definition.terminal,
            next((p.reporting for p in definition.phases if p.key == dest), False),
            tuple(
                (series.key, series.cadence.every, series.cadence.unit)
                for series in definition.meetings
                if series.cadence is not None and (series.phases is None or dest in series.phases)
            ),
        )


def reader(roles: Iterable[str]) -> str:
    """Who a message is written for, from the roles a person holds: ``pilot``, ``agency``,
    ``partner`` or ``member`` (another body, e.g. the inhabitants). Templates word their
    text by it: the pilot is never asked to contact the pilot."""
    held = set(roles)
    for who in ("pilot", "agency", "partner"):
        if who in held:
            return who
    return "member"


LinkMaker = Callable[[str, int, int, str], str]
"""(purpose, project id, partner id, detail) -> a personal, signed, expiring answer URL."""


class Planner:
    def __init__(self, registry: DefinitionRegistry, links: LinkMaker | None = None) -> None:
        """``links``: makes the personal answer links put in invitations and report requests
        (the service's :mod:`web.links`); the sweep uses this one too. Without it, messages
        say to answer the pilot by email."""
        self.registry = registry
        self.links = links
        # Definitions are immutable once loaded (like the engine's machines, per id and version).
        self._steps: dict[tuple[str, int, str, str], _Step] = {}

    # -- context shared by every item ------------------------------------------------------
    def context(
        self,
        conn: Conn,
        project: Any,
        today: date,
        partners: Sequence[PartnerRow] | None = None,
    ) -> dict[str, Any]:
        definition = self.registry.get(project.definition_id, project.definition_version)
        if partners is None:
            partners = project_partners(conn, project.id)
        pilots = active(partners, today, "pilot")
        pilot = pilots[0] if pilots else None
        return {
            "project_title": project.title,
            "programme": definition.title,
            "programme_en": definition.title_in("en"),
            "pilot_name": (pilot.contact_name or pilot.organisation) if pilot else "",
            "pilot_email": pilot.email if pilot else "",
            "answer_url": None,
            # where the pilot and the agency act (their project page, signed in)
            "project_url": self.links("project", project.id, 0, "") if self.links else None,
        }

    def _notify(
        self,
        conn: Conn,
        project: Any,
        roles: Iterable[str],
        kind: str,
        occasion: Occasion,
        item: dict[str, Any],
        now: datetime,
        today: date,
        partners: Sequence[PartnerRow] | None = None,
        link: tuple[str, str] | None = None,
        only: Callable[[PartnerRow], bool] | None = None,
        subject_id: int | None = None,
        budget: NoticeBudget | None = None,
    ) -> None:
        """Queue one message per person (outbox rows; an occasion already queued is kept).

        ``link``: (purpose, detail) of a personal answer link put in each person's item;
        ``only``: of the people the roles name, those to write to; ``subject_id``: the
        meeting a meeting notice is about; ``budget``: a notice a person's action caused,
        held back beyond the definition's notice budget (:func:`notice_budget`)."""
        if partners is None:
            partners = project_partners(conn, project.id)
        base = self.context(conn, project, today, partners)
        people = recipients(conn, project.id, roles, today, partners)
        if only is not None:
            people = [p for p in people if only(p)]
        if not people:
            return
        # One list per kind of reader: encoded once for all the readers of that kind.
        shared: dict[str, list[dict[str, Any]]] = {}
        links = self.links if link is not None else None

        def items_of(person: PartnerRow) -> list[dict[str, Any]]:
            who = reader(person.roles)
            if links is None or link is None:
                if who not in shared:
                    shared[who] = [{**base, "kind": kind, **item, "reader": who}]
                return shared[who]
            url = links(link[0], project.id, person.id, link[1])
            return [{**base, "kind": kind, **item, "answer_url": url, "reader": who}]

        key = occasion.key
        outgoing = [
            Outgoing(
                personal_key(key, person.email),
                project.id,
                person.email,
                person.contact_name,
                person.lang,
                kind,
                items_of(person),
                subject_id,
            )
            for person in people
        ]
        if budget is None:
            queue(conn, outgoing, now)
        else:
            queue_within_budget(conn, outgoing, now, budget)

    # -- engine events ----------------------------------------------------------------------
    def on_transition(self, conn: Conn, event: TransitionEvent) -> None:
        """A phase change: tell the steering roles (and those of the definition's rules), plan
        the new phase's report request and meeting-series checks."""
        definition, project = event.definition, event.project
        trigger, now = event.trigger, event.now
        key = (definition.id, definition.version, event.source, event.dest)
        step = self._steps.get(key)
        if step is None:
            step = self._steps[key] = _Step.of(definition, event.source, event.dest)
        today = paris_date(now)
        kind = _TRANSITION_KINDS.get(trigger, "phase_changed")
        automatic = event.actor == AUTOMATIC_ACTOR
        item: dict[str, Any] = {
            "from_phase": step.from_label,
            "to_phase": step.to_label,
            "phase": step.from_label,
            "from_phase_en": step.from_label_en,
            "to_phase_en": step.to_label_en,
            "phase_en": step.from_label_en,
            "actor": event.actor,
            # An automatic step's comment is the engine's, not a person's: the templates say
            # what happened (the end of the calendar window) in the recipient's language.
            "automatic": automatic,
            "comment": None if automatic else event.comment,
            "at": now,
        }
        occasion = Transition(project.id, project.version)
        # A person's suspend, resume or advance counts against the notice budget; an abandon
        # (once, and final) and the engine's own steps do not.
        budget = None if automatic or trigger == "abandon" else notice_budget(definition)
        roles = expand(audience(definition, kind), informed=step.informed)
        self._notify(
            conn, project, roles, kind, occasion, item, now, today, event.partners, budget=budget
        )
        if trigger in ("suspend", "abandon") or step.closing:
            return
        if trigger != "resume" and step.reporting:
            self.plan_next_report_request(conn, definition, project.id, today)
        for series, every, unit in step.series:
            self.plan_series_check(conn, project.id, series, every, unit, today, definition)

    def on_milestones_opened(
        self,
        conn: Conn,
        definition: Definition,
        project_id: int,
        milestones: list[dict[str, Any]],
    ) -> None:
        policy = definition.reminders
        db = raw(conn)
        keys = [m["key"] for m in milestones]
        found = db.execute(
            "SELECT id, due_on FROM milestone"
            f' WHERE project_id = ? AND "key" IN ({placeholders(keys)}) ORDER BY id',
            (project_id, *keys),
        ).fetchall()
        rows: list[tuple[int, Planned, datetime]] = []
        send_at = policy.send_at
        for mid, due_on in found:
            due: date = db.to_day(due_on)  # type: ignore[assignment]
            for days in sorted(policy.milestone_before_days, reverse=True):
                moment = at_paris_time(due - timedelta(days=days), send_at)
                rows.append((project_id, MilestoneBefore(mid, days), moment))
            moment = at_paris_time(due + timedelta(days=policy.overdue_after_days), send_at)
            rows.append((project_id, MilestoneOverdue(mid), moment))
            moment = at_paris_time(due + timedelta(days=policy.escalate_after_days), send_at)
            rows.append((project_id, MilestoneEscalation(mid), moment))
        _plan_many(db, rows)

    def on_milestone_done(self, conn: sa.Connection, milestone_id: int) -> None:
        cancel_chains(conn, milestone_chains(milestone_id))

    def on_project_created(
        self,
        conn: sa.Connection,
        definition: Definition,
        project_id: int,
        convention_start: date | None,
        convention_end: date | None,
    ) -> None:
        """A project created with its convention's dates: its first annual review (the
        convention's own reminders are planned with its record, :mod:`workflow.conventions`)."""
        if convention_start is not None:
            self.plan_annual_review(conn, definition, project_id, convention_start, 1)

    # -- conventions and yearly cycles ------------------------------------------------------
    def plan_annual_review(
        self, conn: Conn, definition: Definition, project_id: int, anchor: date, year: int
    ) -> None:
        """The annual review before the ``year``-th anniversary of ``anchor`` (the date the
        project's first convention took effect), when the programme holds one. Each review
        plans the next one when it comes (:mod:`workflow.sweep`), for as long as the project
        runs."""
        if definition.annual_review is None:
            return
        months = definition.annual_review.months_before_anniversary
        anniversary = years_later(anchor, year)
        review_by = months_before(anniversary, months)
        # Ask a month ahead, so the meeting can be set up before the review date.
        plan(
            conn,
            project_id,
            AnnualReview(project_id, anniversary.year),
            at_paris_time(review_by - timedelta(days=30), definition.reminders.send_at),
        )

    def plan_convention_end(
        self, conn: Conn, definition: Definition, project_id: int, convention_id: int, end: date
    ) -> None:
        """The reminders before a convention's period ends (3 and 1 months by default), when
        the programme declares a convention: ACIA, ACESO and Unapei get none."""
        policy = definition.convention
        if policy is None:
            return
        send_at = definition.reminders.send_at
        _plan_many(
            raw(conn),
            [
                (
                    project_id,
                    ConventionEnding(convention_id, end, months),
                    at_paris_time(months_before(end, months), send_at),
                )
                for months in sorted(policy.reminders_before, reverse=True)
            ],
        )

    def plan_next_report_request(
        self, conn: Conn, definition: Definition, project_id: int, today: date
    ) -> None:
        year, quarter = quarter_of(today)
        end = quarter_end(year, quarter)
        for schedule_def in definition.reports:
            plan(
                conn,
                project_id,
                ReportRequest(project_id, schedule_def.key, period_of(year, quarter)),
                at_paris_time(end, definition.reminders.send_at),
            )

    def plan_series_check(
        self,
        conn: Conn,
        project_id: int,
        series: str,
        every: int,
        unit: str,
        since: date,
        definition: Definition,
    ) -> None:
        expected = since + cadence_interval(every, unit)
        plan(
            conn,
            project_id,
            SeriesCheck(project_id, series, expected),
            at_paris_time(expected, definition.reminders.send_at),
        )

    # -- partners and meetings --------------------------------------------------------------
    def on_partner_change(
        self, conn: sa.Connection, project: Any, partner: Any, joined: bool, on: date, now: datetime
    ) -> None:
        """Plan the news for the sending time of today (now when it has passed): the sweep
        tells each person every change of the day in one message (:mod:`workflow.sweep`)."""
        definition = self.registry.get(project.definition_id, project.definition_version)
        today = paris_date(now)
        moment = max(now, at_paris_time(today, definition.reminders.send_at))
        plan(conn, project.id, PartnerChange(partner.id, joined, on), moment)

    def on_minutes(
        self,
        conn: sa.Connection,
        definition: Definition,
        project: Any,
        meeting: Any,
        filename: str,
        now: datetime,
    ) -> None:
        """A held meeting's minutes are attached: each person invited to its series gets one
        message with a personal link to read them (no file is mailed)."""
        series = definition.series(meeting.series)
        occasion = MinutesShared(meeting.id)
        self._notify(
            conn,
            project,
            series.attendees,
            occasion.kind,
            occasion,
            {
                **definition.meeting_fields(series.key, meeting.occurrence, meeting.label),
                "held_on": meeting.held_on,
                "filename": filename,
            },
            now,
            paris_date(now),
            link=("minutes", str(meeting.id)),
            subject_id=meeting.id,
        )

    def on_meeting(
        self,
        conn: sa.Connection,
        definition: Definition,
        project: Any,
        meeting: Any,
        change: str,
        now: datetime,
        today: date,
    ) -> None:
        """``change``: scheduled, moved, cancelled or held."""
        series = definition.series(meeting.series)
        cancel_chains(conn, meeting_chains(meeting.id))
        item = {
            "meeting_id": meeting.id,
            **definition.meeting_fields(series.key, meeting.occurrence, meeting.label),
            "starts_at": meeting.starts_at,
            "ends_at": meeting.ends_at,
            "location": meeting.location,
            "agenda": getattr(meeting, "agenda", "") or None,
            "sequence": meeting.sequence,
        }
        if change in ("scheduled", "moved", "cancelled"):
            # Whoever has not been sent the invitation yet (still waiting in the outbox) gets
            # one invitation as the meeting now is, instead of an invitation then an update,
            # and nothing at all when it is cancelled before anything went out.
            unsent = (
                _withdraw_unsent(conn, project.id, meeting.id) if change != "scheduled" else set()
            )
            notice = MeetingNotice(meeting.id, change, meeting.sequence)
            link = ("meeting", str(meeting.id)) if change != "cancelled" else None
            attendees = expand(audience(definition, notice.kind), attendees=series.attendees)
            # the organiser (the calendar entry's ORGANIZER) planned it: not invited to it
            organiser = (
                str(self.context(conn, project, today)["pilot_email"]).lower()
                if notice.kind in ORGANISED
                else ""
            )
            self._notify(
                conn,
                project,
                attendees,
                notice.kind,
                notice,
                item,
                now,
                today,
                link=link,
                only=lambda person: person.email.lower() not in unsent | {organiser},
                subject_id=meeting.id,
            )
            if change == "moved" and unsent:
                invitation = MeetingNotice(meeting.id, "scheduled", meeting.sequence)
                self._notify(
                    conn,
                    project,
                    expand(audience(definition, invitation.kind), attendees=series.attendees),
                    invitation.kind,
                    invitation,
                    item,
                    now,
                    today,
                    link=link,
                    only=lambda person: person.email.lower() in unsent - {organiser},
                    subject_id=meeting.id,
                )
        if change in ("scheduled", "moved") and meeting.starts_at is not None:
            policy = definition.reminders
            start_day = meeting.starts_at.astimezone(PARIS).date()
            # A frequent series' meeting invited (or changed) lately: the calendar entry just
            # sent reminds, no email reminder (ReminderPolicy.calendar_reminds).
            by_calendar = policy.calendar_reminds(series, meeting.starts_at - now)
            for days in () if by_calendar else policy.meeting_before_days:
                moment = at_paris_time(start_day - timedelta(days=days), policy.send_at)
                if moment > now:
                    plan(
                        conn, project.id, MeetingBefore(meeting.id, meeting.sequence, days), moment
                    )
            plan(
                conn,
                project.id,
                MeetingMinutes(meeting.id, meeting.sequence),
                at_paris_time(start_day + timedelta(days=1), policy.send_at),
            )
