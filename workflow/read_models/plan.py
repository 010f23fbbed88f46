"""The plan d'actions of one project as data: its objectives tree, the fiches-actions serving
them and each action's indicators (the API's ``GET /projects/{id}/plan`` and the plan page)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from workflow import tables
from workflow.database import read
from workflow.engine import Engine

__all__ = ["ActionLine", "IndicatorLine", "ObjectiveLine", "PlanView", "plan_of"]


@dataclass(frozen=True)
class ObjectiveLine:
    key: str
    level: str
    parent: str | None
    label: str
    position: int


@dataclass(frozen=True)
class IndicatorLine:
    key: str
    label: str
    kind: str
    year: int | None
    planned: float | None
    realised: float | None
    unit: str
    source: str
    method: str
    gap_explanation: str | None
    corrective_measure: str | None


@dataclass(frozen=True)
class ActionLine:
    key: str
    objective: str
    label: str
    partner_id: int | None
    partner: str
    starts_on: date | None
    ends_on: date | None
    target_public: str
    etp: float | None
    budget_cents: int | None
    series: str | None
    planned: str
    realised: str
    gap_explanation: str | None
    corrective_measure: str | None
    corrective_measure_cpom: str | None
    indicators: list[IndicatorLine]


@dataclass(frozen=True)
class PlanView:
    objectives: list[ObjectiveLine]
    actions: list[ActionLine]


def plan_of(engine: Engine, project_id: int) -> PlanView:
    with read(engine.db) as conn:
        engine.project_row(conn, project_id)
        objectives = conn.execute(
            sa.select(tables.objective)
            .where(tables.objective.c.project_id == project_id)
            .order_by(tables.objective.c.position, tables.objective.c.id)
        ).all()
        actions = conn.execute(
            sa.select(tables.fiche_action)
            .where(tables.fiche_action.c.project_id == project_id)
            .order_by(tables.fiche_action.c.position, tables.fiche_action.c.id)
        ).all()
        indicators = conn.execute(
            sa.select(tables.indicator)
            .where(
                tables.indicator.c.project_id == project_id,
                tables.indicator.c.action_id.is_not(None),
            )
            .order_by(tables.indicator.c.year, tables.indicator.c.id)
        ).all()
        partners = dict(
            conn.execute(
                sa.select(tables.partner.c.id, tables.partner.c.organisation).where(
                    tables.partner.c.project_id == project_id
                )
            ).all()
        )
    key_of = {o.id: o.key for o in objectives}
    return PlanView(
        objectives=[
            ObjectiveLine(o.key, o.level, key_of.get(o.parent_id), o.label, o.position)
            for o in objectives
        ],
        actions=[
            ActionLine(
                key=a.key,
                objective=key_of.get(a.objective_id, ""),
                label=a.label,
                partner_id=a.partner_id,
                partner=partners.get(a.partner_id, ""),
                starts_on=a.starts_on,
                ends_on=a.ends_on,
                target_public=a.target_public,
                etp=a.etp,
                budget_cents=a.budget_cents,
                series=a.series,
                planned=a.planned,
                realised=a.realised,
                gap_explanation=a.gap_explanation,
                corrective_measure=a.corrective_measure,
                corrective_measure_cpom=a.corrective_measure_cpom,
                indicators=[
                    IndicatorLine(
                        key=i.key,
                        label=i.label,
                        kind=i.kind,
                        year=i.year,
                        planned=i.planned,
                        realised=i.realised,
                        unit=i.unit,
                        source=i.source,
                        method=i.method,
                        gap_explanation=i.gap_explanation,
                        corrective_measure=i.corrective_measure,
                    )
                    for i in indicators
                    if i.action_id == a.id
                ],
            )
            for a in actions
        ],
    )
