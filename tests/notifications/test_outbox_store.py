"""The outbox store as delivery uses it (SQLite and PostgreSQL): claim, mark sent (on the
driver connection, written as the SQLAlchemy column types read it), fail, retry later."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from workflow import tables
from workflow.database import read
from workflow.outbox import SqlOutboxStore, queue_message

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 3, 29, 3, 30, 0, 123456, tzinfo=PARIS)  # just after the DST change


def fill(db: sa.Engine, count: int) -> None:
    with db.begin() as conn:
        for i in range(count):
            queue_message(
                conn,
                key=f"k{i}",
                project_id=None,
                email=f"p{i}@asso.example.org",
                name=f"Partenaire {i}",
                lang="fr",
                kind="milestone_reminder",
                items=[{"kind": "milestone_reminder", "due": date(2026, 4, 1), "at": NOW}],
                now=NOW - timedelta(minutes=1),
            )


def rows(db: sa.Engine) -> dict[str, sa.Row[tuple[object, ...]]]:
    with read(db) as conn:
        return {r.key: r for r in conn.execute(sa.select(tables.outbox)).all()}


def test_claim_gives_what_delivery_needs(db: sa.Engine) -> None:
    fill(db, 3)
    claimed = SqlOutboxStore(db, worker="w1").claim(NOW, limit=2)
    assert [c.key for c in claimed] == ["k0", "k1"]
    first = claimed[0]
    assert (first.email, first.name, first.lang, first.kind, first.attempts) == (
        "p0@asso.example.org",
        "Partenaire 0",
        "fr",
        "milestone_reminder",
        1,
    )
    assert first.items == [{"kind": "milestone_reminder", "due": date(2026, 4, 1), "at": NOW}]
    stored = rows(db)
    assert [stored[k].status for k in ("k0", "k1", "k2")] == ["sending", "sending", "pending"]
    assert stored["k0"].claimed_by == "w1"


def test_mark_sent_one_and_many_as_the_column_types_read_them(db: sa.Engine) -> None:
    fill(db, 4)
    store = SqlOutboxStore(db, worker="w1")
    ids = [c.id for c in store.claim(NOW)]
    store.mark_sent([ids[0]], NOW)
    store.mark_sent(ids[1:3], NOW + timedelta(seconds=1))
    store.mark_sent([], NOW)
    stored = rows(db)
    assert [stored[f"k{i}"].status for i in range(4)] == ["sent", "sent", "sent", "sending"]
    assert stored["k0"].sent_at == NOW and stored["k0"].sent_at.tzinfo is not None
    assert stored["k2"].sent_at == NOW + timedelta(seconds=1)
    assert stored["k0"].claimed_until is None and stored["k3"].claimed_until is not None
    with read(db) as conn:  # SQL comparisons see the same instants
        before = conn.execute(
            sa.select(sa.func.count()).where(
                tables.outbox.c.sent_at < NOW + timedelta(microseconds=1)
            )
        ).scalar_one()
    assert before == 1


def test_mark_sent_leaves_another_workers_claims_alone(db: sa.Engine) -> None:
    fill(db, 1)
    (claimed,) = SqlOutboxStore(db, worker="w1").claim(NOW)
    SqlOutboxStore(db, worker="w2").mark_sent([claimed.id], NOW)
    assert rows(db)["k0"].status == "sending"


def test_mark_sent_refuses_a_naive_instant(db: sa.Engine) -> None:
    fill(db, 1)
    store = SqlOutboxStore(db, worker="w1")
    (claimed,) = store.claim(NOW)
    with pytest.raises(ValueError, match="naive"):
        store.mark_sent([claimed.id], datetime(2026, 3, 29, 3, 30))
    assert rows(db)["k0"].status == "sending"


def test_failed_and_retried(db: sa.Engine) -> None:
    fill(db, 2)
    store = SqlOutboxStore(db, worker="w1")
    first, second = store.claim(NOW)
    store.mark_failed(first.id, "550 No such user", NOW)
    store.retry_later(second.id, second.attempts, "421 busy", NOW)
    stored = rows(db)
    assert (stored["k0"].status, stored["k0"].last_error) == ("failed", "550 No such user")
    assert (stored["k1"].status, stored["k1"].last_error) == ("pending", "421 busy")
    assert stored["k1"].next_attempt_at == (NOW + timedelta(minutes=1)).astimezone(UTC)
    assert store.claim(NOW) == []
    assert [c.key for c in store.claim(NOW + timedelta(minutes=1))] == ["k1"]


def test_one_writer_on_a_driver_or_a_sqlalchemy_connection(db: sa.Engine) -> None:
    import hashlib

    from workflow.database import write
    from workflow.outbox import Outgoing, personal_key, queue

    shared = [{"kind": "meeting_invitation", "starts_at": NOW, "on": date(2026, 4, 1)}]
    long_key = personal_key("meeting:7:scheduled:0", "X" * 290 + "@Asso.example.org")
    shortened = long_key[:200] + ":" + hashlib.sha256(long_key.encode()).hexdigest()[:32]
    first = [
        Outgoing(personal_key("meeting:7:scheduled:0", "A@Asso.example.org"), None,
                 "A@Asso.example.org", "A", "fr", "meeting_invitation", shared, 7),
        Outgoing(long_key, None, "b@asso.example.org", "B", "en", "meeting_invitation", shared, 7),
    ]  # fmt: skip
    with write(db) as w:  # the advance's path: one executemany, nothing counted
        assert queue(w, first, NOW) == 0
    again = Outgoing(long_key, None, "c@asso.example.org", "C", "fr", "meeting_update", [], None)
    other = Outgoing("transition:1:2:c@asso.example.org", None, "c@asso.example.org", "C", "fr",
                     "phase_changed", [{"kind": "phase_changed", "at": NOW}])  # fmt: skip
    with db.begin() as conn:  # the sweep's: counted, an occasion queued already is kept
        assert queue(conn, [again, other], NOW, count=True) == 1
        assert queue(conn, [], NOW, count=True) == 0
    stored = rows(db)
    assert sorted(stored) == sorted(
        ["meeting:7:scheduled:0:a@asso.example.org", shortened, "transition:1:2:c@asso.example.org"]
    )
    assert len(shortened) == 233
    kept = stored[shortened]
    assert (kept.recipient_email, kept.kind, kept.subject_id, kept.lang) == (
        "b@asso.example.org",
        "meeting_invitation",
        7,
        "en",
    )
    claimed = {c.key: c for c in SqlOutboxStore(db).claim(NOW)}
    assert claimed[shortened].items == shared == claimed[first[0].key].items
    assert claimed["transition:1:2:c@asso.example.org"].items == [
        {"kind": "phase_changed", "at": NOW}
    ]
    assert stored["transition:1:2:c@asso.example.org"].subject_id is None
