"""Who is told what, and when: the project rules of reminders and notifications.

The planner runs inside the engine's transactions. Immediate notices (a phase change, a
meeting invitation) go straight to the outbox; anything that is due later becomes a
:class:`~workflow.models.Reminder` row (a moment, an occasion key, a chain) that the sweep
(:mod:`workflow.sweep`) turns into messages when its moment comes. Reminders of one
``chain`` replace each other: when several are overdue at once (downtime), only the latest
is sent.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from workflow.calendar import PARIS, at_paris_time, non_working_reason, paris_date
from workflow.conditions import active_partners
from workflow.definition import Definition
from workflow.loader import DefinitionRegistry
from workflow.models import Meeting, Milestone, Partner, Project, Reminder
from workflow.outbox import queue_message

__all__ = ["Planner", "months_before", "quarter_end", "quarter_of", "recipients", "schedule"]

R = Reminder.__table__  # type: ignore[attr-defined]
M = Milestone.__table__  # type: ignore[attr-defined]
MT = Meeting.__table__  # type: ignore[attr-defined]
PT = Partner.__table__  # type: ignore[attr-defined]
P = Project.__table__  # type: ignore[attr-defined]

STEERING = ("copil", "agency")


def recipients(
    conn: sa.Connection, project_id: int, roles: Iterable[str], today: date
) -> list[Any]:
    """Active people of the project holding any of ``roles``, once each."""
    seen: dict[str, Any] = {}
    for role in roles:
        for p in active_partners(conn, project_id, today, role):
            seen.setdefault(p.email.lower(), p)
    return list(seen.values())


def schedule(
    conn: sa.Connection,
    *,
    project_id: int,
    occasion: str,
    kind: str,
    chain: str,
    due_at: datetime,
    subject_id: int | None = None,
) -> None:
    """Plan a reminder unless that occasion is planned already."""
    exists = conn.execute(sa.select(R.c.id).where(R.c.occasion == occasion)).first()
    if exists is None:
        conn.execute(
            sa.insert(R).values(
                project_id=project_id,
                occasion=occasion,
                kind=kind,
                chain=chain,
                due_at=due_at,
                subject_id=subject_id,
                status="pending",
            )
        )


def cancel_chain(conn: sa.Connection, chain_prefix: str) -> None:
    conn.execute(
        sa.update(R)
        .where(R.c.chain.like(chain_prefix + "%"), R.c.status == "pending")
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


class Planner:
    def __init__(self, registry: DefinitionRegistry) -> None:
        self.registry = registry

    # -- context shared by every item ------------------------------------------------------
    def context(self, conn: sa.Connection, project: Any, today: date) -> dict[str, Any]:
        definition = self.registry.get(project.definition_id, project.definition_version)
        pilots = active_partners(conn, project.id, today, "pilot")
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
        conn: sa.Connection,
        project: Any,
        roles: Iterable[str],
        kind: str,
        occasion: str,
        item: dict[str, Any],
        now: datetime,
        today: date,
    ) -> None:
        base = self.context(conn, project, today)
        for person in recipients(conn, project.id, roles, today):
            queue_message(
                conn,
                key=f"{occasion}:{person.email.lower()}",
                project_id=project.id,
                email=person.email,
                name=person.contact_name or person.organisation,
                lang=person.lang,
                kind=kind,
                items=[{**base, "kind": kind, **item}],
                now=now,
            )

    # -- engine events ----------------------------------------------------------------------
    def on_transition(
        self,
        conn: sa.Connection,
        definition: Definition,
        project: Any,
        trigger: str,
        source: str,
        dest: str,
        actor: str,
        comment: str | None,
        now: datetime,
    ) -> None:
        today = paris_date(now)
        kind = {
            "suspend": "project_suspended",
            "resume": "project_resumed",
            "abandon": "project_abandoned",
        }.get(trigger, "phase_changed")
        occasion = f"transition:{project.id}:{project.version}"
        item: dict[str, Any] = {
            "from_phase": definition.phase_label(source),
            "to_phase": definition.phase_label(dest),
            "phase": definition.phase_label(source),
            "actor": actor,
            "comment": comment,
            "at": now,
        }
        roles = set(STEERING)
        for rule in definition.notifications:
            if (rule.on == "enter" and rule.phase == dest) or (
                rule.on == "leave" and rule.phase == source
            ):
                roles.update(rule.notify)
        self._notify(conn, project, sorted(roles), kind, occasion, item, now, today)
        if trigger in ("suspend", "abandon") or dest in definition.terminal:
            return
        if trigger != "resume" and definition.phase(dest).reporting:
            self.plan_next_report_request(conn, definition, project.id, today)
        for series in definition.meetings:
            if series.cadence is not None and (series.phases is None or dest in series.phases):
                self.plan_series_check(
                    conn,
                    project.id,
                    series.key,
                    series.cadence.every,
                    series.cadence.unit,
                    today,
                    definition,
                )

    def on_milestones_opened(
        self,
        conn: sa.Connection,
        definition: Definition,
        project_id: int,
        milestones: list[dict[str, Any]],
    ) -> None:
        policy = definition.reminders
        rows = conn.execute(
            sa.select(M.c.id, M.c.key, M.c.due_on).where(
                M.c.project_id == project_id, M.c.key.in_([m["key"] for m in milestones])
            )
        ).all()
        for mid, _key, due in rows:
            chain = f"milestone:{mid}:remind"
            for days in sorted(policy.milestone_before_days, reverse=True):
                schedule(
                    conn,
                    project_id=project_id,
                    occasion=f"milestone:{mid}:before:{days}",
                    kind="milestone_reminder",
                    chain=chain,
                    subject_id=mid,
                    due_at=at_paris_time(due - timedelta(days=days), policy.send_at),
                )
            schedule(
                conn,
                project_id=project_id,
                occasion=f"milestone:{mid}:overdue",
                kind="milestone_overdue",
                chain=chain,
                subject_id=mid,
                due_at=at_paris_time(
                    due + timedelta(days=policy.overdue_after_days), policy.send_at
                ),
            )
            schedule(
                conn,
                project_id=project_id,
                occasion=f"milestone:{mid}:escalation",
                kind="milestone_escalation",
                chain=f"milestone:{mid}:escalate",
                subject_id=mid,
                due_at=at_paris_time(
                    due + timedelta(days=policy.escalate_after_days), policy.send_at
                ),
            )

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
            schedule(conn, project_id=project_id, occasion=f"annual_review:{project_id}:{anniversary.year}",
                     kind="annual_review", chain=f"annual:{project_id}:{anniversary.year}",
                     due_at=at_paris_time(review_by - timedelta(days=30), policy.send_at))
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
        self, conn: sa.Connection, definition: Definition, project_id: int, today: date
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
        conn: sa.Connection,
        project_id: int,
        series: str,
        every: int,
        unit: str,
        since: date,
        definition: Definition,
    ) -> None:
        expected = since + (
            timedelta(weeks=every) if unit == "weeks" else timedelta(days=30 * every)
        )
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
            kind = {
                "scheduled": "meeting_invitation",
                "moved": "meeting_update",
                "cancelled": "meeting_cancel",
            }[change]
            self._notify(
                conn,
                project,
                series.attendees,
                kind,
                f"meeting:{meeting.id}:{change}:{meeting.sequence}",
                item,
                now,
                today,
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
