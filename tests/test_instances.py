"""Several service instances on one PostgreSQL database: real ``copilote serve`` processes
(scheduler on, sweeping every second on the wall clock), one loopback SMTP server.

- three instances, 5,000 reminders due: exactly 5,000 messages arrive, one per person, no
  Message-ID twice; every reminder fired once; the instances' own metrics add up to it;
- one of three SIGKILLed in the middle of delivery: everything arrives; the only duplicates
  are messages that instance had claimed and not recorded as sent (its in-flight messages,
  at most one claim batch), and those it had on the wire do arrive twice;
- two instances released at the same instant on an empty schema: the schema is created
  once (the advisory lock around Alembic), both serve.

The database is ``COPILOTE_TEST_POSTGRES`` (its ``public`` schema is dropped and re-created by
each test). Without PostgreSQL these skip, except under ``CI=true`` where they fail.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import SQLModel

from tests.conftest import ROOT, require_postgres
from tests.instances_support import (
    PYTHON,
    CountingHandler,
    Instance,
    instance_env,
    load_due_reminders,
    load_outbox,
    outbox_state,
    poll,
    reset_schema,
    spawn,
)
from tests.smtp_support import SmtpServer, free_port, start_server
from workflow import tables
from workflow.calendar import paris_date
from workflow.clock import SystemClock
from workflow.database import create_db_engine

pytestmark = pytest.mark.postgres

N = 5_000
BATCH = 200  # what Delivery.run_until_idle claims at a time
CONNECTIONS = 2  # SMTP connections per instance (COPILOTE_SMTP_CONNECTIONS, default)
STARTUP = 120.0  # seconds for a process to answer /health (imports are slow on a busy machine)
DEADLINE = 180.0  # seconds for 5,000 messages to arrive

Fleet = Callable[..., list[Instance]]


@pytest.fixture
def pg_url() -> str:
    url = require_postgres()
    reset_schema(url)
    return url


@pytest.fixture
def db(pg_url: str) -> Iterator[sa.Engine]:
    engine = create_db_engine(pg_url, pool_size=2)
    yield engine
    engine.dispose()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """The loopback SMTP server (as ``smtp_server``), with a handler that only reads headers
    and wakes the test at each message."""
    server = start_server(CountingHandler())  # type: ignore[arg-type]
    try:
        yield server
    finally:
        if server.running:
            server.stop()


def counting(server: SmtpServer) -> CountingHandler:
    handler = server.handler
    assert isinstance(handler, CountingHandler)
    return handler


@pytest.fixture
def fleet(pg_url: str, smtp: SmtpServer, tmp_path: Path) -> Iterator[Fleet]:
    """``fleet(count, **settings)`` starts that many service processes and waits until each
    answers /health; all of them are stopped (killed if need be) at teardown."""
    started: list[Instance] = []

    def start(count: int, command: list[str] | None = None, **settings: object) -> list[Instance]:
        new = []
        for k in range(1, count + 1):
            name = f"copilote-{len(started) + 1}"
            env = instance_env(
                pg_url,
                smtp.port,
                free_port(),
                name,
                sweep_interval_seconds=1,
                pool_size=3,
                smtp_timeout=120,  # a held DATA must not time out: it stays in flight
                **settings,
            )
            started.append(spawn(name, env, tmp_path, command and [*command, str(k)]))
            new.append(started[-1])
        return new

    try:
        yield start
    finally:
        for instance in started:
            instance.stop()


def ready(instances: list[Instance]) -> None:
    for instance in instances:
        instance.wait_ready(STARTUP)


def metric_sums(instances: list[Instance]) -> dict[str, float]:
    """Each sample name summed over the instances' /metrics (parsed: the format must be valid)."""
    totals: dict[str, float] = {}
    for instance in instances:
        response = instance.get("/metrics")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        for family in text_string_to_metric_families(response.text):
            for sample in family.samples:
                totals[sample.name] = totals.get(sample.name, 0.0) + sample.value
    return totals


def wait_all_sent(db: sa.Engine, handler: CountingHandler, count: int) -> None:
    """Until every outbox row is sent (nothing left that could still arrive) and ``count``
    different messages arrived; woken by each message, bounded by DEADLINE."""

    def done() -> bool:
        arrived = handler.wait_until(lambda h: len({m for m, _ in h.received}) >= count, 0.5)
        return arrived and outbox_state(db) == {"sent": count}

    assert poll(done, DEADLINE, every=0.0), (
        f"after {DEADLINE}s: {handler.count()} messages arrived "
        f"({len(handler.by_message_id())} different), outbox {dict(outbox_state(db))}"
    )


def test_three_instances_send_5000_due_reminders_exactly_once(
    fleet: Fleet, db: sa.Engine, smtp: SmtpServer
) -> None:
    instances = fleet(3)
    ready(instances)
    handler = counting(smtp)
    # Due a minute ago by the wall clock the served processes tick on.
    emails = load_due_reminders(db, N, SystemClock().now() - timedelta(minutes=1))

    wait_all_sent(db, handler, N)

    by_id = handler.by_message_id()
    assert len(by_id) == N, "missing messages"
    assert handler.count() == N, f"{handler.count() - N} duplicates"
    assert handler.by_recipient() == dict.fromkeys(emails, 1)  # each person exactly one
    with db.connect() as conn:
        reminders: dict[str, int] = dict(
            conn.execute(
                sa.select(tables.reminder.c.status, sa.func.count()).group_by(
                    tables.reminder.c.status
                )
            ).all()
        )
        workers: dict[str | None, int] = dict(
            conn.execute(
                sa.select(tables.outbox.c.claimed_by, sa.func.count()).group_by(
                    tables.outbox.c.claimed_by
                )
            ).all()
        )
    print(f"\n{N} messages: sent by {dict(sorted(workers.items()))}")
    assert reminders == {"done": N}
    assert set(workers) <= {i.name for i in instances} and sum(workers.values()) == N

    # What the instances report: their own counters add up to the deliveries (each records
    # a pass when it ends, so wait for the last one), the deployment figures agree.
    sums = poll(
        lambda: (s := metric_sums(instances))["copilote_notifications_sent_total"] == N and s,
        30.0,
    )
    assert sums, f"the instances' sent counters add up to {metric_sums(instances)}"
    assert sums["copilote_reminders_fired_total"] == N
    assert sums["copilote_notifications_retried_total"] == 0
    assert sums["copilote_notifications_failed_total"] == 0
    assert sums["copilote_database_up"] == 3
    assert sums["copilote_outbox_backlog"] == 0
    assert sums["copilote_sweep_duration_seconds_count"] >= 3
    for instance in instances:
        health = instance.get("/health")
        assert health.status_code == 200, health.text
        body = health.json()
        assert body["database"] == "ok" and body["scheduler"]["alive"] is True
        assert body["outbox"] == {"backlog": 0, "oldest_pending_age_seconds": None}


LEASE = 20  # seconds: longer than any batch takes here, short enough to wait for
KILL_N = 2_000  # the kill test needs delivery in progress, not volume (the test above has it)


def test_instance_killed_mid_delivery_loses_nothing(
    fleet: Fleet, db: sa.Engine, smtp: SmtpServer
) -> None:
    instances = fleet(3, lease_seconds=LEASE)
    ready(instances)
    victim = instances[2]
    handler = counting(smtp)
    # After 1,000 messages the server keeps receiving but answers nothing until told: every
    # connection of every instance ends up holding one message on the wire.
    handler.block_after = 500
    keys = load_outbox(db, KILL_N, SystemClock().now() - timedelta(seconds=1))
    assert handler.wait_until(
        lambda h: len(h.unacknowledged) == len(instances) * CONNECTIONS, DEADLINE
    ), f"only {len(handler.unacknowledged)} messages held after {handler.count()}"

    victim.kill()
    assert victim.proc.returncode == -signal.SIGKILL
    with db.connect() as conn:  # its claims, still within their lease: its in-flight messages
        in_flight = set(
            conn.execute(
                sa.select(tables.outbox.c.recipient_email).where(
                    tables.outbox.c.status == "sending", tables.outbox.c.claimed_by == victim.name
                )
            ).scalars()
        )
    on_the_wire = {to for _, rcpt in handler.unacknowledged for to in rcpt if to in in_flight}
    assert 1 <= len(on_the_wire) <= CONNECTIONS
    assert len(in_flight) <= BATCH
    handler.unblock.set()

    wait_all_sent(
        db, handler, KILL_N
    )  # the survivors take the victim's claims over after the lease

    by_id = handler.by_message_id()
    by_recipient = handler.by_recipient()
    assert len(by_id) == KILL_N and len(by_recipient) == KILL_N  # every message arrived
    duplicates = {to for to, n in by_recipient.items() if n > 1}
    assert set(by_recipient.values()) <= {1, 2}
    assert handler.count() - KILL_N == len(duplicates) == sum(n > 1 for n in by_id.values())
    # Only the victim's in-flight messages may arrive twice, and those it had on the wire
    # (received, never acknowledged to it) must: they were sent again after the lease.
    assert on_the_wire <= duplicates <= in_flight, (
        f"{len(duplicates)} duplicates; the victim had {len(in_flight)} claimed, "
        f"{len(on_the_wire)} on the wire"
    )
    print(
        f"\nkilled {victim.name}: {len(in_flight)} claimed, {len(on_the_wire)} on the wire, "
        f"{len(duplicates)} arrived twice"
    )
    with db.connect() as conn:
        taken_over: dict[str | None, int] = dict(
            conn.execute(
                sa.select(tables.outbox.c.claimed_by, sa.func.count())
                .where(tables.outbox.c.recipient_email.in_(in_flight))
                .group_by(tables.outbox.c.claimed_by)
            ).all()
        )
    assert victim.name not in taken_over and sum(taken_over.values()) == len(in_flight)
    assert len(keys) == KILL_N
    for survivor in instances[:2]:
        assert survivor.get("/health").status_code == 200


GATED = (
    "import fcntl, os, sys\n"
    "from cli import app\n"  # the slow part (imports) before the gate
    "gate, ready = os.open(sys.argv[1], os.O_RDONLY), sys.argv[2] + sys.argv[3]\n"
    "open(ready, 'w').close()\n"
    "fcntl.flock(gate, fcntl.LOCK_SH)\n"  # waits while the test holds it exclusively
    "sys.argv = ['copilote', 'serve']\n"
    "app()\n"
)


def test_two_instances_starting_together_create_the_schema_once(
    fleet: Fleet, db: sa.Engine, tmp_path: Path
) -> None:
    import fcntl

    gate = tmp_path / "gate"
    gate.touch()
    ready_prefix = str(tmp_path / "ready-")
    with open(gate) as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        instances = fleet(2, command=[str(PYTHON), "-c", GATED, str(gate), ready_prefix])
        both_waiting = poll(
            lambda: (
                all(Path(f"{ready_prefix}{k}").exists() for k in (1, 2))
                or any(i.proc.poll() is not None for i in instances)
            ),
            STARTUP,
        )
        assert both_waiting and all(i.proc.poll() is None for i in instances), [
            i.log_text()[-2000:] for i in instances
        ]
        # Both are at the gate with everything imported: release them at the same instant.
        fcntl.flock(held, fcntl.LOCK_UN)
    ready(instances)

    for instance in instances:
        assert instance.get("/health").status_code == 200
    with db.connect() as conn:
        versions = conn.execute(sa.text("SELECT version_num FROM alembic_version")).all()
        tables = set(
            conn.execute(
                sa.text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            ).scalars()
        )
    assert len(versions) == 1
    assert tables == {*SQLModel.metadata.tables, "alembic_version"}
    logs = [i.log_text() for i in instances]
    assert sum("Running upgrade  -> 0001" in log for log in logs) == 1, logs
    for log in logs:
        assert "Traceback" not in log and "ERROR" not in log, log


# The scale: 1,000 healthy projects (bulk-inserted; the whole test takes ~8 s here).
POISON_HEALTHY = 1_000


def load_poison(db: sa.Engine, due_at: datetime, first: int) -> dict[str, int]:
    """Three more projects with a due reminder, each broken one way of issue 10, finding 1:
    a meeting of a series its version no longer has (a migration renamed it), a definition
    version no longer loaded with an automatic step due, an impossible date (a meeting stored
    on 31 December 9999 at 23:30 UTC, which is past the last day Python can hold in Paris
    time: the definitions themselves now refuse the 99,999,999-day digest of the issue)."""
    load_due_reminders(db, 3, due_at, first=first)
    renamed, gone, endless = first, first + 1, first + 2
    with db.begin() as conn:
        meeting = conn.execute(
            sa.insert(tables.meeting)
            .values(
                project_id=renamed,
                series="reunion_projet_renommee",
                label="Réunion d'une série renommée",
                status="planned",
                starts_at=due_at + timedelta(days=2),
                ends_at=due_at + timedelta(days=2, hours=2),
                attendees=[],
            )
            .returning(tables.meeting.c.id)
        ).scalar_one()
        conn.execute(
            sa.update(tables.reminder)
            .where(tables.reminder.c.project_id == renamed)
            .values(
                kind="meeting_reminder",
                subject_id=meeting,
                occasion=f"meeting:{meeting}:s0:before:2",
                chain=f"meeting:{meeting}:remind",
            )
        )
        conn.execute(
            sa.update(tables.project)
            .where(tables.project.c.id == gone)
            .values(definition_version=7, auto_due_on=paris_date(due_at))
        )
        last = datetime(9999, 12, 31, 23, 30, tzinfo=UTC)
        impossible = conn.execute(
            sa.insert(tables.meeting)
            .values(
                project_id=endless,
                series="copil",
                label="COPIL à une date impossible",
                status="planned",
                starts_at=last,
                ends_at=last,
                attendees=[],
            )
            .returning(tables.meeting.c.id)
        ).scalar_one()
        conn.execute(
            sa.update(tables.reminder)
            .where(tables.reminder.c.project_id == endless)
            .values(
                kind="meeting_reminder",
                subject_id=impossible,
                occasion=f"meeting:{impossible}:s0:before:2",
                chain=f"meeting:{impossible}:remind",
            )
        )
    return {"renamed": renamed, "gone": gone, "endless": endless}


def test_three_instances_deliver_every_healthy_reminder_around_three_poisoned_projects(
    fleet: Fleet, db: sa.Engine, smtp: SmtpServer, tmp_path: Path
) -> None:
    """Issue 10, "poison": one project broken in each of the three ways among 1,000 healthy
    ones with due reminders. Every healthy reminder is delivered once, the broken projects are
    flagged, every /health stays 200 and lists them, /metrics counts them."""
    definitions = tmp_path / "definitions"
    definitions.mkdir()
    v1 = (ROOT / "definitions" / "cooperative.yaml").read_text(encoding="utf-8")
    (definitions / "cooperative.yaml").write_text(v1, encoding="utf-8")
    instances = fleet(3, definitions_dir=definitions)
    ready(instances)
    handler = counting(smtp)
    due = SystemClock().now() - timedelta(minutes=1)
    # The broken ones first: a pass meets them before most of the healthy ones.
    broken = load_poison(db, due, first=1)
    emails = load_due_reminders(db, POISON_HEALTHY, due, first=4)

    wait_all_sent(db, handler, POISON_HEALTHY)

    assert handler.count() == POISON_HEALTHY, f"{handler.count() - POISON_HEALTHY} duplicates"
    assert handler.by_recipient() == dict.fromkeys(emails, 1)
    with db.connect() as conn:
        statuses: dict[str, int] = dict(
            conn.execute(
                sa.select(tables.reminder.c.status, sa.func.count()).group_by(
                    tables.reminder.c.status
                )
            ).all()
        )
    # the gone version's own reminder fails too (its definition is not loaded)
    assert statuses == {"done": POISON_HEALTHY, "failed": 3}, statuses

    def flagged() -> set[int]:
        with db.connect() as conn:
            return set(
                conn.execute(
                    sa.select(tables.project.c.id).where(tables.project.c.failed_at.is_not(None))
                ).scalars()
            )

    assert poll(lambda: flagged() == set(broken.values()), 30.0), flagged()
    for instance in instances:
        health = instance.get("/health")
        assert health.status_code == 200, health.text
        body = health.json()
        assert body["scheduler"]["alive"] is True and body["status"] == "degraded"
        assert {p["project_id"] for p in body["degraded_projects"]} == set(broken.values())
    sums = metric_sums(instances)
    assert sums["copilote_projects_failing"] == 3 * 3  # each instance reports all three
    assert sums["copilote_sweep_failures_total"] == 0
