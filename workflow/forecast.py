"""When each phase of a project ran, runs, or is planned to run: the rows of the Gantt.

A phase already entered has its real start (from the history) and its planned end (the
definition's ``planned_end`` counted from that start); a phase left has its real end. The
phases after the current one have *planned* dates: each starts when the one before is
planned to end and lasts what the definition says. The current phase's planned end is the
starting point; when it has passed, today is (a late phase cannot end in the past). The
chain stops at the first phase without a planned end (e.g. an open-ended implementation
phase): what follows it has no date anyone could plan.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from workflow.calendar import resolve
from workflow.definition import Definition

__all__ = ["PhaseDates", "phase_dates"]


@dataclass(frozen=True)
class PhaseDates:
    """``start``/``end``: real when the phase was entered/left, else planned (``forecast``)."""

    key: str
    start: date | None
    end: date | None  # the real end when left, else the planned end (None: none planned)
    left: bool  # the phase was left: ``end`` is real
    forecast: bool  # not entered yet: both dates are planned


def phase_dates(
    definition: Definition,
    project_start: date,
    spans: Mapping[str, tuple[date, date | None]],
    current: str,
    today: date,
) -> list[PhaseDates]:
    """Each phase of ``definition`` in order, with its dates. ``spans``: the first entry into
    each phase entered and when it was last left (None: still in it); ``current``: the
    phase the project is in (or was in before being suspended)."""
    keys = [p.key for p in definition.phases]
    position = keys.index(current) if current in keys else None
    terminal = set(definition.terminal)
    found: list[PhaseDates] = []
    next_start: date | None = None
    for index, phase in enumerate(definition.phases):
        if phase.key in spans:
            start, left = spans[phase.key]
            if phase.key == current:
                left = None  # a suspended project is still in the phase it was suspended from
            planned = (
                resolve(phase.planned_end, project_start=project_start, phase_start=start).due
                if phase.planned_end is not None
                else None
            )
            found.append(PhaseDates(phase.key, start, left or planned, left is not None, False))
            if phase.key == current:
                next_start = None if planned is None else max(planned, today)
            continue
        if position is None or index <= position or next_start is None or current in terminal:
            found.append(PhaseDates(phase.key, None, None, False, False))
            continue
        start = next_start
        end = (
            resolve(phase.planned_end, project_start=project_start, phase_start=start).due
            if phase.planned_end is not None
            else None
        )
        found.append(PhaseDates(phase.key, start, end, False, True))
        next_start = end
    return found
