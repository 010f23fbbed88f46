"""Mail is never silently lost (issue 10, findings 6, 7 and 9): a message the server never
received keeps its attempts, an unreachable server backs delivery off as a whole (shown in
``/health`` and ``/metrics``), give-ups count as failed, failed messages can be queued again,
and a retry time written by a clock that has since gone back is clamped."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from notifications import Recipient, Renderer, SmtpMailer
from notifications.delivery import Delivery
from tests.notifications.notification_samples import sample
from tests.smtp_support import RecordingHandler, SmtpServer, free_port, start_server
from web.metrics import Metrics
from workflow import tables
from workflow.database import read
from workflow.outbox import MAX_ATTEMPTS, MAX_DELAY, SqlOutboxStore, queue_message

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
SENDER = Recipient("Copilote", "copilote@ars.example.org")


@dataclass
class ClosingHandler(RecordingHandler):
    """Answers 421 (closing the connection) to the recipients in ``closing``."""

    closing: set[str] | None = None

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        if self.closing and address in self.closing:
            return "421 Too many connections, closing"
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)


@pytest.fixture
def closing_server() -> Iterator[SmtpServer]:
    server = start_server(ClosingHandler(closing={f"busy{i}@asso.example.org" for i in range(4)}))
    try:
        yield server
    finally:
        server.stop()


def fill(db: sa.Engine, emails: list[str], now: datetime = NOW) -> None:
    with db.begin() as conn:
        for email in emails:
            queue_message(
                conn,
                key=f"k:{email}",
                project_id=None,
                email=email,
                name=email.split("@")[0],
                lang="fr",
                kind="phase_changed",
                items=[sample("phase_changed")],
                now=now,
            )


def rows(db: sa.Engine) -> dict[str, sa.Row[tuple[object, ...]]]:
    with read(db) as conn:
        return {r.recipient_email: r for r in conn.execute(sa.select(tables.outbox)).all()}


def delivery(db: sa.Engine, host: str, port: int) -> Delivery:
    mailer = SmtpMailer(host=host, port=port, timeout=5, connections=1)
    return Delivery(SqlOutboxStore(db), Renderer(), mailer, lambda: NOW, SENDER)


GOOD = [f"good{i}@asso.example.org" for i in range(6)]
BUSY = [f"busy{i}@asso.example.org" for i in range(4)]


def test_untried_messages_keep_their_attempts(db: sa.Engine, closing_server: SmtpServer) -> None:
    """Finding 6: four recipients answering 421 use up the connection and its reconnection;
    the six good messages behind them were never tried and lose no attempt."""
    fill(db, BUSY + GOOD)
    d = delivery(db, closing_server.host, closing_server.port)
    stats = asyncio.run(d.run_once(now=NOW))
    assert (stats.sent, stats.failed) == (0, 0)
    after = rows(db)
    assert [after[e].attempts for e in BUSY] == [1, 1, 0, 0]
    assert {(after[e].status, after[e].attempts) for e in GOOD} == {("pending", 0)}
    assert d.outage is None  # the server answered: not an outage
    # Pass after pass (an hour apart, everything due again), no good message is given up.
    for hour in range(1, 2 * MAX_ATTEMPTS):
        asyncio.run(d.run_once(now=NOW + timedelta(hours=hour)))
    after = rows(db)
    assert {after[e].status for e in GOOD} == {"sent"}
    assert all(after[e].status != "sent" and after[e].attempts > 1 for e in BUSY)
    received = {to for r in closing_server.handler.received for to in r.rcpt_tos}
    assert received == set(GOOD)


def test_an_outage_backs_off_without_using_attempts(db: sa.Engine) -> None:
    """Finding 7: a day of "cannot connect" fails nothing; the back-off is global (no
    connection is tried before it ends), shown in /health and counted in /metrics."""
    fill(db, GOOD)
    port = free_port()  # nobody listens there
    d = delivery(db, "127.0.0.1", port)
    metrics = Metrics(
        db, lambda: now, interval_seconds=60, lease_seconds=300, outage=lambda: d.outage
    )
    now = NOW
    stats = asyncio.run(d.run_once(now=now))
    assert (stats.sent, stats.retried, stats.failed) == (0, len(GOOD), 0)
    assert d.outage is not None and d.outage.retry_at == NOW + timedelta(minutes=1)
    # during the back-off nothing is claimed, even a message queued meanwhile
    fill(db, ["late@asso.example.org"], NOW + timedelta(seconds=10))
    stats = asyncio.run(d.run_once(now=NOW + timedelta(seconds=30)))
    assert (stats.sent, stats.retried, stats.failed) == (0, 0, 0)
    assert rows(db)["late@asso.example.org"].attempts == 0
    tries = 1
    while now < NOW + timedelta(hours=24):  # a day of outage, trying as often as allowed
        assert d.outage is not None
        now = d.outage.retry_at
        stats = asyncio.run(d.run_once(now=now))
        assert stats.failed == 0
        tries += 1
    assert d.outage is not None and d.outage.retry_at - now == timedelta(minutes=30)
    assert tries > MAX_ATTEMPTS
    assert {(r.status, r.attempts) for r in rows(db).values()} == {("pending", 0)}
    healthy, body = metrics.health()
    assert healthy  # the instance still serves
    assert body["mail"]["status"] == "unreachable"
    assert body["mail"]["since"] == NOW.isoformat()
    assert body["mail"]["failed_tries"] == tries
    exposition = metrics.exposition()[0].decode()
    assert "copilote_mail_server_up 0.0" in exposition
    seconds = re.search(r"^copilote_mail_outage_seconds (\S+)$", exposition, re.M)
    assert seconds is not None and float(seconds.group(1)) >= 24 * 3600

    server = start_server(RecordingHandler())
    try:
        d.mailer = SmtpMailer(host=server.host, port=server.port, timeout=5, connections=1)
        now = d.outage.retry_at
        stats = asyncio.run(d.run_until_idle(now=now))
        assert stats.sent == len(GOOD) + 1 and d.outage is None
        assert "mail" not in metrics.health()[1]
        assert "copilote_mail_server_up 1.0" in metrics.exposition()[0].decode()
    finally:
        server.stop()


def test_a_give_up_is_counted_failed_and_can_be_queued_again(
    db: sa.Engine, smtp_server: SmtpServer
) -> None:
    """Finding 7: the last attempt's temporary failure is a failure (not "to retry"), and
    ``requeue_failed`` (``copilote outbox retry``) queues it again with fresh attempts."""
    fill(db, ["a@asso.example.org", "b@asso.example.org"])
    with db.begin() as conn:
        conn.execute(sa.update(tables.outbox).values(attempts=MAX_ATTEMPTS - 1))
    store = SqlOutboxStore(db)
    (first, second) = store.claim(NOW)
    assert store.retry_later(first.id, first.attempts, "451 later", NOW) is True
    assert store.retry_later(second.id, second.attempts - 1, "451 later", NOW) is False

    fill(db, ["c@asso.example.org"], NOW)
    with db.begin() as conn:
        conn.execute(
            sa.update(tables.outbox)
            .where(tables.outbox.c.recipient_email == "c@asso.example.org")
            .values(attempts=MAX_ATTEMPTS - 1)
        )
    smtp_server.stop()  # a 451-like temporary failure: the server is gone mid-batch
    mailer = SmtpMailer(host=smtp_server.host, port=smtp_server.port, timeout=5)
    d = Delivery(store, Renderer(), mailer, lambda: NOW, SENDER)
    stats = asyncio.run(d.run_once(now=NOW))
    assert stats.failed == 0  # cannot connect: an outage, not the message's last attempt
    assert rows(db)["c@asso.example.org"].status == "pending"

    later = NOW + timedelta(days=2)
    assert store.requeue_failed(later, since=NOW + timedelta(days=1)) == 0
    assert store.requeue_failed(later, since=NOW) == 1
    a = rows(db)["a@asso.example.org"]
    assert (a.status, a.attempts) == ("pending", 0)


class OneLastAttempt:
    """A mailer whose server answers 451 to every message."""

    async def send_batch(self, messages: Any, on_result: Any = None) -> list[Any]:
        from notifications.mailer import DeliveryResult

        return [DeliveryResult(m.message_id, "temporary_failure", "451 later") for m in messages]


def test_the_last_attempt_counts_as_failed(db: sa.Engine) -> None:
    fill(db, ["a@asso.example.org", "b@asso.example.org"])
    with db.begin() as conn:
        conn.execute(
            sa.update(tables.outbox)
            .where(tables.outbox.c.recipient_email == "a@asso.example.org")
            .values(attempts=MAX_ATTEMPTS - 1)
        )
    d = Delivery(SqlOutboxStore(db), Renderer(), OneLastAttempt(), lambda: NOW, SENDER)
    stats = asyncio.run(d.run_once(now=NOW))
    assert (stats.sent, stats.retried, stats.failed) == (0, 1, 1)
    assert rows(db)["a@asso.example.org"].status == "failed"


def test_a_retry_time_from_a_clock_that_went_back_is_clamped(db: sa.Engine) -> None:
    """Finding 9: a retry scheduled as of 2030 (a future tick, a clock jump) is due again at
    the real date; a normal back-off is kept."""
    fill(db, ["a@asso.example.org", "b@asso.example.org"])
    store = SqlOutboxStore(db)
    future = datetime(2030, 1, 1, tzinfo=UTC)
    a, b = store.claim(NOW)
    store.retry_later(a.id, a.attempts, "451 later", future)
    store.retry_later(b.id, b.attempts, "451 later", NOW)
    assert rows(db)["a@asso.example.org"].next_attempt_at > NOW + MAX_DELAY
    claimed = store.claim(NOW)
    assert [c.email for c in claimed] == ["a@asso.example.org"]
    assert rows(db)["b@asso.example.org"].next_attempt_at == NOW + timedelta(minutes=1)
