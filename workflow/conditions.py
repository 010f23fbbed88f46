"""Exit conditions: which of a transition's conditions do not hold, in words."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa

from workflow.definition import Definition, Transition
from workflow.models import Decision, Meeting, Milestone, Partner, Report

__all__ = ["active_partners", "unmet_conditions"]

M = Milestone.__table__  # type: ignore[attr-defined]
MT = Meeting.__table__  # type: ignore[attr-defined]
D = Decision.__table__  # type: ignore[attr-defined]
PT = Partner.__table__  # type: ignore[attr-defined]
R = Report.__table__  # type: ignore[attr-defined]


def active_partners(
    conn: sa.Connection, project_id: int, today: date, role: str = "partner"
) -> list[Any]:
    """Partners holding ``role`` who have joined and not yet left on ``today``."""
    rows = conn.execute(
        sa.select(
            PT.c.id,
            PT.c.organisation,
            PT.c.contact_name,
            PT.c.email,
            PT.c.roles,
            PT.c.lang,
            PT.c.joined_on,
            PT.c.left_on,
        )
        .where(PT.c.project_id == project_id)
        .order_by(PT.c.id)
    ).all()
    return [
        r
        for r in rows
        if role in r.roles and r.joined_on <= today and (r.left_on is None or r.left_on > today)
    ]


def unmet_conditions(
    conn: sa.Connection,
    definition: Definition,
    transition: Transition,
    *,
    project_id: int,
    phase_started: date,
    today: date,
) -> list[str]:
    """Every condition of ``transition`` that does not hold for the project, as a sentence."""
    conds = transition.conditions
    unmet: list[str] = []
    milestone_keys = [c.milestone for c in conds if c.milestone]
    done: set[str] = set()
    if milestone_keys:
        done = set(
            conn.execute(
                sa.select(M.c.key).where(
                    M.c.project_id == project_id,
                    M.c.key.in_(milestone_keys),
                    M.c.done_on.is_not(None),
                )
            ).scalars()
        )
    occurrences = definition.occurrences()
    meeting_keys = [c.meeting for c in conds if c.meeting]
    held_occ: set[str] = set()
    held_series: set[str] = set()
    if meeting_keys:
        for occ, series, held_on in conn.execute(
            sa.select(MT.c.occurrence, MT.c.series, MT.c.held_on).where(
                MT.c.project_id == project_id, MT.c.status == "held"
            )
        ):
            if occ:
                held_occ.add(occ)
            if held_on is not None and held_on >= phase_started:
                held_series.add(series)
    decision_keys = [c.decision for c in conds if c.decision]
    decided: set[str] = set()
    if decision_keys:
        decided = set(
            conn.execute(
                sa.select(D.c.key).where(D.c.project_id == project_id, D.c.key.in_(decision_keys))
            ).scalars()
        )
    partners: list[Any] | None = None
    for c in conds:
        if c.milestone and c.milestone not in done:
            m = definition.milestone(c.milestone)
            unmet.append(f"{m.label} not delivered" if m.deliverable else f"{m.label} not done")
        elif c.meeting:
            if c.meeting in occurrences:
                if c.meeting not in held_occ:
                    unmet.append(f"{occurrences[c.meeting][1].label} not held")
            elif c.meeting not in held_series:
                unmet.append(f"no {definition.series(c.meeting).label} held in this phase yet")
        elif c.decision and c.decision not in decided:
            unmet.append(f"decision {c.decision!r} not recorded")
        elif c.min_partners is not None:
            partners = (
                partners if partners is not None else active_partners(conn, project_id, today)
            )
            if len(partners) < c.min_partners:
                unmet.append(f"{len(partners)} active partner(s), at least {c.min_partners} needed")
        elif c.report:
            partners = (
                partners if partners is not None else active_partners(conn, project_id, today)
            )
            submitted = set(
                conn.execute(
                    sa.select(R.c.partner_id).where(
                        R.c.project_id == project_id, R.c.schedule == c.report
                    )
                ).scalars()
            )
            missing = [p.organisation for p in partners if p.id not in submitted]
            label = next(r.label for r in definition.reports if r.key == c.report)
            if missing:
                unmet.append(f"{label} not received from {', '.join(missing)}")
            elif not partners:
                unmet.append(f"{label}: no active partner to report")
    return unmet
