"""Who is told what, and when: the project rules of reminders and notifications.

The planner runs inside the engine's transactions. Immediate notices (a phase change, a
meeting invitation) go straight to the outbox; anything that is due later becomes a
:class:`~workflow.models.Reminder` row (a moment, an occasion key, a chain) that the sweep
(:mod:`workflow.sweep`) turns into messages when its moment comes. Reminders of one
``chain`` replace each other: when several are overdue at once (downtime), only the latest
is sent.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from workflow import tables
from workflow.calendar import PARIS, at_paris_time, non_working_reason, paris_date
from workflow.conditions import PartnerRow, active, project_partners
from workflow.database import Conn, Raw, placeholders, raw
from workflow.definition import Definition
from workflow.loader import DefinitionRegistry
from workflow.outbox import encode
from workflow.progress import cadence_interval

__all__ = ["Planner", "months_before", "quarter_end", "quarter_of", "recipients", "schedule"]


STEERING = ("copil", "agency")


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
    "INSERT INTO reminder (project_id, occasion, kind, chain, due_at, subject_id, status)"
    " VALUES (?, ?, ?, ?, ?, ?, 'pending') ON CONFLICT (occasion) DO NOTHING"
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
    """Plan a reminder unless that occasion is planned already."""
    db = raw(conn)
    db.execute(_PLAN, (project_id, occasion, kind, chain, db.instant(due_at), subject_id))


def _schedule_many(db: Raw, rows: list[tuple[int, str, str, str, datetime, int | None]]) -> None:
    """:func:`schedule` for several reminders, in one ``executemany``."""
    db.executemany(_PLAN, [(p, o, k, c, db.instant(due), s) for p, o, k, c, due, s in rows])


_QUEUE = (
    'INSERT INTO outbox ("key", project_id, recipient_name, recipient_email, lang, kind,'
    " items, status, attempts, next_attempt_at, created_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?) ON CONFLICT (\"key\") DO NOTHING"
)


def _outbox_key(key: str) -> str:
    # As workflow.outbox.queue_message does: the column holds 300 characters.
    if len(key) > 300:
        key = key[:200] + ":" + hashlib.sha256(key.encode()).hexdigest()[:32]
    return key


def _withdraw_unsent(conn: sa.Connection, meeting_id: int) -> set[str]:
    """Take back this meeting's invitations that no delivery has touched yet (pending, never
    attempted, so never on the wire); the addresses they were for, lower-cased. A message a
    worker has claimed is ``sending``, not ``pending``: it is left alone and goes out."""
    gone = conn.execute(
        sa.delete(tables.outbox)
        .where(
            tables.outbox.c.status == "pending",
            tables.outbox.c.attempts == 0,
            tables.outbox.c.kind == "meeting_invitation",
            tables.outbox.c.key.like(f"meeting:{meeting_id}:scheduled:%"),
        )
        .returning(tables.outbox.c.recipient_email)
    ).all()
    return {email.lower() for (email,) in gone}


def cancel_chain(conn: sa.Connection, chain_prefix: str) -> None:
    conn.execute(
        sa.update(tables.reminder)
        .where(
            tables.reminder.c.chain.like(chain_prefix + "%"), tables.reminder.c.status == "pending"
        )
        .values(status="cancelled")
    )


def quarter_of(day: date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def quarter_end(year: int, quarter: int) -> date:
    month = quarter * 3
    return (date(year + (month // 12), month % 12 + 1, 1)) - timedelta(days=1)


def months_before(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, min(day.day, 28))


def deadline_flags(due: date, moved_from: date | None = None) -> dict[str, Any]:
    reason = non_working_reason(moved_from or due)
    return {
        "due_is_non_working": reason is not None,
        "non_working_reason": reason,
        "moved_from": moved_from,
    }


def _tagged(value: Any) -> Any:
    """JSON hook writing dates and instants as :func:`workflow.outbox.encode` tags them:
    ``json.dumps(items, default=_tagged) == json.dumps(encode(items))``, in one pass."""
    if isinstance(value, date):  # datetime included
        return encode(value)
    raise TypeError(f"{type(value).__name__} cannot be written in an outbox item")


_ITEMS = json.JSONEncoder(default=_tagged)

_TRANSITION_KINDS = {
    "suspend": "project_suspended",
    "resume": "project_resumed",
    "abandon": "project_abandoned",
}


@dataclass(frozen=True)
class _Step:
    """What a phase change from one phase to another implies, from the definition alone."""

    from_label: str
    to_label: str
    roles: tuple[str, ...]  # who is told, sorted
    closing: bool  # into a terminal phase
    reporting: bool  # into a phase where partners owe reports
    series: tuple[tuple[str, int, str], ...]  # meeting series checked there: key, every, unit

    @classmethod
    def of(cls, definition: Definition, source: str, dest: str) -> _Step:
        roles = set(STEERING)
        for rule in definition.notifications:
            if (rule.on == "enter" and rule.phase == dest) or (
                rule.on == "leave" and rule.phase == source
            ):
                roles.update(rule.notify)
        return cls(
            definition.phase_label(source),
            definition.phase_label(dest),
            tuple(sorted(roles)),
            dest in definition.terminal,
            next((p.reporting for p in definition.phases if p.key == dest), False),
            tuple(
                (series.key, series.cadence.every, series.cadence.unit)
                for series in definition.meetings
                if series.cadence is not None and (series.phases is None or dest in series.phases)
            ),
        )


class Planner:
    def __init__(self, registry: DefinitionRegistry) -> None:
        self.registry = registry
        # (purpose, project id, partner id, detail) -> a personal answer URL; set by the
        # service (web.links). Without it, invitations say to answer the pilot by email.
        self.links: Callable[[str, int, int, str], str] | None = None
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
            "pilot_name": (pilot.contact_name or pilot.organisation) if pilot else "",
            "pilot_email": pilot.email if pilot else "",
            "answer_url": None,
        }

    def _notify(
        self,
        conn: Conn,
        project: Any,
        roles: Iterable[str],
        kind: str,
        occasion: str,
        item: dict[str, Any],
        now: datetime,
        today: date,
        partners: Sequence[PartnerRow] | None = None,
        link: tuple[str, str] | None = None,
        only: Callable[[PartnerRow], bool] | None = None,
    ) -> None:
        """Queue one message per person (outbox rows; an occasion already queued is kept).

        ``link``: (purpose, detail) of a personal answer link put in each person's item;
        ``only``: of the people the roles name, those to write to."""
        if partners is None:
            partners = project_partners(conn, project.id)
        base = self.context(conn, project, today, partners)
        people = recipients(conn, project.id, roles, today, partners)
        if only is not None:
            people = [p for p in people if only(p)]
        if not people:
            return
        db = raw(conn)
        items = db.json([{**base, "kind": kind, **item}], _ITEMS)
        links = self.links if link is not None else None

        def items_of(person: PartnerRow) -> Any:
            if links is None or link is None:
                return items
            url = links(link[0], project.id, person.id, link[1])
            return db.json([{**base, "kind": kind, **item, "answer_url": url}], _ITEMS)

        at = db.instant(now)
        db.executemany(
            _QUEUE,
            [
                (
                    _outbox_key(f"{occasion}:{person.email.lower()}"),
                    project.id,
                    person.contact_name or person.organisation,
                    person.email,
                    person.lang,
                    kind,
                    items_of(person),
                    at,
                    at,
                )
                for person in people
            ],
        )

    # -- engine events ----------------------------------------------------------------------
    def on_transition(
        self,
        conn: Conn,
        definition: Definition,
        project: Any,
        trigger: str,
        source: str,
        dest: str,
        actor: str,
        comment: str | None,
        now: datetime,
        partners: Sequence[PartnerRow] | None = None,
    ) -> None:
        """A phase change: tell the steering roles (and those of the definition's rules), plan
        the new phase's report request and meeting-series checks. ``partners``: the project's
        partner rows when the engine has read them already."""
        key = (definition.id, definition.version, source, dest)
        step = self._steps.get(key)
        if step is None:
            step = self._steps[key] = _Step.of(definition, source, dest)
        today = paris_date(now)
        kind = _TRANSITION_KINDS.get(trigger, "phase_changed")
        occasion = f"transition:{project.id}:{project.version}"
        item: dict[str, Any] = {
            "from_phase": step.from_label,
            "to_phase": step.to_label,
            "phase": step.from_label,
            "actor": actor,
            "comment": comment,
            "at": now,
        }
        self._notify(conn, project, step.roles, kind, occasion, item, now, today, partners)
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
        plan: list[tuple[int, str, str, str, datetime, int | None]] = []
        for mid, due_on in found:
            due: date = db.to_day(due_on)  # type: ignore[assignment]
            remind, send_at = f"milestone:{mid}:remind", policy.send_at
            for days in sorted(policy.milestone_before_days, reverse=True):
                moment = at_paris_time(due - timedelta(days=days), send_at)
                occasion = f"milestone:{mid}:before:{days}"
                plan.append((project_id, occasion, "milestone_reminder", remind, moment, mid))
            moment = at_paris_time(due + timedelta(days=policy.overdue_after_days), send_at)
            plan.append(
                (project_id, f"milestone:{mid}:overdue", "milestone_overdue", remind, moment, mid)
            )
            moment = at_paris_time(due + timedelta(days=policy.escalate_after_days), send_at)
            plan.append(
                (
                    project_id,
                    f"milestone:{mid}:escalation",
                    "milestone_escalation",
                    f"milestone:{mid}:escalate",
                    moment,
                    mid,
                )
            )
        _schedule_many(db, plan)

    def on_milestone_done(self, conn: sa.Connection, milestone_id: int) -> None:
        cancel_chain(conn, f"milestone:{milestone_id}:")

    def on_project_created(
        self,
        conn: sa.Connection,
        definition: Definition,
        project_id: int,
        convention_start: date | None,
        convention_end: date | None,
    ) -> None:
        policy = definition.reminders
        if convention_start is not None and definition.annual_review is not None:
            months = definition.annual_review.months_before_anniversary
            anniversary = date(
                convention_start.year + 1, convention_start.month, min(convention_start.day, 28)
            )
            review_by = months_before(anniversary, months)
            # Ask a month ahead, so the meeting can be set up before the review date.
            schedule(
                conn,
                project_id=project_id,
                occasion=f"annual_review:{project_id}:{anniversary.year}",
                kind="annual_review",
                chain=f"annual:{project_id}:{anniversary.year}",
                due_at=at_paris_time(review_by - timedelta(days=30), policy.send_at),
            )
        if convention_end is not None:
            schedule(
                conn,
                project_id=project_id,
                occasion=f"convention_end:{project_id}:{convention_end}",
                kind="convention_end",
                chain=f"convention:{project_id}",
                due_at=at_paris_time(convention_end - timedelta(days=90), policy.send_at),
            )

    def plan_next_report_request(
        self, conn: Conn, definition: Definition, project_id: int, today: date
    ) -> None:
        year, quarter = quarter_of(today)
        end = quarter_end(year, quarter)
        for schedule_def in definition.reports:
            schedule(
                conn,
                project_id=project_id,
                occasion=f"report:{project_id}:{schedule_def.key}:{year}-Q{quarter}:request",
                kind="report_request",
                chain=f"report:{project_id}:{schedule_def.key}:{year}-Q{quarter}:remind",
                due_at=at_paris_time(end, definition.reminders.send_at),
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
        schedule(
            conn,
            project_id=project_id,
            occasion=f"series:{project_id}:{series}:{expected}",
            kind="series_behind",
            chain=f"series:{project_id}:{series}",
            due_at=at_paris_time(expected, definition.reminders.send_at),
        )

    # -- partners and meetings --------------------------------------------------------------
    def on_partner_change(
        self, conn: sa.Connection, project: Any, partner: Any, joined: bool, on: date, now: datetime
    ) -> None:
        kind = "partner_joined" if joined else "partner_left"
        self._notify(
            conn,
            project,
            STEERING,
            kind,
            f"{kind}:{partner.id}:{on}",
            {"partner_name": partner.organisation, "at": on},
            now,
            paris_date(now),
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
        chain = f"meeting:{meeting.id}:"
        cancel_chain(conn, chain)
        item = {
            "meeting_id": meeting.id,
            "meeting_label": meeting.label,
            "series_label": series.label,
            "starts_at": meeting.starts_at,
            "ends_at": meeting.ends_at,
            "location": meeting.location,
            "agenda": None,
            "sequence": meeting.sequence,
        }
        if change in ("scheduled", "moved", "cancelled"):
            # Whoever has not been sent the invitation yet (still waiting in the outbox) gets
            # one invitation as the meeting now is, instead of an invitation then an update,
            # and nothing at all when it is cancelled before anything went out.
            unsent = _withdraw_unsent(conn, meeting.id) if change != "scheduled" else set()
            kind = {
                "scheduled": "meeting_invitation",
                "moved": "meeting_update",
                "cancelled": "meeting_cancel",
            }[change]
            link = ("meeting", str(meeting.id)) if change != "cancelled" else None
            self._notify(
                conn,
                project,
                series.attendees,
                kind,
                f"meeting:{meeting.id}:{change}:{meeting.sequence}",
                item,
                now,
                today,
                link=link,
                only=lambda person: person.email.lower() not in unsent,
            )
            if change == "moved" and unsent:
                self._notify(
                    conn,
                    project,
                    series.attendees,
                    "meeting_invitation",
                    f"meeting:{meeting.id}:scheduled:{meeting.sequence}",
                    item,
                    now,
                    today,
                    link=link,
                    only=lambda person: person.email.lower() in unsent,
                )
        if change in ("scheduled", "moved") and meeting.starts_at is not None:
            policy = definition.reminders
            start_day = meeting.starts_at.astimezone(PARIS).date()
            for days in policy.meeting_before_days:
                moment = at_paris_time(start_day - timedelta(days=days), policy.send_at)
                if moment > now:
                    schedule(
                        conn,
                        project_id=project.id,
                        occasion=f"meeting:{meeting.id}:s{meeting.sequence}:before:{days}",
                        kind="meeting_reminder",
                        chain=chain + "remind",
                        subject_id=meeting.id,
                        due_at=moment,
                    )
            schedule(
                conn,
                project_id=project.id,
                occasion=f"meeting:{meeting.id}:s{meeting.sequence}:minutes",
                kind="meeting_minutes_request",
                chain=chain + "minutes",
                subject_id=meeting.id,
                due_at=at_paris_time(start_day + timedelta(days=1), policy.send_at),
            )
