"""Figure (issue 14, point 6): the whole agency dashboard at national scale, on SQLite and on
PostgreSQL, at 10,000 and 100,000 projects, with the bare SQL of the same statements.

Usage: ``python bench/dashboard.py [--sizes 10000,100000] [--backends sqlite,postgresql]``.

The database is built with the real schema (Alembic migrations, so 0013's indexes), then
filled in bulk, indexes dropped during the load and rebuilt: ``executemany`` on SQLite,
``COPY`` on PostgreSQL. A built database is kept between runs: the SQLite file under /tmp
(``copilote-bench-dashboard-<size>-v<BUILD>.db``), on PostgreSQL the database
``bench_dash_<size>`` (server from ``COPILOTE_BENCH_POSTGRES``, default 127.0.0.1:5432) with
a ``bench_built`` marker table. Per project:

- over the four shipped definitions and 100 territories, phases spread over each
  definition's phases (about 8 % closed, 3 % suspended);
- 100 milestones, due from 2024-01 to 2028-12; in the future 4 % are done early; in the past
  what is still open fades with age (``still_open``);
- reminders as the planner writes them and never deletes: four a milestone (14 and 3 days
  before, overdue, escalation; done once their time passed, cancelled when the milestone was
  done first, pending otherwise), and for the coopératives the quarterly reports' request,
  overdue and escalation reminders of 8 quarters (about 4.0 million rows at 10,000 projects);
- 4 partners (pilot, two partners, the agency), 6 meetings (held, planned (some in the next
  four weeks, some with a place), expected, cancelled), 70 % of the reports received.

What the service derives from these rows (each project's earliest open milestone,
:mod:`workflow.lateness`; the COPIL tallies, :mod:`workflow.copil_tally`; the reports owed,
:mod:`workflow.owed_reports`) is filled after the load by the service's own functions; a
database cached at an older schema revision is upgraded by the migrations when the service
opens it, as a deployment's would be.

No ``ANALYZE`` on SQLite (a deployment never runs it). On PostgreSQL the load runs ``VACUUM
ANALYZE`` once, and each run first vacuums the tables autovacuum would have vacuumed by then
(a table a migration just filled): the server here runs with ``autovacuum = off``.

Measured: ``GET /dashboard`` through a TestClient signed in as the agency (the whole page:
tiles, counts per phase, overdue milestones, missing reports, meetings ahead, the portfolio
sorted by days late, the filter choices), ``RUNS`` times in each of ``ROUNDS`` rounds after a
warm-up; and BASELINE: the very statements that request sent (captured), replayed through the
bare driver (``sqlite3``/``psycopg``) on the same database in the same run. Prints median and
p95, the ratio to the baseline, and the HTML size; nothing asserts a time.
"""

from __future__ import annotations

import math
import os
import random
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from _common import ROOT, machine, paris, pct, spread
from fastapi.testclient import TestClient

MILESTONES_PER_PROJECT = 100
TERRITORIES = 100
RUNS = 4
ROUNDS = 5
NOW = paris(2026, 5, 4, 9, 0)
TODAY = NOW.date()
FIRST_DUE, LAST_DUE = date(2024, 1, 1), date(2028, 12, 31)
SEED = 20260504
PASSWORD = "bench password"
BUILD = 1  # bump when the loaded rows change: cached databases of another version are rebuilt
CHUNK = 500  # projects per batch of inserts
PG_SERVER = os.environ.get("COPILOTE_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/x")
TABLES = ("project", "partner", "milestone", "meeting", "reminder", "report")
REPORT_PERIODS = [(y, q) for y in (2024, 2025, 2026) for q in (1, 2, 3, 4)][2:10]  # 8 quarters


def _fmt(instant: datetime) -> str:
    # Naive UTC text: what UtcDateTime stores on SQLite; PostgreSQL reads it in UTC (COPY
    # runs with timezone UTC).
    return instant.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def still_open(due: date) -> float:
    """Chance that a milestone past its date is still open on TODAY: late work is mostly
    recent (30 % of what fell due today, fading with a 60-day time constant), plus a residue
    of 0.5 % never closed."""
    return 0.30 * math.exp(-(TODAY - due).days / 60) + 0.005


COLUMNS = {
    "project": "id, definition_id, definition_version, variant, title, territory, start_date,"
    " lang, phase, suspended_from, phase_entered_at, version, created_at",
    "partner": "id, project_id, organisation, contact_name, email, roles, lang, joined_on, left_on",
    "milestone": 'id, project_id, "key", label, phase, deliverable, responsible_role, due_on,'
    " done_on",
    "meeting": "project_id, series, label, status, starts_at, ends_at, held_on, attendees,"
    " location, sequence, agenda",
    "reminder": "project_id, occasion, kind, subject_id, chain, schedule, period, step,"
    " due_at, status",
    "report": "project_id, partner_id, schedule, period, submitted_at, content",
}


def rows(size: int, definitions: list[Any]) -> Iterator[dict[str, list[tuple[Any, ...]]]]:
    """The rows of ``size`` projects, CHUNK projects at a time, by table."""
    from workflow.occasions import (
        MilestoneBefore,
        MilestoneEscalation,
        MilestoneOverdue,
        Planned,
        ReportEscalation,
        ReportOverdue,
        ReportRequest,
    )
    from workflow.planner import quarter_end

    rng = random.Random(SEED)
    created = _fmt(paris(2024, 1, 2, 9, 0))
    span = (LAST_DUE - FIRST_DUE).days
    batch: dict[str, list[tuple[Any, ...]]] = {t: [] for t in TABLES}

    def at(day: date, hour: int = 9) -> datetime:
        return paris(day.year, day.month, day.day, hour, 0)

    for pid in range(1, size + 1):
        d = definitions[pid % 4]
        active = [p.key for p in d.phases if p.key not in d.terminal]
        roll = rng.random()
        phase = d.terminal[0] if roll < 0.08 else "suspendu" if roll < 0.11 else rng.choice(active)
        entered = paris(2026, 1, 1, 9, 0) + timedelta(days=rng.randrange(0, 120))
        variant = rng.choice([v.key for v in d.variants]) if d.variants else None
        start = date(2024, 1, 1) + timedelta(days=rng.randrange(0, 700))
        batch["project"].append(
            (
                pid,
                d.id,
                d.version,
                variant,
                f"Projet {pid:06d} {d.id}",
                f"Territoire {pid % TERRITORIES:03d}",
                start.isoformat(),
                "fr",
                phase,
                active[0] if phase == "suspendu" else None,
                _fmt(entered),
                1,
                created,
            )
        )
        people = [
            ("Structure pilote", '["pilot", "copil"]'),
            ("Association A", '["partner", "copil"]'),
            ("Centre de santé B", '["partner"]'),
            ("ARS", '["agency"]'),
        ]
        first_partner = (pid - 1) * 4 + 1
        for n, (org, roles) in enumerate(people):
            partner_id = first_partner + n
            batch["partner"].append(
                (
                    partner_id,
                    pid,
                    f"{org} {pid}",
                    "",
                    f"p{partner_id}@exemple.fr",
                    roles,
                    "fr",
                    start.isoformat(),
                    None,
                )
            )
        keys = [m.key for m in d.milestones]
        responsible = [m.responsible for m in d.milestones]
        for n in range(MILESTONES_PER_PROJECT):
            mid = (pid - 1) * MILESTONES_PER_PROJECT + n + 1
            due = FIRST_DUE + timedelta(days=rng.randrange(span))
            done: date | None = None
            if (due < TODAY and rng.random() >= still_open(due)) or (
                due >= TODAY and rng.random() < 0.04
            ):
                done = due + timedelta(days=rng.randrange(-10, 10))
            k = n % len(keys)
            batch["milestone"].append(
                (
                    mid,
                    pid,
                    f"{keys[k]}_{n}",
                    f"Jalon {n} : {keys[k]}",
                    phase,
                    "Livrable",
                    responsible[k],
                    due.isoformat(),
                    done.isoformat() if done else None,
                )
            )
            planned: tuple[tuple[Planned, datetime], ...] = (
                (MilestoneBefore(mid, 14), at(due - timedelta(days=14))),
                (MilestoneBefore(mid, 3), at(due - timedelta(days=3))),
                (MilestoneOverdue(mid), at(due + timedelta(days=1))),
                (MilestoneEscalation(mid), at(due + timedelta(days=15))),
            )
            for occasion, when in planned:
                status = (
                    "cancelled"
                    if done is not None and done <= when.date()
                    else "done"
                    if when <= NOW
                    else "pending"
                )
                batch["reminder"].append(
                    (
                        pid,
                        occasion.key,
                        occasion.kind,
                        mid,
                        occasion.chain,
                        *occasion.columns(),
                        _fmt(when),
                        status,
                    )
                )
        series = d.meetings[0].key
        for n in range(6):
            status = ("held", "held", "planned", "planned", "expected", "cancelled")[n]
            starts = NOW + timedelta(days=rng.randrange(-200, 60), hours=5)
            batch["meeting"].append(
                (
                    pid,
                    series,
                    f"{d.meetings[0].label} n°{n + 1}",
                    status,
                    _fmt(starts) if status != "expected" else None,
                    _fmt(starts + timedelta(hours=2)) if status != "expected" else None,
                    starts.date().isoformat() if status == "held" else None,
                    "[]",
                    "Salle du conseil" if n == 3 else "",
                    0,
                    "",
                )
            )
        for spec in d.reports:
            for year, quarter in REPORT_PERIODS:
                q_end = quarter_end(year, quarter)
                period = f"{year}-Q{quarter}"
                chain: tuple[tuple[Planned, date], ...] = (
                    (ReportRequest(pid, spec.key, period), q_end),
                    (ReportOverdue(pid, spec.key, period), q_end + timedelta(days=31)),
                    (ReportEscalation(pid, spec.key, period), q_end + timedelta(days=45)),
                )
                for report_occasion, day in chain:
                    when = at(day)
                    batch["reminder"].append(
                        (
                            pid,
                            report_occasion.key,
                            report_occasion.kind,
                            None,
                            report_occasion.chain,
                            *report_occasion.columns(),
                            _fmt(when),
                            "done" if when <= NOW else "pending",
                        )
                    )
                if q_end + timedelta(days=31) <= TODAY:
                    for partner in (first_partner + 1, first_partner + 2):
                        if rng.random() < 0.7:
                            batch["report"].append((pid, partner, spec.key, period, created, "{}"))
        if pid % CHUNK == 0 or pid == size:
            yield batch
            batch = {t: [] for t in TABLES}


def _schema(url: str, mail_dir: Path) -> list[Any]:
    """Create the schema through the service (migrations) and the agency's account."""
    from service import Copilote, Settings
    from workflow.clock import FixedClock

    settings = Settings(
        database_url=url,
        definitions_dir=ROOT / "definitions",
        scheduler=False,
        mail_dir=mail_dir,
    )
    c = Copilote(settings, FixedClock(NOW))
    c.accounts.create_user("agence@ars.example", PASSWORD, role="agency", name="ARS")
    definitions = [c.registry.get(d) for d in ("acia", "cooperative", "aceso", "unapei")]
    c.db.dispose()
    return definitions


def _derived(url: str, definitions: list[Any]) -> None:
    """What the service keeps from the rows loaded, by the service's own functions (after
    the indexes are rebuilt: they read through them): each project's earliest open
    milestone, the COPIL tallies, the reports owed and their tally, the open milestones per day."""
    from workflow.copil_tally import refresh_all_copil_tallies
    from workflow.database import create_db_engine
    from workflow.due_tally import recount
    from workflow.lateness import refresh_all_open_due
    from workflow.owed_reports import owe
    from workflow.owed_reports import recount as recount_owed

    db = create_db_engine(url)
    with db.begin() as conn:
        refresh_all_open_due(conn)
        refresh_all_copil_tallies(conn)
        owe(conn, definitions)
        recount_owed(conn, definitions)
        recount(conn, definitions)
    db.dispose()


def build_sqlite(path: Path, size: int) -> None:
    definitions = _schema(f"sqlite:///{path}", path.parent / "mail")
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=OFF")  # a failed load is thrown away: no journal
    con.execute("PRAGMA synchronous=OFF")
    placeholders = ",".join("?" * len(TABLES))
    indexes = con.execute(
        "SELECT name, sql FROM sqlite_master WHERE type='index' AND sql IS NOT NULL"
        f" AND tbl_name IN ({placeholders})",
        TABLES,
    ).fetchall()
    for name, _ in indexes:
        con.execute(f'DROP INDEX "{name}"')
    con.execute("BEGIN")
    for batch in rows(size, definitions):
        for table, values in batch.items():
            if values:
                marks = ",".join("?" * len(values[0]))
                con.executemany(f"INSERT INTO {table} ({COLUMNS[table]}) VALUES ({marks})", values)
    con.execute("COMMIT")
    for _, sql in indexes:
        con.execute(sql)
    con.close()
    _derived(f"sqlite:///{path}", definitions)
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")  # as the service runs it
    con.close()


def build(path: Path, size: int = 10_000) -> dict[str, int]:
    """A SQLite database of ``size`` projects at ``path`` (bench/api_advance.py uses it);
    the row count of each table."""
    build_sqlite(path, size)
    con = sqlite3.connect(path)
    counts = {t: int(con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]) for t in TABLES}
    con.close()
    return counts


def _pg_url(size: int) -> str:
    return PG_SERVER.rsplit("/", 1)[0] + f"/bench_dash_{size}"


def build_postgresql(size: int, mail_dir: Path) -> None:
    import psycopg

    admin = PG_SERVER.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as con:
        con.execute(f"DROP DATABASE IF EXISTS bench_dash_{size}")
        con.execute(f"CREATE DATABASE bench_dash_{size}")
    definitions = _schema(_pg_url(size), mail_dir)
    with psycopg.connect(_pg_url(size), autocommit=True) as con:
        con.execute("SET timezone = 'UTC'")
        indexes = con.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i"
            " WHERE i.schemaname = 'public' AND i.tablename = ANY(%s) AND NOT EXISTS ("
            "  SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
            (list(TABLES),),
        ).fetchall()
        for name, _ in indexes:
            con.execute(f'DROP INDEX "{name}"')
        with con.transaction():
            for batch in rows(size, definitions):
                for table, values in batch.items():
                    if not values:
                        continue
                    with con.cursor().copy(f"COPY {table} ({COLUMNS[table]}) FROM STDIN") as cp:
                        for value in values:
                            cp.write_row(value)
        for table in ("project", "partner", "milestone", "meeting"):
            con.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" (SELECT max(id) FROM {table}))"
            )
        for _, sql in indexes:
            con.execute(sql)
        _derived(_pg_url(size), definitions)
        con.execute("VACUUM ANALYZE")
        con.execute("CREATE TABLE bench_built (version integer)")
        con.execute("INSERT INTO bench_built VALUES (%s)", (BUILD,))


def postgres_built(size: int) -> bool:
    import psycopg

    try:
        with psycopg.connect(_pg_url(size), autocommit=True) as con:
            found = con.execute("SELECT version FROM bench_built").fetchone()
            return found is not None and found[0] == BUILD
    except psycopg.Error:
        return False


def capture_sql(c: Any, fn: Callable[[], Any]) -> list[tuple[str, Any]]:
    """The statements ``fn`` sends to the database (for the baseline)."""
    import sqlalchemy as sa

    seen: list[tuple[str, Any]] = []

    def listener(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        seen.append((statement, params))

    sa.event.listen(c.db, "before_cursor_execute", listener)
    try:
        fn()
    finally:
        sa.event.remove(c.db, "before_cursor_execute", listener)
    return seen


def timed(fn: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def measure(cases: dict[str, Callable[[], Any]]) -> dict[str, list[float]]:
    """Each case RUNS times per round, the cases interleaved, ROUNDS rounds, after a warm-up."""
    for fn in cases.values():
        fn()
    found: dict[str, list[float]] = {k: [] for k in cases}
    for _ in range(ROUNDS):
        for name, fn in cases.items():
            found[name] += [timed(fn) for _ in range(RUNS)]
    return found


def run(url: str, label: str, bare: Callable[[list[tuple[str, Any]]], Callable[[], Any]]) -> None:
    from service import Copilote, Settings
    from workflow.clock import FixedClock

    settings = Settings(
        database_url=url,
        definitions_dir=ROOT / "definitions",
        scheduler=False,
        mail_dir=Path("/tmp/copilote-bench-mail"),
        secret_key="bench",
    )
    # A cached database built at an older revision is upgraded as a deployment's would be:
    # the new migrations fill what they add from the rows loaded.
    c = Copilote(settings, FixedClock(NOW))
    if c.db.dialect.name == "postgresql":
        _autovacuum(url)
    with c.db.connect() as conn:  # after the migrations: what they derived is counted too
        print(
            f"\n{label}: "
            + ", ".join(
                f"{conn.exec_driver_sql(f'SELECT count(*) FROM {t}').scalar_one():,} {t}"
                for t in (*TABLES, "owed_report", "copil_tally")
            )
        )
    client = TestClient(c.app(), base_url="http://127.0.0.1:8000")
    login = client.get("/login").text
    token = login.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    signed = client.post(
        "/login",
        data={"email": "agence@ars.example", "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    if signed.status_code != 303:
        raise RuntimeError(f"sign-in failed: {signed.status_code}")

    def dashboard() -> Any:
        response = client.get("/dashboard")
        if response.status_code != 200:
            raise RuntimeError(f"/dashboard answered {response.status_code}")
        return response

    page = dashboard()
    statements = capture_sql(c, dashboard)
    baseline = bare(statements)
    # which statements weigh most (one bare run each, the slowest five)
    each = sorted(((timed(bare([s])), s[0]) for s in statements), key=lambda x: x[0], reverse=True)
    found = measure({"GET /dashboard (whole page, TestClient)": dashboard, "BASELINE": baseline})
    whole, base = found["GET /dashboard (whole page, TestClient)"], found["BASELINE"]
    print(f"\n{label}")
    print(f"  HTML {len(page.content) / 1024:.0f} KB; {len(statements)} statements a request")
    for name, values in found.items():
        med, p95 = statistics.median(values), pct(values, 95)
        ratio = "" if name == "BASELINE" else f"  ratio {med / statistics.median(base):5.2f}"
        name = "BASELINE bare SQL of the same statements" if name == "BASELINE" else name
        print(
            f"  {name:<44} median {med * 1e3:8.2f} ms  p95 {p95 * 1e3:8.2f} ms"
            f"  (spread {spread(values)}, n={len(values)}){ratio}"
        )
    print("  slowest statements (bare, one run):")
    for seconds, sql in each[:5]:
        print(f"    {seconds * 1e3:7.2f} ms  {' '.join(sql.split())[:110]}")
    del whole
    client.close()
    c.db.dispose()


def _autovacuum(url: str) -> None:
    """What autovacuum would have done by now with its default settings (the server here
    runs with ``autovacuum = off``): ``VACUUM ANALYZE`` each table with more rows inserted
    or changed since its last vacuum than its thresholds (1,000 + 20 % of its rows), such as
    a table a migration just filled. Without it, index-only scans read the heap of every row
    (no visibility map) and the planner has no statistics."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as con:
        stale = con.execute(
            "SELECT relname FROM pg_stat_user_tables"
            " WHERE n_ins_since_vacuum > 1000 + 0.2 * n_live_tup"
            " OR n_mod_since_analyze > 50 + 0.1 * n_live_tup"
        ).fetchall()
        for (table,) in stale:
            con.execute(f'VACUUM ANALYZE "{table}"')
        if stale:
            print(f"  (vacuumed as autovacuum would: {', '.join(t for (t,) in stale)})")


def bare_sqlite(path: Path) -> Callable[[list[tuple[str, Any]]], Callable[[], Any]]:
    con = sqlite3.connect(path, isolation_level=None, check_same_thread=False)

    def bare(statements: list[tuple[str, Any]]) -> Callable[[], Any]:
        def replay() -> int:
            n = 0
            for sql, params in statements:
                if sql.startswith(("BEGIN", "COMMIT", "ROLLBACK")):
                    continue
                n += len(con.execute(sql, params).fetchall())
            return n

        return replay

    return bare


def bare_postgresql(url: str) -> Callable[[list[tuple[str, Any]]], Callable[[], Any]]:
    import psycopg

    con = psycopg.connect(url, autocommit=True)

    def bare(statements: list[tuple[str, Any]]) -> Callable[[], Any]:
        def replay() -> int:
            n = 0
            for sql, params in statements:
                cur = con.execute(sql, params)
                n += len(cur.fetchall()) if cur.description else 0
            return n

        return replay

    return bare


def main() -> None:
    args = dict(zip(sys.argv[1::2], sys.argv[2::2], strict=False))
    sizes = [int(s) for s in args.get("--sizes", "10000,100000").split(",")]
    backends = args.get("--backends", "sqlite,postgresql").split(",")
    print(__doc__.split("\n\n")[0])
    print(machine())
    for size in sizes:
        if "sqlite" in backends:
            path = Path(f"/tmp/copilote-bench-dashboard-{size}-v{BUILD}.db")
            if not path.exists():
                t0 = time.perf_counter()
                partial = path.with_suffix(".building")
                partial.unlink(missing_ok=True)
                build_sqlite(partial, size)
                partial.rename(path)
                print(f"built {path} in {time.perf_counter() - t0:.0f} s")
            run(f"sqlite:///{path}", f"SQLite, {size:,} projects", bare_sqlite(path))
        if "postgresql" in backends:
            if not postgres_built(size):
                t0 = time.perf_counter()
                build_postgresql(size, Path("/tmp/copilote-bench-mail"))
                print(f"built bench_dash_{size} in {time.perf_counter() - t0:.0f} s")
            run(_pg_url(size), f"PostgreSQL, {size:,} projects", bare_postgresql(_pg_url(size)))
    print(f"\ntarget: p95 <= 150 ms; load average now {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
