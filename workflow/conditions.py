"""Exit conditions: which of a transition's conditions do not hold, as data (:class:`Unmet`).

The words for them are in ``notifications/wording.py`` (``refusal.<kind>``, ``fix.<fix>``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple

from workflow.database import Conn, Raw, placeholders, raw
from workflow.definition import Definition, Transition
from workflow.errors import Unmet

__all__ = [
    "AutomaticFlag",
    "PartnerRow",
    "active",
    "active_partners",
    "comment_required",
    "project_partners",
    "unmet_conditions",
]


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


@dataclass(frozen=True)
class AutomaticFlag:
    """Why a project's automatic step could not be taken when its moment came: the step's
    label and its unmet conditions, as data. Stored as JSON in ``project.flag_reason``;
    :meth:`parse` also reads the plain sentences stored before."""

    step: str
    unmet: tuple[Unmet, ...] = ()
    legacy: str | None = None  # a plain sentence stored before flags were data

    def to_json(self) -> str:
        return json.dumps(
            {"step": self.step, "unmet": [u.as_dict() for u in self.unmet]}, ensure_ascii=False
        )

    @classmethod
    def parse(cls, stored: str | None) -> AutomaticFlag | None:
        if not stored:
            return None
        try:
            data = json.loads(stored)
            return cls(
                str(data["step"]),
                tuple(
                    Unmet(str(u["kind"]), str(u["subject"]), dict(u["params"]), str(u["fix"]))
                    for u in data["unmet"]
                ),
            )
        except (ValueError, TypeError, KeyError):
            return cls("", (), legacy=stored)

    def __str__(self) -> str:
        """The developer's sentence (logs, ``copilote tick``, the API's ``flag_reason``)."""
        if self.legacy is not None:
            return self.legacy
        return f"{self.step}: " + "; ".join(str(u) for u in self.unmet)


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
) -> list[Unmet]:
    """Every condition of ``transition`` that does not hold for the project, in the
    definition's order, each with what records it (no reading beyond the conditions' own).

    ``partners``: the project's partner rows (:func:`project_partners`) when the caller has
    read them already; otherwise they are read here if a condition needs them.
    """
    conds = transition.conditions
    if not conds:
        return []
    db = raw(conn)
    unmet: list[Unmet] = []
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
    needs_file = [
        c.milestone
        for c in conds
        if c.milestone and definition.milestone(c.milestone).deliverable_file
    ]
    filed: set[str] = set()
    if needs_file:
        filed = {
            key
            for (key,) in db.execute(
                "SELECT subject FROM document WHERE project_id = ? AND attached_to = ?"
                f" AND subject IN ({placeholders(needs_file)})",
                (project_id, "milestone", *needs_file),
            )
        }
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
        if c.milestone and c.milestone in needs_file and c.milestone not in filed:
            # ``deliverable: file``: the document is what is missing (filing it can also
            # record the milestone done).
            m = definition.milestone(c.milestone)
            unmet.append(
                Unmet(
                    "deliverable_file_missing",
                    c.milestone,
                    {
                        "label": m.label,
                        "label_en": m.label_en,
                        "deliverable": m.deliverable or m.label,
                        "deliverable_en": m.deliverable_en or m.label_en,
                    },
                    "upload_deliverable",
                )
            )
        elif c.milestone and c.milestone not in done:
            m = definition.milestone(c.milestone)
            kind = "deliverable_not_delivered" if m.deliverable else "milestone_not_done"
            params: dict[str, Any] = {"label": m.label, "label_en": m.label_en}
            if m.deliverable:
                params["deliverable"] = m.deliverable
                params["deliverable_en"] = m.deliverable_en or m.deliverable
            unmet.append(Unmet(kind, c.milestone, params, "record_milestone"))
        elif c.meeting:
            if c.meeting in occurrences:
                if c.meeting not in held_occ:
                    series, occurrence = occurrences[c.meeting]
                    unmet.append(
                        Unmet(
                            "occurrence_not_held",
                            c.meeting,
                            {
                                "label": occurrence.label,
                                "label_en": occurrence.label_en,
                                "series": series.label,
                                "series_en": series.label_en,
                            },
                            "record_meeting",
                        )
                    )
            elif c.meeting not in held_series:
                found = definition.series(c.meeting)
                unmet.append(
                    Unmet(
                        "series_not_held",
                        c.meeting,
                        {"label": found.label, "label_en": found.label_en},
                        "record_meeting",
                    )
                )
        elif c.objectives:
            unmet.extend(_plan_missing(db, project_id))
        elif c.decision and c.decision not in decided:
            unmet.append(
                Unmet(
                    "decision_not_recorded",
                    c.decision,
                    {
                        "decision": definition.decision_label(c.decision),
                        "decision_en": definition.decision_label(c.decision, "en"),
                    },
                    "record_decision",
                )
            )
        elif c.min_partners is not None or c.report:
            if active_now is None:
                if partners is None:
                    partners = project_partners(conn, project_id)
                active_now = active(partners, today)
            if c.min_partners is not None:
                if len(active_now) < c.min_partners:
                    unmet.append(
                        Unmet(
                            "too_few_partners",
                            "partner",
                            {"active": len(active_now), "needed": c.min_partners},
                            "add_partner",
                        )
                    )
                continue
            schedule = c.report or ""
            submitted = {
                partner_id
                for (partner_id,) in db.execute(
                    "SELECT partner_id FROM report WHERE project_id = ? AND schedule = ?",
                    (project_id, schedule),
                )
            }
            missing = [p.organisation for p in active_now if p.id not in submitted]
            spec = next(r for r in definition.reports if r.key == schedule)
            label, label_en = spec.label, spec.label_en
            if missing:
                unmet.append(
                    Unmet(
                        "reports_missing",
                        schedule,
                        {
                            "label": label,
                            "label_en": label_en,
                            "organisations": missing,
                            "count": len(missing),
                        },
                        "submit_reports",
                    )
                )
            elif not active_now:
                unmet.append(
                    Unmet(
                        "no_partner_to_report",
                        schedule,
                        {"label": label, "label_en": label_en},
                        "add_partner",
                    )
                )
    return unmet


def _plan_missing(db: Raw, project_id: int) -> list[Unmet]:
    """``objectives: required``: a general objective and a fiche-action serving an objective."""
    missing: list[Unmet] = []
    (general,) = db.execute(
        "SELECT COUNT(*) FROM objective WHERE project_id = ? AND level = ?",
        (project_id, "general"),
    ).fetchone()
    if not general:
        missing.append(Unmet("objectives_missing", "objectives", {}, "record_objectives"))
    (actions,) = db.execute(
        "SELECT COUNT(*) FROM fiche_action WHERE project_id = ?", (project_id,)
    ).fetchone()
    if not actions:
        missing.append(Unmet("actions_missing", "actions", {}, "record_objectives"))
    return missing


def comment_required(trigger: str, label: str) -> Unmet:
    """A step that needs a comment saying why was asked without one."""
    return Unmet("comment_required", trigger, {"step": label}, "give_comment")
