"""Running the due work day after day on a clock that moves only when told.

The service's scheduler runs the due work (automatic steps, reminders, delivery) every
minute on the wall clock. ``copilote simulate``, the demo's replay of a past and the
end-to-end tests run it instead on a :class:`~workflow.clock.FixedClock` moved through a
span of days: :func:`run_until` is that one loop. Each day, at each tick time (Paris), it
sets the clock and runs :func:`run_due`; on each day, at ``act_at``, it hands the day to the
caller's ``act`` (the tests' table of dated actions, the demo's history), which acts as of
that moment.

Delivery is given as a callable (the engine never sends anything, and ``workflow`` does not
import ``notifications``): the service passes its :class:`~notifications.delivery.Delivery`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from time import perf_counter
from typing import Any

from workflow.calendar import PARIS, paris_date
from workflow.clock import FixedClock
from workflow.engine import Engine
from workflow.overdue_daily import record_overdue_daily
from workflow.sweep import Sweeper, SweepResult

__all__ = ["Deliver", "Tick", "run_due", "run_until"]

log = logging.getLogger("copilote.due_work")

Deliver = Callable[[datetime], Any]
"""Sends what is queued, as of an instant; returns its figures (kept in :attr:`Tick.delivery`)."""


@dataclass(frozen=True)
class Tick:
    """What one pass of due work did."""

    at: datetime  # the instant it ran as of (UTC, as the clock gives it)
    timed: list[str]  # one line per project an automatic step acted on
    sweep: SweepResult
    delivery: Any  # what ``deliver`` returned (None without delivery)
    seconds: float  # how long it took

    @property
    def day(self) -> date:
        """The Paris day it ran on."""
        return paris_date(self.at)

    @property
    def paris(self) -> datetime:
        return self.at.astimezone(PARIS)


def run_due(
    engine: Engine, sweeper: Sweeper, now: datetime, deliver: Deliver | None = None
) -> Tick:
    """The due work once, as of ``now``: automatic steps, then reminders, then the day's
    overdue count (:mod:`workflow.overdue_daily`), then delivery.

    Each step runs even when an earlier one raised (each step isolates its projects'
    failures, so what escapes is a fault of the step itself, such as the database being
    unreachable): what is queued is still delivered. The first such error is raised again
    once every step has run.
    """
    started = perf_counter()
    errors: list[Exception] = []
    timed: list[str] = []
    sweep = SweepResult()
    delivery = None
    try:
        timed = engine.run_timed_transitions(now)
    except Exception as error:
        log.exception("automatic steps failed; reminders and delivery run all the same")
        errors.append(error)
    try:
        sweep = sweeper.run(now)
    except Exception as error:
        log.exception("reminder sweep failed; delivery runs all the same")
        errors.append(error)
    try:
        # The trend's daily figures, whatever the sending window (weekends count too).
        record_overdue_daily(engine, now)
    except Exception as error:
        log.exception("daily overdue count failed; delivery runs all the same")
        errors.append(error)
    if deliver is not None:
        delivery = deliver(now)
    if errors:
        raise errors[0]
    return Tick(now, timed, sweep, delivery, perf_counter() - started)


def _days(start: date, until: date, only: Iterable[date] | None) -> list[date]:
    if only is not None:
        return sorted({day for day in only if start <= day <= until})
    return [start + timedelta(days=n) for n in range((until - start).days + 1)]


def run_until(
    clock: FixedClock,
    until: date,
    *,
    engine: Engine,
    sweeper: Sweeper,
    deliver: Deliver | None = None,
    start: date | None = None,
    ticks: Sequence[time] = (time(9), time(18)),
    act: Callable[[date], object] | None = None,
    act_at: time = time(17),
    on_tick: Callable[[Tick], object] | None = None,
    days: Iterable[date] | None = None,
    not_after: datetime | None = None,
) -> None:
    """Move ``clock`` through the days from ``start`` to ``until`` (both included) and run
    the due work at each of ``ticks`` (Paris times) of each day.

    ``start``: default, the first of ``days`` if given, else the clock's day (Paris).
    ``act``: called with each day, the clock set to ``act_at`` that day; a tick at the same
    time runs before it. ``on_tick``: called after each tick with what it did.
    ``days``: only these days (the others are skipped, nothing runs on them).
    ``not_after``: the clock never goes past this instant (a later moment runs as of it).
    """
    if days is not None:
        days = list(days)
    if start is None:
        start = min(days) if days else paris_date(clock.now())
    # (time, 0) ticks before (time, 1) the caller's act at the same time
    moments = sorted([(t, 0) for t in ticks] + ([(act_at, 1)] if act is not None else []))
    for day in _days(start, until, days):
        for moment, acting in moments:
            instant = datetime.combine(day, moment, tzinfo=PARIS)
            if not_after is not None and instant > not_after:
                instant = not_after
            clock.set(instant)
            if not acting:
                tick = run_due(engine, sweeper, clock.now(), deliver)
                if on_tick is not None:
                    on_tick(tick)
            elif act is not None:
                act(day)
