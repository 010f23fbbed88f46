"""Figure 4: outbox delivery to a loopback SMTP server, messages per second.

A local aiosmtpd server (in a thread of this process; its handler counts the messages and
their sizes and answers 250) receives MESSAGES outbox messages (one ``phase_changed`` item
each, as the planner writes them: 97 projects, each transition told to its partners).

ENGINE, timed: ``Delivery.run_until_idle(limit=200)`` with ``SqlOutboxStore`` on a SQLite
WAL database and ``SmtpMailer(connections=1 | 4)``: claim a batch with a lease, render the
French text + HTML from the Jinja templates, build the MIME bytes, send each over SMTP, mark
each sent as soon as the server accepts it, until nothing is due (one SMTP connection per
connection slot and batch). Between runs the rows are reset to pending (not timed).

BASELINE, timed (same process, alternating with the engine runs): a bare ``aiosmtplib``
loop over the same number of connections (one client per connection: connect, ``sendmail``
each message of its share, quit), sending the very bytes the engine sends, built and
rendered beforehand: same size (checked, printed), same ``BODY=8BITMIME`` option, same
envelope. What the ratio measures is therefore the engine's own cost per message (claim,
render, MIME, bookkeeping, marking sent) on top of the SMTP exchange both pay.
"""

from __future__ import annotations

import asyncio
import socket
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiosmtplib
import sqlalchemy as sa
from _common import machine, spread
from aiosmtpd.controller import Controller

from notifications import Recipient, Renderer, SmtpMailer
from notifications.delivery import Delivery
from notifications.message import email_bytes
from workflow import tables
from workflow.database import create_db_engine, migrate
from workflow.outbox import SqlOutboxStore, queue_message

MESSAGES = 1_000
RUNS = 7
NOW = datetime(2026, 5, 4, 6, 0, tzinfo=UTC)


class Accept:
    def __init__(self) -> None:
        self.sizes: list[int] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.sizes.append(len(envelope.original_content))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def item(i: int) -> dict[str, Any]:
    project = i % 97
    return {
        "project_title": f"Projet {project}",
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
        "at": NOW - timedelta(minutes=project),
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
            sa.update(tables.outbox).values(
                status="pending", attempts=0, claimed_by=None, claimed_until=None, sent_at=None
            )
        )


async def bare(
    host: str, port: int, sender: str, prebuilt: list[tuple[str, bytes]], connections: int
) -> None:
    async def share(part: list[tuple[str, bytes]]) -> None:
        client = aiosmtplib.SMTP(hostname=host, port=port, timeout=10)
        await client.connect()
        for rcpt, data in part:
            options = None if data.isascii() else ["BODY=8BITMIME"]  # as SmtpMailer
            await client.sendmail(sender, [rcpt], data, mail_options=options)
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
    # The baseline's messages: rendered and built once, before any timing, exactly as the
    # engine builds them for this server (it announces 8BITMIME).
    composer = Delivery(store, renderer, None, lambda: NOW, sender)  # type: ignore[arg-type]
    prebuilt = [
        (c.email, email_bytes(composer.compose(c, NOW), eight_bit=True))
        for c in store.claim(NOW, MESSAGES)
    ]
    reset(db)
    print(
        f"bench/delivery.py  ({machine()}; aiosmtpd {controller.hostname}:{port} in a thread, "
        "SQLite WAL)"
    )
    print(f"{MESSAGES} messages a run (text + HTML, French), {RUNS} runs per figure, alternating")
    for connections in (1, 4):
        mailer = SmtpMailer(host="127.0.0.1", port=port, connections=connections)
        delivery = Delivery(store, renderer, mailer, lambda: NOW, sender)
        engine_rates, base_rates = [], []
        engine_sizes, base_sizes = [], []
        for run in range(RUNS + 1):  # run 0 is a warm-up
            handler.sizes = []
            t0 = time.perf_counter()
            stats = asyncio.run(delivery.run_until_idle(limit=200))
            elapsed = time.perf_counter() - t0
            if stats.sent != MESSAGES or len(handler.sizes) != MESSAGES:
                raise RuntimeError(f"delivered {stats}, server got {len(handler.sizes)}")
            engine_sizes += handler.sizes
            reset(db)
            handler.sizes = []
            t1 = time.perf_counter()
            asyncio.run(bare("127.0.0.1", port, sender.email, prebuilt, connections))
            base_elapsed = time.perf_counter() - t1
            if len(handler.sizes) != MESSAGES:
                raise RuntimeError("baseline lost messages")
            base_sizes += handler.sizes
            if run:
                engine_rates.append(MESSAGES / elapsed)
                base_rates.append(MESSAGES / base_elapsed)
        e, b = statistics.median(engine_rates), statistics.median(base_rates)
        es, bs = statistics.mean(engine_sizes), statistics.mean(base_sizes)
        print(f"connections={connections}")
        print(
            f"  Delivery + SmtpMailer (claim, render, MIME, send, mark sent)  median {e:7.0f} "
            f"msg/s  runs {min(engine_rates):.0f}..{max(engine_rates):.0f} "
            f"(spread {spread(engine_rates)}), {es:.0f} bytes/msg received"
        )
        print(
            f"  BASELINE bare aiosmtplib, same bytes pre-built              median {b:7.0f} "
            f"msg/s  runs {min(base_rates):.0f}..{max(base_rates):.0f} "
            f"(spread {spread(base_rates)}), {bs:.0f} bytes/msg received"
        )
        print(f"  ratio {e / b:.2f}  (target >= 0.7: {'met' if e / b >= 0.7 else 'MISSED'})")
    controller.stop()


if __name__ == "__main__":
    main()
