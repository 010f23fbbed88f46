"""Figure 4: outbox delivery to a loopback SMTP server, messages per second.

A local aiosmtpd server (in a thread of this process; its handler only answers 250) receives
MESSAGES outbox messages (one ``phase_changed`` item each, as the planner writes them),
delivered by ``Delivery.run_until_idle`` with ``SqlOutboxStore`` (claim with a lease, render
French text + HTML, build MIME, send, mark sent) and ``SmtpMailer(connections=1 | 4)``; SQLite
WAL database. Between runs the rows are reset to pending (not timed).

BASELINE (same process, alternating with the engine runs): a bare ``aiosmtplib`` loop sending
the same messages, already built and flattened to bytes beforehand, over the same number of
connections (one client per connection: connect, sendmail each of its share, quit).
"""

from __future__ import annotations

import asyncio
import socket
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import aiosmtplib
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from _common import machine, spread

from notifications import Recipient, Renderer, SmtpMailer
from notifications.delivery import Delivery
from notifications.message import build_email
from workflow.database import create_db_engine, migrate
from workflow.models import OutboxMessage
from workflow.outbox import SqlOutboxStore, queue_message

MESSAGES = 1_000
RUNS = 5
NOW = datetime(2026, 5, 4, 6, 0, tzinfo=UTC)
O = OutboxMessage.__table__  # type: ignore[attr-defined]


class Accept:
    count = 0

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.count += 1
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def item(i: int) -> dict:
    return {
        "project_title": f"Projet {i % 97}",
        "programme": "Communautés d'acteurs",
        "pilot_name": "Pia Lote",
        "pilot_email": "pilote@exemple.fr",
        "answer_url": None,
        "kind": "phase_changed",
        "from_phase": "Cadrage",
        "to_phase": "Déploiement",
        "phase": "Cadrage",
        "actor": "Pia Lote",
        "comment": None,
        "at": NOW,
    }


def fill(db: sa.Engine) -> None:
    with db.begin() as conn:
        for i in range(MESSAGES):
            queue_message(
                conn,
                key=f"transition:{i}:1:partenaire{i}@exemple.fr",
                project_id=None,
                email=f"partenaire{i}@exemple.fr",
                name=f"Partenaire {i}",
                lang="fr",
                kind="phase_changed",
                items=[item(i)],
                now=NOW,
            )


def reset(db: sa.Engine) -> None:
    with db.begin() as conn:
        conn.execute(
            sa.update(O).values(
                status="pending", attempts=0, claimed_by=None, claimed_until=None, sent_at=None
            )
        )


async def bare(host: str, port: int, sender: str, prebuilt: list[tuple[str, bytes]], connections: int) -> None:
    async def share(part: list[tuple[str, bytes]]) -> None:
        client = aiosmtplib.SMTP(hostname=host, port=port, timeout=10)
        await client.connect()
        for rcpt, data in part:
            await client.sendmail(sender, [rcpt], data)
        await client.quit()

    await asyncio.gather(*(share(prebuilt[i::connections]) for i in range(connections)))


def main() -> None:
    handler = Accept()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    tmp = Path(tempfile.mkdtemp(prefix="copilote-bench-"))
    db = create_db_engine(f"sqlite:///{tmp / 'delivery.db'}")
    migrate(db)
    fill(db)
    renderer = Renderer()
    sender = Recipient("Copilote", "copilote@exemple.fr")
    store = SqlOutboxStore(db, worker="bench")
    # the baseline's messages: composed and flattened once, before any timing
    composer = Delivery(store, renderer, None, lambda: NOW, sender)  # type: ignore[arg-type]
    claimed = store.claim(NOW, MESSAGES)
    prebuilt = [
        (c.email, build_email(composer.compose(c, NOW)).as_bytes()) for c in claimed
    ]
    reset(db)
    size = statistics.median(len(b) for _, b in prebuilt)
    print(f"bench/delivery.py  ({machine()}; aiosmtpd {controller.hostname}:{port} in a thread, SQLite WAL)")
    print(f"{MESSAGES} messages a run (median {size:.0f} bytes, text + HTML), {RUNS} runs per figure, alternating")
    for connections in (1, 4):
        mailer = SmtpMailer(host="127.0.0.1", port=port, connections=connections)
        delivery = Delivery(store, renderer, mailer, lambda: NOW, sender)
        engine_rates, base_rates = [], []
        for run in range(RUNS + 1):  # run 0 is a warm-up
            before = handler.count
            t0 = time.perf_counter()
            stats = asyncio.run(delivery.run_until_idle(limit=200))
            elapsed = time.perf_counter() - t0
            if stats.sent != MESSAGES or handler.count - before != MESSAGES:
                raise RuntimeError(f"delivered {stats}, server got {handler.count - before}")
            reset(db)
            before = handler.count
            t1 = time.perf_counter()
            asyncio.run(bare("127.0.0.1", port, sender.email, prebuilt, connections))
            base_elapsed = time.perf_counter() - t1
            if handler.count - before != MESSAGES:
                raise RuntimeError("baseline lost messages")
            if run:
                engine_rates.append(MESSAGES / elapsed)
                base_rates.append(MESSAGES / base_elapsed)
        e, b = statistics.median(engine_rates), statistics.median(base_rates)
        print(f"connections={connections}")
        print(
            f"  Delivery + SmtpMailer (claim, render, send, mark sent)  median {e:7.0f} msg/s"
            f"  runs {min(engine_rates):.0f}..{max(engine_rates):.0f} (spread {spread(engine_rates)})"
        )
        print(
            f"  BASELINE bare aiosmtplib, pre-built bytes               median {b:7.0f} msg/s"
            f"  runs {min(base_rates):.0f}..{max(base_rates):.0f} (spread {spread(base_rates)})"
        )
        print(f"  ratio {e / b:.2f}  (target >= 0.7: {'met' if e / b >= 0.7 else 'MISSED'})")
    controller.stop()


if __name__ == "__main__":
    main()
