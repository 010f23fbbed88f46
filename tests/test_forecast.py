"""The dates of each phase (workflow.forecast): real once entered or left, planned for the
phases to come from the definition's durations, counted from the current phase's planned end
(or today when that end has passed), stopping at the first phase without a planned end."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from workflow.forecast import PhaseDates, phase_dates
from workflow.loader import load_definition

DEFINITIONS = Path(__file__).resolve().parents[1] / "definitions"
COOPERATIVE = load_definition(DEFINITIONS / "cooperative.yaml")
START = date(2026, 5, 4)


def by_key(found: list[PhaseDates]) -> dict[str, PhaseDates]:
    return {d.key: d for d in found}


def test_future_phases_are_planned_from_the_current_phase_s_planned_end() -> None:
    found = by_key(
        phase_dates(COOPERATIVE, START, {"prefiguration": (START, None)}, "prefiguration", START)
    )
    assert found["prefiguration"] == PhaseDates(
        "prefiguration", START, date(2026, 7, 4), left=False, forecast=False
    )
    # diagnostic 2 months, plan d'actions 3 months, then mise en œuvre has no planned end
    assert found["diagnostic"] == PhaseDates(
        "diagnostic", date(2026, 7, 4), date(2026, 9, 4), left=False, forecast=True
    )
    assert found["plan_actions"] == PhaseDates(
        "plan_actions", date(2026, 9, 4), date(2026, 12, 4), left=False, forecast=True
    )
    assert found["mise_en_oeuvre"] == PhaseDates(
        "mise_en_oeuvre", date(2026, 12, 4), None, left=False, forecast=True
    )
    # nothing can be planned after an open-ended phase
    assert found["evaluation"] == PhaseDates("evaluation", None, None, left=False, forecast=False)
    assert found["cloture"].start is None


def test_a_late_phase_pushes_the_plan_from_today_and_a_left_phase_keeps_its_real_end() -> None:
    today = date(2026, 10, 1)
    spans = {"prefiguration": (START, date(2026, 6, 15)), "diagnostic": (date(2026, 6, 15), None)}
    found = by_key(phase_dates(COOPERATIVE, START, spans, "diagnostic", today))
    assert found["prefiguration"] == PhaseDates(
        "prefiguration", START, date(2026, 6, 15), left=True, forecast=False
    )
    # diagnostic was planned to end on 15 August: it is late, so what follows starts today
    assert found["diagnostic"].end == date(2026, 8, 15)
    assert found["plan_actions"] == PhaseDates(
        "plan_actions", today, date(2027, 1, 1), left=False, forecast=True
    )


def test_no_plan_outside_the_programme_s_phases_or_from_an_open_ended_one() -> None:
    abandoned = phase_dates(
        COOPERATIVE, START, {"prefiguration": (START, None)}, "abandonne", START
    )
    assert not any(d.forecast for d in abandoned)
    open_ended = phase_dates(
        COOPERATIVE, START, {"mise_en_oeuvre": (START, None)}, "mise_en_oeuvre", START
    )
    assert not any(d.forecast for d in open_ended)
    closed = phase_dates(COOPERATIVE, START, {"cloture": (START, None)}, "cloture", START)
    assert not any(d.forecast for d in closed)


def test_a_suspended_project_is_still_in_its_phase() -> None:
    spans = {"prefiguration": (START, date(2026, 5, 20)), "suspendu": (date(2026, 5, 20), None)}
    found = by_key(phase_dates(COOPERATIVE, START, spans, "prefiguration", date(2026, 6, 1)))
    assert found["prefiguration"] == PhaseDates(
        "prefiguration", START, date(2026, 7, 4), left=False, forecast=False
    )
    assert found["diagnostic"].start == date(2026, 7, 4) and found["diagnostic"].forecast
