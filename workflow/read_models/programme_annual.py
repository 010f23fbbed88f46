"""The annual CPOM report of a whole programme (issue 14, point 4): each of its projects'
report of the year, as of one day, side by side. The agency reads it; the exports put the
project's name in a column of its own (web.cpom)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from workflow import tables
from workflow.database import read
from workflow.engine import Engine
from workflow.errors import InvalidInput
from workflow.plan import check_year
from workflow.read_models.annual import AnnualReport, annual_report

__all__ = ["ProgrammeReport", "programme_annual_report"]


@dataclass(frozen=True)
class ProgrammeReport:
    programme: str  # the definition's id
    label: str  # as its definition names it
    year: int
    as_of: date
    reports: list[AnnualReport]


def programme_annual_report(
    engine: Engine, programme: str, year: int | None = None, as_of: date | None = None
) -> ProgrammeReport:
    """Each project of ``programme`` started by ``as_of`` (default: today, or the year's last
    day for a past year), with its annual report of ``year`` as of that day, in the order the
    projects were created. A programme no definition declares is refused naming it."""
    known = {d.id: d for d in engine.registry.latest()}
    if programme not in known:
        raise InvalidInput(
            "programme",
            f"no programme {programme!r} (known: {', '.join(sorted(known)) or 'none'})",
        )
    today = engine.today()
    year = check_year(year if year is not None else (as_of or today).year)
    day = min(as_of or min(today, date(year, 12, 31)), date(year, 12, 31))
    if day < date(year, 1, 1):
        raise InvalidInput(
            "as_of", f"the report of {year} cannot be taken on {day}, before the year starts"
        )
    with read(engine.db) as conn:
        ids = conn.execute(
            sa.select(tables.project.c.id)
            .where(
                tables.project.c.definition_id == programme,
                tables.project.c.start_date <= day,
            )
            .order_by(tables.project.c.id)
        ).scalars()
        project_ids = [int(i) for i in ids]
    return ProgrammeReport(
        programme=programme,
        label=known[programme].title,
        year=year,
        as_of=day,
        reports=[annual_report(engine, pid, year, day) for pid in project_ids],
    )
