"""Same date N years later, N months before: month ends kept, no day clamped to the 28th."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from tests.test_engine import AGENCY, PILOT
from workflow import tables
from workflow.calendar import months_before, years_later
from workflow.engine import Engine, NewProject
from workflow.records import Records


@pytest.mark.parametrize(
    ("day", "years", "expected"),
    [
        (date(2026, 1, 31), 1, date(2027, 1, 31)),
        (date(2026, 3, 31), 1, date(2027, 3, 31)),
        (date(2028, 2, 29), 1, date(2029, 2, 28)),
        (date(2028, 2, 29), 4, date(2032, 2, 29)),
        (date(2026, 11, 30), 1, date(2027, 11, 30)),
        (date(2026, 5, 4), 2, date(2028, 5, 4)),
        (date(2027, 3, 31), -1, date(2026, 3, 31)),
        (date(2026, 11, 30), 0, date(2026, 11, 30)),
    ],
)
def test_the_same_date_years_later(day: date, years: int, expected: date) -> None:
    assert years_later(day, years) == expected


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2027, 3, 31), 2, date(2027, 1, 31)),
        (date(2027, 3, 31), 1, date(2027, 2, 28)),
        (date(2028, 3, 31), 1, date(2028, 2, 29)),
        (date(2027, 1, 31), 2, date(2026, 11, 30)),
        (date(2027, 11, 30), 2, date(2027, 9, 30)),
        (date(2027, 5, 31), 3, date(2027, 2, 28)),
        (date(2029, 2, 28), 12, date(2028, 2, 28)),
        (date(2027, 5, 4), 0, date(2027, 5, 4)),
    ],
)
def test_months_before(day: date, months: int, expected: date) -> None:
    assert months_before(day, months) == expected


@pytest.mark.parametrize(
    ("signed", "ends"),
    [
        (date(2026, 3, 31), date(2027, 3, 31)),
        (date(2026, 1, 31), date(2027, 1, 31)),
        (date(2028, 2, 29), date(2029, 2, 28)),
        (date(2026, 11, 30), date(2027, 11, 30)),
    ],
)
def test_a_convention_lasts_one_year_to_the_day(
    engine: Engine, db: sa.Engine, signed: date, ends: date
) -> None:
    pid = engine.create_project(
        NewProject(
            definition_id="mini",
            title="Coopérative 93",
            start_date=signed,
            pilot=PILOT,
            agency=AGENCY,
            convention_start=signed,
        )
    )
    with db.connect() as conn:
        end = conn.execute(
            sa.select(tables.project.c.convention_end).where(tables.project.c.id == pid)
        ).scalar_one()
        rows = conn.execute(
            sa.select(tables.reminder.c.kind, tables.reminder.c.occasion).where(
                tables.reminder.c.project_id == pid
            )
        ).all()
        convention = conn.execute(
            sa.select(tables.convention).where(tables.convention.c.project_id == pid)
        ).one()
    planned = dict(rows)
    assert end == ends
    # The convention is a record ending the same day, reminded 3 and 1 months before.
    assert (convention.effective_on, convention.ends_on) == (signed, ends)
    assert sorted(o for k, o in rows if k == "convention_end") == [
        f"convention:{convention.id}:{ends}:before:1m",
        f"convention:{convention.id}:{ends}:before:3m",
    ]
    if "annual_review" in planned:
        assert planned["annual_review"] == f"annual_review:{pid}:{ends.year}"


@pytest.mark.parametrize(
    ("anchor", "today", "deadline"),
    [
        (date(2025, 3, 31), date(2026, 3, 1), date(2026, 3, 31)),
        (date(2025, 3, 31), date(2026, 4, 1), date(2027, 3, 31)),
        (date(2024, 2, 29), date(2026, 1, 10), date(2026, 2, 28)),
        (date(2025, 1, 31), date(2026, 1, 31), date(2026, 1, 31)),
        (date(2025, 11, 30), date(2026, 12, 1), date(2027, 11, 30)),
    ],
)
def test_the_annual_deadline_keeps_the_anchor_day(
    anchor: date, today: date, deadline: date
) -> None:
    project = SimpleNamespace(convention_start=anchor, start_date=anchor)
    assert Records.annual_deadline(project, today) == deadline
