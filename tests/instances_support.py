"""Several ``copilote serve`` processes on one PostgreSQL database, sending to one loopback
SMTP server: the harness of ``tests/test_instances.py`` and ``bench/instances.py``.

- :class:`CountingHandler`: an aiosmtpd handler that records the Message-ID and recipients of
  each message (headers only: cheap enough for thousands a second) and notifies a condition,
  so a test waits for "N messages arrived" without sleeping. Like ``RecordingHandler`` it can
  hold every message after the N-th unanswered (``block_after``) to freeze senders mid-batch.
- :class:`Instance` / :func:`start_instances`: real service processes (the installed
  ``copilote serve`` command), each with its own port, worker id and log file.
- :func:`load_due_reminders` / :func:`load_outbox`: thousands of due reminders or queued
  messages written straight into the database in one transaction (bulk inserts: building them
  through the engine would take minutes).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any, TypeVar

import httpx2 as httpx
import sqlalchemy as sa

from workflow import tables
from workflow.calendar import paris_date
from workflow.database import create_db_engine

ROOT = Path(__file__).resolve().parent.parent
COPILOTE = ROOT / ".venv" / "bin" / "copilote"
PYTHON = ROOT / ".venv" / "bin" / "python"
MAIL_DOMAIN = "copilote.local"
T = TypeVar("T")


# -- the SMTP side --------------------------------------------------------------------------
@dataclass
class CountingHandler:
    """Records (Message-ID, recipients) of every message; ``changed`` is notified at each."""

    received: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)
    block_after: int | None = None
    unblock: threading.Event = field(default_factory=threading.Event)
    unacknowledged: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    release: asyncio.Event | None = None  # what smtp_support.SmtpServer.stop expects

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        headers = BytesHeaderParser().parsebytes(envelope.content)
        entry = (str(headers["Message-ID"]), tuple(envelope.rcpt_tos))
        with self.changed:
            self.received.append(entry)
            block = (
                self.block_after is not None
                and len(self.received) > self.block_after
                and not self.unblock.is_set()
            )
            if block:
                self.unacknowledged.append(entry)
            self.changed.notify_all()
        if block:
            # In a thread, so the server's loop keeps serving the other connections.
            await asyncio.get_running_loop().run_in_executor(None, self.unblock.wait)
        return "250 Message accepted for delivery"

    def count(self) -> int:
        with self.changed:
            return len(self.received)

    def wait_until(self, done: Callable[[CountingHandler], bool], timeout: float) -> bool:
        """Wait (on the condition, woken at each message) until ``done(self)``; False if the
        deadline passes first."""
        with self.changed:
            return self.changed.wait_for(lambda: done(self), timeout)

    def by_message_id(self) -> Counter[str]:
        with self.changed:
            return Counter(mid for mid, _ in self.received)

    def by_recipient(self) -> Counter[str]:
        with self.changed:
            return Counter(to for _, rcpt in self.received for to in rcpt)


def poll(check: Callable[[], T], timeout: float, every: float = 0.25) -> T:
    """``check()`` until it returns something true or ``timeout`` seconds pass; the last result.
    The pause between tries is a wait on an event nobody sets: bounded, and no busy loop."""
    pause = threading.Event()
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() >= deadline:
            return result
        pause.wait(every)


# -- the service processes -----------------------------------------------------------------
@dataclass
class Instance:
    name: str
    port: int
    proc: subprocess.Popen[bytes]
    log: Path

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def get(self, path: str, timeout: float = 10.0) -> httpx.Response:
        return httpx.get(self.url(path), timeout=timeout)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def wait_ready(self, timeout: float) -> None:
        """Until ``/health`` answers 200; raises with the log's tail if it dies or never does."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.get("/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass  # not listening yet
            try:  # wait for the process to die, a little: it is also the pause between tries
                self.proc.wait(timeout=0.2)
            except subprocess.TimeoutExpired:
                continue
            raise RuntimeError(
                f"{self.name} exited with {self.proc.returncode}:\n{self.log_text()[-3000:]}"
            )
        raise TimeoutError(f"{self.name} not healthy after {timeout}s:\n{self.log_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no commit, no goodbye to the SMTP server."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        """SIGTERM (uvicorn shuts the scheduler down), SIGKILL if it takes over 10 seconds."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


def instance_env(
    database_url: str,
    smtp_port: int,
    port: int,
    worker: str,
    **settings: object,
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COPILOTE_")}
    env.update(
        COPILOTE_DATABASE_URL=database_url,
        COPILOTE_SMTP_HOST="127.0.0.1",
        COPILOTE_SMTP_PORT=str(smtp_port),
        COPILOTE_HOST="127.0.0.1",
        COPILOTE_PORT=str(port),
        COPILOTE_BASE_URL=f"http://127.0.0.1:{port}",
        COPILOTE_WORKER_ID=worker,
        COPILOTE_SECRET_KEY="instances-test-secret",
        COPILOTE_MAIL_DOMAIN=MAIL_DOMAIN,
        # The processes tick on the wall clock, which may be a night or a weekend in Paris:
        # what is due leaves whenever the test runs (the window is tested on a fixed clock,
        # tests/test_reminder_rules.py and tests/test_cadence.py); a test may turn it back on.
        COPILOTE_SENDING_WINDOW="false",
    )
    env.update({f"COPILOTE_{k.upper()}": str(v) for k, v in settings.items()})
    return env


def spawn(
    name: str,
    env: dict[str, str],
    workdir: Path,
    command: Sequence[str] | None = None,
) -> Instance:
    """Start one service process; its output goes to ``<workdir>/<name>.log`` (a file, not a
    pipe: an unread pipe fills up and blocks the process)."""
    log = workdir / f"{name}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            list(command or [str(COPILOTE), "serve"]),
            cwd=workdir,  # no stray .env, and a FileMailer (if any) writes here
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return Instance(name, int(env["COPILOTE_PORT"]), proc, log)


@contextmanager
def running(instances: list[Instance]) -> Iterator[list[Instance]]:
    """Stops (kills if need be) every instance on the way out, whatever happened."""
    try:
        yield instances
    finally:
        for instance in instances:
            try:
                instance.stop()
            except Exception:  # the others must be stopped anyway
                instance.proc.kill()


# -- bulk data ------------------------------------------------------------------------------
def pilot_email(i: int) -> str:
    return f"pilote{i:05d}@cooperatives.example"


def reset_schema(url: str) -> None:
    engine = create_db_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


def load_due_reminders(db: sa.Engine, count: int, due_at: datetime, first: int = 1) -> list[str]:
    """``count`` coopératives in préfiguration, each with its own pilot and its « gouvernance »
    milestone due in 14 days, whose J-14 reminder (to the pilot) is due at ``due_at``: after
    the sweep, ``count`` messages to ``count`` different people. Returns their addresses."""
    today = paris_date(due_at)
    ids = range(first, first + count)
    with db.begin() as conn:
        conn.execute(
            sa.insert(tables.project),
            [
                dict(
                    id=i,
                    definition_id="cooperative",
                    definition_version=1,
                    title=f"Coopérative d'acteurs n° {i}",
                    territory="Île-de-France",
                    start_date=today,
                    lang="fr",
                    phase="prefiguration",
                    phase_entered_at=due_at,
                    version=1,
                    created_at=due_at,
                )
                for i in ids
            ],
        )
        conn.execute(
            sa.insert(tables.partner),
            [
                dict(
                    id=i,
                    project_id=i,
                    organisation=f"DD {i}",
                    contact_name=f"Pilote {i}",
                    email=pilot_email(i),
                    roles=["pilot", "copil"],
                    lang="fr",
                    joined_on=today,
                )
                for i in ids
            ],
        )
        conn.execute(
            sa.insert(tables.milestone),
            [
                dict(
                    id=i,
                    project_id=i,
                    key="gouvernance",
                    label="Mise en place des instances de gouvernance",
                    phase="prefiguration",
                    deliverable="Écrit rendant lisible l'organisation",
                    responsible_role="pilot",
                    due_on=today + timedelta(days=14),
                )
                for i in ids
            ],
        )
        conn.execute(
            sa.insert(tables.reminder),
            [
                dict(
                    project_id=i,
                    occasion=f"milestone:{i}:before:14",
                    kind="milestone_reminder",
                    subject_id=i,
                    chain=f"milestone:{i}:remind",
                    due_at=due_at,
                    status="pending",
                )
                for i in ids
            ],
        )
        for table in ("project", "partner", "milestone"):
            conn.execute(
                sa.text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
            )
    return [pilot_email(i) for i in ids]


def phase_changed_item(i: int, at: datetime) -> dict[str, Any]:
    return {
        "project_title": f"Coopérative d'acteurs n° {i}",
        "programme": "Coopérative d'acteurs en promotion de la santé",
        "pilot_name": "Pilote",
        "pilot_email": "pilote@cooperatives.example",
        "answer_url": None,
        "kind": "phase_changed",
        "from_phase": "Préfiguration",
        "to_phase": "Diagnostic",
        "phase": "Préfiguration",
        "actor": "Pilote",
        "comment": None,
        "at": {"$datetime": at.isoformat()},
    }


def load_outbox(db: sa.Engine, count: int, created_at: datetime, tag: str = "run") -> list[str]:
    """``count`` messages queued and due now (as the engine queues a phase change), each to
    a different person. Returns their outbox keys."""
    keys = [f"{tag}:phase:{i}:{pilot_email(i)}" for i in range(count)]
    with db.begin() as conn:
        conn.execute(
            sa.insert(tables.outbox),
            [
                dict(
                    key=key,
                    project_id=None,
                    recipient_email=pilot_email(i),
                    recipient_name=f"Pilote {i}",
                    lang="fr",
                    kind="phase_changed",
                    items=[phase_changed_item(i, created_at)],
                    status="pending",
                    attempts=0,
                    next_attempt_at=created_at,
                    created_at=created_at,
                )
                for i, key in enumerate(keys)
            ],
        )
    return keys


def outbox_state(db: sa.Engine) -> Counter[str]:
    with db.connect() as conn:
        return Counter(
            dict(
                conn.execute(
                    sa.select(tables.outbox.c.status, sa.func.count()).group_by(
                        tables.outbox.c.status
                    )
                ).all()
            )
        )
