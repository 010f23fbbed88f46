"""Figure 1: one Engine.advance on SQLite vs the same statements through raw sqlite3.

A mini.yaml project goes back and forth (start_deployment: COPIL 1 held, framing note
delivered, >= 2 active partners, all checked; then reopen_framing with its comment), so
every timed call is one real, committed advance. The BASELINE replays, through the
``sqlite3`` module directly, the very statements Engine.advance issued (captured with a
SQLAlchemy cursor event: same SQL, same parameters, same count), on a copy of the same
database, with the same durability (WAL, synchronous=NORMAL, BEGIN IMMEDIATE ... COMMIT).
The version checks and outbox keys are shifted each time so every UPDATE hits its row and
every INSERT inserts. Engine and baseline rounds alternate in the same process.
"""

from __future__ import annotations

import sqlite3
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

import sqlalchemy as sa
from _common import machine, paris, pct, registry, spread

from workflow.clock import FixedClock
from workflow.database import create_db_engine, migrate, read
from workflow.engine import Engine, PartnerIn
from workflow.records import Records

ROUNDS = 7
CYCLES = 100  # per round: 100 x (start_deployment + reopen_framing) = 200 advances


def setup(path: Path) -> tuple[Engine, sa.Engine, int]:
    db = create_db_engine(f"sqlite:///{path}")
    migrate(db)
    engine = Engine(db, registry(), FixedClock(paris(2026, 5, 4, 8, 0)))
    records = Records(engine)
    pid = engine.create_project(
        definition_id="mini",
        title="Projet bench",
        start_date=date(2026, 5, 4),
        pilot=PartnerIn("Pilote", "pilote@exemple.fr", "Pia Lote"),
    )
    records.add_partner(pid, PartnerIn("Structure A", "a@exemple.fr", "Anne"))
    records.add_partner(pid, PartnerIn("Structure B", "b@exemple.fr", "Bert"))
    records.milestone_done(pid, "fiche_cadrage", by="Pia Lote")
    records.meeting_held(pid, occurrence="copil_1")
    assert engine.check(pid, "start_deployment") == []
    return engine, db, pid


def cycle(engine: Engine, pid: int, times: list[float]) -> None:
    t0 = time.perf_counter()
    engine.advance(pid, "start_deployment", actor="Pia Lote")
    t1 = time.perf_counter()
    engine.advance(pid, "reopen_framing", actor="Pia Lote", comment="retour au cadrage")
    t2 = time.perf_counter()
    times += [t1 - t0, t2 - t1]


def capture(db: sa.Engine, engine: Engine, pid: int) -> tuple[list[list[tuple[str, tuple]]], int]:
    """The statements of one forward and one backward advance, and the version before them."""
    with read(db) as conn:
        version = conn.execute(sa.text("SELECT version FROM project WHERE id=:i"), {"i": pid}).scalar_one()
    advances: list[list[tuple[str, tuple]]] = [[], []]
    current = advances[0]

    def listener(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        assert not executemany
        current.append((statement, tuple(parameters)))

    sa.event.listen(db, "before_cursor_execute", listener)
    engine.advance(pid, "start_deployment", actor="Pia Lote")
    current = advances[1]
    engine.advance(pid, "reopen_framing", actor="Pia Lote", comment="retour au cadrage")
    sa.event.remove(db, "before_cursor_execute", listener)
    return advances, version


def raw_connection(path: Path) -> sqlite3.Connection:
    con = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=30000"):
        con.execute(f"PRAGMA {pragma}")
    return con


class Replay:
    """Replays captured advances; shift = how many versions later than the capture we are."""

    def __init__(self, con: sqlite3.Connection, advances, version: int, shift: int) -> None:  # type: ignore[no-untyped-def]
        self.con, self.advances, self.version, self.shift = con, advances, version, shift

    def _params(self, statement: str, params: tuple) -> tuple:
        s = self.shift
        if statement.startswith("UPDATE project SET phase="):
            return (*params[:5], params[5] + s, params[6], params[7] + s)
        if statement.startswith("INSERT INTO outbox"):
            _, pid, v, rest = params[0].split(":", 3)
            return (f"transition:{pid}:{int(v) + s}:{rest}", *params[1:])
        return params

    def advance(self, which: int) -> None:
        cur = self.con.cursor()
        for statement, params in self.advances[which]:  # BEGIN IMMEDIATE is the first
            cur.execute(statement, self._params(statement, params))
            if statement.lstrip().upper().startswith("SELECT"):
                cur.fetchall()
            elif statement.startswith("UPDATE project SET phase=") and cur.rowcount != 1:
                raise RuntimeError("baseline lost its version check")
        cur.execute("COMMIT")

    def cycle(self, times: list[float]) -> None:
        t0 = time.perf_counter()
        self.advance(0)
        t1 = time.perf_counter()
        self.advance(1)
        t2 = time.perf_counter()
        times += [t1 - t0, t2 - t1]
        self.shift += 2


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="copilote-bench-"))
    engine, db, pid = setup(tmp / "engine.db")
    for _ in range(20):  # warm-up: statement caches, steady state (milestones, reminders exist)
        cycle(engine, pid, [])
    advances, version = capture(db, engine, pid)
    counts = [len(a) for a in advances]
    # the baseline database: a copy of the engine's, at the same point
    src = sqlite3.connect(tmp / "engine.db")
    dst = sqlite3.connect(tmp / "baseline.db")
    src.backup(dst)
    src.close()
    dst.close()
    replay = Replay(raw_connection(tmp / "baseline.db"), advances, version, shift=2)
    for _ in range(20):
        replay.cycle([])

    engine_rounds, base_rounds, engine_all, base_all = [], [], [], []
    for _ in range(ROUNDS):
        times: list[float] = []
        for _ in range(CYCLES):
            cycle(engine, pid, times)
        engine_rounds.append(statistics.median(times))
        engine_all += times
        times = []
        for _ in range(CYCLES):
            replay.cycle(times)
        base_rounds.append(statistics.median(times))
        base_all += times

    e_med, b_med = statistics.median(engine_rounds), statistics.median(base_rounds)
    print(f"bench/advance.py  ({machine()}, SQLite {sqlite3.sqlite_version}, WAL, synchronous=NORMAL)")
    print(
        f"statements per advance (BEGIN IMMEDIATE included, COMMIT excluded): "
        f"start_deployment {counts[0]}, reopen_framing {counts[1]} (engine and baseline alike)"
    )
    print(f"{ROUNDS} rounds x {2 * CYCLES} advances each; per-advance times")
    print(
        f"Engine.advance   median {e_med * 1e6:8.1f} us   p95 {pct(engine_all, 95) * 1e6:8.1f} us"
        f"   round medians {min(engine_rounds) * 1e6:.1f}..{max(engine_rounds) * 1e6:.1f} us"
        f" (spread {spread(engine_rounds)})"
    )
    print(
        f"BASELINE sqlite3 median {b_med * 1e6:8.1f} us   p95 {pct(base_all, 95) * 1e6:8.1f} us"
        f"   round medians {min(base_rounds) * 1e6:.1f}..{max(base_rounds) * 1e6:.1f} us"
        f" (spread {spread(base_rounds)})"
    )
    ratio = e_med / b_med
    print(f"ratio engine/baseline {ratio:.2f}  (target <= 3: {'met' if ratio <= 3 else 'MISSED'})")


if __name__ == "__main__":
    main()
