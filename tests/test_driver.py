"""The one "run until" loop (workflow.driver): which instants it ticks at, when it hands the
day to the caller, the days it skips, the instant it never passes."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from tests.conftest import paris
from tests.test_engine import new_mini
from workflow.calendar import PARIS
from workflow.clock import FixedClock
from workflow.driver import Tick, run_until
from workflow.engine import Engine
from workflow.sweep import Sweeper


def hhmm(instant: datetime) -> str:
    return instant.astimezone(PARIS).strftime("%m-%d %H:%M")


def drive(engine: Engine, clock: FixedClock, until: date, **options: Any) -> list[tuple[str, ...]]:
    seen: list[tuple[str, ...]] = []

    def deliver(now: datetime) -> str:
        seen.append(("deliver", hhmm(now)))
        return "sent"

    def on_tick(tick: Tick) -> None:
        assert tick.delivery == "sent" and tick.at == clock.now()
        seen.append(("tick", hhmm(tick.at), str(tick.day)))

    def act(day: date) -> None:
        seen.append(("act", str(day), hhmm(clock.now())))

    run_until(
        clock,
        until,
        engine=engine,
        sweeper=Sweeper(engine),
        deliver=deliver,
        on_tick=on_tick,
        act=act,
        **options,
    )
    return seen


def test_each_day_ticks_at_its_times_and_the_caller_acts_between(
    engine: Engine, clock: FixedClock
) -> None:
    clock.set(paris(2026, 5, 4, 8, 0))
    seen = drive(engine, clock, date(2026, 5, 5))
    assert seen == [
        ("deliver", "05-04 09:00"),
        ("tick", "05-04 09:00", "2026-05-04"),
        ("act", "2026-05-04", "05-04 17:00"),
        ("deliver", "05-04 18:00"),
        ("tick", "05-04 18:00", "2026-05-04"),
        ("deliver", "05-05 09:00"),
        ("tick", "05-05 09:00", "2026-05-05"),
        ("act", "2026-05-05", "05-05 17:00"),
        ("deliver", "05-05 18:00"),
        ("tick", "05-05 18:00", "2026-05-05"),
    ]
    assert clock.now() == paris(2026, 5, 5, 18, 0)


def test_only_the_days_given_a_tick_before_the_act_and_never_past_the_limit(
    engine: Engine, clock: FixedClock
) -> None:
    seen = drive(
        engine,
        clock,
        date(2026, 5, 20),
        days=[date(2026, 5, 12), date(2026, 5, 6), date(2026, 5, 21), date(2026, 5, 12)],
        ticks=(time(10),),
        act_at=time(10),
        not_after=paris(2026, 5, 12, 8, 30),
    )
    assert seen == [
        ("deliver", "05-06 10:00"),
        ("tick", "05-06 10:00", "2026-05-06"),
        ("act", "2026-05-06", "05-06 10:00"),
        ("deliver", "05-12 08:30"),
        ("tick", "05-12 08:30", "2026-05-12"),
        ("act", "2026-05-12", "05-12 08:30"),
    ]


def test_the_due_work_runs(engine: Engine, clock: FixedClock) -> None:
    """The sweep of each tick fires what is due: a new project's reminders go out."""
    pid = new_mini(engine)
    fired: list[int] = []
    run_until(
        clock,
        date(2027, 6, 1),
        engine=engine,
        sweeper=Sweeper(engine),
        ticks=(time(9),),
        on_tick=lambda tick: fired.append(tick.sweep.fired),
    )
    assert pid and len(fired) == (date(2027, 6, 1) - date(2026, 5, 4)).days + 1
    assert sum(fired) > 0
