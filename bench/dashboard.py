"""Figure (issue 4, section 7): server time of the agency's overdue view on SQLite, with
10,000 projects and 1,000,000 milestones.

The database is built with the real schema (Alembic migrations), then filled with raw
``executemany`` (indexes dropped during the load and rebuilt, as bench/sweep.py does):

- 10,000 projects over the four shipped definitions, 100 territories, phases spread over
  each definition's phases (about 8 % closed, 3 % suspended);
- 100 milestones a project (1,000,000), due dates spread evenly from 2024-01 to 2028-12;
  in the future 4 % are done early; in the past, what is still open fades with age (see
  ``still_open``): about 12,000 overdue, 10,800 of them in projects in progress, the
  oldest 854 days late. ``--stress``: 8 % of everything past stays open (33,000 overdue);
- 4 partners a project (pilot, two partners, the agency), 6 meetings a project (held,
  planned (some in the next four weeks), expected, cancelled), and for the coopératives
  4 quarterly report periods requested (their overdue reminders), 70 % of reports received.

No ``ANALYZE`` is run: a deployment never runs it, so the plans measured are the ones
SQLite picks without statistics.

Measured ``RUNS`` times in each of ``ROUNDS`` rounds (cases interleaved, after a warm-up),
so 20 runs a case:

1. ``workflow.read_models.portfolio.overdue_milestones(page 1)``: the overdue view's query function (the total
   count, the first 50 rows latest first, their projects, role labels and holders);
2. the same for page 200, with a territory filter (100 projects) and a programme filter
   (2,500 projects);
3. ``GET /dashboard`` through a TestClient signed in as the agency: the whole page (the
   overdue view plus the portfolio page with next deadlines and overdue counts, counts per
   phase, missing reports, meetings ahead, filter choices), in-process client included;
4. BASELINE: the bare SQL of (1), the very two statements it sends (count, page), through
   ``sqlite3`` on the same file, without the Python around them.

Then the same with the one-column index first shipped (``(due_on)``, same partial WHERE),
to show what ``project_id`` in ``ix_milestone_open_due`` buys: with it the overdue count
never reads the milestone rows. Prints median and p95 and the ratio to the baseline;
nothing asserts a time. Runtime: 3-5 minutes on 2 cores (1 minute of it building).
"""

from __future__ import annotations

import math
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from _common import ROOT, machine, paris, pct, spread
from fastapi.testclient import TestClient

PROJECTS = 10_000
MILESTONES_PER_PROJECT = 100
TERRITORIES = 100
RUNS = 4  # a round: each case 4 times; 5 rounds make 20 runs a case
ROUNDS = 5
NOW = paris(2026, 5, 4, 9, 0)
TODAY = NOW.date()
FIRST_DUE, LAST_DUE = date(2024, 1, 1), date(2028, 12, 31)
SEED = 20260504
PASSWORD = "bench password"


def _fmt(instant: datetime) -> str:
    # What workflow.models.UtcDateTime stores on SQLite: naive UTC text.
    return instant.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


STRESS = "--stress" in sys.argv


def still_open(due: date) -> float:
    """Chance that a milestone past its date is still open on TODAY.

    Default: late work is mostly recent (30 % of what fell due today, fading with a 60-day
    time constant), plus a residue of 0.5 % never closed. ``--stress``: 8 % of everything
    past stays open whatever its age (about 2.7 times as many overdue rows).
    """
    if STRESS:
        return 0.08
    return 0.30 * math.exp(-(TODAY - due).days / 60) + 0.005


def build(path: Path) -> dict[str, int]:
    """Create the schema with the service, then bulk-load the rows with sqlite3."""
    from service import Copilote, Settings
    from workflow.clock import FixedClock
    from workflow.occasions import ReportOverdue

    settings = Settings(
        database_url=f"sqlite:///{path}",
        definitions_dir=ROOT / "definitions",
        scheduler=False,
        mail_dir=path.parent / "mail",
    )
    c = Copilote(settings, FixedClock(NOW))
    c.accounts.create_user("agence@ars.example", PASSWORD, role="agency", name="ARS")
    definitions = [c.registry.get(d) for d in ("acia", "cooperative", "aceso", "unapei")]
    c.db.dispose()

    rng = random.Random(SEED)
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    tables = ("project", "partner", "milestone", "meeting", "reminder", "report")
    placeholders = ",".join("?" * len(tables))
    indexes = con.execute(
        "SELECT name, sql FROM sqlite_master WHERE type='index' AND sql IS NOT NULL"
        f" AND tbl_name IN ({placeholders})",
        tables,
    ).fetchall()
    for name, _ in indexes:
        con.execute(f'DROP INDEX "{name}"')
    con.execute("BEGIN")
    created = _fmt(paris(2024, 1, 2, 9, 0))
    projects, partners, milestones, meetings, reminders, reports = [], [], [], [], [], []
    span = (LAST_DUE - FIRST_DUE).days
    partner_id = 0
    for pid in range(1, PROJECTS + 1):
        d = definitions[pid % 4]
        active = [p.key for p in d.phases if p.key not in d.terminal]
        roll = rng.random()
        if roll < 0.08:
            phase = d.terminal[0]
        elif roll < 0.11:
            phase = "suspendu"
        else:
            phase = rng.choice(active)
        entered = paris(2026, 1, 1, 9, 0) + timedelta(days=rng.randrange(0, 120))
        variant = rng.choice([v.key for v in d.variants]) if d.variants else None
        start = date(2024, 1, 1) + timedelta(days=rng.randrange(0, 700))
        projects.append(
            (
                pid,
                d.id,
                d.version,
                variant,
                f"Projet {pid:05d} {d.id}",
                f"Territoire {pid % TERRITORIES:03d}",
                start.isoformat(),
                "fr",
                phase,
                "prefiguration" if phase == "suspendu" else None,
                _fmt(entered),
                1,
                created,
            )
        )
        people = [
            ("Structure pilote", ["pilot", "copil"]),
            ("Association A", ["partner", "copil"]),
            ("Centre de santé B", ["partner"]),
            ("ARS", ["agency"]),
        ]
        first_partner = partner_id + 2
        for org, roles in people:
            partner_id += 1
            partners.append(
                (
                    partner_id,
                    pid,
                    f"{org} {pid}",
                    "",
                    f"p{partner_id}@exemple.fr",
                    "[" + ", ".join(f'"{r}"' for r in roles) + "]",
                    "fr",
                    start.isoformat(),
                    None,
                )
            )
        keys = [m.key for m in d.milestones]
        roles = [m.responsible for m in d.milestones]
        for n in range(MILESTONES_PER_PROJECT):
            due = FIRST_DUE + timedelta(days=rng.randrange(span))
            done = None
            if (due < TODAY and rng.random() >= still_open(due)) or (
                due >= TODAY and rng.random() < 0.04
            ):
                done = (due + timedelta(days=rng.randrange(-10, 10))).isoformat()
            k = n % len(keys)
            milestones.append(
                (
                    pid,
                    f"{keys[k]}_{n}",
                    f"Jalon {n} : {keys[k]}",
                    phase,
                    "Livrable",
                    roles[k],
                    due.isoformat(),
                    done,
                )
            )
        series = d.meetings[0].key
        for n in range(6):
            status = ("held", "held", "planned", "planned", "expected", "cancelled")[n]
            starts = NOW + timedelta(days=rng.randrange(-200, 60), hours=5)
            meetings.append(
                (
                    pid,
                    series,
                    f"{d.meetings[0].label} n°{n + 1}",
                    status,
                    _fmt(starts) if status != "expected" else None,
                    _fmt(starts + timedelta(hours=2)) if status != "expected" else None,
                    starts.date().isoformat() if status == "held" else None,
                    "[]",
                )
            )
        for spec in d.reports:
            for period, q_end in (
                ("2025-Q2", "2025-06-30"),
                ("2025-Q3", "2025-09-30"),
                ("2025-Q4", "2025-12-31"),
                ("2026-Q1", "2026-03-31"),
            ):
                due_at = date.fromisoformat(q_end) + timedelta(days=31)
                overdue = ReportOverdue(pid, spec.key, period)
                reminders.append(
                    (
                        pid,
                        overdue.key,
                        overdue.kind,
                        overdue.chain,
                        *overdue.columns(),
                        _fmt(paris(due_at.year, due_at.month, due_at.day, 9, 0)),
                        "done",
                    )
                )
                for partner in (first_partner, first_partner + 1):
                    if rng.random() < 0.7:
                        reports.append((pid, partner, spec.key, period, created, "{}"))
    con.executemany(
        "INSERT INTO project (id, definition_id, definition_version, variant, title, territory,"
        " start_date, lang, phase, suspended_from, phase_entered_at, version, created_at)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        projects,
    )
    con.executemany(
        "INSERT INTO partner (id, project_id, organisation, contact_name, email, roles, lang,"
        " joined_on, left_on) VALUES (?,?,?,?,?,?,?,?,?)",
        partners,
    )
    con.executemany(
        'INSERT INTO milestone (project_id, "key", label, phase, deliverable, responsible_role,'
        " due_on, done_on) VALUES (?,?,?,?,?,?,?,?)",
        milestones,
    )
    con.executemany(
        "INSERT INTO meeting (project_id, series, label, status, starts_at, ends_at, held_on,"
        " attendees, location, sequence) VALUES (?,?,?,?,?,?,?,?,'',0)",
        meetings,
    )
    con.executemany(
        "INSERT INTO reminder (project_id, occasion, kind, chain, schedule, period, step,"
        " due_at, status) VALUES (?,?,?,?,?,?,?,?,?)",
        reminders,
    )
    con.executemany(
        "INSERT INTO report (project_id, partner_id, schedule, period, submitted_at, content)"
        " VALUES (?,?,?,?,?,?)",
        reports,
    )
    con.execute("COMMIT")
    for _, sql in indexes:
        con.execute(sql)
    counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}
    con.close()
    return counts


def capture_sql(c: Any, fn: Callable[[], Any]) -> list[tuple[str, Any]]:
    """The statements ``fn`` sends to the database (for the baseline and the plan)."""
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


def show(found: dict[str, list[float]], baseline: str) -> None:
    base = statistics.median(found[baseline])
    for name, values in found.items():
        med, p95 = statistics.median(values), pct(values, 95)
        ratio = "" if name == baseline else f"  ratio {med / base:5.2f}"
        print(
            f"  {name:<46} median {med * 1e3:8.2f} ms  p95 {p95 * 1e3:8.2f} ms"
            f"  (spread {spread(values)}, n={len(values)}){ratio}"
        )


def run(path: Path, label: str) -> None:
    from service import Copilote, Settings
    from workflow.clock import FixedClock
    from workflow.read_models import portfolio as queries

    settings = Settings(
        database_url=f"sqlite:///{path}",
        definitions_dir=ROOT / "definitions",
        scheduler=False,
        mail_dir=path.parent / "mail",
        secret_key="bench",
    )
    c = Copilote(settings, FixedClock(NOW), migrate_schema=False)
    engine = c.engine
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

    def overdue_page_1() -> Any:
        return queries.overdue_milestones(engine, TODAY)

    def dashboard() -> Any:
        response = client.get("/dashboard")
        if response.status_code != 200:
            raise RuntimeError(f"/dashboard answered {response.status_code}")
        return response

    first = overdue_page_1()
    statements = capture_sql(c, overdue_page_1)
    count_sql, count_params = next(s for s in statements if "count(*)" in s[0])
    page_sql, page_params = next(s for s in statements if "LIMIT" in s[0])
    con = sqlite3.connect(path)

    def bare_sql() -> int:
        total = con.execute(count_sql, count_params).fetchone()[0]
        rows = con.execute(page_sql, page_params).fetchall()
        return int(total) + len(rows)

    plan = [r[3] for r in con.execute("EXPLAIN QUERY PLAN " + count_sql, count_params)]
    print(f"\n{label}")
    print(
        f"  overdue milestones in projects in progress: {first.total:,}; page 1 first row "
        f"{first.rows[0].days_late} days late"
    )
    print(f"  plan of the count: {' / '.join(plan)}")
    found = measure(
        {
            "overdue view: overdue_milestones(page 1)": overdue_page_1,
            "overdue view: page 200": lambda: queries.overdue_milestones(engine, TODAY, page=200),
            "overdue view: territory filter": lambda: queries.overdue_milestones(
                engine, TODAY, queries.Filters(territory="Territoire 007")
            ),
            "overdue view: programme filter": lambda: queries.overdue_milestones(
                engine, TODAY, queries.Filters(programme="acia")
            ),
            "GET /dashboard (whole page, TestClient)": dashboard,
            "BASELINE bare SQL of page 1 (sqlite3)": bare_sql,
        }
    )
    show(found, "BASELINE bare SQL of page 1 (sqlite3)")
    con.close()
    c.db.dispose()


def narrow_index(path: Path) -> None:
    """The one-column index first shipped, for comparison (see the README)."""
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("DROP INDEX ix_milestone_open_due")
    con.execute("CREATE INDEX ix_milestone_open_due ON milestone (due_on) WHERE done_on IS NULL")
    con.close()


def main() -> None:
    print(__doc__.split("\n\n")[0])
    print(machine())
    with tempfile.TemporaryDirectory(prefix="copilote-bench-") as tmp:
        path = Path(tmp) / "dashboard.db"
        t0 = time.perf_counter()
        counts = build(path)
        print(
            f"built in {time.perf_counter() - t0:.0f} s: "
            + ", ".join(f"{n:,} {t}" for t, n in counts.items())
        )
        run(
            path,
            "SCHEMA AS SHIPPED: ix_milestone_open_due ON milestone (due_on, project_id)"
            " WHERE done_on IS NULL",
        )
        narrow_index(path)
        run(
            path,
            "FOR COMPARISON: ix_milestone_open_due ON milestone (due_on) WHERE done_on IS NULL",
        )
    print(
        f"\ntarget: p95 <= 150 ms for the overdue view; load average now {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
