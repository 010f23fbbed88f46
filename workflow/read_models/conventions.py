"""A project's conventions as data: parties, amounts in force, status, renewals, avenants,
and the year of a multi-year funding ("année N sur M"), for the pages, the API and the CLI.

Keys, not words: ``status`` (``awaiting_signatures``, ``in_force``, ``lapsed``),
``instrument`` (``decision``, ``convention``; seed 001's 23,000 EUR rule in
:func:`workflow.models.instrument_of`), change ``kind`` (``renewal``, ``avenant``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import sqlalchemy as sa

from workflow import tables
from workflow.conventions import amounts_in_force, funding_year, status_of
from workflow.models import instrument_of

if TYPE_CHECKING:
    from workflow.engine import Engine

__all__ = [
    "AmountChange",
    "ChangeLine",
    "ConventionView",
    "ConventionsView",
    "PartyLine",
    "project_conventions",
]


@dataclass(frozen=True)
class PartyLine:
    partner_id: int
    organisation: str
    amount_cents: int | None  # in force on the view's day
    instrument: str | None  # decision | convention | None (amount unknown)
    signed_on: date | None
    notice_received_on: date | None
    leaves_on: date | None


@dataclass(frozen=True)
class AmountChange:
    partner_id: int
    organisation: str
    before_cents: int | None
    after_cents: int | None


@dataclass(frozen=True)
class ChangeLine:
    kind: str  # renewal | avenant
    effective_on: date
    ends_on: date | None
    object: str
    amounts: list[AmountChange]
    recorded_by: str


@dataclass(frozen=True)
class ConventionView:
    id: int
    label: str
    status: str
    effective_on: date | None
    ends_on: date | None
    duration_months: int
    parties: list[PartyLine]
    changes: list[ChangeLine]
    total_cents: int  # of the amounts known, in force on the view's day


@dataclass(frozen=True)
class ConventionsView:
    project_id: int
    today: date
    conventions: list[ConventionView]
    declared: bool  # whether the programme's definition declares a convention
    renewal: str | None  # express | none (None: not declared)
    notice_months: int | None
    funding_year: tuple[int, int] | None  # (N, M): "année N sur M"
    instruments: list[tuple[str, str]]  # the programme's funding instruments (key, label)


def project_conventions(
    engine: Engine, conn: sa.Connection, project_id: int, on: date | None = None
) -> ConventionsView:
    """The project's conventions as on ``on`` (default: today): the amounts in force that
    day, each convention's status then. ``NotFound`` if there is no such project."""
    project = engine.project_row(conn, project_id)
    definition = engine.shown_definition(project.definition_id, project.definition_version)
    today = on or engine.today()
    rows = conn.execute(
        sa.select(tables.convention)
        .where(tables.convention.c.project_id == project_id)
        .order_by(tables.convention.c.id)
    ).all()
    views = []
    for c in rows:
        parties = conn.execute(
            sa.select(tables.convention_party, tables.partner.c.organisation)
            .join(tables.partner, tables.partner.c.id == tables.convention_party.c.partner_id)
            .where(tables.convention_party.c.convention_id == c.id)
            .order_by(tables.convention_party.c.id)
        ).all()
        names = {p.partner_id: p.organisation for p in parties}
        amounts = amounts_in_force(conn, c.id, today)
        lines = [
            PartyLine(
                partner_id=p.partner_id,
                organisation=p.organisation,
                amount_cents=amounts.get(p.partner_id),
                instrument=instrument_of(amounts.get(p.partner_id)),
                signed_on=p.signed_on,
                notice_received_on=p.notice_received_on,
                leaves_on=p.leaves_on,
            )
            for p in parties
        ]
        changes = []
        running: dict[int, int | None] = {p.partner_id: p.amount_cents for p in parties}
        for ch in conn.execute(
            sa.select(tables.convention_change)
            .where(tables.convention_change.c.convention_id == c.id)
            .order_by(tables.convention_change.c.effective_on, tables.convention_change.c.id)
        ):
            moved = []
            for key, cents in (ch.amounts or {}).items():
                pid = int(key)
                moved.append(AmountChange(pid, names.get(pid, str(pid)), running.get(pid), cents))
                running[pid] = cents
            changes.append(
                ChangeLine(
                    kind=ch.kind,
                    effective_on=ch.effective_on,
                    ends_on=ch.ends_on,
                    object=ch.object,
                    amounts=moved,
                    recorded_by=ch.recorded_by,
                )
            )
        views.append(
            ConventionView(
                id=c.id,
                label=c.label,
                status=status_of(c.effective_on, c.ends_on, today),
                effective_on=c.effective_on,
                ends_on=c.ends_on,
                duration_months=c.duration_months,
                parties=lines,
                changes=changes,
                total_cents=sum(p.amount_cents or 0 for p in lines),
            )
        )
    policy = definition.convention
    funding = definition.funding
    return ConventionsView(
        project_id=project_id,
        today=today,
        conventions=views,
        declared=policy is not None,
        renewal=policy.renewal if policy is not None else None,
        notice_months=policy.notice if policy is not None else None,
        funding_year=funding_year(definition, project.start_date, today),
        instruments=[(i.key, i.label) for i in funding.instruments] if funding else [],
    )
