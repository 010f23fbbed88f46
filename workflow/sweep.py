"""The due-work sweep: turns reminders whose moment has come into outbox messages.

One sweep is one transaction: the reminders it claims are marked done in the same commit
as the messages they produce, so a sweep run twice (or by two instances) never produces a
message twice, and a crash before commit loses nothing. Rules applied at firing time:

- *coalescing*: of several due reminders of one chain (after downtime), only the latest is
  sent ("deadline in 14 days" is not sent the day after the deadline);
- *relevance*: nothing about a suspended, closed or abandoned project, a milestone done, a
  meeting held or cancelled, a report submitted; nothing to a partner who has left;
- *no spam*: what one person is due to receive in one sweep is one message listing it all;
  the overdue digests of every project are due on one weekday (:class:`SendingWindow`) and
  merge into one digest per person and week (its outbox key names the week);
- *sending window*: given a :class:`SendingWindow`, nothing fires while it is shut (weekends,
  public holidays, before its hour): what fell due then fires at the next working morning.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from workflow import owed_reports, tables
from workflow.calendar import Deadline, at_paris_time, paris_date, resolve, years_later
from workflow.conditions import active_partners, project_partners
from workflow.conventions import convention_anchor
from workflow.definition import DateRule, Definition, ReportSchedule
from workflow.engine import Engine
from workflow.failures import record_failure
from workflow.occasions import (
    AnnualReview,
    ConventionEnding,
    MessageGroup,
    OverdueDigest,
    PartnerChange,
    ReportBefore,
    ReportEscalation,
    ReportOverdue,
    ReportRequest,
    SeriesCheck,
    StaleEscalation,
    WeeklyDigest,
    parse,
    period_of,
    quarter_of_period,
)
from workflow.outbox import Outgoing, decode, personal_key, queue
from workflow.planner import (
    LinkMaker,
    deadline_flags,
    plan,
    quarter_end,
    reader,
    recipients,
)
from workflow.progress import cadence_interval, closed, in_progress
from workflow.routing import audience, escalation_audience, expand
from workflow.window import SendingWindow

__all__ = ["LinkMaker", "SweepResult", "Sweeper"]


@dataclass
class SweepResult:
    claimed: int = 0
    fired: int = 0
    coalesced: int = 0
    skipped: int = 0
    messages: int = 0
    failed: int = 0  # reminders that raised (recorded against their project, not sent)


@dataclass
class _Out:
    person: Any
    project_id: int
    item: dict[str, Any]
    occasion: str


class Sweeper:
    def __init__(
        self,
        engine: Engine,
        batch: int = 1000,
        window: SendingWindow | None = None,
        *,
        hold: bool = True,
    ) -> None:
        """Answer links in report requests come from the engine's planner's link maker.

        ``window``: the sending window and digest weekday (default: Monday, 09:00). With
        ``hold`` (and a window given), nothing fires while the window is shut; the digest
        weekday holds either way."""
        self.engine, self.batch = engine, batch
        self.cadence = window or SendingWindow()
        self.window = window if hold else None
        self.links = engine.planner.links

    def claim_due(self, conn: sa.Connection, now: datetime) -> list[Any]:
        query = (
            sa.select(
                tables.reminder.c.id,
                tables.reminder.c.project_id,
                tables.reminder.c.occasion,
                tables.reminder.c.kind,
                tables.reminder.c.subject_id,
                tables.reminder.c.chain,
                tables.reminder.c.schedule,
                tables.reminder.c.period,
                tables.reminder.c.step,
                tables.reminder.c.due_at,
            )
            .where(tables.reminder.c.status == "pending", tables.reminder.c.due_at <= now)
            .order_by(tables.reminder.c.due_at)
            .limit(self.batch)
        )
        if conn.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        return list(conn.execute(query).all())

    def run(self, now: datetime | None = None) -> SweepResult:
        """Sweep until nothing is due; each batch is one transaction."""
        now = now or self.engine.clock.now()
        total = SweepResult()
        if self.window is not None and not self.window.is_open(now):
            return total  # what is due waits for the next working morning
        while True:
            result = self._run_batch(now)
            for field in ("claimed", "fired", "coalesced", "skipped", "messages", "failed"):
                setattr(total, field, getattr(total, field) + getattr(result, field))
            if result.claimed < self.batch:
                total.messages += self.flush_held(now)
                return total

    def _run_batch(self, now: datetime) -> SweepResult:
        """One batch in one transaction; if a reminder raises, the batch is run again with
        each reminder in a SAVEPOINT, so the one that raises is recorded as failed against
        its project and the batch's other reminders still commit."""
        try:
            return self._try_batch(now, isolate=False)
        except Exception:
            return self._try_batch(now, isolate=True)

    def _try_batch(self, now: datetime, *, isolate: bool) -> SweepResult:
        result = SweepResult()
        with self.engine.db.begin() as conn:
            due = self.claim_due(conn, now)
            result.claimed = len(due)
            if not due:
                return result
            latest: dict[str, Any] = {}
            for r in due:
                if r.chain not in latest or r.due_at >= latest[r.chain].due_at:
                    latest[r.chain] = r
            keep = {r.id for r in latest.values()}
            coalesced = [r.id for r in due if r.id not in keep]
            if coalesced:
                conn.execute(
                    sa.update(tables.reminder)
                    .where(tables.reminder.c.id.in_(coalesced))
                    .values(status="coalesced", fired_at=now)
                )
            result.coalesced = len(coalesced)
            projects = {
                row.id: row
                for row in conn.execute(
                    sa.select(tables.project).where(
                        tables.project.c.id.in_({r.project_id for r in latest.values()})
                    )
                )
            }
            outs: list[_Out] = []
            done_ids, skipped_ids, failed_ids = [], [], []
            for r in sorted(latest.values(), key=lambda r: (r.due_at, r.id)):
                project = projects.get(r.project_id)
                if project is None:
                    skipped_ids.append(r.id)
                    continue
                if not isolate:
                    produced = self._fire_active(conn, r, project, now)
                else:
                    try:
                        with conn.begin_nested():
                            produced = self._fire_active(conn, r, project, now)
                    except sa.exc.OperationalError:
                        raise  # the database's trouble, not this reminder's: the next pass
                    except Exception as error:  # this reminder only: the others go on
                        record_failure(conn, project.id, now, f"reminder {r.occasion}", error)
                        failed_ids.append(r.id)
                        continue
                if produced is None:
                    skipped_ids.append(r.id)
                else:
                    done_ids.append(r.id)
                    outs.extend(produced)
            if done_ids:
                conn.execute(
                    sa.update(tables.reminder)
                    .where(tables.reminder.c.id.in_(done_ids))
                    .values(status="done", fired_at=now)
                )
            if skipped_ids:
                conn.execute(
                    sa.update(tables.reminder)
                    .where(tables.reminder.c.id.in_(skipped_ids))
                    .values(status="skipped", fired_at=now)
                )
            if failed_ids:
                conn.execute(
                    sa.update(tables.reminder)
                    .where(tables.reminder.c.id.in_(failed_ids))
                    .values(status="failed", fired_at=now)
                )
            result.fired, result.skipped = len(done_ids), len(skipped_ids)
            result.failed = len(failed_ids)
            result.messages = self._queue(conn, outs, projects, now)
        return result

    def _active(self, project: Any) -> bool:
        return in_progress(self.engine, project)

    def _fire_active(
        self, conn: sa.Connection, r: Any, project: Any, now: datetime
    ) -> list[_Out] | None:
        """What ``r`` says, or None (skipped) when its project is not in progress."""
        definition = self.engine.project_definition(project)  # DefinitionGone says why
        if self._active(project):
            return self._fire(conn, r, project, now)
        if r.kind == "annual_review" and not closed(self.engine, project):
            # A suspended project says nothing now, but its yearly cycle goes on.
            self._next_review(conn, r, project, definition)
        return None

    def _queue(
        self, conn: sa.Connection, outs: list[_Out], projects: dict[int, Any], now: datetime
    ) -> int:
        by_person: dict[str, list[_Out]] = defaultdict(list)
        digests: dict[str, list[_Out]] = defaultdict(list)
        for out in outs:
            mine = digests if out.item["kind"] == "overdue_digest" else by_person
            mine[out.person.email.lower()].append(out)
        messages = []
        week = WeeklyDigest(self.cadence.week_of(paris_date(now)))
        held = self._held(conn, list(digests), now)
        queued = 0
        for email, group in digests.items():
            # Every project's digest in one message, with what the person moved to the
            # digest, and one a week: a second one this week (a digest planned before this
            # rule) finds its key taken and is not sent.
            person = group[0].person
            ids, items, about = held.get(email, ([], [], set()))
            about |= {o.project_id for o in group}
            digest = Outgoing(
                personal_key(week.key, email),
                next(iter(about)) if len(about) == 1 else None,
                person.email,
                person.contact_name,
                person.lang,
                "overdue_digest" if len(group) == 1 and not items else "digest",
                [{**o.item, "reader": reader(person.roles)} for o in group] + items,
                digest=True,
            )
            if queue(conn, [digest], now, count=True) and ids:
                self._merged(conn, ids)
            queued += 1
        for email, found in by_person.items():
            group = _merged_news(found)
            occasion = (
                group[0].occasion
                if len(group) == 1
                else MessageGroup.of(o.occasion for o in group).key
            )
            person = group[0].person
            kind = group[0].item["kind"] if len(group) == 1 else "digest"
            project_id = group[0].project_id if len({o.project_id for o in group}) == 1 else None
            messages.append(
                Outgoing(
                    personal_key(occasion, email),
                    project_id,
                    person.email,
                    person.contact_name,
                    person.lang,
                    kind,
                    [{**o.item, "reader": reader(person.roles)} for o in group],
                )
            )
        return queued + queue(conn, messages, now, count=True)

    # -- what people moved to their weekly digest -------------------------------------------
    @staticmethod
    def _held(
        conn: sa.Connection, emails: list[str] | None, before: datetime
    ) -> dict[str, tuple[list[int], list[dict[str, Any]], set[int | None]]]:
        """The messages held for the digest (of ``emails``, else everyone's) written before
        ``before``, per lower-cased address: (ids, items, projects)."""
        t = tables.outbox
        query = (
            sa.select(t.c.id, t.c.recipient_email, t.c["items"], t.c.project_id)
            .where(t.c.status == "held", t.c.created_at < before)
            .order_by(t.c.id)
        )
        if emails is not None:
            if not emails:
                return {}
            query = query.where(sa.func.lower(t.c.recipient_email).in_(emails))
        if conn.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        found: dict[str, tuple[list[int], list[dict[str, Any]], set[int | None]]] = {}
        for row in conn.execute(query):
            ids, items, projects = found.setdefault(row.recipient_email.lower(), ([], [], set()))
            ids.append(row.id)
            items.extend(decode(row._mapping["items"]))
            projects.add(row.project_id)
        return found

    @staticmethod
    def _merged(conn: sa.Connection, ids: list[int]) -> None:
        conn.execute(
            sa.update(tables.outbox)
            .where(tables.outbox.c.id.in_(ids), tables.outbox.c.status == "held")
            .values(status="merged", sent_at=None)
        )

    def flush_held(self, now: datetime) -> int:
        """Once this week's digest moment has passed, the messages held before it leave as
        one weekly digest per person (for those whose overdue digest did not take them);
        how many digests were queued."""
        today = paris_date(now)
        day = today - timedelta(days=(today.weekday() - self.cadence.digest_weekday) % 7)
        moment = self.cadence.opening(day)
        if now < moment:
            day -= timedelta(weeks=1)
            moment = self.cadence.opening(day)
        week = WeeklyDigest(self.cadence.week_of(day))
        count = 0
        with self.engine.db.begin() as conn:
            held = self._held(conn, None, moment)
            if not held:
                return 0
            first = {
                row.recipient_email.lower(): row
                for row in conn.execute(
                    sa.select(
                        tables.outbox.c.recipient_email,
                        tables.outbox.c.recipient_name,
                        tables.outbox.c.lang,
                    ).where(tables.outbox.c.id.in_([ids[-1] for ids, _, _ in held.values()]))
                )
            }
            for email, (ids, items, projects) in held.items():
                row = first[email]
                digest = Outgoing(
                    personal_key(week.key, email),
                    next(iter(projects)) if len(projects) == 1 else None,
                    row.recipient_email,
                    row.recipient_name,
                    row.lang,
                    items[0]["kind"] if len(items) == 1 else "digest",
                    items,
                    digest=True,
                )
                if queue(conn, [digest], now, count=True):
                    self._merged(conn, ids)
                    count += 1
        return count

    # -- what each kind of reminder says, and to whom ---------------------------------------------
    def _fire(self, conn: sa.Connection, r: Any, project: Any, now: datetime) -> list[_Out] | None:
        definition = self.engine.project_definition(project)
        today = paris_date(now)
        base = self.engine.planner.context(conn, project, today)
        kind = r.kind
        if kind == "milestone_stale":
            return self._stale(conn, r, project, definition, base, today)
        if kind.startswith("milestone_"):
            return self._milestone(conn, r, project, definition, base, today)
        if kind == "overdue_digest":
            return self._digest(conn, r, project, definition, base, today)
        if kind in ("meeting_reminder", "meeting_minutes_request"):
            return self._meeting(conn, r, project, definition, base, now)
        if kind == "series_behind":
            return self._series(conn, r, project, definition, base, today)
        if kind.startswith("report_"):
            return self._report(conn, r, project, definition, base, today)
        if kind in ("annual_review", "convention_end"):
            return self._convention(conn, r, project, definition, base, today)
        if kind == PartnerChange.kind:
            return self._membership(conn, r, project, definition, base, today)
        return None

    def _to(
        self,
        conn: sa.Connection,
        project: Any,
        roles: Any,
        today: date,
        item: dict[str, Any],
        occasion: str,
    ) -> list[_Out]:
        return [
            _Out(p, project.id, item, occasion) for p in recipients(conn, project.id, roles, today)
        ]

    def _milestone(
        self,
        conn: sa.Connection,
        r: Any,
        project: Any,
        definition: Definition,
        base: dict[str, Any],
        today: date,
    ) -> list[_Out] | None:
        m = conn.execute(
            sa.select(tables.milestone).where(tables.milestone.c.id == r.subject_id)
        ).one_or_none()
        if m is None or m.done_on is not None:
            return None
        responsible = [m.responsible_role]
        item = self._milestone_item(m, r.kind, base, definition, today)
        if r.kind == "milestone_escalation":
            self._name_the_late(conn, project.id, m, today, item)
            above, late = escalation_audience(definition, r.kind, m.key, m.responsible_role)
            return self._escalate(conn, project, above, late, today, item, r.occasion)
        if r.kind == "milestone_overdue":
            self._next_digest(conn, project.id, definition, today)
        roles = list(expand(audience(definition, r.kind), responsible=responsible))
        outs = self._to(conn, project, roles, today, item, r.occasion)
        # Who owes it without being the pilot or the agency sends it from a personal link
        # (the deliverable page): the pilot and the agency act on the project page.
        for out in outs:
            if (
                self.links
                and m.responsible_role in out.person.roles
                and not {
                    "pilot",
                    "agency",
                }
                & set(out.person.roles)
            ):
                url = self.links("milestone", project.id, out.person.id, m.key)
                out.item = {**out.item, "answer_url": url}
        return outs

    @staticmethod
    def _milestone_item(
        m: Any, kind: str, base: dict[str, Any], definition: Definition, today: date
    ) -> dict[str, Any]:
        """What a message about milestone ``m`` says of it (reminder, overdue, escalation)."""
        return {
            **base,
            "kind": kind,
            **definition.label_fields("milestone_label", "milestone", m.key, m.label),
            "deliverable": m.deliverable,
            **(
                {}
                if m.deliverable is None
                else definition.label_fields("deliverable", "deliverable", m.key, m.deliverable)
            ),
            **definition.label_fields("responsible", "role", m.responsible_role),
            "due": m.due_on,
            "days_left": (m.due_on - today).days,
            "days_late": (today - m.due_on).days,
            **deadline_flags(m.due_on, m.moved_from),
        }

    @staticmethod
    def _name_the_late(
        conn: sa.Connection, project_id: int, m: Any, today: date, item: dict[str, Any]
    ) -> None:
        """An escalation names who is late (their structures) and whether it is the pilot."""
        people = recipients(conn, project_id, [m.responsible_role], today)
        item["responsible_name"] = ", ".join(p.organisation for p in people) or item["responsible"]
        item["late_is_pilot"] = m.responsible_role == "pilot"  # worded for the agency

    def _escalate(
        self,
        conn: sa.Connection,
        project: Any,
        roles: tuple[str, ...],
        late: str,
        today: date,
        item: dict[str, Any],
        occasion: str,
    ) -> list[_Out]:
        """An escalation about someone late: to ``roles``, never to whoever holds the late
        party's role nor to a partner (unless also pilot or agency), whatever else they hold."""
        return [
            _Out(p, project.id, item, occasion)
            for p in recipients(conn, project.id, roles, today)
            if late not in p.roles
            and ("partner" not in p.roles or {"pilot", "agency"} & set(p.roles))
        ]

    def _next_digest(
        self, conn: sa.Connection, project_id: int, definition: Definition, today: date
    ) -> None:
        """The next overdue digest, on the digest weekday after ``today`` (or after
        ``digest_every_days``, when a programme asks for rarer ones): every item of every
        project falls into the same weekly digest, whatever day it fell due."""
        every = definition.reminders.digest_every_days
        nxt = self.cadence.digest_day(today + timedelta(days=max(every - 7, 0)))
        plan(conn, project_id, OverdueDigest(project_id, nxt), self.cadence.opening(nxt))

    @staticmethod
    def accountable(definition: Definition, phase: str) -> list[str]:
        """Who answers for what is late in ``phase``: the accountable roles of the
        definition's RACI for that phase, else the pilot and the agency."""
        roles = [
            role for entry in definition.raci if entry.phase == phase for role in entry.accountable
        ]
        return list(dict.fromkeys(roles)) or ["pilot", "agency"]

    def _stale(
        self,
        conn: sa.Connection,
        r: Any,
        project: Any,
        definition: Definition,
        base: dict[str, Any],
        today: date,
    ) -> list[_Out] | None:
        """A milestone late and unchanged for weeks: told once to the accountable."""
        m = conn.execute(
            sa.select(tables.milestone).where(tables.milestone.c.id == r.subject_id)
        ).one_or_none()
        if m is None or m.done_on is not None:
            return None
        item = self._milestone_item(m, "milestone_escalation", base, definition, today)
        self._name_the_late(conn, project.id, m, today, item)
        roles = tuple(self.accountable(definition, m.phase))
        return self._escalate(conn, project, roles, m.responsible_role, today, item, r.occasion)

    def _digest(
        self,
        conn: sa.Connection,
        r: Any,
        project: Any,
        definition: Definition,
        base: dict[str, Any],
        today: date,
    ) -> list[_Out] | None:
        late = conn.execute(
            sa.select(tables.milestone)
            .where(
                tables.milestone.c.project_id == project.id,
                tables.milestone.c.done_on.is_(None),
                tables.milestone.c.due_on < today,
            )
            .order_by(tables.milestone.c.due_on)
        ).all()
        if not late:
            return None  # nothing late any more: the weekly digest stops
        self._next_digest(conn, project.id, definition, today)
        # An item late for N weeks is escalated once, then listed only in the month's first
        # digest (the others would repeat it week after week).
        digest = parse(r.occasion)
        assert isinstance(digest, OverdueDigest), r.occasion
        stale_after = timedelta(weeks=definition.reminders.weeks_before_escalation)
        fresh = []
        for m in late:
            if today - m.due_on >= stale_after:
                plan(conn, project.id, StaleEscalation(m.id), self.cadence.opening(today))
            else:
                fresh.append(m)
        if not self.cadence.is_monthly(digest.on):
            late = fresh
        if not late:
            return []  # only escalated items: they wait for the monthly digest
        item = {
            **base,
            "kind": "overdue_digest",
            "overdue": [
                {
                    **definition.label_fields("label", "milestone", m.key, m.label),
                    "due": m.due_on,
                    "days_late": (today - m.due_on).days,
                    **definition.label_fields("responsible", "role", m.responsible_role),
                }
                for m in late
            ],
        }
        roles = list(audience(definition, "overdue_digest"))
        return self._to(conn, project, roles, today, item, r.occasion)

    def _meeting(
        self,
        conn: sa.Connection,
        r: Any,
        project: Any,
        definition: Definition,
        base: dict[str, Any],
        now: datetime,
    ) -> list[_Out] | None:
        today = paris_date(now)
        m = conn.execute(
            sa.select(tables.meeting).where(tables.meeting.c.id == r.subject_id)
        ).one_or_none()
        if m is None or m.status != "planned":
            return None
        if r.kind == "meeting_reminder" and m.starts_at is not None and m.starts_at <= now:
            # Its occasion has passed (a sweep that missed its window): a reminder of a
            # meeting that began is dropped; only overdue notices are sent late.
            return None
        series = definition.series(m.series)
        item = {
            **base,
            "kind": r.kind,
            "meeting_id": m.id,
            **definition.meeting_fields(series.key, m.occurrence, m.label),
            "starts_at": m.starts_at,
            "ends_at": m.ends_at,
            "location": m.location,
            "agenda": None,
            "sequence": m.sequence,
            "days_left": (paris_date(m.starts_at) - today).days,
        }
        roles = list(expand(audience(definition, r.kind), attendees=series.attendees))
        return self._to(conn, project, roles, today, item, r.occasion)

    def _series(
        self,
        conn: sa.Connection,
        r: Any,
        project: Any,
        definition: Definition,
        base: dict[str, Any],
        today: date,
    ) -> list[_Out] | None:
        check = parse(r.occasion)
        assert isinstance(check, SeriesCheck), r.occasion
        series = next((s for s in definition.meetings if s.key == check.series), None)
        if (
            series is None
            or series.cadence is None
            or (series.phases is not None and project.phase not in series.phases)
        ):
            return None
        every, unit = series.cadence.every, series.cadence.unit
        interval = cadence_interval(every, unit)
        last = None
        for held_on, starts_at in conn.execute(
            sa.select(tables.meeting.c.held_on, tables.meeting.c.starts_at).where(
                tables.meeting.c.project_id == project.id,
                tables.meeting.c.series == series.key,
                tables.meeting.c.status.in_(["held", "planned"]),
            )
        ):
            when = held_on or (paris_date(starts_at) if starts_at else None)
            if when is not None and (last is None or when > last):
                last = when
        if last is not None and last + interval > today:
            self.engine.planner.plan_series_check(
                conn, project.id, series.key, every, unit, last, definition
            )
            return []  # on track: check again one interval after the last meeting
        self.engine.planner.plan_series_check(
            conn, project.id, series.key, every, unit, today, definition
        )
        item = {
            **base,
            "kind": "series_behind",
            **definition.label_fields("series_label", "meeting", series.key),
            "last_held": last,
            "cadence": {"every": every, "unit": unit},
            "expected_by": today,
        }
        roles = list(audience(definition, "series_behind"))
        return self._to(conn, project, roles, today, item, r.occasion)

    def _report(
        self,
        conn: sa.Connection,
        r: Any,
        project: Any,
        definition: Definition,
        base: dict[str, Any],
        today: date,
    ) -> list[_Out] | None:
        key, period, step = r.schedule, r.period, r.step
        spec = next((s for s in definition.reports if s.key == key), None)
        if spec is None or period is None:
            return None
        year, quarter = quarter_of_period(period)
        end = quarter_end(year, quarter)
        deadline = resolve_due(end, spec, definition)
        due = deadline.due
        policy = definition.reminders
        if step == "request":
            phase = next((p for p in definition.phases if p.key == project.phase), None)
            if phase is None or not phase.reporting:
                return None  # entering a reporting phase plans the requests again
            nxt_year, nxt_q = (year + 1, 1) if quarter == 4 else (year, quarter + 1)
            plan(
                conn,
                project.id,
                ReportRequest(project.id, spec.key, period_of(nxt_year, nxt_q)),
                at_paris_time(quarter_end(nxt_year, nxt_q), policy.send_at),
            )
            for days in policy.report_before_days:
                plan(
                    conn,
                    project.id,
                    ReportBefore(project.id, spec.key, period, days),
                    at_paris_time(due - timedelta(days=days), policy.send_at),
                )
            plan(
                conn,
                project.id,
                ReportOverdue(project.id, spec.key, period),
                at_paris_time(due + timedelta(days=policy.overdue_after_days), policy.send_at),
            )
            owed_reports.owe(conn, [definition], project.id)
            plan(
                conn,
                project.id,
                ReportEscalation(project.id, spec.key, period),
                at_paris_time(due + timedelta(days=policy.escalate_after_days), policy.send_at),
            )
        submitted = set(
            conn.execute(
                sa.select(tables.report.c.partner_id).where(
                    tables.report.c.project_id == project.id,
                    tables.report.c.schedule == key,
                    tables.report.c.period == period,
                )
            ).scalars()
        )
        owing = [
            p for p in recipients(conn, project.id, [spec.owed_by], today) if p.id not in submitted
        ]
        if not owing:
            return None
        common = {
            **base,
            "kind": r.kind,
            **definition.label_fields("report_label", "report", spec.key),
            "period": period,  # the "2026-Q1" key; templates word it (``|quarter``)
            "due": due,
            "days_left": (due - today).days,
            "days_late": (today - due).days,
            **deadline_flags(due, deadline.moved_from),
        }
        if r.kind == "report_escalation":
            item = {**common, "partner_name": ", ".join(p.organisation for p in owing)}
            roles, late = escalation_audience(definition, r.kind, spec.key, spec.owed_by)
            return self._escalate(conn, project, roles, late, today, item, r.occasion)
        routed = audience(definition, r.kind)
        # Besides the late party itself, whoever the routing names (the pilot, by a
        # definition's choice) gets a copy about each partner.
        copies = [role for role in routed if role not in ("responsible", "attendees", "informed")]
        outs = []
        for partner in owing:
            url = (
                self.links("report", project.id, partner.id, f"{key}:{period}")
                if self.links
                else None
            )
            item = {**common, "partner_name": partner.organisation, "answer_url": url}
            outs.append(_Out(partner, project.id, item, r.occasion))
            if r.kind == "report_overdue" and copies:
                copy = ReportOverdue(project.id, spec.key, period).copy_about(partner.id)
                outs.extend(self._to(conn, project, copies, today, item, copy.key))
        return outs

    def _convention(
        self,
        conn: sa.Connection,
        r: Any,
        project: Any,
        definition: Definition,
        base: dict[str, Any],
        today: date,
    ) -> list[_Out] | None:
        occasion = parse(r.occasion)
        if isinstance(occasion, AnnualReview):
            return self._annual_review(conn, r, occasion, project, definition, base, today)
        if definition.convention is None:
            return None  # the programme declares no convention: nothing to say about its end
        if isinstance(occasion, ConventionEnding):
            return self._convention_ending(conn, r, occasion, project, base, today)
        # A reminder planned before conventions were records (the project's two dates).
        end = project.convention_end
        if project.convention_start is None or end is None:
            return None
        item = {
            **base,
            "kind": "convention_end",
            "convention_end": end,
            "days_left": (end - today).days,
        }
        roles = list(audience(definition, "convention_end"))
        return self._to(conn, project, roles, today, item, r.occasion)

    def _membership(
        self,
        conn: sa.Connection,
        r: Any,
        project: Any,
        definition: Definition,
        base: dict[str, Any],
        today: date,
    ) -> list[_Out] | None:
        """A partner joins or leaves: news to the routing's audience, a welcome to the
        partner who joins (never its own joining as news); the changes of one day reach
        each person as one message (merged in :meth:`_queue`)."""
        change = parse(r.occasion)
        assert isinstance(change, PartnerChange), r.occasion
        row = conn.execute(
            sa.select(tables.partner).where(tables.partner.c.id == change.partner_id)
        ).one_or_none()
        if row is None:
            return None
        kind = change.message_kind
        item = {
            **base,
            "kind": kind,
            "partner_name": row.organisation,
            "partners": [row.organisation],
            "at": change.on,
            "today": today,
            "welcome": False,
        }
        outs = [
            _Out(p, project.id, item, r.occasion)
            for p in recipients(conn, project.id, audience(definition, kind), today)
            if p.id != row.id
        ]
        if change.joined:
            me = next(
                (p for p in project_partners(conn, project.id) if p.id == row.id),
                None,
            )
            if me is not None and (me.left_on is None or me.left_on > today):
                # the others who join the same day, named in the welcome
                others = [
                    p.organisation
                    for p in project_partners(conn, project.id)
                    if p.id != row.id and p.joined_on == change.on and "partner" in p.roles
                ]
                welcome = {**item, "welcome": True, "partners": others}
                outs.append(_Out(me, project.id, welcome, r.occasion))
        return outs

    def _next_review(
        self, conn: sa.Connection, r: Any, project: Any, definition: Definition
    ) -> date | None:
        """Each year brings its review, for as long as the project runs: when one comes, the
        next one is planned. The date the cycle counts from (None: no convention)."""
        review = parse(r.occasion)
        start = convention_anchor(conn, project)
        if start is None or not isinstance(review, AnnualReview):
            return None
        self.engine.planner.plan_annual_review(
            conn, definition, project.id, start, review.year - start.year + 1
        )
        return start

    def _annual_review(
        self,
        conn: sa.Connection,
        r: Any,
        review: AnnualReview,
        project: Any,
        definition: Definition,
        base: dict[str, Any],
        today: date,
    ) -> list[_Out] | None:
        start = self._next_review(conn, r, project, definition)
        if start is None:
            return None
        anniversary = years_later(start, review.year - start.year)
        review_by = anniversary - timedelta(days=61)
        item = {
            **base,
            "kind": "annual_review",
            "convention_anniversary": anniversary,
            "review_by": max(review_by, today),
        }
        roles = list(audience(definition, "annual_review"))
        return self._to(conn, project, roles, today, item, r.occasion)

    def _convention_ending(
        self,
        conn: sa.Connection,
        r: Any,
        ending: ConventionEnding,
        project: Any,
        base: dict[str, Any],
        today: date,
    ) -> list[_Out] | None:
        convention = conn.execute(
            sa.select(tables.convention).where(tables.convention.c.id == ending.convention_id)
        ).one_or_none()
        if convention is None or convention.ends_on != ending.end or today > ending.end:
            return None  # renewed (its end moved) or already over
        parties = {
            row.partner_id
            for row in conn.execute(
                sa.select(tables.convention_party.c.partner_id).where(
                    tables.convention_party.c.convention_id == convention.id
                )
            )
        }
        item = {
            **base,
            "kind": "convention_end",
            "convention_end": ending.end,
            "days_left": (ending.end - today).days,
        }
        steering = recipients(conn, project.id, ["pilot", "agency"], today)
        seen = {p.email.lower() for p in steering}
        people = list(steering)
        for p in active_partners(conn, project.id, today):
            # Only the parties still in: a party that gave notice is no longer written to
            # from the day it leaves.
            if p.id in parties and p.email.lower() not in seen:
                seen.add(p.email.lower())
                people.append(p)
        if not people:
            return None
        return [_Out(p, project.id, item, r.occasion) for p in people]


def resolve_due(period_end: date, spec: ReportSchedule, definition: Definition) -> Deadline:
    """When a report for the period ending ``period_end`` is due (moved off a non-working day
    as the programme says)."""
    rule = DateRule(after="project_start", offset=spec.due_after_period)
    return resolve(
        rule,
        project_start=period_end,
        phase_start=period_end,
        on_non_working_day=definition.reminders.deadline_rule(
            spec.owed_by, spec.on_non_working_day
        ),
    )


_MEMBERSHIP = ("partner_joined", "partner_left")


def _merged_news(group: list[_Out]) -> list[_Out]:
    """One person's news of partners joining (or leaving) one project as one item listing
    them all; a partner's own welcome names the others who join with it."""
    out: list[_Out] = []
    merged: dict[tuple[int, str], tuple[_Out, list[str]]] = {}
    for o in group:
        kind = o.item["kind"]
        if kind not in _MEMBERSHIP:
            out.append(o)
            continue
        key = (o.project_id, kind)
        if key not in merged:
            merged[key] = (_Out(o.person, o.project_id, dict(o.item), o.occasion), [o.occasion])
            out.append(merged[key][0])
            continue
        first, occasions = merged[key]
        item = first.item
        item["welcome"] = item["welcome"] or o.item["welcome"]
        item["partners"] = list(dict.fromkeys([*item["partners"], *o.item["partners"]]))
        item["at"] = min(item["at"], o.item["at"])
        occasions.append(o.occasion)
        # one message for all the changes it tells: its key is theirs together
        first.occasion = MessageGroup.of(occasions).key
    return out
