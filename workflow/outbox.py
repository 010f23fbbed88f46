"""The outbox: messages written in the transaction of their cause, delivered after commit.

Each row has an idempotency ``key`` for its occasion (unique): queueing the same occasion
twice is a no-op, so a sweep that runs twice never produces two messages. Delivery claims
rows with a lease (``claimed_until``); a claim left by a process that died is taken over
when its lease expires. On PostgreSQL claims use ``FOR UPDATE SKIP LOCKED`` so several
instances never claim the same row; on SQLite the ``BEGIN IMMEDIATE`` transaction does.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from workflow import tables
from workflow.database import Conn, raw, read, write
from workflow.preferences import Preference, load_many
from workflow.window import ASKED_KINDS, EXEMPT_KINDS, SendingWindow

__all__ = [
    "BUDGETED_KINDS",
    "ClaimedMessage",
    "NoticeBudget",
    "Outgoing",
    "SqlOutboxStore",
    "decode",
    "encode",
    "personal_key",
    "queue",
    "queue_message",
    "queue_within_budget",
]

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
MAX_DELAY = timedelta(hours=6)  # the longest back-off between two attempts of one message
MAX_HOLD = timedelta(hours=24)  # the longest notice-budget window (NoticeBudget.window)

# Claiming and marking sent run for every message delivered (marking once per message, as
# soon as the server accepts it), so they are written for the driver (workflow.database.Raw).
# Through SQLAlchemy Core marking cost ~1 ms a message, the driver needs ~90 us; claiming
# ~60 us a message, ~20 us here. The literal 'pending' lets SQLite use ix_outbox_ready.
_RECLAIM_SQL = (
    "UPDATE outbox SET status = 'pending', claimed_by = NULL, claimed_until = NULL"
    " WHERE status = 'sending' AND claimed_until < ?"
)
# A retry time or a lease further ahead than any back-off or lease can set was written by a
# clock that has since gone back (or a run "as of" a future instant): clamped to now, so
# the message is not held back until that far date.
_CLAMP_RETRY_SQL = (
    "UPDATE outbox SET next_attempt_at = ? WHERE status = 'pending' AND next_attempt_at > ?"
    " AND substr(\"key\", 1, 5) <> 'held:'"
)
# A message gathering held-back notices waits up to the longest budget window (MAX_HOLD).
_CLAMP_HELD_SQL = (
    "UPDATE outbox SET next_attempt_at = ? WHERE status = 'pending' AND next_attempt_at > ?"
    " AND substr(\"key\", 1, 5) = 'held:'"
)
_CLAMP_LEASE_SQL = (
    "UPDATE outbox SET claimed_until = ? WHERE status = 'sending' AND claimed_until > ?"
)
_CLAIM_SQL = (
    "SELECT id, key, project_id, recipient_email, recipient_name, lang, kind, items, attempts"
    " FROM outbox WHERE status = 'pending' AND next_attempt_at <= ?"
    " ORDER BY next_attempt_at, id LIMIT ?"
)
# While the sending window is shut, only notices of a meeting about to be held leave, and what
# a person has just asked for themselves.
_CLAIM_EXEMPT_SQL = (
    "SELECT id, key, project_id, recipient_email, recipient_name, lang, kind, items, attempts"
    " FROM outbox WHERE status = 'pending' AND next_attempt_at <= ?"
    " AND (kind IN (" + ", ".join(f"'{kind}'" for kind in ASKED_KINDS) + ")"
    " OR (kind IN (" + ", ".join(f"'{kind}'" for kind in EXEMPT_KINDS) + ")"
    " AND subject_id IN (SELECT id FROM meeting WHERE starts_at < ?)))"
    " ORDER BY next_attempt_at, id LIMIT ?"
)
_TAKE_SQL = (
    "UPDATE outbox SET status = 'sending', claimed_by = ?, claimed_until = ?,"
    " attempts = attempts + 1 WHERE id = ?"
)
_MARK_SENT_SQL = (
    "UPDATE outbox SET status = 'sent', sent_at = ?, claimed_until = NULL, last_error = NULL"
    " WHERE id = ? AND claimed_by = ?"
)
# A failed row keeps the instant it failed in ``next_attempt_at`` (it has no next attempt):
# ``outbox retry --failed-since`` selects by it.
_MARK_FAILED = (
    sa.update(tables.outbox)
    .where(tables.outbox.c.id == sa.bindparam("b_id"))
    .values(
        status="failed",
        last_error=sa.bindparam("b_detail"),
        next_attempt_at=sa.bindparam("b_at"),
        claimed_until=None,
    )
)
# Handed back untried: the attempt counted by the claim is given back.
_RELEASE = (
    sa.update(tables.outbox)
    .where(tables.outbox.c.id == sa.bindparam("b_id"), tables.outbox.c.status == "sending")
    .values(
        status="pending",
        attempts=sa.case((tables.outbox.c.attempts > 0, tables.outbox.c.attempts - 1), else_=0),
        next_attempt_at=sa.bindparam("b_next"),
        last_error=sa.bindparam("b_detail"),
        claimed_by=None,
        claimed_until=None,
    )
)
_RETRY_LATER = (
    sa.update(tables.outbox)
    .where(tables.outbox.c.id == sa.bindparam("b_id"))
    .values(
        status="pending",
        next_attempt_at=sa.bindparam("b_next"),
        last_error=sa.bindparam("b_detail"),
        claimed_by=None,
        claimed_until=None,
    )
)


def encode(value: Any) -> Any:
    """Items to JSON: dates and datetimes are tagged so they come back as such."""
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    return value


def decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$datetime"}:
            return datetime.fromisoformat(value["$datetime"])
        if set(value) == {"$date"}:
            return date.fromisoformat(value["$date"])
        return {k: decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message to queue: to one person, about one occasion (``key``, see :func:`personal_key`).

    ``subject_id``: the meeting a meeting notice is about (how a meeting's unsent invitations
    are found again). Messages that share one ``items`` list object share its JSON: it is
    encoded once."""

    key: str
    project_id: int | None
    email: str
    name: str
    lang: str
    kind: str
    items: list[dict[str, Any]]
    subject_id: int | None = None
    digest: bool = False  # a weekly digest: never held for the digest itself


def personal_key(occasion: str, email: str) -> str:
    """The outbox key of one person's message about an occasion (an occasion key)."""
    return f"{occasion}:{email.lower()}"


def _short(key: str) -> str:
    # The column holds 300 characters: a longer key keeps its start and a digest of the whole.
    if len(key) > 300:
        key = key[:200] + ":" + hashlib.sha256(key.encode()).hexdigest()[:32]
    return key


def _tagged(value: Any) -> Any:
    """JSON hook writing dates and instants as :func:`encode` tags them:
    ``_ITEMS.encode(items) == json.dumps(encode(items))``, in one pass."""
    if isinstance(value, date):  # datetime included
        return encode(value)
    raise TypeError(f"{type(value).__name__} cannot be written in an outbox item")


_ITEMS = json.JSONEncoder(default=_tagged)

# ``ON CONFLICT DO NOTHING``: an occasion already queued for that person stays as it is.
_QUEUE_SQL = (
    'INSERT INTO outbox ("key", project_id, recipient_name, recipient_email, lang, kind,'
    " items, subject_id, status, attempts, next_attempt_at, created_at)"
    ' VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?) ON CONFLICT ("key") DO NOTHING'
)
HOLD_MEETINGS_AFTER = timedelta(days=8)
"""A notice of a meeting sooner than this is never held for the digest (the next digest may
come up to a week later, and the window a day or two after that)."""


def _held(message: Outgoing, preference: Preference | None, now: datetime) -> bool:
    """Whether ``message`` waits for its person's weekly digest (see workflow.preferences)."""
    if (
        preference is None
        or message.digest
        or not preference.holds(item["kind"] for item in message.items)
    ):
        return False
    starts = [item.get("starts_at") for item in message.items]
    return all(not isinstance(s, datetime) or s - now >= HOLD_MEETINGS_AFTER for s in starts)


def queue(conn: Conn, messages: Iterable[Outgoing], now: datetime, *, count: bool = False) -> int:
    """Queue messages unless their occasion was queued already: the one outbox writer.

    Runs on the driver (:func:`workflow.database.raw`), in ``conn``'s transaction, as one
    ``executemany`` (the advance's hot path). With ``count``, one statement a message and
    the number actually queued (else 0): ``rowcount`` cannot tell, psycopg reports -1 for
    ``INSERT ... ON CONFLICT``."""
    batch = list(messages)  # keeps each items list alive: its id() names its JSON below
    if not batch:
        return 0
    db = raw(conn)
    at = db.instant(now)
    encoded: dict[int, Any] = {}

    def items_of(items: list[dict[str, Any]]) -> Any:
        text = encoded.get(id(items))
        if text is None:
            text = encoded[id(items)] = db.json(items, _ITEMS)
        return text

    chosen = load_many(db, [m.email for m in batch])  # who chose a language or the digest
    rows = []
    for m in batch:
        preference = chosen.get(m.email.lower()) if chosen else None
        rows.append(
            (
                _short(m.key),
                m.project_id,
                m.name,
                m.email,
                preference.lang or m.lang if preference is not None else m.lang,
                m.kind,
                items_of(m.items),
                m.subject_id,
                "held" if _held(m, preference, now) else "pending",
                at,
                at,
            )
        )
    if not count:
        db.executemany(_QUEUE_SQL, rows)
        return 0
    returning = _QUEUE_SQL + " RETURNING id"
    return sum(db.execute(returning, row).fetchone() is not None for row in rows)


BUDGETED_KINDS = frozenset(
    {"phase_changed", "project_suspended", "project_resumed", "partner_joined", "partner_left"}
)
"""The notices a person's action causes that a loop of actions could repeat (suspend and
resume, a partner added and removed, phases advanced by hand): bounded by :class:`NoticeBudget`.
Not bounded: an abandon (it happens once and ends the project), the engine's automatic steps,
meeting notices (each carries the calendar update that keeps attendees' calendars right, and
an invitation not yet sent is already replaced rather than followed by an update: see
:meth:`workflow.planner.Planner.on_meeting`) and every reminder of the sweep."""

# The key of a message that gathers the notices held back (spelt out in the SQL statements).
HELD_PREFIX = "held:"


@dataclass(frozen=True, slots=True)
class NoticeBudget:
    """At most ``limit`` notices of one kind of :data:`BUDGETED_KINDS` (so many suspensions,
    so many resumptions...) to one person about one project within ``window``; the ones
    beyond are not dropped: each is kept in the outbox as ``merged`` (shown on the project's
    page, counted in ``/metrics``) and its content goes into one message to that person,
    sent when ``window`` has passed since the first one held back, that lists them all.
    Per kind, so that a loop of one action does not hold back the notice of another (a
    phase change after a pilot registered twenty partners leaves at once)."""

    limit: int
    window: timedelta


# How many notices of this kind went (or are going) to this person about this project within
# the window; the message gathering held ones does not count (it is the budget's overflow).
_SPENT_SQL = (
    "SELECT count(*) FROM outbox WHERE project_id = ? AND lower(recipient_email) = ?"
    " AND kind = ? AND status <> 'merged' AND created_at > ?"
    " AND substr(\"key\", 1, 5) <> 'held:'"
)
# The message gathering this person's held notices about this project, if it has not left yet.
_HELD_SQL = (
    'SELECT id, "key", items, next_attempt_at FROM outbox'
    " WHERE project_id = ? AND lower(recipient_email) = ?"
    " AND status = 'pending' AND claimed_by IS NULL AND substr(\"key\", 1, 5) = 'held:'"
    " ORDER BY id LIMIT 1"
)
_GATHER_SQL = "UPDATE outbox SET items = ? WHERE id = ? AND status = 'pending'"
_DUE_SQL = 'UPDATE outbox SET next_attempt_at = ? WHERE "key" = ?'
_MERGED_SQL = (
    'INSERT INTO outbox ("key", project_id, recipient_name, recipient_email, lang, kind,'
    " items, subject_id, status, attempts, next_attempt_at, created_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'merged', 0, ?, ?) ON CONFLICT (\"key\") DO NOTHING"
    " RETURNING id"
)


def queue_within_budget(
    conn: Conn, messages: Iterable[Outgoing], now: datetime, budget: NoticeBudget
) -> int:
    """:func:`queue`, holding back what goes beyond ``budget`` (see :class:`NoticeBudget`);
    how many were held back. Messages of other kinds, or about no project, are queued as usual.

    A held-back notice is written as a ``merged`` row under its own key (so queueing the same
    occasion again is still a no-op), its ``next_attempt_at`` the moment the message it went
    into leaves; its items are appended to that message, which the first notice held back
    creates, due at ``now + window``."""
    db = raw(conn)
    since = db.instant(now - budget.window)
    at = db.instant(now)
    plain: list[Outgoing] = []
    held = 0
    for m in messages:
        if m.project_id is None or m.kind not in BUDGETED_KINDS:
            plain.append(m)
            continue
        email = m.email.lower()
        spent = db.execute(_SPENT_SQL, (m.project_id, email, m.kind, since)).fetchone()[0]
        if spent < budget.limit:
            queue(conn, [m], now)
            continue
        # Locked on PostgreSQL: a claim skips it (SKIP LOCKED) while this adds to it, and once
        # a claim holds it, it is no longer pending here and another one is started.
        lock = " FOR UPDATE" if db.dialect.name == "postgresql" else ""
        gathering = db.execute(_HELD_SQL + lock, (m.project_id, email)).fetchone()
        if gathering is None:
            due = now + budget.window
            held_key = _short(f"{HELD_PREFIX}{m.project_id}:{email}:{due.isoformat()}")
            held_items: list[dict[str, Any]] = []
        else:
            held_key, held_items = gathering[1], decode(db.from_json(gathering[2]))
            due = db.to_instant(gathering[3]) or now
        row = (
            _short(m.key),
            m.project_id,
            m.name,
            m.email,
            m.lang,
            m.kind,
            db.json(m.items, _ITEMS),
            m.subject_id,
            db.instant(due),
            at,
        )
        if db.execute(_MERGED_SQL, row).fetchone() is None:
            continue  # this occasion was queued already: nothing to add
        items = [*held_items, *m.items]
        if gathering is None:
            gather = Outgoing(held_key, m.project_id, m.email, m.name, m.lang, m.kind, items)
            queue(conn, [gather], now)
            db.execute(_DUE_SQL, (db.instant(due), held_key))
        else:
            db.execute(_GATHER_SQL, (db.json(items, _ITEMS), gathering[0]))
        held += 1
        logger.info(
            "notice budget: %s about project %s to %s held back (over %d within %s),"
            " sent with the others at %s",
            m.kind,
            m.project_id,
            m.email,
            budget.limit,
            budget.window,
            due.isoformat(),
        )
    queue(conn, plain, now)
    return held


def queue_message(
    conn: Conn,
    *,
    key: str,
    project_id: int | None,
    email: str,
    name: str,
    lang: str,
    kind: str,
    items: list[dict[str, Any]],
    now: datetime,
) -> bool:
    """Queue one message unless its occasion was queued already; True when queued."""
    message = Outgoing(key, project_id, email, name, lang, kind, items)
    return queue(conn, [message], now, count=True) == 1


@dataclass(frozen=True)
class ClaimedMessage:
    id: int
    key: str
    project_id: int | None
    email: str
    name: str
    lang: str
    kind: str
    items: list[dict[str, Any]]
    attempts: int


class SqlOutboxStore:
    """What delivery needs from the outbox (the ``OutboxStore`` protocol of notifications).

    With a sending ``window``, messages are claimed only while it is open (working days,
    from its hour), except notices of a meeting held within two working days."""

    def __init__(
        self,
        db: sa.Engine,
        worker: str = "local",
        lease: timedelta = timedelta(minutes=5),
        window: SendingWindow | None = None,
    ) -> None:
        self.db, self.worker, self.lease, self.window = db, worker, lease, window

    def claim(self, now: datetime, limit: int = 200) -> list[ClaimedMessage]:
        with write(self.db) as db:
            at = db.instant(now)
            latest = db.instant(now + MAX_DELAY)
            db.execute(_CLAMP_RETRY_SQL, (at, latest))
            db.execute(_CLAMP_HELD_SQL, (at, db.instant(now + MAX_HOLD)))
            db.execute(
                _CLAMP_LEASE_SQL, (db.instant(now + self.lease), db.instant(now + self.lease))
            )
            # Claims whose lease ran out belong to a process that died: take them back.
            db.execute(_RECLAIM_SQL, (at,))
            lock = " FOR UPDATE SKIP LOCKED" if db.dialect.name == "postgresql" else ""
            window = self.window
            if window is None or window.is_open(now):
                rows = db.execute(_CLAIM_SQL + lock, (at, limit)).fetchall()
            else:
                close = db.instant(window.exempt_before(now))
                rows = db.execute(_CLAIM_EXEMPT_SQL + lock, (at, close, limit)).fetchall()
            if not rows:
                return []
            until = db.instant(now + self.lease)
            db.executemany(_TAKE_SQL, [(self.worker, until, row[0]) for row in rows])
            return [
                ClaimedMessage(
                    id_,
                    key,
                    project_id,
                    email,
                    name,
                    lang,
                    kind,
                    decode(db.from_json(items)),
                    attempts + 1,
                )
                for id_, key, project_id, email, name, lang, kind, items, attempts in rows
            ]

    def mark_sent(self, ids: list[int], now: datetime) -> None:
        """Record ``ids`` as sent, in one transaction (only the ones this worker claimed)."""
        if ids:
            with write(self.db) as db:
                at = db.instant(now)
                if len(ids) == 1:  # the usual case (marked as each is accepted): no pipeline
                    db.execute(_MARK_SENT_SQL, (at, ids[0], self.worker))
                else:
                    db.executemany(_MARK_SENT_SQL, [(at, i, self.worker) for i in ids])

    def mark_failed(self, message_id: int, detail: str, now: datetime) -> None:
        with self.db.begin() as conn:
            conn.execute(_MARK_FAILED, {"b_id": message_id, "b_detail": detail, "b_at": now})

    def retry_later(self, message_id: int, attempts: int, detail: str, now: datetime) -> bool:
        """Exponential back-off: 1, 2, 4... minutes, capped at 6 hours (MAX_DELAY); failed
        after MAX_ATTEMPTS. True when it gave up (the message is failed, not to retry)."""
        if attempts >= MAX_ATTEMPTS:
            self.mark_failed(message_id, f"gave up after {attempts} attempts: {detail}", now)
            return True
        delay = min(timedelta(minutes=2 ** max(attempts - 1, 0)), MAX_DELAY)
        with self.db.begin() as conn:
            conn.execute(
                _RETRY_LATER, {"b_id": message_id, "b_next": now + delay, "b_detail": detail}
            )
        return False

    def release(self, message_id: int, detail: str, at: datetime) -> None:
        """Hand a claimed message back untried (its attempt is not counted), due at ``at``."""
        with self.db.begin() as conn:
            conn.execute(_RELEASE, {"b_id": message_id, "b_next": at, "b_detail": detail})

    def requeue_failed(self, now: datetime, since: datetime | None = None) -> int:
        """Failed messages (those that failed at or after ``since``) pending again, due at
        ``now`` with their attempts reset; how many."""
        t = tables.outbox
        query = (
            sa.update(t)
            .where(t.c.status == "failed")
            .values(status="pending", attempts=0, next_attempt_at=now, claimed_by=None)
        )
        if since is not None:
            query = query.where(t.c.next_attempt_at >= since)
        with self.db.begin() as conn:
            return int(conn.execute(query).rowcount)

    def backlog(self, now: datetime) -> tuple[int, datetime | None]:
        """Messages not yet sent, and since when the oldest has been waiting to leave (a
        message held while the sending window was shut waits from its opening)."""
        with read(self.db) as conn:
            count, oldest = conn.execute(
                sa.select(sa.func.count(), sa.func.min(tables.outbox.c.created_at)).where(
                    tables.outbox.c.status.in_(["pending", "sending"])
                )
            ).one()
        if oldest is not None and self.window is not None:
            oldest = max(oldest, min(self.window.last_opening(now), now))
        return int(count), oldest
