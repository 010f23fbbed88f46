"""Exit conditions: which of a transition's conditions do not hold, in words."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, NamedTuple

from workflow.database import Conn, Raw, placeholders, raw
from workflow.definition import Definition, Transition

__all__ = ["PartnerRow", "active", "active_partners", "project_partners", "unmet_conditions"]


class PartnerRow(NamedTuple):
    id: int
    organisation: str
    contact_name: str
    email: str
    roles: list[str]
    lang: str
    joined_on: date
    left_on: date | None


_PARTNERS = (
    "SELECT id, organisation, contact_name, email, roles, lang, joined_on, left_on"
    " FROM partner WHERE project_id = ? ORDER BY id"
)


# Roles as stored (JSON text on SQLite, a list from psycopg) -> parsed. There are a few
# distinct values, each parsed once (json.loads cost ~1.5 us a partner per read).
_ROLES: dict[Any, tuple[str, ...]] = {}


def _roles(db: Raw, stored: Any) -> list[str]:
    key = stored if isinstance(stored, str) else tuple(stored)
    roles = _ROLES.get(key)
    if roles is None:
        if len(_ROLES) > 1000:
            _ROLES.clear()
        roles = _ROLES[key] = tuple(db.from_json(stored))
    return list(roles)


def project_partners(conn: Conn, project_id: int) -> list[PartnerRow]:
    """Every partner row of the project (left ones too), in joining order: read once, filter
    with :func:`active` as often as needed."""
    db = raw(conn)
    day = db.to_day
    return [
        PartnerRow(i, org, name, email, _roles(db, roles), lang, day(joined), day(left))  # type: ignore[arg-type]
        for i, org, name, email, roles, lang, joined, left in db.execute(_PARTNERS, (project_id,))
    ]


def active(partners: Sequence[PartnerRow], today: date, role: str = "partner") -> list[PartnerRow]:
    """Those of ``partners`` holding ``role`` who have joined and not yet left on ``today``."""
    return [
        p
        for p in partners
        if role in p.roles and p.joined_on <= today and (p.left_on is None or p.left_on > today)
    ]


def active_partners(
    conn: Conn, project_id: int, today: date, role: str = "partner"
) -> list[PartnerRow]:
    """Partners holding ``role`` who have joined and not yet left on ``today``."""
    return active(project_partners(conn, project_id), today, role)


def unmet_conditions(
    conn: Conn,
    definition: Definition,
    transition: Transition,
    *,
    project_id: int,
    phase_started: date,
    today: date,
    partners: Sequence[PartnerRow] | None = None,
) -> list[str]:
    """Every condition of ``transition`` that does not hold for the project, as a sentence.

    ``partners``: the project's partner rows (:func:`project_partners`) when the caller has
    read them already; otherwise they are read here if a condition needs them.
    """
    conds = transition.conditions
    if not conds:
        return []
    db = raw(conn)
    unmet: list[str] = []
    milestone_keys = [c.milestone for c in conds if c.milestone]
    done: set[str] = set()
    if milestone_keys:
        done = {
            key
            for (key,) in db.execute(
                'SELECT "key" FROM milestone WHERE project_id = ?'
                f' AND "key" IN ({placeholders(milestone_keys)}) AND done_on IS NOT NULL',
                (project_id, *milestone_keys),
            )
        }
    meeting_keys = [c.meeting for c in conds if c.meeting]
    held_occ: set[str] = set()
    held_series: set[str] = set()
    if meeting_keys:
        for occ, series, held_on in db.execute(
            "SELECT occurrence, series, held_on FROM meeting WHERE project_id = ? AND status = ?",
            (project_id, "held"),
        ):
            if occ:
                held_occ.add(occ)
            if held_on is not None and db.to_day(held_on) >= phase_started:  # type: ignore[operator]
                held_series.add(series)
    decision_keys = [c.decision for c in conds if c.decision]
    decided: set[str] = set()
    if decision_keys:
        decided = {
            key
            for (key,) in db.execute(
                'SELECT "key" FROM decision WHERE project_id = ?'
                f' AND "key" IN ({placeholders(decision_keys)})',
                (project_id, *decision_keys),
            )
        }
    occurrences = definition.occurrences() if meeting_keys else {}
    active_now: list[PartnerRow] | None = None
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
        elif c.min_partners is not None or c.report:
            if active_now is None:
                if partners is None:
                    partners = project_partners(conn, project_id)
                active_now = active(partners, today)
            if c.min_partners is not None:
                if len(active_now) < c.min_partners:
                    unmet.append(
                        f"{len(active_now)} active partner(s), at least {c.min_partners} needed"
                    )
                continue
            submitted = {
                partner_id
                for (partner_id,) in db.execute(
                    "SELECT partner_id FROM report WHERE project_id = ? AND schedule = ?",
                    (project_id, c.report),
                )
            }
            missing = [p.organisation for p in active_now if p.id not in submitted]
            label = next(r.label for r in definition.reports if r.key == c.report)
            if missing:
                unmet.append(f"{label} not received from {', '.join(missing)}")
            elif not active_now:
                unmet.append(f"{label}: no active partner to report")
    return unmet
