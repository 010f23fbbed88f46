"""The figures behind the dashboard's charts, with the dashboard's filters applied.

Every figure is one grouped SQL query (``GROUP BY`` programme, phase): the cost does not
grow with a row per project fetched. The trend reads ``overdue_daily`` (the due work's daily
count, :mod:`workflow.overdue_daily`), at most 26 weeks x 7 days x the programmes; it is
recorded per programme, so only the programme filter applies to it.

- projects per phase and programme: the dashboard's own :func:`phase_counts`;
- overdue items per week: each week's figure is that of its last recorded day (the count
  is a snapshot, not a sum); a week without any recorded day is ``None`` (a gap, not 0);
- COPIL meetings of the year: *planned* = every meeting of a ``copil`` series dated in the
  year (held or still planned; a cancelled one is no longer planned), *held* = those held;
  a held meeting is dated by the day it was held, a planned one by its start (Paris);
- budget: the year's budget lines (a line without a year, recorded before lines had one,
  counts for its project's first year, as :class:`workflow.models.BudgetLine` says),
  planned, spent and forecast, in cents.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa

from workflow import tables
from workflow.copil_tally import COPIL_SERIES
from workflow.database import read
from workflow.engine import Engine
from workflow.read_models.portfolio import Filters, PhaseCount, phase_counts

__all__ = [
    "COPIL_SERIES",
    "TREND_WEEKS",
    "BudgetTotal",
    "ChartData",
    "CopilCount",
    "Trend",
    "TrendLine",
    "budget_totals",
    "chart_data",
    "copil_counts",
    "overdue_trend",
    "phases_by_programme",
]

TREND_WEEKS = 26


def _programme_label(engine: Engine, definition_id: str) -> str:
    try:
        return engine.definition(definition_id).title
    except LookupError:
        return definition_id  # a programme no longer loaded: its id is all there is


def _project_where(filters: Filters) -> list[Any]:
    return filters.conditions()


def phases_by_programme(
    engine: Engine, filters: Filters, counts: list[PhaseCount] | None = None
) -> list[PhaseCount]:
    """Projects per programme and phase, every filter applied (the phase one too).
    ``counts``: :func:`phase_counts` for these filters, when the caller has them already."""
    found = phase_counts(engine, filters) if counts is None else counts
    return [c for c in found if not filters.phase or c.phase == filters.phase]


@dataclass(frozen=True)
class TrendLine:
    programme_id: str
    programme: str
    # per week, oldest first: (overdue milestones, missing reports, late projects) or None
    weeks: list[tuple[int, int, int] | None]

    @property
    def items(self) -> list[int | None]:
        """Overdue items per week: milestones and missing reports; None where no data."""
        return [None if w is None else w[0] + w[1] for w in self.weeks]


@dataclass(frozen=True)
class Trend:
    mondays: list[date]  # the first day of each week, oldest first
    lines: list[TrendLine]


def overdue_trend(engine: Engine, today: date, filters: Filters, weeks: int = TREND_WEEKS) -> Trend:
    """The last ``weeks`` weeks (this one included) of the daily overdue count."""
    this_monday = today - timedelta(days=today.weekday())
    mondays = [this_monday - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]
    od = tables.overdue_daily
    where = [od.c.day >= mondays[0], od.c.day <= today]
    if filters.programme:
        where.append(od.c.programme == filters.programme)
    with read(engine.db) as conn:
        rows = conn.execute(
            sa.select(
                od.c.day,
                od.c.programme,
                od.c.overdue_milestones,
                od.c.missing_reports,
                od.c.late_projects,
            )
            .where(*where)
            .order_by(od.c.programme, od.c.day)
        ).all()
    by_programme: dict[str, dict[int, tuple[int, int, int]]] = {}
    for r in rows:  # ordered by day: the week's last recorded day wins
        week = (r.day - mondays[0]).days // 7
        figures = (r.overdue_milestones, r.missing_reports, r.late_projects)
        by_programme.setdefault(r.programme, {})[week] = figures
    lines = [
        TrendLine(pid, _programme_label(engine, pid), [found.get(n) for n in range(weeks)])
        for pid, found in by_programme.items()
    ]
    return Trend(mondays, sorted(lines, key=lambda line: line.programme))


@dataclass(frozen=True)
class CopilCount:
    programme_id: str
    programme: str
    planned: int
    held: int


def copil_counts(engine: Engine, year: int, filters: Filters) -> list[CopilCount]:
    """COPIL meetings planned and held in ``year``, per programme: summed from
    ``copil_tally`` (:mod:`workflow.copil_tally`), through its index alone unless a
    territory or a phase is chosen (then each row's project is read to filter it)."""
    t, p = tables.copil_tally, tables.project
    query = sa.select(t.c.definition_id, sa.func.sum(t.c.planned), sa.func.sum(t.c.held)).where(
        t.c.year == year
    )
    if filters.territory or filters.phase:
        query = query.select_from(t.join(p, p.c.id == t.c.project_id)).where(
            *_project_where(filters)
        )
    elif filters.programme:
        query = query.where(t.c.definition_id == filters.programme)
    with read(engine.db) as conn:
        rows = conn.execute(query.group_by(t.c.definition_id)).all()
    found = [
        CopilCount(pid, _programme_label(engine, pid), int(planned), int(held or 0))
        for pid, planned, held in rows
        if planned
    ]
    return sorted(found, key=lambda c: c.programme)


@dataclass(frozen=True)
class BudgetTotal:
    programme_id: str
    programme: str
    planned_cents: int
    spent_cents: int
    forecast_cents: int


def budget_totals(engine: Engine, year: int, filters: Filters) -> list[BudgetTotal]:
    """The year's budget lines summed per programme (cents)."""
    b, p = tables.budget_line, tables.project
    of_year = sa.or_(
        b.c.year == year,
        sa.and_(b.c.year.is_(None), sa.extract("year", p.c.start_date) == year),
    )
    with read(engine.db) as conn:
        rows = conn.execute(
            sa.select(
                p.c.definition_id,
                sa.func.sum(b.c.planned_cents),
                sa.func.sum(b.c.spent_cents),
                sa.func.sum(b.c.forecast_cents),
            )
            .select_from(b.join(p))
            .where(of_year, *_project_where(filters))
            .group_by(p.c.definition_id)
        ).all()
    found = [
        BudgetTotal(pid, _programme_label(engine, pid), int(pl), int(sp), int(fc))
        for pid, pl, sp, fc in rows
    ]
    return sorted(found, key=lambda t: t.programme)


@dataclass(frozen=True)
class ChartData:
    year: int
    phases: list[PhaseCount]
    trend: Trend
    copil: list[CopilCount]
    budget: list[BudgetTotal]


def chart_data(
    engine: Engine, today: date, filters: Filters, counts: list[PhaseCount] | None = None
) -> ChartData:
    """Every chart of the dashboard, for this year and these filters (``counts``: the
    dashboard's :func:`phase_counts`, read once for its list and its chart)."""
    return ChartData(
        year=today.year,
        phases=phases_by_programme(engine, filters, counts),
        trend=overdue_trend(engine, today, filters),
        copil=copil_counts(engine, today.year, filters),
        budget=budget_totals(engine, today.year, filters),
    )
