"""One bad project never stops the others (issue 10, finding 1).

Three ways a project breaks the due work: its reminders name a meeting series its definition
version no longer has (a migration that renamed it), its definition version is gone (a file
bumped in place) while an automatic step is due, its definition asks for an impossible date
(``digest_every_days: 99999999``). Each is flagged against its project; the healthy projects'
reminders are all turned into messages, and delivery still runs.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import paris
from tests.test_engine import new_mini
from workflow import tables
from workflow.clock import FixedClock
from workflow.definition import Definition
from workflow.driver import run_due
from workflow.engine import Engine
from workflow.failures import failed_projects
from workflow.loader import DefinitionRegistry
from workflow.migration import apply_migration, plan_migration
from workflow.records import Records
from workflow.sweep import Sweeper, SweepResult

HEALTHY = 5
TICK = paris(2026, 7, 2, 10, 0)  # fiche_cadrage (06-30) overdue; the COPIL of 07-03 in 2 days


def renamed_series(v1: Definition) -> Definition:
    """Version 2 of ``mini``: the meeting series ``copil`` renamed ``comite``."""
    meetings = [s.model_copy(update={"key": "comite"}) for s in v1.meetings]
    return v1.model_copy(update={"version": 2, "meetings": meetings})


def endless_digest(v1: Definition) -> Definition:
    """Version 3 of ``mini``: an overdue digest every 99,999,999 days (no date is that far)."""
    policy = v1.reminders.model_copy(update={"digest_every_days": 99_999_999})
    return v1.model_copy(update={"version": 3, "reminders": policy})


def with_versions(registry: DefinitionRegistry) -> DefinitionRegistry:
    v1 = registry.get("mini", 1)
    registry.add(renamed_series(v1))
    registry.add(endless_digest(v1))
    return registry


def set_project(db: sa.Engine, pid: int, **values: Any) -> None:
    with db.begin() as conn:
        conn.execute(sa.update(tables.project).where(tables.project.c.id == pid).values(**values))


def reminders(db: sa.Engine, pid: int) -> dict[str, str]:
    with db.connect() as conn:
        rows = conn.execute(
            sa.select(tables.reminder.c.occasion, tables.reminder.c.status).where(
                tables.reminder.c.project_id == pid, tables.reminder.c.due_at <= TICK
            )
        ).all()
    return {occasion: status for occasion, status in rows}


def queued_items(db: sa.Engine) -> int:
    """Items queued in all (one person's items of a day are one message across projects)."""
    with db.connect() as conn:
        return sum(
            len(items) for items in conn.execute(sa.select(tables.outbox.c["items"])).scalars()
        )


def new_with_copil(engine: Engine, records: Records) -> int:
    pid = new_mini(engine)
    records.schedule_meeting(pid, "copil", paris(2026, 7, 3, 14, 0), occurrence="copil_1")
    return pid


def broken_three_ways(engine: Engine, records: Records, db: sa.Engine) -> dict[str, int]:
    """Three projects created on version 1, then broken (versions 2 and 3 loaded after)."""
    renamed, gone, endless = (new_with_copil(engine, records) for _ in range(3))
    with_versions(engine.registry)
    # As a migration before this fix left it: the version moved, the COPIL reminder kept.
    set_project(db, renamed, definition_version=2)
    set_project(db, gone, definition_version=9, auto_due_on=date(2026, 7, 1))
    set_project(db, endless, definition_version=3)
    return {"renamed": renamed, "gone": gone, "endless": endless}


def test_one_broken_project_in_each_way_never_stops_the_others(
    db: sa.Engine, registry: DefinitionRegistry, clock: FixedClock
) -> None:
    engine = Engine(db, registry, clock)
    records = Records(engine)
    first = [new_with_copil(engine, records) for _ in range(HEALTHY // 2)]
    last = [new_with_copil(engine, records) for _ in range(HEALTHY - len(first))]
    broken = broken_three_ways(engine, records, db)
    clock.set(TICK)
    delivered: list[datetime] = []

    tick = run_due(engine, Sweeper(engine), TICK, delivered.append)

    assert delivered == [TICK]  # delivery ran
    for pid in [*first, *last]:
        statuses = reminders(db, pid)
        assert "done" in statuses.values() and "failed" not in statuses.values(), statuses
    # each healthy project's overdue milestone and COPIL reminder were queued (gathered into
    # the pilot's one message of the day)
    assert queued_items(db) >= 2 * HEALTHY
    flagged = {f.project_id: f.reason for f in failed_projects(db)}
    assert set(flagged) == set(broken.values())
    assert "StopIteration" in flagged[broken["renamed"]]
    assert "no longer loaded" in flagged[broken["gone"]]
    assert "version 9" in flagged[broken["gone"]]
    assert "OverflowError" in flagged[broken["endless"]]
    assert tick.sweep.failed >= 3
    assert any(f"project {broken['gone']}: failed" in line for line in tick.timed)
    # The reminders that raised are not tried again at every pass; the pass after is clean.
    again = run_due(engine, Sweeper(engine), TICK)
    assert again.sweep.failed == 0


def test_the_batch_others_commit_when_one_reminder_raises(
    db: sa.Engine, registry: DefinitionRegistry, clock: FixedClock
) -> None:
    """The isolated re-run: the failing reminder's work is rolled back to its SAVEPOINT, the
    others of the same batch (one transaction) are committed."""
    engine = Engine(db, registry, clock)
    records = Records(engine)
    endless = new_with_copil(engine, records)
    healthy = new_with_copil(engine, records)
    with_versions(registry)
    set_project(db, endless, definition_version=3)
    clock.set(TICK)

    result = Sweeper(engine, batch=1000).run(TICK)

    assert result.failed == 1
    statuses = reminders(db, endless)
    assert sorted(statuses.values()).count("failed") == 1
    # its COPIL reminder, in the same batch, went out all the same
    assert "done" in statuses.values()
    assert "failed" not in reminders(db, healthy).values()
    with db.connect() as conn:
        digests = conn.execute(
            sa.select(sa.func.count())
            .select_from(tables.reminder)
            .where(
                tables.reminder.c.project_id == endless, tables.reminder.c.kind == "overdue_digest"
            )
        ).scalar_one()
    assert digests == 0  # nothing of the reminder that raised was kept


def test_migrating_rekeys_or_cancels_the_reminders_of_a_renamed_series_and_says_so_first(
    db: sa.Engine, registry: DefinitionRegistry, clock: FixedClock
) -> None:
    """COPIL 1 is an occurrence of the renamed series: it follows it, reminders kept; an
    extra meeting of the old series has no place in the new version: its reminders go."""
    engine = Engine(db, registry, clock)
    records = Records(engine)
    pid = new_with_copil(engine, records)
    extra = records.schedule_meeting(pid, "copil", paris(2026, 7, 3, 16, 0))
    with_versions(registry)

    plan = plan_migration(engine, pid, 2)
    assert plan.rekeyed == ["meeting 1 of series 'copil' now of 'comite'"]
    assert plan.cancelled and all(f"meeting:{extra}:" in line for line in plan.cancelled)
    assert f"reminder cancelled: meeting:{extra}:" in plan.describe()
    assert "meeting re-keyed: meeting 1" in plan.describe()
    apply_migration(engine, pid, 2, actor="pilot")
    clock.set(TICK)
    tick = run_due(engine, Sweeper(engine), TICK)

    assert tick.sweep.failed == 0
    assert failed_projects(db) == []
    statuses = reminders(db, pid)
    assert statuses["meeting:1:s1:before:2"] == "done"
    with db.connect() as conn:
        extra_statuses = set(
            conn.execute(
                sa.select(tables.reminder.c.status).where(
                    tables.reminder.c.occasion.startswith(f"meeting:{extra}:")
                )
            ).scalars()
        )
    assert extra_statuses == {"cancelled"}


def test_a_project_whose_version_is_gone_is_flagged_then_migrated_and_its_flag_goes(
    db: sa.Engine, registry: DefinitionRegistry, clock: FixedClock
) -> None:
    """The definition file bumped in place (v1 -> v2): a v1 project with an automatic step
    due is reported, not crashed on, and ``migrate`` moves it to the loaded version."""
    engine = Engine(db, registry, clock)
    pid = new_mini(engine)
    set_project(db, pid, auto_due_on=date(2026, 7, 1))
    bumped = DefinitionRegistry()
    bumped.add(renamed_series(registry.get("mini", 1)))
    engine = Engine(db, bumped, clock)
    clock.set(TICK)

    tick = run_due(engine, Sweeper(engine), TICK)

    [failure] = failed_projects(db)
    assert failure.project_id == pid and "'mini' version 1" in failure.reason
    assert any(f"project {pid}: failed" in line for line in tick.timed)
    plan = plan_migration(engine, pid)
    assert plan.blocker is None and plan.from_version == 1 and plan.to_version == 2
    assert "version 1 is no longer loaded" in plan.describe()
    apply_migration(engine, pid, None, actor="pilot")
    assert failed_projects(db) == []
    run_due(engine, Sweeper(engine), TICK)
    assert failed_projects(db) == []


class _BrokenSweeper(Sweeper):
    """A sweep that fails as a whole (as when its database connection drops mid-pass)."""

    def run(self, now: datetime | None = None) -> SweepResult:
        raise sa.exc.OperationalError("SELECT", {}, Exception("connection lost"))


def test_delivery_runs_when_an_earlier_step_failed(engine: Engine, clock: FixedClock) -> None:
    delivered: list[datetime] = []
    clock.set(TICK)
    with pytest.raises(sa.exc.OperationalError):
        run_due(engine, _BrokenSweeper(engine), TICK, delivered.append)
    assert delivered == [TICK]
