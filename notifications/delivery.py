"""Outbox delivery: claim due messages, render them, send them in a batch, record the outcome.

The outbox itself is stored by the engine (it is written in the transaction of the event
that causes a message); this module only needs the small :class:`OutboxStore` protocol.
Temporary failures are retried later with back-off by the store; permanent ones are
recorded as failed with the server's answer, for the pilot to see.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from .calendar import build_ics, ics_attachment
from .mailer import DeliveryResult, Mailer
from .message import Attachment, OutgoingMessage, Recipient
from .render import Renderer, in_language

__all__ = ["Claimed", "Delivery", "DeliveryStats", "Outage", "OutboxStore"]

OUTAGE_MAX_DELAY = timedelta(minutes=30)  # the longest wait between two tries of a down server

_ICS_METHOD = {
    "meeting_invitation": "REQUEST",
    "meeting_update": "REQUEST",
    "meeting_cancel": "CANCEL",
}


class Claimed(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def key(self) -> str: ...
    @property
    def email(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def lang(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def items(self) -> list[dict[str, Any]]: ...
    @property
    def attempts(self) -> int: ...


class OutboxStore(Protocol):
    def claim(self, now: datetime, limit: int = 200) -> Sequence[Claimed]: ...
    def mark_sent(self, ids: list[int], now: datetime) -> None: ...
    def mark_failed(self, message_id: int, detail: str, now: datetime) -> None: ...
    def retry_later(self, message_id: int, attempts: int, detail: str, now: datetime) -> bool:
        """Back off, or give up when it was the last attempt (then True: it is failed)."""
        ...

    def release(self, message_id: int, detail: str, at: datetime) -> None:
        """Hand a claimed message back untried, due at ``at``; its attempt is not counted."""
        ...


@dataclass
class DeliveryStats:
    sent: int = 0
    retried: int = 0
    failed: int = 0

    def add(self, other: DeliveryStats) -> None:
        self.sent += other.sent
        self.retried += other.retried
        self.failed += other.failed


@dataclass(frozen=True)
class Outage:
    """The mail server could not be reached: since when, how many tries in a row, and the
    instant before which no delivery is tried again (the global back-off)."""

    since: datetime
    failures: int
    retry_at: datetime
    detail: str


def _outage_delay(failures: int) -> timedelta:
    """1, 2, 4... minutes after the 1st, 2nd, 3rd... failed try, capped at OUTAGE_MAX_DELAY."""
    return min(timedelta(minutes=2 ** min(failures - 1, 16)), OUTAGE_MAX_DELAY)


class Delivery:
    """Delivers the outbox. A message the server never received (its connection was used
    up by others, or the server could not be reached) keeps its attempts: only a message the
    server answered counts one. A server that cannot be reached is an :attr:`outage`: no
    batch is claimed until its back-off ends (1, 2, 4... minutes, at most 30)."""

    def __init__(
        self,
        store: OutboxStore,
        renderer: Renderer,
        mailer: Mailer,
        now: Callable[[], datetime],
        sender: Recipient,
        domain: str = "copilote.local",
        preferences: Callable[[str], str] | None = None,
    ) -> None:
        """``preferences``: the address of a recipient's preferences page (signed for that
        address): linked from every message and given as its ``List-Unsubscribe``."""
        self.store, self.renderer, self.mailer = store, renderer, mailer
        self.now, self.sender, self.domain = now, sender, domain
        self.preferences = preferences
        self.outage: Outage | None = None

    def message_id(self, key: str) -> str:
        """Stable per occasion: a message sent twice after a crash carries the same Message-ID."""
        return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{self.domain}>"

    def compose(self, claimed: Claimed, now: datetime) -> OutgoingMessage:
        """The email for ``claimed``, dated ``now`` (the delivery's clock, never the host's)."""
        url = self.preferences(claimed.email) if self.preferences is not None else None
        rendered = self.renderer.render(
            claimed.lang, claimed.name, claimed.items, {"preferences_url": url} if url else None
        )
        recipient = Recipient(claimed.name, claimed.email)
        attachments: tuple[Attachment, ...] = ()
        if len(claimed.items) == 1 and claimed.kind in _ICS_METHOD:
            # the calendar entry in the reader's language, as the message is
            item = in_language(claimed.items[0], claimed.lang)
            attachments = (self._invitation(item, claimed.kind, recipient, now),)
        return OutgoingMessage(
            message_id=self.message_id(claimed.key),
            sender=self.sender,
            to=(recipient,),
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            date=now,
            attachments=attachments,
            unsubscribe=url,
        )

    def _invitation(
        self, item: Mapping[str, Any], kind: str, recipient: Recipient, now: datetime
    ) -> Attachment:
        method = _ICS_METHOD[kind]
        organizer = Recipient(str(item["pilot_name"]), str(item["pilot_email"]))
        ics = build_ics(
            uid=f"meeting-{item['meeting_id']}@{self.domain}",
            sequence=int(item["sequence"]),
            method="CANCEL" if method == "CANCEL" else "REQUEST",
            summary=f"{item['meeting_label']} — {item['project_title']}",
            description=f"{item['series_label']} ({item['programme']})",
            location=str(item["location"] or ""),
            starts_at=item["starts_at"],
            ends_at=item["ends_at"],
            organizer=organizer,
            attendees=[recipient],
            stamp=now,
        )
        return ics_attachment(ics, method)

    async def run_once(self, limit: int = 200, now: datetime | None = None) -> DeliveryStats:
        """Deliver one batch of due messages; returns what happened to them."""
        now = now or self.now()
        stats = DeliveryStats()
        outage = self.outage
        # The server is down: wait for the back-off to end (unless it ends further ahead
        # than any back-off can: the clock went back, try now).
        if outage is not None and timedelta(0) < outage.retry_at - now <= OUTAGE_MAX_DELAY:
            return stats
        claimed = list(self.store.claim(now, limit))
        if not claimed:
            return stats
        ready: list[tuple[Claimed, OutgoingMessage]] = []
        for message in claimed:
            try:
                ready.append((message, self.compose(message, now)))
            except Exception as exc:  # a template or data error must not block the others
                self.store.mark_failed(message.id, f"could not compose the message: {exc}", now)
                stats.failed += 1
        recorded: set[int] = set()

        def record_sent(index: int, result: DeliveryResult) -> None:
            # Marked sent the moment the server accepts it: a process killed mid-batch must
            # not leave the messages already delivered to be sent again after its lease.
            if result.status == "sent":
                message_id = ready[index][0].id
                self.store.mark_sent([message_id], now)
                recorded.add(message_id)

        results = await self.mailer.send_batch([m for _, m in ready], on_result=record_sent)
        sent: list[int] = []
        down = next((r for r in results if r.outage), None)
        if down is not None and not any(r.status == "sent" for r in results):
            self._server_down(down.detail, now)
        elif ready:
            self.outage = None
        retry_at = self.outage.retry_at if self.outage is not None else now + _outage_delay(1)
        for (message, _), result in zip(ready, results, strict=True):
            if result.status == "sent":
                sent.append(message.id)
            elif not result.attempted:  # never handed to the server: tried again, as it was
                self.store.release(message.id, result.detail, retry_at)
                stats.retried += 1
            elif result.status == "temporary_failure":
                if self.store.retry_later(message.id, message.attempts, result.detail, now):
                    stats.failed += 1  # that was its last attempt
                else:
                    stats.retried += 1
            else:
                self.store.mark_failed(message.id, result.detail, now)
                stats.failed += 1
        self.store.mark_sent([i for i in sent if i not in recorded], now)
        stats.sent += len(sent)
        return stats

    def _server_down(self, detail: str, now: datetime) -> None:
        previous = self.outage
        failures = previous.failures + 1 if previous is not None else 1
        since = previous.since if previous is not None else now
        self.outage = Outage(since, failures, now + _outage_delay(failures), detail)

    async def run_until_idle(
        self, limit: int = 200, max_batches: int = 1000, now: datetime | None = None
    ) -> DeliveryStats:
        """Deliver batches until none is due (or ``max_batches``), within one mailer session
        when the mailer has one (SMTP: connections kept open from one batch to the next)."""
        total = DeliveryStats()
        session = getattr(self.mailer, "session", None)
        async with session() if session is not None else nullcontext():
            for _ in range(max_batches):
                stats = await self.run_once(limit, now)
                total.add(stats)
                if stats.sent + stats.retried + stats.failed == 0:
                    break
        return total
