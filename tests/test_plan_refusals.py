"""The plan d'actions and the budget refuse what is wrong naming the field, and change nothing:
empty or overlong texts, amounts out of bounds, an objective's level changed, a budget line
without its year or on a specific objective, a share beyond 100 %, an unknown line."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from workflow import tables
from workflow.budget import required_euros
from workflow.database import read
from workflow.engine import Engine, NewProject, PartnerIn
from workflow.errors import InvalidInput, NotFound
from workflow.plan import cents_in, text_in
from workflow.records import Records


def _project(engine: Engine) -> int:
    return engine.create_project(
        NewProject(
            definition_id="cooperative",
            title="Coopérative 93",
            start_date=date(2026, 5, 4),
            pilot=PartnerIn("Pilote", "pilote@exemple.fr", "Pia", ("pilot", "copil")),
        )
    )


def _field_of(call: object) -> str:
    assert callable(call)
    with pytest.raises(InvalidInput) as refused:
        call()
    return refused.value.field


def _rows(engine: Engine, table: sa.Table) -> list[tuple[object, ...]]:
    with read(engine.db) as conn:
        return [tuple(r) for r in conn.execute(sa.select(table).order_by(table.c.id))]


def test_amounts_and_texts_are_bounded_naming_their_field() -> None:
    assert _field_of(lambda: required_euros("  ", "planned")) == "planned"
    assert required_euros("31 419,35 €", "planned") == 3_141_935
    assert _field_of(lambda: cents_in(-1, "spent_cents")) == "spent_cents"
    assert _field_of(lambda: cents_in(10**16, "spent_cents")) == "spent_cents"
    assert cents_in(None, "spent_cents") is None
    assert _field_of(lambda: text_in("x" * 5001, "comment")) == "comment"
    assert text_in("  à garder  ", "comment") == "à garder"


def test_objectives_refuse_an_empty_label_and_a_changed_level_and_keep_the_tree(
    engine: Engine, records: Records
) -> None:
    pid = _project(engine)
    plan = records.plan
    plan.set_objective(pid, "acces", level="general", label="Accès aux soins", by="Claire (DD 93)")
    before = _rows(engine, tables.objective)
    assert (
        _field_of(
            lambda: plan.set_objective(pid, "x", level="general", label="  ", by="Claire (DD 93)")
        )
        == "label"
    )
    assert (
        _field_of(lambda: plan.set_objective(pid, "acces", level="specific", by="Claire (DD 93)"))
        == "level"
    )
    assert (
        _field_of(lambda: plan.set_objective(pid, "neuf", label="Sans niveau", by="Claire (DD 93)"))
        == "objective"
    )
    assert _rows(engine, tables.objective) == before
    # an existing objective changes its label and position only
    plan.set_objective(
        pid, "acces", label="Accès aux soins de premier recours", position=2, by="Claire (DD 93)"
    )
    (row,) = _rows(engine, tables.objective)
    assert "Accès aux soins de premier recours" in row and 2 in row


def test_budget_lines_and_shares_refuse_what_is_wrong_and_change_nothing(
    engine: Engine, records: Records
) -> None:
    pid = _project(engine)
    plan, budget = records.plan, records.budget
    plan.set_objective(pid, "acces", level="general", label="Accès aux soins", by="Claire (DD 93)")
    plan.set_objective(
        pid, "prevention", level="specific", parent="acces", label="Prévenir", by="Claire (DD 93)"
    )
    line = budget.set_budget_line(
        pid, None, year=2026, label="Salaires", planned_cents=1_000_00, by="Claire (DD 93)"
    )
    lines, shares = _rows(engine, tables.budget_line), _rows(engine, tables.funding_share)
    assert (
        _field_of(
            lambda: budget.set_budget_line(pid, None, year=2026, label="", by="Claire (DD 93)")
        )
        == "label"
    )
    assert (
        _field_of(
            lambda: budget.set_budget_line(pid, None, label="Sans année", by="Claire (DD 93)")
        )
        == "budget"
    )
    assert (
        _field_of(
            lambda: budget.set_budget_line(
                pid, None, year=2026, label="Ateliers", objective="prevention", by="Claire (DD 93)"
            )
        )
        == "objective"
    )
    with pytest.raises(NotFound):
        budget.set_budget_line(pid, line + 99, comment="ligne inconnue", by="Claire (DD 93)")
    assert (
        _field_of(lambda: budget.set_funding_share(pid, 2026, "  ", 4_900, by="Claire (DD 93)"))
        == "funder"
    )
    assert (
        _field_of(lambda: budget.set_funding_share(pid, 2026, "FSE", 10_001, by="Claire (DD 93)"))
        == "share"
    )
    assert _rows(engine, tables.budget_line) == lines
    assert _rows(engine, tables.funding_share) == shares
    # a line on a general objective is kept, with its comment
    budget.set_budget_line(
        pid, line, objective="acces", comment="financé par l'ARS", by="Claire (DD 93)"
    )
    (row,) = _rows(engine, tables.budget_line)
    assert "financé par l'ARS" in row
