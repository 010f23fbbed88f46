"""The outbox: messages written in the transaction of their cause, delivered after commit.

Each row has an idempotency ``key`` for its occasion (unique): queueing the same occasion
twice is a no-op, so a sweep that runs twice never produces two messages. Delivery claims
rows with a lease (``claimed_until``); a claim left by a process that died is taken over
when its lease expires. On PostgreSQL claims use ``FOR UPDATE SKIP LOCKED`` so several
instances never claim the same row; on SQLite the ``BEGIN IMMEDIATE`` transaction does.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from workflow import tables
from workflow.database import read, write

__all__ = ["ClaimedMessage", "SqlOutboxStore", "decode", "encode", "queue_message"]

MAX_ATTEMPTS = 12

# Claiming and marking sent run for every message delivered (marking once per message, as
# soon as the server accepts it), so they are written for the driver (workflow.database.Raw).
# Through SQLAlchemy Core marking cost ~1 ms a message, the driver needs ~90 us; claiming
# ~60 us a message, ~20 us here. The literal 'pending' lets SQLite use ix_outbox_ready.
_RECLAIM_SQL = (
    "UPDATE outbox SET status = 'pending', claimed_by = NULL, claimed_until = NULL"
    " WHERE status = 'sending' AND claimed_until < ?"
)
_CLAIM_SQL = (
    "SELECT id, key, project_id, recipient_email, recipient_name, lang, kind, items, attempts"
    " FROM outbox WHERE status = 'pending' AND next_attempt_at <= ?"
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
_MARK_FAILED = (
    sa.update(tables.outbox)
    .where(tables.outbox.c.id == sa.bindparam("b_id"))
    .values(status="failed", last_error=sa.bindparam("b_detail"), claimed_until=None)
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


def queue_message(
    conn: sa.Connection,
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
    if len(key) > 300:
        key = key[:200] + ":" + hashlib.sha256(key.encode()).hexdigest()[:32]
    values = dict(
        key=key,
        project_id=project_id,
        recipient_email=email,
        recipient_name=name,
        lang=lang,
        kind=kind,
        items=encode(items),
        status="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    stmt: sa.Insert
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt = (
            pg_insert(tables.outbox).values(**values).on_conflict_do_nothing(index_elements=["key"])
        )
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = (
            sqlite_insert(tables.outbox)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["key"])
        )
    # Not ``rowcount``: with psycopg it is -1 for INSERT ... ON CONFLICT, queued or not.
    return conn.execute(stmt.returning(tables.outbox.c.id)).first() is not None


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
    """What delivery needs from the outbox (the ``OutboxStore`` protocol of notifications)."""

    def __init__(
        self, db: sa.Engine, worker: str = "local", lease: timedelta = timedelta(minutes=5)
    ) -> None:
        self.db, self.worker, self.lease = db, worker, lease

    def claim(self, now: datetime, limit: int = 200) -> list[ClaimedMessage]:
        with write(self.db) as db:
            at = db.instant(now)
            # Claims whose lease ran out belong to a process that died: take them back.
            db.execute(_RECLAIM_SQL, (at,))
            lock = " FOR UPDATE SKIP LOCKED" if db.dialect.name == "postgresql" else ""
            rows = db.execute(_CLAIM_SQL + lock, (at, limit)).fetchall()
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
            conn.execute(_MARK_FAILED, {"b_id": message_id, "b_detail": detail})

    def retry_later(self, message_id: int, attempts: int, detail: str, now: datetime) -> None:
        """Exponential back-off: 1, 2, 4... minutes, capped at 6 hours; failed after MAX_ATTEMPTS."""
        if attempts >= MAX_ATTEMPTS:
            self.mark_failed(message_id, f"gave up after {attempts} attempts: {detail}", now)
            return
        delay = timedelta(minutes=min(2 ** (attempts - 1), 360))
        with self.db.begin() as conn:
            conn.execute(
                _RETRY_LATER, {"b_id": message_id, "b_next": now + delay, "b_detail": detail}
            )

    def backlog(self, now: datetime) -> tuple[int, datetime | None]:
        with read(self.db) as conn:
            count, oldest = conn.execute(
                sa.select(sa.func.count(), sa.func.min(tables.outbox.c.created_at)).where(
                    tables.outbox.c.status.in_(["pending", "sending"])
                )
            ).one()
        return int(count), oldest
