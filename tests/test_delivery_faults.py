"""Delivery under faults, end to end: an SMTP outage while 200 messages are due, and the
service process killed (SIGKILL) in the middle of a batch. Every message arrives, once,
except at most the ones in flight at the kill (same Message-ID)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import date, datetime
from pathlib import Path

import sqlalchemy as sa

from notifications import RecordingMailer
from service import Copilote, Settings
from tests.e2e_support import ROOT, System, at, definitions_dir, person
from tests.smtp_support import SmtpServer
from workflow import tables
from workflow.clock import FixedClock
from workflow.database import read
from workflow.engine import NewProject

N = 200
DUE = at(date(2026, 6, 29), 9)  # the diagnostic of mini.yaml (due 13 July) at J-14


def partner_email(i: int) -> str:
    return f"structure{i:03d}@partenaires.example"


def two_hundred_partners(database_url: str, defs: Path) -> int:
    """A mini project in its deployment phase with 200 partners, each responsible for the
    diagnostic due on 13 July; everything before 29 June is already delivered (recorded)."""
    clock = FixedClock(at(date(2026, 6, 1), 8))
    c = Copilote(  # the set-up delivers all that came before, Sunday 28 June included
        Settings(database_url=database_url, definitions_dir=defs, sending_window=False),
        clock,
        RecordingMailer(),
    )
    start = date(2026, 5, 4)
    pid = c.engine.create_project(
        NewProject(
            definition_id="mini",
            title="Programme à 200 structures",
            start_date=start,
            pilot=person("Pilote", "pilote@programme.example", "pilot", "copil"),
            agency=person("ARS", "ars@ars.example", "agency"),
        )
    )
    for i in range(N):
        c.records.add_partner(pid, person(f"Structure {i:03d}", partner_email(i)), start)
    c.records.meeting_held(pid, occurrence="copil_1")
    c.records.milestone_done(pid, "fiche_cadrage", by="Pilote")
    c.engine.advance(pid, "start_deployment", actor="Pilote")
    c.tick(at(date(2026, 6, 28), 18))
    # Nothing left to deliver: every message sent, the partners' arrivals beyond the notice
    # budget included (merged into one message to the pilot and one to the agency).
    with read(c.db) as conn:
        undelivered = tables.outbox.c.status.not_in(("sent", "merged"))
        assert conn.execute(sa.select(sa.func.count()).where(undelivered)).scalar_one() == 0
    c.db.dispose()
    return pid


def outbox_status(s: System) -> Counter[str]:
    with read(s.c.db) as conn:
        return Counter(
            dict(
                conn.execute(
                    sa.select(tables.outbox.c.status, sa.func.count()).group_by(
                        tables.outbox.c.status
                    )
                ).all()
            )
        )


def test_smtp_outage_with_200_due_messages(
    db_url: str, tmp_path: Path, smtp_server: SmtpServer
) -> None:
    defs = definitions_dir(tmp_path)
    two_hundred_partners(db_url, defs)
    s = System(db_url, defs, smtp_server, DUE)
    try:
        before = outbox_status(s)
        smtp_server.stop()
        report = s.tick_report(DUE)
        assert report.sweep.messages == N
        assert (report.delivery.sent, report.delivery.retried, report.delivery.failed) == (0, N, 0)
        # back-off: not retried before a minute has passed
        early = s.tick_report(at(date(2026, 6, 29), 9, 0).replace(second=59))
        assert early.delivery.retried + early.delivery.sent == 0
        second = s.tick_report(at(date(2026, 6, 29), 9, 1))
        assert (second.delivery.sent, second.delivery.retried) == (0, N)
        smtp_server.start()
        # the second attempt backs off two minutes: 09:03
        assert s.tick_report(at(date(2026, 6, 29), 9, 2)).delivery.sent == 0
        assert smtp_server.handler.received == []
        third = s.tick_report(at(date(2026, 6, 29), 9, 3))
        assert (third.delivery.sent, third.delivery.retried, third.delivery.failed) == (N, 0, 0)
        assert s.tick_report(at(date(2026, 6, 29), 9, 30)).delivery.sent == 0

        received = smtp_server.handler.received
        ids = [str(r.message["Message-ID"]) for r in received]
        assert len(ids) == N and len(set(ids)) == N
        assert sorted(to for r in received for to in r.rcpt_tos) == sorted(
            partner_email(i) for i in range(N)
        )
        assert {str(r.message["Subject"]).split(" le ")[0] for r in received} == {
            "Copilote\u202f: échéance «\u202fDiagnostic\u202f»"
        }
        # the arrivals merged by the notice budget stay as they were, nothing else is left
        assert outbox_status(s) == Counter({"sent": before["sent"] + N, "merged": before["merged"]})
    finally:
        s.dispose()


def tick_process(db_url: str, defs: Path, port: int, now: datetime) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "COPILOTE_SMTP_HOST": "127.0.0.1",
        "COPILOTE_SMTP_PORT": str(port),
        "COPILOTE_DEFINITIONS_DIR": str(defs),
        "COPILOTE_SMTP_TIMEOUT": "30",
        "COPILOTE_LEASE_SECONDS": "300",
    }
    code = "import sys; from cli import app; sys.exit(app())"
    return subprocess.Popen(
        [sys.executable, "-c", code, "tick", "--now", now.isoformat(), "--db", db_url],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def test_service_killed_mid_batch(tmp_path: Path, smtp_server: SmtpServer) -> None:
    db_url = f"sqlite:///{tmp_path / 'kill.db'}"
    defs = definitions_dir(tmp_path)
    two_hundred_partners(db_url, defs)
    # The reminders become messages in the outbox (the sweep), nothing is sent yet.
    sweeper = Copilote(
        Settings(database_url=db_url, definitions_dir=defs), FixedClock(DUE), RecordingMailer()
    )
    assert sweeper.sweeper.run(DUE).messages == N
    sweeper.db.dispose()

    handler = smtp_server.handler
    handler.block_after = 50
    proc = tick_process(db_url, defs, smtp_server.port, DUE)
    try:
        assert handler.blocked.wait(60), proc.communicate(timeout=5)
        proc.send_signal(signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=10)  # reaps it and closes its pipes
    assert proc.returncode == -signal.SIGKILL
    in_flight = set(handler.unacknowledged)
    assert 1 <= len(in_flight) <= 2  # one per SMTP connection (smtp_connections = 2)
    handler.unblock.set()
    first_run = handler.message_ids()

    # Before the lease of the dead process expires, its claims are left alone.
    retry = tick_process(db_url, defs, smtp_server.port, at(date(2026, 6, 29), 9, 4))
    out, err = retry.communicate(timeout=60)
    assert retry.returncode == 0, err.decode()
    assert "delivery: 0 sent" in out.decode()
    # After it (5 minutes), another process takes them over and delivers.
    retry = tick_process(db_url, defs, smtp_server.port, at(date(2026, 6, 29), 9, 6))
    out, err = retry.communicate(timeout=60)
    assert retry.returncode == 0, err.decode()

    ids = handler.message_ids()
    counts = Counter(ids)
    assert len(counts) == N  # every message arrived
    duplicates = {mid for mid, n in counts.items() if n > 1}
    assert all(counts[mid] == 2 for mid in duplicates)
    assert duplicates <= in_flight, (
        f"{len(duplicates)} messages arrived twice; only the {len(in_flight)} in flight at "
        f"the kill may (the {len(first_run)} accepted before it were sent again)"
    )
    recipients = Counter(to for r in handler.received for to in r.rcpt_tos)
    assert set(recipients) == {partner_email(i) for i in range(N)}
