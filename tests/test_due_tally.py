"""The open milestones of the projects in progress per programme and day (workflow/due_tally.py):
kept by each writer, it always equals the rule read afresh from the milestones, and the
dashboard's overdue count read from it equals the milestones counted one by one."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa

from tests.conftest import FIXTURES
from tests.test_engine import PILOT, new_mini, ready_to_deploy
from workflow import due_tally, tables
from workflow.clock import FixedClock
from workflow.database import read
from workflow.engine import Engine, NewProject
from workflow.loader import load_definition
from workflow.migration import apply_migration
from workflow.read_models.portfolio import Filters, overdue_milestones
from workflow.records import Records


def kept_and_rule(engine: Engine) -> tuple[dict[Any, int], dict[Any, int]]:
    """The table as the writers left it, and as the rule reads the milestones now (days
    counted zero are the same as no row)."""
    t = tables.due_tally.c
    with read(engine.db) as conn:
        kept = {
            (d, day): n
            for d, day, n in conn.execute(sa.select(t.definition_id, t.due_on, t.open_milestones))
            if n
        }
        rule = {(d, day): n for d, day, n in conn.execute(due_tally.counted(engine.registry))}
    return kept, rule


def assert_kept(engine: Engine) -> dict[Any, int]:
    kept, rule = kept_and_rule(engine)
    assert kept == rule
    return kept


def test_every_writer_keeps_the_tally_equal_to_the_rule(
    engine: Engine, records: Records, clock: FixedClock
) -> None:
    assert assert_kept(engine) == {}
    pid = new_mini(engine)
    other = new_mini(engine)
    kept = assert_kept(engine)
    assert kept == {("mini", date(2026, 6, 30)): 2}  # the framing sheet of each project
    ready_to_deploy(records, pid)  # records the framing sheet done
    assert assert_kept(engine) == {("mini", date(2026, 6, 30)): 1}
    records.reopen_milestone(pid, "fiche_cadrage", by="Anne", comment="pas la bonne version")
    assert assert_kept(engine) == {("mini", date(2026, 6, 30)): 2}
    records.milestone_done(pid, "fiche_cadrage", by="Anne Martin", deliverable_ref="GED-13")
    engine.advance(pid, "start_deployment", actor="Anne")  # opens the diagnosis, due in 6 weeks
    kept = assert_kept(engine)
    assert sum(kept.values()) == 2 and len(kept) == 2
    engine.advance(pid, "suspend", actor="Anne", comment="travaux")
    assert assert_kept(engine) == {("mini", date(2026, 6, 30)): 1}  # the other project's
    # a milestone recorded done in a suspended project was not counted: nothing to take away
    records.milestone_done(pid, "diagnostic", by="Asso A")
    records.reopen_milestone(pid, "diagnostic", by="Anne", comment="incomplet")
    assert assert_kept(engine) == {("mini", date(2026, 6, 30)): 1}
    engine.advance(pid, "resume", actor="Anne")
    assert sum(assert_kept(engine).values()) == 2
    engine.advance(pid, "reopen_framing", actor="Anne", comment="à revoir")
    assert sum(assert_kept(engine).values()) == 2  # re-entering opens nothing new
    engine.advance(other, "abandon", actor="Anne", comment="fin du financement")
    assert sum(assert_kept(engine).values()) == 1


def test_a_migration_counts_the_project_as_its_new_version_says(
    engine: Engine, records: Records, tmp_path: Any
) -> None:
    pid = new_mini(engine)
    text = (FIXTURES / "mini.yaml").read_text(encoding="utf-8")
    v2 = text.replace("version: 1\n", "version: 2\n", 1).replace(
        "milestones:\n",
        "milestones:\n"
        "  - key: charte\n"
        "    label: Charte\n"
        "    label_en: Charter\n"
        "    phase: cadrage\n"
        "    responsible: pilot\n"
        '    deadline: {date: "07-15"}\n',
        1,
    )
    (tmp_path / "mini_v2.yaml").write_text(v2, encoding="utf-8")
    engine.registry.add(load_definition(tmp_path / "mini_v2.yaml"))
    apply_migration(engine, pid, 2, actor="Anne")
    assert assert_kept(engine) == {
        ("mini", date(2026, 6, 30)): 1,
        ("mini", date(2026, 7, 15)): 1,
    }


def test_the_overdue_count_read_from_the_tally_is_the_milestones_counted(
    engine: Engine, records: Records, clock: FixedClock
) -> None:
    late = [
        engine.create_project(
            NewProject(
                definition_id="cooperative",
                title=f"Coopérative {i}",
                territory="Bobigny" if i % 2 else "Pantin",
                start_date=date(2026, 1, 5),
                pilot=PILOT,
            )
        )
        for i in range(4)
    ]
    engine.advance(late[0], "suspend", actor="Anne", comment="travaux")
    engine.create_project(
        NewProject(
            definition_id="mini",
            title="Coopérative 93",
            territory="Pantin",
            start_date=date(2026, 5, 4),
            pilot=PILOT,
        )
    )
    clock.advance(timedelta(days=400))
    today = engine.today()
    assert_kept(engine)
    unfiltered = overdue_milestones(engine, today).total
    # the same count the long way: each territory's milestones, read one by one
    by_territory = sum(
        overdue_milestones(engine, today, Filters(territory=t)).total for t in ("Bobigny", "Pantin")
    )
    assert unfiltered == by_territory > 0
    programme = overdue_milestones(engine, today, Filters(programme="cooperative")).total
    by_phase = sum(
        overdue_milestones(engine, today, Filters(programme="cooperative", phase=p.key)).total
        for p in engine.definition("cooperative").phases
    )
    assert programme == by_phase > 0
    assert unfiltered > programme
