"""The advance's hot path: hand-written SQL on the driver (workflow.database.Raw/write), the
lifecycle's kept answers, the partners read once. Same results as the SQLAlchemy path."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import paris
from tests.test_engine import new_mini, ready_to_deploy
from workflow import tables
from workflow.clock import FixedClock
from workflow.conditions import project_partners
from workflow.database import create_db_engine, migrate, raw, write
from workflow.engine import Engine
from workflow.lifecycle import SUSPENDED, Lifecycle, ProjectState
from workflow.loader import DefinitionRegistry
from workflow.outbox import _ITEMS, decode, encode
from workflow.planner import schedule
from workflow.records import Records


def test_what_the_driver_writes_sqlalchemy_reads_and_back(
    engine: Engine, records: Records, db: sa.Engine, clock: FixedClock
) -> None:
    pid = new_mini(engine)
    ready_to_deploy(records, pid)
    clock.set(paris(2026, 6, 15, 10, 30, 15))
    engine.advance(pid, "start_deployment", actor="Anne", comment="COPIL 1 favorable")
    with db.connect() as conn:  # written by the engine on the driver, read through Core
        history = conn.execute(
            sa.select(tables.history).order_by(tables.history.c.id.desc())
        ).first()
        assert history is not None
        assert history.at == paris(2026, 6, 15, 10, 30, 15) and history.at.tzinfo is not None
        project = conn.execute(sa.select(tables.project).where(tables.project.c.id == pid)).one()
        assert (project.phase, project.version, project.auto_due_on) == (
            "deploiement",
            2,
            date(2026, 11, 30),
        )
        assert project.phase_entered_at == paris(2026, 6, 15, 10, 30, 15)
        items = (
            conn.execute(
                sa.select(tables.outbox.c["items"]).where(tables.outbox.c.kind == "phase_changed")
            )
            .scalars()
            .first()
        )
        item = decode(items)[0]
        assert (item["from_phase"], item["to_phase"], item["at"]) == (
            "Cadrage",
            "Déploiement",
            clock.now(),
        )
    with db.begin() as conn:  # written through Core, read on the driver
        partners = project_partners(conn, pid)
        current = engine._current(raw(conn), pid)
    assert [(p.organisation, p.roles, p.joined_on, p.left_on) for p in partners] == [
        ("DD 93", ["pilot", "copil"], date(2026, 5, 4), None),
        ("ARS Île-de-France", ["agency"], date(2026, 5, 4), None),
        ("Asso A", ["partner", "copil"], date(2026, 5, 4), None),
        ("Asso B", ["partner"], date(2026, 5, 4), None),
    ]
    assert current.phase_entered_at == paris(2026, 6, 15, 10, 30, 15)
    assert current.start_date == date(2026, 5, 4)


def test_write_commits_rolls_back_and_raises_sqlalchemy_errors(
    engine: Engine, db: sa.Engine
) -> None:
    pid = new_mini(engine)
    due = datetime(2026, 7, 1, 7, tzinfo=UTC)
    with write(db) as w:
        schedule(w, project_id=pid, occasion="test:kept", kind="test", chain="test", due_at=due)
        schedule(
            w,
            project_id=pid,
            occasion="test:kept",
            kind="test",
            chain="other",
            due_at=due.replace(hour=9),
        )
    with pytest.raises(RuntimeError), write(db) as w:
        schedule(w, project_id=pid, occasion="test:dropped", kind="test", chain="test", due_at=due)
        raise RuntimeError("disk full")
    with pytest.raises(sa.exc.IntegrityError), write(db) as w:
        w.execute(
            'INSERT INTO history (project_id, at, actor, "trigger", from_phase, to_phase)'
            " VALUES (?, ?, ?, ?, ?, ?)",
            (pid, w.instant(due), None, "x", "a", "b"),
        )
    with pytest.raises(ValueError, match="naive"), write(db) as w:
        w.instant(datetime(2026, 7, 1, 7))
    with db.connect() as conn:
        rows = conn.execute(
            sa.select(
                tables.reminder.c.occasion, tables.reminder.c.chain, tables.reminder.c.due_at
            ).where(tables.reminder.c.kind == "test")
        ).all()
    assert rows == [("test:kept", "test", due)]  # the first plan of an occasion stays


def test_advance_reads_each_thing_once(
    sqlite_url: str, registry: DefinitionRegistry, clock: FixedClock
) -> None:
    db = create_db_engine(sqlite_url)
    migrate(db)
    engine = Engine(db, registry, clock)
    pid = new_mini(engine)
    ready_to_deploy(Records(engine), pid)
    db.dispose()
    statements: list[str] = []
    sa.event.listen(
        db, "connect", lambda dbapi, _record: dbapi.set_trace_callback(statements.append)
    )
    engine.advance(pid, "start_deployment", actor="Anne")
    db.dispose()
    body = statements[statements.index("BEGIN IMMEDIATE") :]
    assert body[-1] == "COMMIT"
    assert sum("FROM partner" in s for s in body) == 1  # conditions and notices share them
    assert sum(s.startswith("SELECT") and "FROM project" in s for s in body) == 1
    assert sum(s.startswith("UPDATE project") for s in body) == 1  # auto_due_on included
    assert len(body) == len(set(body))


def test_items_are_encoded_as_the_outbox_encodes_them() -> None:
    items = [
        {
            "at": paris(2026, 3, 30, 9, 15),
            "due": date(2026, 3, 31),
            "moved": None,
            "nested": {"list": [date(2026, 1, 1), ("a", 1)], "text": "Déploiement"},
        }
    ]
    assert _ITEMS.encode(items) == json.dumps(encode(items))
    assert decode(json.loads(_ITEMS.encode(items))) == [
        {**items[0], "nested": {"list": [date(2026, 1, 1), ["a", 1]], "text": "Déploiement"}}
    ]


@pytest.mark.parametrize("definition_id", ["acia", "cooperative", "aceso", "unapei", "mini"])
def test_the_lifecycle_keeps_the_machines_answers(
    registry: DefinitionRegistry, definition_id: str
) -> None:
    definition = registry.get(definition_id)
    lifecycle = Lifecycle(definition)
    phases = [*lifecycle.machine.states]
    triggers = [*lifecycle.machine.events, "fly_away"]
    for _ in range(2):  # the second time from what was kept
        for phase in phases:
            for trigger in triggers:
                kept, fresh = ProjectState(phase), ProjectState(phase)
                assert (lifecycle.fire(kept, trigger), kept.state) == (
                    lifecycle._run(fresh, trigger),
                    fresh.state,
                )
    refused = ProjectState(definition.initial, unmet=["COPIL 1 not held"])
    step = next(t.trigger for t in definition.transitions if definition.initial in t.source)
    assert not lifecycle.fire(refused, step) and refused.state == definition.initial


def test_named_parameters_on_the_driver(db: sa.Engine) -> None:
    """``:name`` parameters with a mapping (``%(name)s`` on PostgreSQL, translated once);
    a ``:`` or ``%`` inside a literal and a ``::`` cast are left alone."""
    with db.connect() as conn:
        sql = (
            "SELECT CAST(:a AS TEXT) || ':b' || '%', CAST(:a AS TEXT), CAST(:n AS INTEGER) + 1"
            + ("" if db.dialect.name == "sqlite" else ", CAST('7' AS TEXT)::integer")
        )
        row = raw(conn).execute(sql, {"a": "x", "n": 41}).fetchone()
        assert tuple(row[:3]) == ("x:b%", "x", 42)
        assert db.dialect.name == "sqlite" or row[3] == 7
        assert raw(conn).execute("SELECT ? + 1", (1,)).fetchone()[0] == 2  # ``?`` still works


def test_the_phase_update_of_each_kind_of_move(
    engine: Engine, records: Records, db: sa.Engine, clock: FixedClock
) -> None:
    """Entering a phase stamps it and sets when its automatic step is due; a suspension keeps
    both; a resume stamps the phase again but keeps the automatic step's date."""
    pid = new_mini(engine)
    ready_to_deploy(records, pid)

    def state() -> tuple[Any, ...]:
        with db.connect() as conn:
            p = conn.execute(sa.select(tables.project).where(tables.project.c.id == pid)).one()
        return p.phase, p.suspended_from, p.phase_entered_at, p.auto_due_on, p.version

    def open_due() -> tuple[Any, Any]:
        """The project's ``open_due`` as the move wrote it, and as its definition says: the
        earliest due date of its milestones not done."""
        m = tables.milestone.c
        with db.connect() as conn:
            kept = conn.execute(
                sa.select(tables.project.c.open_due).where(tables.project.c.id == pid)
            ).scalar_one()
            earliest = conn.execute(
                sa.select(sa.func.min(m.due_on)).where(m.project_id == pid, m.done_on.is_(None))
            ).scalar_one()
        return kept, earliest

    before = open_due()
    assert before[0] == before[1]
    clock.set(paris(2026, 6, 15, 10, 0))
    engine.advance(pid, "start_deployment", actor="Anne", comment="COPIL 1 favorable")
    entered = paris(2026, 6, 15, 10, 0)
    assert state() == ("deploiement", None, entered, date(2026, 11, 30), 2)
    # the phase's UPDATE lowered it to the milestones deploiement opened
    after = open_due()
    assert after[0] == after[1] is not None and after != before
    clock.set(paris(2026, 7, 1, 10, 0))
    engine.advance(pid, "suspend", actor="Anne", comment="attente du financement")
    assert state() == (SUSPENDED, "deploiement", entered, date(2026, 11, 30), 3)
    clock.set(paris(2026, 7, 10, 10, 0))
    engine.advance(pid, "resume", actor="Anne")
    assert state() == ("deploiement", None, paris(2026, 7, 10, 10, 0), date(2026, 11, 30), 4)
    assert open_due() == after  # a suspension and a resume open nothing
