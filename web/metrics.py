"""Prometheus metrics and the scheduler's heartbeat, for ``/metrics`` and ``/health``.

Each :class:`Metrics` has its own ``CollectorRegistry`` (not the process-global one), so a
process can hold several systems (the tests build many). Two kinds of figures:

- **this instance**, counted in memory as it works: notifications sent / retried / failed,
  reminders fired, sweep durations and failures, the last successful tick. Sum them over
  instances (``sum without (instance) (...)``); they restart from zero with the process,
  which ``rate()`` handles.
- **the whole deployment**, read from the database at each scrape: transitions per trigger
  (rows of the ``history`` table, so advances made by any instance, by the command line or
  by the timed-transition sweep all count, and nothing is lost at a restart) and the outbox
  backlog with the age of its oldest undelivered message. Every instance reports the same
  values: aggregate them with ``max``, not ``sum``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder

from workflow import tables
from workflow.conventions import CONVENTION_TRIGGERS
from workflow.database import read
from workflow.failures import failed_projects
from workflow.plan import PLAN_TRIGGERS
from workflow.window import SendingWindow

if TYPE_CHECKING:
    from notifications.delivery import DeliveryStats, Outage
    from workflow.sweep import SweepResult

__all__ = ["Backlog", "Metrics", "SchedulerState", "outbox_backlog", "transitions_by_trigger"]

QUERY_TIMEOUT_MS = 2000  # a health check or a scrape must not wait on a stuck database
DEGRADED_LISTED = 100  # /health lists at most this many failing projects (the gauge counts all)
SWEEP_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)


@dataclass(frozen=True)
class Backlog:
    """Messages not delivered yet (pending, backing off, or claimed and being sent)."""

    count: int
    oldest_created_at: datetime | None

    def oldest_age_seconds(self, now: datetime) -> float | None:
        if self.oldest_created_at is None:
            return None
        return max(0.0, (now - self.oldest_created_at).total_seconds())


def _bounded(conn: sa.Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text(f"SET LOCAL statement_timeout = {QUERY_TIMEOUT_MS}"))


def outbox_backlog(
    db: sa.Engine, now: datetime | None = None, window: SendingWindow | None = None
) -> Backlog:
    """One query per status, so each uses its partial index (``ix_outbox_ready`` for pending,
    ``ix_outbox_in_flight`` for sending) and the sent rows, the bulk of the table, are never read.

    With a sending ``window`` (and ``now``), a message written while it was shut counts as
    waiting from its last opening: a weekend's messages are not a backlog on Monday at 8."""
    count, oldest = 0, None
    with read(db) as conn:
        _bounded(conn)
        for status in ("pending", "sending"):
            n, first = conn.execute(
                sa.select(sa.func.count(), sa.func.min(tables.outbox.c.created_at)).where(
                    tables.outbox.c.status == status
                )
            ).one()
            count += int(n)
            if first is not None and (oldest is None or first < oldest):
                oldest = first
    if oldest is not None and window is not None and now is not None:
        oldest = max(oldest, min(window.last_opening(now), now))
    return Backlog(count, oldest)


def failing_project_count(db: sa.Engine) -> int:
    """Projects flagged because their due work raised (see :mod:`workflow.failures`)."""
    with read(db) as conn:
        _bounded(conn)
        return int(
            conn.execute(
                sa.select(sa.func.count()).where(tables.project.c.failed_at.is_not(None))
            ).scalar_one()
        )


def merged_notice_count(db: sa.Engine) -> int:
    """Notices held back by the notice budget (:class:`workflow.outbox.NoticeBudget`) and
    sent merged with the others (``merged`` outbox rows)."""
    with read(db) as conn:
        _bounded(conn)
        return int(
            conn.execute(
                sa.select(sa.func.count()).where(tables.outbox.c.status == "merged")
            ).scalar_one()
        )


def transitions_by_trigger(db: sa.Engine) -> dict[str, int]:
    """Phase changes recorded so far, per trigger (project creations are not transitions)."""
    with read(db) as conn:
        _bounded(conn)
        rows = conn.execute(
            sa.select(tables.history.c.trigger, sa.func.count())
            .where(
                tables.history.c.trigger != "create",
                # A convention's, the plan's and the budget's changes are in the history, but
                # they are not phase changes.
                tables.history.c.trigger.not_in((*CONVENTION_TRIGGERS, *PLAN_TRIGGERS)),
            )
            .group_by(tables.history.c.trigger)
        ).all()
    return {trigger: int(n) for trigger, n in rows}


class SchedulerState:
    """The scheduler's heartbeat, on the system's clock (the wall clock in a served process).

    ``alive``: the scheduler started or finished a tick within three intervals, or a tick is
    running and has not yet run longer than the outbox lease (past it, other instances take
    over its claimed messages: it is as good as dead). A long tick (a large backlog being
    delivered) therefore does not make a busy instance look dead.
    """

    def __init__(
        self, now: Callable[[], datetime], interval_seconds: float, lease_seconds: float
    ) -> None:
        self.now, self.interval, self.lease = now, interval_seconds, lease_seconds
        self.started_at: datetime | None = None
        self.running_since: datetime | None = None
        self.last_tick_at: datetime | None = None
        self.ticks = 0
        self._changed = threading.Condition()

    def started(self) -> None:
        with self._changed:
            self.started_at = self.now()

    def tick_begins(self) -> None:
        with self._changed:
            self.running_since = self.now()

    def tick_ends(self, ok: bool) -> None:
        with self._changed:
            self.running_since = None
            if ok:
                self.last_tick_at = self.now()
                self.ticks += 1
            self._changed.notify_all()

    def wait_for_ticks(self, count: int, timeout: float) -> bool:
        """Block until ``count`` ticks have succeeded in all (tests and tools); False on timeout."""
        with self._changed:
            return self._changed.wait_for(lambda: self.ticks >= count, timeout)

    @property
    def alive(self) -> bool:
        now = self.now()
        with self._changed:
            running, last = self.running_since, self.last_tick_at or self.started_at
        if running is not None and (now - running).total_seconds() <= max(
            3 * self.interval, self.lease
        ):
            return True
        return last is not None and (now - last).total_seconds() <= 3 * self.interval


class _DatabaseCollector:
    """The deployment-wide figures, read from the database at each scrape."""

    def __init__(
        self, db: sa.Engine, now: Callable[[], datetime], window: SendingWindow | None
    ) -> None:
        self.db, self.now, self.window = db, now, window

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "copilote_database_up", "1 if this instance could read the database at this scrape"
        )
        try:
            by_trigger = transitions_by_trigger(self.db)
            backlog = outbox_backlog(self.db, self.now(), self.window)
            failing = failing_project_count(self.db)
            merged = merged_notice_count(self.db)
        except sa.exc.SQLAlchemyError:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        transitions = CounterMetricFamily(
            "copilote_transitions",
            "Phase transitions recorded (all instances, from the history table), per trigger",
            labels=["trigger"],
        )
        for trigger, n in sorted(by_trigger.items()):
            transitions.add_metric([trigger], n)
        yield transitions
        yield GaugeMetricFamily(
            "copilote_outbox_backlog",
            "Messages not delivered yet: pending, backing off after a failure, or being sent",
            value=backlog.count,
        )
        yield GaugeMetricFamily(
            "copilote_outbox_oldest_pending_age_seconds",
            "Age of the oldest undelivered message (0 when the outbox is empty)",
            value=backlog.oldest_age_seconds(self.now()) or 0.0,
        )
        yield GaugeMetricFamily(
            "copilote_projects_failing",
            "Projects whose due work raised at its last attempt (flagged; the others went on)",
            value=failing,
        )
        yield CounterMetricFamily(
            "copilote_notices_merged",
            "Notices people's actions caused beyond the notice budget, held back and sent in"
            " one message per person at the end of the window (all instances)",
            value=merged,
        )


class _MailCollector:
    """Whether this instance can reach its mail server (an outage backs delivery off)."""

    def __init__(self, outage: Callable[[], Outage | None], now: Callable[[], datetime]) -> None:
        self.outage, self.now = outage, now

    def collect(self) -> Iterator[Metric]:
        outage = self.outage()
        yield GaugeMetricFamily(
            "copilote_mail_server_up",
            "0 while this instance cannot reach the mail server (delivery backs off), else 1",
            value=0 if outage else 1,
        )
        yield GaugeMetricFamily(
            "copilote_mail_outage_seconds",
            "How long the mail server has been unreachable (0 when it answers)",
            value=max(0.0, (self.now() - outage.since).total_seconds()) if outage else 0.0,
        )


class Metrics:
    def __init__(
        self,
        db: sa.Engine,
        now: Callable[[], datetime],
        *,
        interval_seconds: float,
        lease_seconds: float,
        outage: Callable[[], Outage | None] = lambda: None,
        window: SendingWindow | None = None,
    ) -> None:
        self.db, self.now, self.outage, self.window = db, now, outage, window
        self.registry = CollectorRegistry(auto_describe=False)
        self.scheduler = SchedulerState(now, interval_seconds, lease_seconds)
        r = self.registry
        self.sent = Counter(
            "copilote_notifications_sent", "Messages accepted by the mail server", registry=r
        )
        self.retried = Counter(
            "copilote_notifications_retried",
            "Temporary delivery failures (the message is tried again later)",
            registry=r,
        )
        self.failed = Counter(
            "copilote_notifications_failed",
            "Messages given up (refused by the server, or too many attempts)",
            registry=r,
        )
        self.fired = Counter(
            "copilote_reminders_fired", "Due reminders turned into messages", registry=r
        )
        self.sweep_duration = Histogram(
            "copilote_sweep_duration_seconds",
            "One pass of due work: timed transitions, due reminders, outbox delivery",
            buckets=SWEEP_BUCKETS,
            registry=r,
        )
        self.reminders_failed = Counter(
            "copilote_reminders_failed",
            "Due reminders that raised (recorded against their project; the pass went on)",
            registry=r,
        )
        self.sweep_failures = Counter(
            "copilote_sweep_failures", "Scheduled passes that raised an error", registry=r
        )
        self.last_tick = Gauge(
            "copilote_scheduler_last_tick_timestamp_seconds",
            "Unix time of this instance's last successful scheduled pass",
            registry=r,
        )
        r.register(_DatabaseCollector(db, now, window))
        r.register(_MailCollector(outage, now))

    def record_tick(self, sweep: SweepResult, delivery: DeliveryStats, seconds: float) -> None:
        self.sent.inc(delivery.sent)
        self.retried.inc(delivery.retried)
        self.failed.inc(delivery.failed)
        self.fired.inc(sweep.fired)
        self.reminders_failed.inc(sweep.failed)
        self.sweep_duration.observe(seconds)

    def scheduled_tick_ends(self, ok: bool) -> None:
        self.scheduler.tick_ends(ok)
        if ok:
            self.last_tick.set(self.now().timestamp())
        else:
            self.sweep_failures.inc()

    def exposition(self, accept: str = "") -> tuple[bytes, str]:
        """(body, content type): the Prometheus text format (0.0.4) unless the scraper's
        ``Accept`` header asks for OpenMetrics or a newer text version."""
        encode, content_type = choose_encoder(accept)
        return encode(self.registry), content_type

    def health(self) -> tuple[bool, dict[str, Any]]:
        """(healthy, body) for ``/health``: no names, addresses or errors, only states."""
        database, backlog, failing = "ok", None, []
        try:
            backlog = outbox_backlog(self.db, self.now(), self.window)
            failing = failed_projects(self.db, limit=DEGRADED_LISTED)
        except sa.exc.SQLAlchemyError:
            database = "error"
        degraded = (
            # Projects whose due work raised: the instance serves and the others' work goes
            # on, so they are reported (only when there are some), not a reason to take the
            # instance out of rotation.
            {
                "degraded_projects": [
                    {"project_id": f.project_id, "failed_at": f.at.isoformat()} for f in failing
                ]
            }
            if failing
            else {}
        )
        body: dict[str, Any] = {
            "database": database,
            **degraded,
            "outbox": {
                "backlog": backlog.count if backlog else None,
                "oldest_pending_age_seconds": (
                    backlog.oldest_age_seconds(self.now()) if backlog else None
                ),
            },
        }
        outage = self.outage()
        if outage is not None:  # delivery waits for the mail server; the instance still serves
            body["mail"] = {
                "status": "unreachable",
                "since": outage.since.isoformat(),
                "failed_tries": outage.failures,
                "next_try_at": outage.retry_at.isoformat(),
            }
        return database == "ok", body
