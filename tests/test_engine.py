"""The engine against SQLite and the real PostgreSQL server (the ``db_url`` fixture)."""

from __future__ import annotations

import multiprocessing
import multiprocessing.queues
import multiprocessing.synchronize
import threading
from datetime import date

import pytest
import sqlalchemy as sa

from tests.conftest import FIXTURES, ROOT, paris
from workflow import tables
from workflow.clock import FixedClock
from workflow.database import create_db_engine, migrate
from workflow.engine import Engine, NewProject, PartnerIn, StepNotAvailable
from workflow.errors import (
    ConflictError,
    InvalidInput,
    MigrationRefused,
    TransitionRefused,
    UnknownTrigger,
)
from workflow.loader import DefinitionRegistry, load_definition, load_directory, parse_definition
from workflow.migration import apply_migration, plan_migration
from workflow.progress import overdue_items
from workflow.records import Records

PILOT = PartnerIn("DD 93", "pilote@dd93.example.fr", "Anne Martin")
AGENCY = PartnerIn("ARS Île-de-France", "ars@ars.example.fr", "Chargé de programme", ("agency",))


def new_mini(engine: Engine) -> int:
    return engine.create_project(
        NewProject(
            definition_id="mini",
            title="Coopérative 93",
            start_date=date(2026, 5, 4),
            pilot=PILOT,
            agency=AGENCY,
            convention_start=date(2026, 5, 4),
        )
    )


def ready_to_deploy(records: Records, pid: int) -> None:
    records.add_partner(pid, PartnerIn("Asso A", "a@asso-a.example.fr", roles=("partner", "copil")))
    records.add_partner(pid, PartnerIn("Asso B", "b@asso-b.example.fr"))
    records.meeting_held(pid, occurrence="copil_1")
    records.milestone_done(pid, "fiche_cadrage", by="Anne Martin", deliverable_ref="GED-12")


def count(db: sa.Engine, table: sa.Table) -> int:
    with db.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def test_refusal_lists_every_unmet_condition_and_changes_nothing(
    engine: Engine, db: sa.Engine
) -> None:
    pid = new_mini(engine)
    history, outbox = count(db, tables.history), count(db, tables.outbox)
    with pytest.raises(TransitionRefused) as refused:
        engine.advance(pid, "start_deployment", actor="Anne")
    assert [str(u) for u in refused.value.unmet] == [
        "COPIL 1 not held",
        "Fiche de cadrage not delivered",
        "0 active partner(s), at least 2 needed",
    ]
    assert "COPIL 1 not held; Fiche de cadrage not delivered" in str(refused.value)
    assert (count(db, tables.history), count(db, tables.outbox)) == (history, outbox)
    with db.connect() as conn:
        assert conn.execute(sa.select(tables.project.c.phase)).scalar() == "cadrage"


def test_accepted_advance_writes_phase_history_and_schedules(
    engine: Engine, records: Records, db: sa.Engine, clock: FixedClock
) -> None:
    pid = new_mini(engine)
    ready_to_deploy(records, pid)
    clock.set(paris(2026, 6, 15, 10))
    result = engine.advance(
        pid, "start_deployment", actor="Anne Martin", comment="COPIL 1 favorable"
    )
    assert (result.from_phase, result.to_phase) == ("cadrage", "deploiement")
    with db.connect() as conn:
        h = conn.execute(sa.select(tables.history).order_by(sa.desc("id"))).first()
        assert h is not None
        assert (h.actor, h.from_phase, h.to_phase, h.comment) == (
            "Anne Martin",
            "cadrage",
            "deploiement",
            "COPIL 1 favorable",
        )
        assert h.at == clock.now()
        # The new phase's milestone opened with its deadline: 6 weeks after entering the phase.
        due = conn.execute(
            sa.select(tables.milestone.c.due_on).where(tables.milestone.c.key == "diagnostic")
        ).scalar()
        assert due == date(2026, 7, 27)
        kinds = set(conn.execute(sa.select(tables.outbox.c.kind)).scalars())
        assert "phase_changed" in kinds


def test_failure_mid_transaction_leaves_nothing_half_written(
    engine: Engine, records: Records, db: sa.Engine
) -> None:
    pid = new_mini(engine)
    ready_to_deploy(records, pid)
    before = (count(db, tables.history), count(db, tables.milestone), count(db, tables.outbox))

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    engine.planner.on_transition = broken  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        engine.advance(pid, "start_deployment", actor="Anne")
    assert (
        count(db, tables.history),
        count(db, tables.milestone),
        count(db, tables.outbox),
    ) == before
    with db.connect() as conn:
        assert conn.execute(sa.select(tables.project.c.phase, tables.project.c.version)).one() == (
            "cadrage",
            1,
        )


def test_suspend_resume_abandon_and_backward_steps(engine: Engine, records: Records) -> None:
    pid = new_mini(engine)
    ready_to_deploy(records, pid)
    engine.advance(pid, "start_deployment", actor="Anne")
    with pytest.raises(TransitionRefused, match="comment"):
        engine.advance(pid, "suspend", actor="Anne")
    engine.advance(pid, "suspend", actor="Anne", comment="départ de la coordinatrice")
    with pytest.raises(StepNotAvailable):
        engine.advance(pid, "start_assessment", actor="Anne")
    assert engine.advance(pid, "resume", actor="Anne").to_phase == "deploiement"
    with pytest.raises(TransitionRefused, match="comment saying why"):
        engine.advance(pid, "reopen_framing", actor="Anne")
    assert (
        engine.advance(
            pid, "reopen_framing", actor="Anne", comment="diagnostic à reprendre"
        ).to_phase
        == "cadrage"
    )
    assert (
        engine.advance(pid, "abandon", actor="Anne", comment="fin du financement").to_phase
        == "abandonne"
    )
    with pytest.raises(StepNotAvailable):
        engine.advance(pid, "resume", actor="Anne")
    with pytest.raises(UnknownTrigger):
        engine.advance(pid, "fly_away", actor="Anne")


def test_conflict_when_the_phase_moved_meanwhile(engine: Engine, records: Records) -> None:
    pid = new_mini(engine)
    ready_to_deploy(records, pid)
    engine.advance(pid, "start_deployment", actor="Anne")
    with pytest.raises(ConflictError, match="now in phase 'deploiement'"):
        engine.advance(pid, "start_deployment", actor="Bob", expected_phase="cadrage")


def test_conflict_on_the_version_read_even_when_the_phase_is_back(
    engine: Engine, records: Records
) -> None:
    """Suspended then resumed meanwhile: the phase is the same, the version is not."""
    pid = new_mini(engine)
    ready_to_deploy(records, pid)
    engine.advance(pid, "suspend", actor="Anne", comment="attente du financement")
    engine.advance(pid, "resume", actor="Anne")
    with engine.db.connect() as conn:
        assert engine.project_row(conn, pid).phase == "cadrage"
    with pytest.raises(ConflictError, match="you read version 1; it is now version 3"):
        engine.advance(
            pid, "start_deployment", actor="Bob", expected_phase="cadrage", expected_version=1
        )
    with engine.db.connect() as conn:
        after = engine.project_row(conn, pid)
    assert (after.phase, after.version) == ("cadrage", 3)
    assert (
        engine.advance(pid, "start_deployment", actor="Bob", expected_version=3).to_phase
        == "deploiement"
    )


def test_concurrent_advances_threads_exactly_one_wins(
    db_url: str, registry: DefinitionRegistry, clock: FixedClock
) -> None:
    db = create_db_engine(db_url, pool_size=10)
    migrate(db)
    engine = Engine(db, registry, clock)
    records = Records(engine)
    pids = [new_mini(engine) for _ in range(5)]
    for pid in pids:
        ready_to_deploy(records, pid)
    for pid in pids:
        barrier = threading.Barrier(8)
        outcomes: list[str] = []

        def attempt(
            pid: int = pid, barrier: threading.Barrier = barrier, outcomes: list[str] = outcomes
        ) -> None:
            barrier.wait()
            try:
                engine.advance(pid, "start_deployment", actor=threading.current_thread().name)
                outcomes.append("ok")
            except ConflictError as exc:
                assert exc.current_phase == "deploiement"
                outcomes.append("conflict")

        threads = [threading.Thread(target=attempt) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(outcomes) == ["conflict"] * 7 + ["ok"]
        with db.connect() as conn:
            steps = conn.execute(
                sa.select(sa.func.count()).where(
                    tables.history.c.project_id == pid,
                    tables.history.c.trigger == "start_deployment",
                )
            ).scalar()
        assert steps == 1
    db.dispose()


def _advance_in_process(
    db_url: str,
    pid: int,
    start: multiprocessing.synchronize.Event,
    queue: multiprocessing.queues.Queue[str],
) -> None:
    registry = load_directory(ROOT / "definitions")
    registry.add(load_definition(FIXTURES / "mini.yaml"))
    engine = Engine(create_db_engine(db_url), registry, FixedClock(paris(2026, 5, 20, 9)))
    start.wait()
    try:
        engine.advance(pid, "start_deployment", actor="process")
        queue.put("ok")
    except ConflictError as exc:
        queue.put(f"conflict:{exc.current_phase}")


def test_concurrent_advances_processes_exactly_one_wins(
    db_url: str, registry: DefinitionRegistry, clock: FixedClock
) -> None:
    db = create_db_engine(db_url)
    migrate(db)
    engine = Engine(db, registry, clock)
    pid = new_mini(engine)
    ready_to_deploy(Records(engine), pid)
    ctx = multiprocessing.get_context("spawn")
    start, queue = ctx.Event(), ctx.Queue()
    procs = [
        ctx.Process(target=_advance_in_process, args=(db_url, pid, start, queue)) for _ in range(4)
    ]
    for p in procs:
        p.start()
    start.set()
    for p in procs:
        p.join(timeout=60)
    outcomes = sorted(queue.get(timeout=5) for _ in procs)
    assert outcomes == ["conflict:deploiement"] * 3 + ["ok"]
    db.dispose()


def test_timed_transition_fires_or_flags_overdue(
    engine: Engine, records: Records, clock: FixedClock
) -> None:
    pid = new_mini(engine)
    ready_to_deploy(records, pid)
    engine.advance(pid, "start_deployment", actor="Anne")
    clock.set(paris(2026, 11, 30, 9))
    assert engine.run_timed_transitions() == [
        f"project {pid}: flagged overdue (decision 'go_bilan' not recorded)"
    ]
    items = overdue_items(engine, date(2026, 12, 1), pid)
    assert any(i.kind == "automatic_step" and "go_bilan" in i.label for i in items)
    records.record_decision(pid, "go_bilan", by="COPIL")
    clock.set(paris(2026, 12, 1, 9))
    assert engine.run_timed_transitions() == [f"project {pid}: start_assessment done automatically"]
    with engine.db.connect() as conn:
        assert conn.execute(sa.select(tables.project.c.phase)).scalar() == "bilan"


def test_overdue_milestone_since_and_responsible(engine: Engine) -> None:
    pid = new_mini(engine)
    items = overdue_items(engine, date(2026, 7, 11), pid)
    late = [i for i in items if i.kind == "milestone"]
    assert [(i.label, i.since, i.days_late(date(2026, 7, 11)), i.responsible) for i in late] == [
        ("Fiche de cadrage", date(2026, 7, 1), 10, "Pilote de projet")
    ]


def test_bad_input_is_refused_with_the_field(engine: Engine, records: Records) -> None:
    with pytest.raises(InvalidInput, match="variant"):
        engine.create_project(
            NewProject(definition_id="acia", title="X", start_date=date(2026, 5, 4), pilot=PILOT)
        )
    with pytest.raises(InvalidInput, match=r"pilot\.email"):
        engine.create_project(
            NewProject(
                definition_id="mini",
                title="X",
                start_date=date(2026, 5, 4),
                pilot=PartnerIn("DD", "pas-une-adresse"),
            )
        )
    pid = new_mini(engine)
    with pytest.raises(InvalidInput, match="roles"):
        records.add_partner(pid, PartnerIn("Asso", "x@asso.fr", roles=("sponsor",)))
    with pytest.raises(InvalidInput, match="milestone"):
        records.milestone_done(pid, "nope", by="x")


def test_funding_rule_and_partner_leaves_at_annual_deadline(
    engine: Engine, records: Records, clock: FixedClock
) -> None:
    from workflow.models import funding_instrument

    assert funding_instrument(22_999_99) == "decision"
    assert funding_instrument(23_000_00) == "convention"
    assert funding_instrument(None) is None
    pid = new_mini(engine)
    partner = records.add_partner(pid, PartnerIn("Asso A", "a@asso-a.example.fr"))
    clock.set(paris(2026, 9, 10, 9))
    assert records.partner_leaves(pid, partner) == date(2027, 5, 4)


def test_project_migration_shows_changes_and_applies_when_asked(
    engine: Engine, registry: DefinitionRegistry
) -> None:
    pid = new_mini(engine)
    text = (FIXTURES / "mini.yaml").read_text(encoding="utf-8")
    v2 = text.replace("version: 1", "version: 2").replace(
        "  - key: diagnostic\n",
        "  - key: lettre_engagement\n    label: Lettre d'engagement\n"
        "    label_en: Letter of commitment\n    phase: cadrage\n"
        '    responsible: pilot\n    deadline: {after: phase_start, offset: "2 weeks"}\n  - key: diagnostic\n',
    )
    registry.add(parse_definition(v2, "mini.v2.yaml"))
    plan = plan_migration(engine, pid)
    assert plan.to_version == 2 and plan.blocker is None
    assert "milestone added: Lettre d'engagement (lettre_engagement)" in plan.changes
    with engine.db.connect() as conn:  # nothing applied yet
        assert conn.execute(sa.select(tables.project.c.definition_version)).scalar() == 1
    apply_migration(engine, pid, None, actor="Anne")
    with engine.db.connect() as conn:
        assert conn.execute(sa.select(tables.project.c.definition_version)).scalar() == 2
        keys = set(conn.execute(sa.select(tables.milestone.c.key)).scalars())
    assert "lettre_engagement" in keys
    v3 = (
        v2.replace("version: 2", "version: 3")
        .replace("key: cadrage\n    label: Cadrage", "key: framing\n    label: Cadrage")
        .replace("initial: cadrage", "initial: framing")
        .replace("source: cadrage", "source: framing")
        .replace("dest: cadrage", "dest: framing")
        .replace("phase: cadrage", "phase: framing")
    )
    registry.add(parse_definition(v3, "mini.v3.yaml"))
    with pytest.raises(MigrationRefused, match="'cadrage' no longer exists"):
        apply_migration(engine, pid, 3, actor="Anne")


def test_save_reload_continue(db_url: str, registry: DefinitionRegistry, clock: FixedClock) -> None:
    """A fresh engine on the same database continues where the first left off."""
    first = Engine(create_db_engine(db_url), registry, clock)
    migrate(first.db)
    pid = new_mini(first)
    ready_to_deploy(Records(first), pid)
    first.db.dispose()
    second = Engine(create_db_engine(db_url), registry, clock)
    assert second.check(pid, "start_deployment") == []
    assert second.advance(pid, "start_deployment", actor="Anne").to_phase == "deploiement"
    second.db.dispose()


def test_machines_are_shared_per_definition_version(engine: Engine) -> None:
    a, b = new_mini(engine), new_mini(engine)
    assert engine.lifecycle("mini", 1) is engine.lifecycle("mini", 1)
    assert a != b and len(engine._lifecycles) == 1
    assert engine.lifecycle("mini", 1).machine.models == []  # no project is resident in the machine


def test_the_whole_engine_ignores_the_wall_clock() -> None:
    """Only SystemClock reads the wall clock in workflow/."""
    for path in (ROOT / "workflow").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        if path.name == "clock.py":
            continue
        for forbidden in ("datetime.now(", "date.today(", "time.time(", "datetime.utcnow("):
            assert forbidden not in text, f"{path.name} reads the wall clock ({forbidden})"


def test_step_not_available_is_an_engine_error_with_its_context() -> None:
    from workflow import engine as engine_module
    from workflow import errors

    assert engine_module.StepNotAvailable is errors.StepNotAvailable
    refused = errors.StepNotAvailable(7, "resume", "cadrage", ["suspend", "abandon"])
    assert isinstance(refused, errors.ConflictError)
    assert (refused.project_id, refused.trigger, refused.current_phase, refused.allowed) == (
        7,
        "resume",
        "cadrage",
        ["suspend", "abandon"],
    )
    assert "'resume' is not possible from 'cadrage'; possible from here: suspend, abandon" in str(
        refused
    )


def test_a_new_project_is_one_value() -> None:
    new = NewProject(definition_id="mini", title="X", start_date=date(2026, 5, 4), pilot=PILOT)
    assert (new.variant, new.version, new.lang, new.actor) == (None, None, "fr", "")
    with pytest.raises(TypeError):
        NewProject("mini", "X", date(2026, 5, 4), PILOT)  # type: ignore[call-arg]
