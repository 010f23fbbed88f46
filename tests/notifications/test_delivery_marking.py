"""Delivery marks each message sent as soon as the server accepts it, before that connection
sends the next one: a process killed mid-batch re-sends at most one message per connection
(tests/test_delivery_faults.py kills one; here the order is checked at every step)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from notifications import Recipient, Renderer, SmtpMailer
from notifications.delivery import Delivery
from tests.notifications.notification_samples import sample
from tests.smtp_support import SmtpServer
from workflow.outbox import ClaimedMessage

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


class WatchingStore:
    """An outbox in memory that notes, at each mark, how many messages the server holds."""

    def __init__(self, server: SmtpServer, count: int) -> None:
        self.server = server
        self.pending = [
            ClaimedMessage(
                id=i,
                key=f"k{i}",
                project_id=None,
                email=f"partenaire{i}@asso.example.org",
                name=f"Partenaire {i}",
                lang="fr",
                kind="phase_changed",
                items=[sample("phase_changed")],
                attempts=1,
            )
            for i in range(count)
        ]
        self.marked: list[int] = []
        self.received_at_mark: list[int] = []
        self.failed: list[int] = []

    def claim(self, now: datetime, limit: int = 200) -> list[ClaimedMessage]:
        claimed, self.pending = self.pending[:limit], self.pending[limit:]
        return claimed

    def mark_sent(self, ids: list[int], now: datetime) -> None:
        if ids:
            self.received_at_mark.append(len(self.server.handler.received))
            self.marked += ids

    def mark_failed(self, message_id: int, detail: str, now: datetime) -> None:
        self.failed.append(message_id)

    def retry_later(self, message_id: int, attempts: int, detail: str, now: datetime) -> bool:
        self.failed.append(message_id)
        return False

    def release(self, message_id: int, detail: str, at: datetime) -> None:
        self.failed.append(message_id)


@pytest.mark.parametrize("connections", [1, 3])
def test_each_message_is_marked_before_its_connection_sends_the_next(
    smtp_server: SmtpServer, connections: int
) -> None:
    store = WatchingStore(smtp_server, 30)
    mailer = SmtpMailer(
        host=smtp_server.host, port=smtp_server.port, timeout=5, connections=connections
    )
    delivery = Delivery(
        store, Renderer(), mailer, lambda: NOW, Recipient("Copilote", "copilote@ars.example.org")
    )
    stats = asyncio.run(delivery.run_until_idle(limit=12, now=NOW))
    assert (stats.sent, stats.retried, stats.failed) == (30, 0, 0)
    assert sorted(store.marked) == list(range(30)) and store.failed == []
    # one transaction per message, each after the server had it and before any further
    # message of its connection: never more than one accepted but unrecorded per connection
    assert len(store.received_at_mark) == 30
    for marked_before, received in enumerate(store.received_at_mark):
        assert marked_before < received <= marked_before + connections
    if connections == 1:
        assert store.received_at_mark == list(range(1, 31))
    subjects = {str(r.message["Subject"]) for r in smtp_server.handler.received}
    assert subjects == {
        "Copilote\u202f: Coopérative d'acteurs du Lensois passe en phase «\u202fPlan d'actions\u202f»"
    }


def test_the_date_header_is_the_clock_of_the_delivery(smtp_server: SmtpServer) -> None:
    """The Date header is the instant the delivery's clock gives, not the host's time: a
    programme year simulated in a few seconds dates each message on its simulated day."""
    simulated = datetime(2031, 7, 14, 10, 30, 5, tzinfo=UTC)
    store = WatchingStore(smtp_server, 3)
    mailer = SmtpMailer(host=smtp_server.host, port=smtp_server.port, timeout=5)
    delivery = Delivery(
        store, Renderer(), mailer, lambda: simulated, Recipient("Copilote", "c@ars.example.org")
    )
    stats = asyncio.run(delivery.run_until_idle())  # no ``now``: the clock is read
    assert stats.sent == 3
    dates = [str(r.message["Date"]) for r in smtp_server.handler.received]
    assert dates == ["Mon, 14 Jul 2031 10:30:05 +0000"] * 3


def test_notifications_never_read_the_wall_clock() -> None:
    """Dates come from the caller's clock (the engine's), never from the host's time."""
    from pathlib import Path

    package = Path(__file__).resolve().parents[2] / "notifications"
    for path in package.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        for forbidden in ("datetime.now(", "date.today(", "time.time(", "datetime.utcnow("):
            assert forbidden not in text, f"{path.name} reads the wall clock ({forbidden})"
