"""Records a pilot keeps besides phases: indicators (planned vs realised)."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from workflow import tables
from workflow.engine import Engine, NewProject, PartnerIn
from workflow.records import Records


def test_a_new_indicator_keeps_its_unit_and_is_updated_in_place(
    engine: Engine, records: Records, db: sa.Engine
) -> None:
    pid = engine.create_project(
        NewProject(
            definition_id="mini",
            title="Coopérative 93",
            start_date=date(2026, 5, 4),
            pilot=PartnerIn("Pilote", "pilote@exemple.fr", "Pia"),
        )
    )
    records.set_indicator(
        pid,
        "ateliers",
        label="Ateliers menés",
        kind="activity",
        planned=12,
        unit="ateliers",
        by="Claire (DD 93)",
    )
    records.set_indicator(
        pid, "ateliers", realised=9, gap_explanation="deux annulés", by="Claire (DD 93)"
    )
    with db.connect() as conn:
        rows = conn.execute(sa.select(tables.indicator)).all()
    assert [(r.key, r.unit, r.planned, r.realised, r.gap_explanation) for r in rows] == [
        ("ateliers", "ateliers", 12, 9, "deux annulés")
    ]
