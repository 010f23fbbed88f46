"""Figure 1: one Engine.advance on SQLite vs the same statements through raw sqlite3.

A mini.yaml project goes back and forth (start_deployment: COPIL 1 held, framing note
delivered, >= 2 active partners, all checked; then reopen_framing with its comment), so
every timed call is one real, committed advance. The BASELINE replays, through the
``sqlite3`` module directly, the very statements Engine.advance issued (captured at the
driver, whoever issued them, SQLAlchemy or the engine's own SQL: same SQL, same
parameters, same count, ``executemany`` where the engine used it), on a copy of the same
database, with the same durability (WAL, synchronous=NORMAL, BEGIN IMMEDIATE ... COMMIT).
The version checks and outbox keys are shifted each time so every UPDATE hits its row and
every INSERT inserts. Engine and baseline rounds alternate in the same process. The
baseline does nothing else: no pool, no Python objects for rows, nothing decided.
"""

from __future__ import annotations

import sqlite3
import statistics
import tempfile
import time
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from _common import machine, paris, pct, registry, spread

from workflow.clock import FixedClock
from workflow.database import create_db_engine, migrate, read
from workflow.engine import Engine, NewProject, PartnerIn
from workflow.records import Records

ROUNDS = 7
CYCLES = 100  # per round: 100 x (start_deployment + reopen_framing) = 200 advances


def setup(path: Path) -> tuple[Engine, sa.Engine, int]:
    db = create_db_engine(f"sqlite:///{path}")
    migrate(db)
    engine = Engine(db, registry(), FixedClock(paris(2026, 5, 4, 8, 0)))
    records = Records(engine)
    pid = engine.create_project(
        NewProject(
            definition_id="mini",
            title="Projet bench",
            start_date=date(2026, 5, 4),
            pilot=PartnerIn("Pilote", "pilote@exemple.fr", "Pia Lote"),
        )
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


Statement = tuple[str, Any, bool]  # SQL, parameters (a list of rows when many), executemany


def _copy(parameters: Any) -> Any:
    """Named parameters (the engine's ``:name`` SQL) stay a mapping; positional ones a tuple."""
    return dict(parameters) if isinstance(parameters, Mapping) else tuple(parameters)


class _RecordingCursor(sqlite3.Cursor):
    """Records every statement run through it, as the driver received it."""

    log: list[Statement] | None = None

    def execute(self, sql: str, parameters: Any = (), /) -> _RecordingCursor:
        if _RecordingCursor.log is not None:
            _RecordingCursor.log.append((sql, _copy(parameters), False))
        return super().execute(sql, parameters)

    def executemany(self, sql: str, rows: Any, /) -> _RecordingCursor:
        rows = [_copy(r) for r in rows]
        if _RecordingCursor.log is not None:
            _RecordingCursor.log.append((sql, rows, True))
        return super().executemany(sql, rows)


class _RecordingConnection(sqlite3.Connection):
    def cursor(self, factory: Any = _RecordingCursor) -> Any:
        return super().cursor(factory)

    def execute(self, sql: str, parameters: Any = (), /) -> Any:
        return self.cursor().execute(sql, parameters)


def capture(db: sa.Engine, engine: Engine, pid: int) -> tuple[list[list[Statement]], int]:
    """The statements of one forward and one backward advance, and the version before them.

    Captured at the driver: for the capture only, the engine's connections are sqlite3
    connections that record every ``execute``/``executemany`` (whether SQLAlchemy or the
    engine's hand-written SQL issued it); the pool is emptied before and after, so the
    timed rounds run on plain sqlite3 connections.
    """
    with read(db) as conn:
        version = conn.execute(
            sa.text("SELECT version FROM project WHERE id=:i"), {"i": pid}
        ).scalar_one()
    advances: list[list[Statement]] = [[], []]

    def recording(dialect, conn_rec, cargs, cparams):  # type: ignore[no-untyped-def]
        cparams["factory"] = _RecordingConnection

    sa.event.listen(db, "do_connect", recording)
    db.dispose()
    with db.connect():  # the new connection's PRAGMAs are not part of an advance
        pass
    try:
        _RecordingCursor.log = advances[0]
        engine.advance(pid, "start_deployment", actor="Pia Lote")
        _RecordingCursor.log = advances[1]
        engine.advance(pid, "reopen_framing", actor="Pia Lote", comment="retour au cadrage")
    finally:
        _RecordingCursor.log = None
        sa.event.remove(db, "do_connect", recording)
        db.dispose()
    for advance in advances:
        if not advance or advance[0][0] != "BEGIN IMMEDIATE":
            raise RuntimeError(f"the capture does not start with BEGIN IMMEDIATE: {advance[:1]}")
    return advances, version


def raw_connection(path: Path) -> sqlite3.Connection:
    con = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    for pragma in (
        "journal_mode=WAL",
        "synchronous=NORMAL",
        "foreign_keys=ON",
        "busy_timeout=30000",
    ):
        con.execute(f"PRAGMA {pragma}")
    return con


SELECT, MOVE, OUTBOX, OTHER = range(4)


def _kind(statement: str) -> int:
    if statement.lstrip().upper().startswith("SELECT"):
        return SELECT
    if statement.startswith("UPDATE project SET phase"):
        return MOVE  # ... version = :new_version WHERE id = :id AND version = :version
    if statement.startswith("INSERT INTO outbox"):
        return OUTBOX  # key "transition:{project}:{version}:{email}" first
    return OTHER


class Replay:
    """Replays captured advances; shift = how many versions later than the capture we are."""

    def __init__(
        self, con: sqlite3.Connection, advances: list[list[Statement]], version: int, shift: int
    ) -> None:
        self.con, self.version, self.shift = con, version, shift
        # What each statement is, worked out once: the timed replay only shifts and runs.
        self.advances = [
            [(sql, params, many, _kind(sql)) for sql, params, many in a] for a in advances
        ]

    def _params(self, kind: int, params: Any) -> Any:
        s = self.shift
        if kind == MOVE:
            if isinstance(params, dict):  # the engine names its parameters
                return {
                    **params,
                    "new_version": params["new_version"] + s,
                    "version": params["version"] + s,
                }
            return (*params[:-3], params[-3] + s, params[-2], params[-1] + s)
        if kind == OUTBOX:
            _, pid, v, rest = params[0].split(":", 3)
            return (f"transition:{pid}:{int(v) + s}:{rest}", *params[1:])
        return params

    def advance(self, which: int) -> None:
        cur = self.con.cursor()
        for statement, params, many, kind in self.advances[which]:  # BEGIN IMMEDIATE first
            if many:
                cur.executemany(statement, [self._params(kind, p) for p in params])
                continue
            cur.execute(statement, self._params(kind, params) if kind else params)
            if kind == SELECT:
                cur.fetchall()
            elif kind == MOVE and cur.rowcount != 1:
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
    for _ in range(20):  # warm-up of both again: the capture left the engine new connections
        replay.cycle([])
        cycle(engine, pid, [])

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
    print(
        f"bench/advance.py  ({machine()}, SQLite {sqlite3.sqlite_version}, WAL, synchronous=NORMAL)"
    )
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
