"""Figure 5: delivery throughput of 1, 2 and 3 ``copilote serve`` instances on one PostgreSQL.

Real processes, as deployed: each instance is ``.venv/bin/copilote serve`` (uvicorn + the
scheduler sweeping every second, SMTP with its default 2 connections), all on the database
``copilote_inst_bench`` (COPILOTE_BENCH_INSTANCES_POSTGRES overrides; its ``public`` schema is
reset). The SMTP server is aiosmtpd in a separate process of the bench: it answers 250 and
counts messages (and distinct Message-IDs) into shared memory, waking the bench at each.

A run: MESSAGES outbox rows (one ``phase_changed`` each, to different people) are committed
at once; timed from that commit until the server has received them all (end to end: it
includes the up-to-one-second wait for the next sweep, and claiming, rendering, sending and
marking each message sent). Checked: every message arrived once, every row is ``sent``.
RUNS runs per instance count after a warm-up; the median is printed.

BASELINE (same run, same server): a bare ``aiosmtplib`` loop sending the same number of
messages, built and flattened to bytes beforehand, over as many connections as the
instances have in all (2 each). The last line of each count says where the two cores went
during the median run (instances' processes, the PostgreSQL server, the whole machine, from
/proc) and what one single-row commit costs on this database: each message is marked sent
in its own transaction the moment the server accepts it, so an instance waits about one
commit per message; these two explain the scaling observed.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import os
import statistics
import tempfile
import threading
import time
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

import aiosmtplib
import sqlalchemy as sa
from _common import machine, spread

from notifications import Recipient, Renderer
from notifications.delivery import Delivery
from notifications.message import build_email
from tests.instances_support import (
    MAIL_DOMAIN,
    Instance,
    instance_env,
    load_outbox,
    outbox_state,
    reset_schema,
    spawn,
)
from tests.smtp_support import free_port
from workflow.clock import SystemClock
from workflow.database import create_db_engine, migrate
from workflow.outbox import SqlOutboxStore

MESSAGES = 3_000
WARMUP = 300
RUNS = 3
COUNTS = (1, 2, 3)
CONNECTIONS = 2  # SmtpMailer's default, per instance
DEADLINE = 600.0
POSTGRES_URL = os.environ.get(
    "COPILOTE_BENCH_INSTANCES_POSTGRES", "postgresql://postgres@127.0.0.1:5432/copilote_inst_bench"
)
SENDER = Recipient("Copilote", "copilote@localhost.localdomain")


# -- the SMTP server, in its own process -----------------------------------------------------
def serve_smtp(port: int, total: Any, distinct: Any, changed: Any, ready: Any) -> None:
    from aiosmtpd.controller import Controller

    seen: set[str] = set()
    parser = BytesHeaderParser()

    class Count:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            message_id = str(parser.parsebytes(envelope.content)["Message-ID"])
            with changed:
                total.value += 1
                if message_id not in seen:
                    seen.add(message_id)
                    distinct.value += 1
                changed.notify_all()
            return "250 OK"

    Controller(Count(), hostname="127.0.0.1", port=port).start()
    ready.set()
    threading.Event().wait()  # until the bench terminates this process


class SmtpProcess:
    def __init__(self) -> None:
        ctx = mp.get_context("fork")  # before any thread exists in the bench
        self.port = free_port()
        self.total, self.distinct = ctx.Value("q", 0, lock=False), ctx.Value("q", 0, lock=False)
        self.changed, ready = ctx.Condition(), ctx.Event()
        self.proc = ctx.Process(
            target=serve_smtp,
            args=(self.port, self.total, self.distinct, self.changed, ready),
            daemon=True,
        )
        self.proc.start()
        if not ready.wait(30):
            raise RuntimeError("the SMTP server process did not start")

    def counts(self) -> tuple[int, int]:
        with self.changed:
            return int(self.total.value), int(self.distinct.value)

    def wait_for(self, total: int, timeout: float) -> bool:
        with self.changed:
            return bool(self.changed.wait_for(lambda: self.total.value >= total, timeout))

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.join(10)


# -- CPU accounting from /proc ----------------------------------------------------------------
TICK = os.sysconf("SC_CLK_TCK")


def cpu_of(pids: list[int]) -> float:
    """CPU seconds (user + system) used so far by these processes."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / TICK


def postgres_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def machine_busy() -> tuple[float, float]:
    """(busy CPU seconds, total CPU seconds) of the whole machine so far, all cores."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields) - idle) / TICK, sum(fields) / TICK


# -- the runs ---------------------------------------------------------------------------------
def prebuilt(db: sa.Engine, count: int) -> list[tuple[str, bytes]]:
    """The baseline's messages: the same rows, composed and flattened once, before timing."""
    now = SystemClock().now()
    load_outbox(db, count, now, tag="baseline")
    store = SqlOutboxStore(db, worker="bench")
    composer = Delivery(store, Renderer(), None, lambda: now, SENDER, domain=MAIL_DOMAIN)  # type: ignore[arg-type]
    claimed = store.claim(now, count)
    built = [(c.email, build_email(composer.compose(c, now)).as_bytes()) for c in claimed]
    truncate(db)
    return built


def truncate(db: sa.Engine) -> None:
    with db.begin() as conn:
        conn.execute(sa.text("TRUNCATE outbox"))


async def bare(port: int, messages: list[tuple[str, bytes]], connections: int) -> None:
    async def share(part: list[tuple[str, bytes]]) -> None:
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=30)
        await client.connect()
        for rcpt, data in part:
            await client.sendmail(SENDER.email, [rcpt], data)
        await client.quit()

    await asyncio.gather(*(share(messages[i::connections]) for i in range(connections)))


def one_run(
    db: sa.Engine, smtp: SmtpProcess, instances: list[Instance], count: int, tag: str
) -> dict[str, float]:
    truncate(db)
    before_total, before_distinct = smtp.counts()
    pids = [i.proc.pid for i in instances]
    pg = postgres_pids()
    cpu0, pg0, (busy0, all0) = cpu_of(pids), cpu_of(pg), machine_busy()
    t0 = time.perf_counter()
    load_outbox(db, count, SystemClock().now(), tag=tag)
    if not smtp.wait_for(before_total + count, DEADLINE):
        raise RuntimeError(f"{tag}: {smtp.counts()[0] - before_total} of {count} in {DEADLINE}s")
    elapsed = time.perf_counter() - t0
    cpu1, pg1, (busy1, all1) = cpu_of(pids), cpu_of(pg), machine_busy()
    total, distinct = smtp.counts()
    if (total - before_total, distinct - before_distinct) != (count, count):
        raise RuntimeError(
            f"{tag}: {total - before_total} received, {distinct - before_distinct} distinct"
        )
    deadline = time.monotonic() + 30
    while outbox_state(db) != {"sent": count}:  # the last marks land just after the server's 250
        if time.monotonic() > deadline:
            raise RuntimeError(f"{tag}: outbox {dict(outbox_state(db))}")
        smtp.wait_for(total + 1, 0.1)  # nothing more may arrive: a bounded pause
    cores = (all1 - all0) / elapsed if elapsed else 0
    return {
        "rate": count / elapsed,
        "instances_cpu": (cpu1 - cpu0) / elapsed,
        "postgres_cpu": (pg1 - pg0) / elapsed,
        "machine_cpu": (busy1 - busy0) / elapsed,
        "cores": cores,
    }


def baseline_run(smtp: SmtpProcess, messages: list[tuple[str, bytes]], connections: int) -> float:
    before = smtp.counts()[0]
    t0 = time.perf_counter()
    asyncio.run(bare(smtp.port, messages, connections))
    if not smtp.wait_for(before + len(messages), 60):
        raise RuntimeError("baseline lost messages")
    return len(messages) / (time.perf_counter() - t0)


def commit_latency_ms(url: str, count: int = 100) -> float:
    """Median time of one single-row write transaction (its COMMIT waits for the WAL flush):
    delivery marks each message sent in its own transaction as soon as the server accepts it."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as con:
        con.execute("CREATE TABLE IF NOT EXISTS bench_commit (id serial PRIMARY KEY)")
        times = []
        for _ in range(count):
            t0 = time.perf_counter()
            con.execute("INSERT INTO bench_commit DEFAULT VALUES")
            times.append(time.perf_counter() - t0)
        con.execute("DROP TABLE bench_commit")
    return statistics.median(times) * 1000


def main() -> None:
    smtp = SmtpProcess()  # first: forked before the bench starts any thread
    ensure_database(POSTGRES_URL)
    reset_schema(POSTGRES_URL)
    db = create_db_engine(POSTGRES_URL, pool_size=2)
    migrate(db)
    messages = prebuilt(db, MESSAGES)
    workdir = Path(tempfile.mkdtemp(prefix="copilote-bench-"))
    print(
        f"bench/instances.py  ({machine()}; PostgreSQL {POSTGRES_URL.rsplit('/', 1)[1]}; "
        f"aiosmtpd in its own process on 127.0.0.1:{smtp.port})"
    )
    print(
        f"{MESSAGES} messages a run, {RUNS} runs per instance count after a {WARMUP}-message "
        f"warm-up; each instance: copilote serve, sweep every 1 s, {CONNECTIONS} SMTP connections"
    )
    results: dict[int, float] = {}
    try:
        for count in COUNTS:
            instances = [
                spawn(
                    f"bench-{count}-{k}",
                    instance_env(
                        POSTGRES_URL,
                        smtp.port,
                        free_port(),
                        f"bench-{count}-{k}",
                        sweep_interval_seconds=1,
                        pool_size=3,
                    ),
                    workdir,
                )
                for k in range(1, count + 1)
            ]
            try:
                for instance in instances:
                    instance.wait_ready(180)
                one_run(db, smtp, instances, WARMUP, f"warmup{count}")
                runs, bases = [], []
                for run in range(RUNS):
                    runs.append(one_run(db, smtp, instances, MESSAGES, f"n{count}r{run}"))
                    bases.append(baseline_run(smtp, messages, CONNECTIONS * count))
            finally:
                for instance in instances:
                    instance.stop()
            rates = [r["rate"] for r in runs]
            rate, base = statistics.median(rates), statistics.median(bases)
            results[count] = rate
            mid = sorted(runs, key=lambda r: r["rate"])[len(runs) // 2]
            print(f"instances={count}")
            print(
                f"  copilote serve x{count} (claim, render, send, mark sent)  median {rate:6.0f} msg/s"
                f"  runs {min(rates):.0f}..{max(rates):.0f} (spread {spread(rates)})"
                f"  scaling x{rate / results[1]:.2f} vs 1 instance"
            )
            print(
                f"  BASELINE bare aiosmtplib, {CONNECTIONS * count} connections, pre-built bytes  "
                f"median {base:6.0f} msg/s  runs {min(bases):.0f}..{max(bases):.0f} "
                f"(spread {spread(bases)})  ratio {rate / base:.2f}"
            )
            print(
                f"  CPU during the median run (cores busy, of {mid['cores']:.1f}): instances "
                f"{mid['instances_cpu']:.2f}, PostgreSQL server (all its databases) "
                f"{mid['postgres_cpu']:.2f}, whole machine {mid['machine_cpu']:.2f}; "
                f"one-row commit {commit_latency_ms(POSTGRES_URL):.1f} ms"
            )
    finally:
        smtp.stop()
        db.dispose()


def ensure_database(url: str) -> None:
    import psycopg

    base, _, name = url.rpartition("/")
    with psycopg.connect(base + "/postgres", autocommit=True) as con:
        if not con.execute("SELECT 1 FROM pg_database WHERE datname=%s", (name,)).fetchone():
            con.execute(f'CREATE DATABASE "{name}"')


if __name__ == "__main__":
    main()
