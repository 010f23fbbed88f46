"""Every change of the plan d'actions and the budget is written in the project's history with
its author, in the change's transaction (issue 13, "Every change is written in the history
with its author"); a refused change writes nothing; the author is required."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

import pytest
import sqlalchemy as sa

from workflow import tables
from workflow.calendar import PARIS
from workflow.engine import Engine, NewProject, PartnerIn
from workflow.errors import InvalidInput
from workflow.plan import PLAN_TRIGGERS, ActionIn
from workflow.records import Records

CLAIRE = "Claire (DD 93)"


def _history(db: sa.Engine, pid: int) -> list[tuple[str, str, str, str, str]]:
    with db.connect() as conn:
        rows = conn.execute(
            sa.select(
                tables.history.c.trigger,
                tables.history.c.actor,
                tables.history.c.comment,
                tables.history.c.from_phase,
                tables.history.c.to_phase,
            )
            .where(tables.history.c.project_id == pid, tables.history.c.trigger != "create")
            .order_by(tables.history.c.id)
        ).all()
    return [(r[0], r[1], r[2] or "", r[3] or "", r[4]) for r in rows]


def test_each_plan_and_budget_change_is_in_the_history_with_its_author(
    engine: Engine, records: Records, db: sa.Engine
) -> None:
    pid = engine.create_project(
        NewProject(
            definition_id="cooperative",
            title="Coopérative 93",
            start_date=date(2026, 5, 4),
            pilot=PartnerIn("Pilote", "pilote@exemple.fr", "Pia", ("pilot", "copil")),
        )
    )
    asso = records.add_partner(pid, PartnerIn("Asso Santé", "asso@exemple.fr", "Léa Martin"))
    plan, budget = records.plan, records.budget
    plan.set_objective(pid, "acces", level="general", label="Accès aux soins", by=CLAIRE)
    plan.set_objective(pid, "acces", label="Accès aux soins de proximité", by="Pia")
    plan.set_objective(pid, "acces", by="Pia")  # nothing changes: nothing is written
    plan.set_action(pid, "ateliers", ActionIn(objective="acces", label="Ateliers"), by=CLAIRE)
    plan.set_action(pid, "ateliers", ActionIn(etp=0.5), by="Pia")
    records.set_indicator(
        pid, "familles", label="Familles", kind="activity", action="ateliers", by=CLAIRE
    )
    records.set_indicator(pid, "familles", realised=7, by="Pia")
    mid = records.schedule_meeting(pid, "copil", datetime(2026, 6, 2, 14, tzinfo=PARIS))
    records.cancel_meeting(pid, mid, "grève des transports")
    plan.meeting_note(pid, mid, cancel_reason="grève des transports", by=CLAIRE)
    line = budget.set_budget_line(
        pid, None, year=2026, label="Salaires", planned_cents=100_000_00, by=CLAIRE
    )
    budget.set_budget_line(pid, line, spent_cents=40_000_00, by="Pia")
    budget.set_funding_share(pid, 2026, "FSE", 4950, by=CLAIRE)
    budget.set_funding_share(pid, 2026, "FSE", 0, by="Pia")
    budget.set_funding_share(pid, 2026, "Région", 0, by="Pia")  # nothing to remove
    records.submit_report(
        pid,
        asso,
        "bilan_trimestriel",
        "2026-Q2",
        {"indicators": [{"key": "familles", "realised": 7}]},
    )
    records.add_budget_line(pid, "Frais", planned_cents=500_00, by=CLAIRE)

    rows = _history(db, pid)
    assert [(t, who, what) for t, who, what, _, _ in rows] == [
        ("objective_created", CLAIRE, "Accès aux soins"),
        ("objective_changed", "Pia", "Accès aux soins de proximité"),
        ("action_created", CLAIRE, "Ateliers"),
        ("action_changed", "Pia", "Ateliers"),
        ("indicator_created", CLAIRE, "Familles"),
        ("indicator_changed", "Pia", "Familles"),
        ("meeting_noted", CLAIRE, "Comité de pilotage (COPIL) n°1"),
        ("budget_line_added", CLAIRE, "Salaires (2026)"),
        ("budget_line_changed", "Pia", "Salaires (2026)"),
        ("funding_share_set", CLAIRE, "FSE (2026) : 49,5 %"),
        ("funding_share_removed", "Pia", "FSE (2026)"),
        ("realised_reported", "Léa Martin", "Asso Santé : 2026-Q2"),
        ("budget_line_added", CLAIRE, "Frais (2026)"),
    ]
    # Not phase changes: the phase stays as it was.
    assert all(before == after for _, _, _, before, after in rows)
    assert {t for t, *_ in rows} <= set(PLAN_TRIGGERS)


@pytest.mark.parametrize("by", ["", "   "])
def test_a_change_without_its_author_is_refused_and_writes_nothing(
    engine: Engine, records: Records, db: sa.Engine, by: str
) -> None:
    pid = engine.create_project(
        NewProject(
            definition_id="cooperative",
            title="Coopérative 93",
            start_date=date(2026, 5, 4),
            pilot=PartnerIn("Pilote", "pilote@exemple.fr", "Pia", ("pilot", "copil")),
        )
    )
    calls: list[Callable[[], object]] = [
        lambda: records.plan.set_objective(pid, "a", level="general", label="A", by=by),
        lambda: records.plan.set_action(pid, "x", ActionIn(objective="a", label="X"), by=by),
        lambda: records.set_indicator(pid, "i", label="I", kind="result", by=by),
        lambda: records.plan.meeting_note(pid, 1, action="x", by=by),
        lambda: records.budget.set_budget_line(pid, None, year=2026, label="L", by=by),
        lambda: records.budget.set_funding_share(pid, 2026, "FSE", 4900, by=by),
    ]
    for call in calls:
        with pytest.raises(InvalidInput) as refused:
            call()
        assert refused.value.field == "by"
    assert _history(db, pid) == []
