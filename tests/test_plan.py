"""The plan d'actions (issue 13): objectives tree, fiches-actions, yearly indicators, the budget
per year with co-financing, meeting notes; every input bounded, a refusal naming its field and
changing nothing; the coopérative's « objectives: required » condition, worded."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import sqlalchemy as sa

from notifications.wording import say
from workflow import tables
from workflow.budget import required_euros
from workflow.calendar import PARIS
from workflow.conditions import unmet_conditions
from workflow.database import read
from workflow.engine import Engine, NewProject, PartnerIn
from workflow.errors import InvalidInput
from workflow.plan import ActionIn
from workflow.read_models.annual import annual_report, count_participants
from workflow.read_models.plan import plan_of
from workflow.records import Records


def _project(engine: Engine, definition: str = "cooperative") -> int:
    return engine.create_project(
        NewProject(
            definition_id=definition,
            title="Coopérative 93",
            start_date=date(2026, 5, 4),
            pilot=PartnerIn("Pilote", "pilote@exemple.fr", "Pia", ("pilot", "copil")),
        )
    )


def _refused(field: str, call: object) -> str:
    assert callable(call)
    with pytest.raises(InvalidInput) as refused:
        call()
    assert refused.value.field == field, str(refused.value)
    return str(refused.value)


def test_objectives_actions_and_indicators_form_a_checked_tree(
    engine: Engine, records: Records
) -> None:
    pid = _project(engine)
    plan = records.plan
    plan.set_objective(
        pid, "acces", level="general", label="Améliorer l'accès aux soins", by="Claire (DD 93)"
    )
    plan.set_objective(
        pid, "prevention", level="specific", parent="acces", label="Prévenir", by="Claire (DD 93)"
    )
    plan.set_objective(
        pid,
        "ateliers",
        level="operational",
        parent="prevention",
        label="Ateliers",
        by="Claire (DD 93)",
    )
    _refused(
        "parent",
        lambda: plan.set_objective(pid, "x", level="specific", label="X", by="Claire (DD 93)"),
    )
    _refused(
        "parent",
        lambda: plan.set_objective(
            pid, "x", level="operational", parent="acces", label="X", by="Claire (DD 93)"
        ),
    )
    _refused(
        "level",
        lambda: plan.set_objective(pid, "x", level="strategic", label="X", by="Claire (DD 93)"),
    )
    plan.set_action(
        pid,
        "atelier_nutrition",
        ActionIn(
            objective="ateliers",
            label="Ateliers nutrition",
            partner_id=1,
            starts_on=date(2026, 9, 1),
            ends_on=date(2027, 6, 30),
            target_public="Habitants du quartier",
            etp=0.3,
            budget_cents=required_euros("12 500,00", "budget"),
        ),
        by="Claire (DD 93)",
    )
    message = _refused(
        "ends_on",
        lambda: plan.set_action(
            pid, "atelier_nutrition", ActionIn(ends_on=date(2026, 8, 1)), by="Claire (DD 93)"
        ),
    )
    assert "2026-08-01" in message and "2026-09-01" in message  # both dates named
    assert "not a partner" in _refused(
        "partner_id",
        lambda: plan.set_action(
            pid, "atelier_nutrition", ActionIn(partner_id=999), by="Claire (DD 93)"
        ),
    )
    _refused(
        "budget_cents",
        lambda: plan.set_action(pid, "a", ActionIn(budget_cents=-1), by="Claire (DD 93)"),
    )
    _refused("etp", lambda: plan.set_action(pid, "a", ActionIn(etp=-0.5), by="Claire (DD 93)"))
    _refused(
        "objective",
        lambda: plan.set_action(pid, "a", ActionIn(objective="x", label="A"), by="Claire (DD 93)"),
    )
    _refused(
        "series",
        lambda: plan.set_action(
            pid, "atelier_nutrition", ActionIn(series="x"), by="Claire (DD 93)"
        ),
    )
    records.set_indicator(
        pid,
        "participants",
        label="Participants",
        kind="activity",
        action="atelier_nutrition",
        year=2026,
        planned=40,
        unit="personnes",
        source="feuilles d'émargement",
        method="comptage",
        by="Claire (DD 93)",
    )
    _refused(
        "year", lambda: records.set_indicator(pid, "participants", year=1789, by="Claire (DD 93)")
    )
    _refused(
        "action",
        lambda: records.set_indicator(pid, "participants", action="nope", by="Claire (DD 93)"),
    )
    view = plan_of(engine, pid)
    assert [(o.key, o.level, o.parent) for o in view.objectives] == [
        ("acces", "general", None),
        ("prevention", "specific", "acces"),
        ("ateliers", "operational", "prevention"),
    ]
    (action,) = view.actions
    assert (action.objective, action.partner, action.etp, action.budget_cents) == (
        "ateliers",
        "Pilote",
        0.3,
        1_250_000,
    )
    assert [(i.key, i.year, i.source) for i in action.indicators] == [
        ("participants", 2026, "feuilles d'émargement")
    ]


def test_the_budget_of_a_year_is_edited_with_totals_gap_and_co_financing(
    engine: Engine, records: Records
) -> None:
    pid = _project(engine)
    records.plan.set_objective(
        pid, "acces", level="general", label="Accès aux soins", by="Claire (DD 93)"
    )
    plan = records.budget
    line = plan.set_budget_line(
        pid,
        None,
        year=2026,
        label="Salaires",
        objective="acces",
        planned_cents=31_419_35,
        by="Claire (DD 93)",
    )
    plan.set_budget_line(
        pid, line, spent_cents=12_290_15, forecast_cents=15_036_26, by="Claire (DD 93)"
    )
    plan.set_budget_line(
        pid, line, comment="salaires un peu plus importants (+878 €)", by="Claire (DD 93)"
    )
    plan.set_budget_line(
        pid, None, year=2027, label="Frais", planned_cents=1_000_00, by="Claire (DD 93)"
    )
    _refused(
        "planned_cents",
        lambda: plan.set_budget_line(pid, line, planned_cents=-1, by="Claire (DD 93)"),
    )
    _refused(
        "year", lambda: plan.set_budget_line(pid, None, year=1900, label="x", by="Claire (DD 93)")
    )
    plan.set_funding_share(pid, 2026, "FSE", 4900, by="Claire (DD 93)")
    plan.set_funding_share(pid, 2026, "ARS", 5100, by="Claire (DD 93)")
    assert "exceeds 100 %" in _refused(
        "share", lambda: plan.set_funding_share(pid, 2026, "X", 1, by="Claire (DD 93)")
    )
    report = annual_report(engine, pid, 2026, date(2026, 8, 31))
    (row,) = report.budget
    assert (row.general_objective, row.variance_cents, row.comment) == (
        "Accès aux soins",
        4_092_94,
        "salaires un peu plus importants (+878 €)",
    )
    assert report.funding == [("ARS", 5100), ("FSE", 4900)]
    assert report.forecast_from == date(2026, 9, 1)
    assert annual_report(engine, pid, 2027).budget_total.planned_cents == 1_000_00
    for text in ("abc", "1,234", "12.345"):
        with pytest.raises(InvalidInput):
            required_euros(text, "amount")


def test_a_meeting_note_carries_its_action_cancellation_reason_gap_and_measure(
    engine: Engine, records: Records
) -> None:
    pid = _project(engine)
    records.plan.set_objective(pid, "acces", level="general", label="Accès", by="Claire (DD 93)")
    records.plan.set_action(
        pid, "copil", ActionIn(objective="acces", label="COPIL"), by="Claire (DD 93)"
    )
    held = records.meeting_held(
        pid, series="copil", held_on=date(2026, 5, 4), attendees=["Pia (Pilote)", "Léa (Asso)"]
    )
    mid = records.schedule_meeting(pid, "copil", datetime(2026, 6, 2, 14, tzinfo=PARIS))
    _refused(
        "cancel_reason",
        lambda: records.plan.meeting_note(pid, mid, cancel_reason="x", by="Claire (DD 93)"),
    )
    records.cancel_meeting(pid, mid, "grève des transports")
    records.plan.meeting_note(
        pid,
        mid,
        action="copil",
        gap_explanation="un COPIL de moins",
        corrective_measure="reporté",
        by="Claire (DD 93)",
    )
    records.plan.meeting_note(pid, held, action="copil", by="Claire (DD 93)")
    section = annual_report(engine, pid, 2026).objectives[0]
    meetings = section.actions[0].meetings
    assert meetings is not None
    assert (meetings.planned, len(meetings.held), meetings.participants, meetings.structures) == (
        2,
        1,
        2,
        2,
    )
    assert [(c.day, c.reason) for c in meetings.cancelled] == [
        (date(2026, 6, 2), "grève des transports")
    ]
    assert meetings.gap_explanations == ("un COPIL de moins",)
    assert count_participants([["A (X)", "B (X)", "C"], ["a (x)"]]) == (3, 2)


def test_the_cooperative_needs_objectives_and_fiches_actions_to_end_its_plan(
    engine: Engine, records: Records
) -> None:
    pid = _project(engine)
    definition = engine.definition("cooperative")
    transition = next(t for t in definition.transitions if t.trigger == "validate_action_plan")

    def unmet() -> list[str]:
        with read(engine.db) as conn:
            found = unmet_conditions(
                conn,
                definition,
                transition,
                project_id=pid,
                phase_started=date(2026, 5, 4),
                today=date(2026, 5, 4),
            )
        return [u.kind for u in found if u.kind.endswith("_missing")]

    assert unmet() == ["objectives_missing", "actions_missing"]
    assert say("refusal.objectives_missing") == (
        "aucun objectif général enregistré (arbre des objectifs)"
    )
    assert say("fix.record_objectives", "en") == "enter the project's objectives and fiches-actions"
    records.plan.set_objective(pid, "acces", level="general", label="Accès", by="Claire (DD 93)")
    assert unmet() == ["actions_missing"]
    records.plan.set_action(
        pid, "a", ActionIn(objective="acces", label="Action"), by="Claire (DD 93)"
    )
    assert unmet() == []
    with engine.db.connect() as conn:  # nothing was written by the refusals
        assert conn.execute(sa.select(sa.func.count()).select_from(tables.objective)).scalar() == 1


def test_0010_gives_existing_budget_lines_their_projects_first_year(
    engine: Engine, db: sa.Engine
) -> None:
    """Budget lines recorded before were one undated list: they become the first year's."""
    from tests.test_migrations import _alembic

    pid = _project(engine)
    _alembic(db, "downgrade", "0005")
    with db.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO budgetline (project_id, label, planned_cents, spent_cents,"
                " forecast_cents) VALUES (:p, 'Salaires', 100, 0, 0)"
            ),
            {"p": pid},
        )
    _alembic(db, "upgrade", "head")
    with db.connect() as conn:
        row = conn.execute(sa.select(tables.budget_line)).one()
    assert (row.year, row.comment, row.objective_id) == (2026, "", None)
    assert annual_report(engine, pid, 2026).budget_total.planned_cents == 100
    assert annual_report(engine, pid, 2027).budget == []


def test_a_report_recorded_through_the_api_keeps_its_values_per_action_and_indicator(
    engine: Engine, records: Records, db: sa.Engine
) -> None:
    pid = _project(engine)
    partner = records.add_partner(pid, PartnerIn("Asso", "asso@exemple.fr", "Léa"))
    records.plan.set_objective(pid, "acces", level="general", label="Accès", by="Claire (DD 93)")
    records.plan.set_action(
        pid, "ateliers", ActionIn(objective="acces", label="Ateliers"), by="Claire (DD 93)"
    )
    records.set_indicator(
        pid, "familles", label="Familles", kind="activity", action="ateliers", by="Claire (DD 93)"
    )
    for content in (  # shapes a script may send: the odd ones are kept, nothing is derived
        {"actions": 5, "indicators": "x"},
        {"actions": [{"key": ["x"]}], "indicators": [{"key": {}, "realised": 1}]},
    ):
        records.submit_report(pid, partner, "bilan_trimestriel", "2026-Q2", content)
    records.submit_report(
        pid,
        partner,
        "bilan_trimestriel",
        "2026-Q2",
        {
            "actions": [{"key": "ateliers", "programme": {"answer": "partly"}}],
            "indicators": [{"key": "familles", "realised": 7}, {"key": "nope", "realised": 2}],
        },
    )
    with db.connect() as conn:
        rows = conn.execute(
            sa.select(
                tables.realised_value.c.period,
                tables.realised_value.c.action_id.is_not(None),
                tables.realised_value.c.value,
                tables.realised_value.c.comment,
            ).order_by(tables.realised_value.c.id)
        ).all()
    assert [tuple(r) for r in rows] == [
        ("2026-Q2", True, None, "partly"),
        ("2026-Q2", False, 7.0, ""),
    ]
