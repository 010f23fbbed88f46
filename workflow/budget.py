"""The budget of a project, year by year: lines (planned, spent, forecast, comment, the general
objective funded) and co-financing shares per funder (issue 13; seed 000's budget table).
Amounts are euro cents; each function is one transaction; a refusal names the field."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from workflow import tables
from workflow.conventions import author, parse_euros
from workflow.engine import Engine
from workflow.errors import InvalidInput, NotFound
from workflow.plan import Plan, cents_in, check_year, open_project, text_in, written

__all__ = ["Budget", "required_euros"]


def required_euros(text: str, field: str) -> int:
    """An amount people must give, as they type it ("31 419,35", "31419.35", "31 419,35 €"),
    in euro cents: the one reading of amounts (:func:`workflow.conventions.parse_euros`),
    an empty one refused naming ``field``."""
    cents = parse_euros(field, text)
    if cents is None:
        raise InvalidInput(field, "an amount in euros is required (e.g. 31 419,35)")
    return cents


class Budget:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def set_budget_line(
        self,
        project_id: int,
        line_id: int | None,
        *,
        year: int | None = None,
        label: str | None = None,
        objective: str | None = None,
        planned_cents: int | None = None,
        spent_cents: int | None = None,
        forecast_cents: int | None = None,
        comment: str | None = None,
        by: str,
    ) -> int:
        """Add a budget line of a year (``line_id`` None: year, label and planned needed) or
        change the fields given of an existing one."""
        by = author(by)
        values: dict[str, Any] = {
            k: v
            for k, v in {
                "label": text_in(label, "label", 2000),
                "planned_cents": cents_in(planned_cents, "planned_cents"),
                "spent_cents": cents_in(spent_cents, "spent_cents"),
                "forecast_cents": cents_in(forecast_cents, "forecast_cents"),
                "comment": text_in(comment, "comment"),
                "year": None if year is None else check_year(year),
            }.items()
            if v is not None
        }
        if values.get("label") == "":
            raise InvalidInput("label", "a budget line needs a label", "input.required")
        with self.engine.db.begin() as conn:
            project = open_project(self.engine, conn, project_id)
            if objective is not None:
                row = Plan.objective_id(conn, project_id, objective, "objective")
                if row.level != "general":
                    raise InvalidInput(
                        "objective",
                        f"{objective!r} is {row.level}: the budget is by general objective",
                    )
                values["objective_id"] = row.id
            if line_id is None:
                if "year" not in values or "label" not in values:
                    raise InvalidInput("budget", "a new budget line needs a year and a label")
                base = {"planned_cents": 0, "spent_cents": 0, "forecast_cents": 0, "comment": ""}
                what = f"{values['label']} ({values['year']})"
                written(self.engine, conn, project, "budget_line_added", by, what)
                return int(
                    conn.execute(
                        sa.insert(tables.budget_line)
                        .values(project_id=project_id, **{**base, **values})
                        .returning(tables.budget_line.c.id)
                    ).scalar_one()
                )
            found = conn.execute(
                sa.select(tables.budget_line).where(
                    tables.budget_line.c.id == line_id,
                    tables.budget_line.c.project_id == project_id,
                )
            ).one_or_none()
            if found is None:
                raise NotFound("budget line", line_id)
            if values:
                conn.execute(
                    sa.update(tables.budget_line)
                    .where(tables.budget_line.c.id == line_id)
                    .values(**values)
                )
                year_of = values.get("year", found.year)
                what = f"{values.get('label', found.label)}" + (f" ({year_of})" if year_of else "")
                written(self.engine, conn, project, "budget_line_changed", by, what)
            return line_id

    def set_funding_share(
        self, project_id: int, year: int, funder: str, share_basis_points: int, *, by: str
    ) -> None:
        """A funder's share of a year's budget (49 % is 4900); the shares of a year may not
        exceed 100 %; a share of 0 removes the funder."""
        by = author(by)
        check_year(year)
        funder = (text_in(funder, "funder", 200) or "").strip()
        if not funder:
            raise InvalidInput("funder", "name the funder (e.g. FSE)")
        if not 0 <= share_basis_points <= 10_000:
            raise InvalidInput(
                "share", f"{share_basis_points / 100:g} % is not between 0 and 100 %"
            )
        with self.engine.db.begin() as conn:
            project = open_project(self.engine, conn, project_id)
            removed = conn.execute(
                sa.delete(tables.funding_share).where(
                    tables.funding_share.c.project_id == project_id,
                    tables.funding_share.c.year == year,
                    tables.funding_share.c.funder == funder,
                )
            )
            others = conn.execute(
                sa.select(
                    sa.func.coalesce(sa.func.sum(tables.funding_share.c.share_basis_points), 0)
                ).where(
                    tables.funding_share.c.project_id == project_id,
                    tables.funding_share.c.year == year,
                )
            ).scalar_one()
            if others + share_basis_points > 10_000:
                raise InvalidInput(
                    "share",
                    f"{funder} at {share_basis_points / 100:g} % with the other funders' "
                    f"{others / 100:g} % exceeds 100 % of {year}",
                    "input.shares_over_100",
                    {"share": share_basis_points / 100, "others": others / 100, "year": str(year)},
                )
            if share_basis_points:
                conn.execute(
                    sa.insert(tables.funding_share).values(
                        project_id=project_id,
                        year=year,
                        funder=funder,
                        share_basis_points=share_basis_points,
                    )
                )
                percent = f"{share_basis_points / 100:g}".replace(".", ",")
                what = f"{funder} ({year}) : {percent} %"
                written(self.engine, conn, project, "funding_share_set", by, what)
            elif removed.rowcount:
                what = f"{funder} ({year})"
                written(self.engine, conn, project, "funding_share_removed", by, what)
