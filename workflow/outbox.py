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

from workflow.database import read
from workflow.models import OutboxMessage

__all__ = ["ClaimedMessage", "SqlOutboxStore", "decode", "encode", "queue_message"]

O = OutboxMessage.__table__  # type: ignore[attr-defined]
MAX_ATTEMPTS = 12


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
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt = pg_insert(O).values(**values).on_conflict_do_nothing(index_elements=["key"])
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = sqlite_insert(O).values(**values).on_conflict_do_nothing(index_elements=["key"])
    # Not ``rowcount``: with psycopg it is -1 for INSERT ... ON CONFLICT, queued or not.
    return conn.execute(stmt.returning(O.c.id)).first() is not None


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
        with self.db.begin() as conn:
            # Claims whose lease ran out belong to a process that died: take them back.
            conn.execute(
                sa.update(O)
                .where(O.c.status == "sending", O.c.claimed_until < now)
                .values(status="pending", claimed_by=None, claimed_until=None)
            )
            query = (
                sa.select(O)
                .where(O.c.status == "pending", O.c.next_attempt_at <= now)
                .order_by(O.c.next_attempt_at, O.c.id)
                .limit(limit)
            )
            if conn.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows = conn.execute(query).all()
            if not rows:
                return []
            conn.execute(
                sa.update(O)
                .where(O.c.id.in_([r.id for r in rows]))
                .values(
                    status="sending",
                    claimed_by=self.worker,
                    claimed_until=now + self.lease,
                    attempts=O.c.attempts + 1,
                )
            )
        return [
            ClaimedMessage(
                r.id,
                r.key,
                r.project_id,
                r.recipient_email,
                r.recipient_name,
                r.lang,
                r.kind,
                decode(r.items),
                r.attempts + 1,
            )
            for r in rows
        ]

    def mark_sent(self, ids: list[int], now: datetime) -> None:
        if ids:
            with self.db.begin() as conn:
                conn.execute(
                    sa.update(O)
                    .where(O.c.id.in_(ids), O.c.claimed_by == self.worker)
                    .values(status="sent", sent_at=now, claimed_until=None, last_error=None)
                )

    def mark_failed(self, message_id: int, detail: str, now: datetime) -> None:
        with self.db.begin() as conn:
            conn.execute(
                sa.update(O)
                .where(O.c.id == message_id)
                .values(status="failed", last_error=detail, claimed_until=None)
            )

    def retry_later(self, message_id: int, attempts: int, detail: str, now: datetime) -> None:
        """Exponential back-off: 1, 2, 4... minutes, capped at 6 hours; failed after MAX_ATTEMPTS."""
        if attempts >= MAX_ATTEMPTS:
            self.mark_failed(message_id, f"gave up after {attempts} attempts: {detail}", now)
            return
        delay = timedelta(minutes=min(2 ** (attempts - 1), 360))
        with self.db.begin() as conn:
            conn.execute(
                sa.update(O)
                .where(O.c.id == message_id)
                .values(
                    status="pending",
                    next_attempt_at=now + delay,
                    last_error=detail,
                    claimed_by=None,
                    claimed_until=None,
                )
            )

    def backlog(self, now: datetime) -> tuple[int, datetime | None]:
        with read(self.db) as conn:
            count, oldest = conn.execute(
                sa.select(sa.func.count(), sa.func.min(O.c.created_at)).where(
                    O.c.status.in_(["pending", "sending"])
                )
            ).one()
        return int(count), oldest
