"""Who receives each kind of message: the routing table, computed from a definition's RACI.

Every kind of message has an *audience*: role keys of the definition, or one of three
tokens resolved per item:

- ``responsible``: the role that owes the item (a milestone's ``responsible``, a report's
  ``owed_by``); only the people of that role who owe it are written to;
- ``attendees``: the meeting series' attendees (invitations, changes, reminders);
- ``informed``: the roles the RACI informs of the phase entered (and the definition's
  ``notifications`` rules for that phase).

By default the responsible gets reminders and overdue notices, the accountable gets
escalations (the RACI's ``accountable`` of the item, else the pilot), consulted bodies get
invitations (the meeting's attendees) and informed roles get phase notifications; the
steering committee and the agency hear of partners joining or leaving and of a project
suspended, resumed or abandoned. A definition overrides any kind in its ``routing`` section.

A meeting's invitation, change and cancellation never go to its organiser, the project's
pilot named as ``ORGANIZER`` in the calendar entry (:data:`ORGANISED`): they planned it
and are not asked whether they will attend it; its reminder and minutes request still reach
them.

An escalation is about someone late: it never reaches the people who hold the late party's
role (peer partners) nor anybody outside its audience; when the late party is the pilot
itself, it goes to the agency. This is the one home of that rule
(:func:`escalation_audience`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from workflow.definition import Definition, RaciEntry

__all__ = [
    "ATTENDEES",
    "ESCALATIONS",
    "INFORMED",
    "KINDS",
    "ORGANISED",
    "RESPONSIBLE",
    "TOKENS",
    "Route",
    "accountable_for",
    "audience",
    "escalation_audience",
    "expand",
    "kinds_reaching",
    "routing_table",
]

RESPONSIBLE = "responsible"
ATTENDEES = "attendees"
INFORMED = "informed"
TOKENS = (RESPONSIBLE, ATTENDEES, INFORMED)

ESCALATIONS = frozenset({"milestone_escalation", "report_escalation"})
ORGANISED = frozenset({"meeting_invitation", "meeting_update", "meeting_cancel"})
"""What a meeting's organiser does not receive about it (they made the change)."""

# Kind -> its class of message, which gives its default audience.
KINDS: dict[str, str] = {
    "milestone_reminder": "reminder",
    "milestone_overdue": "overdue",
    "milestone_escalation": "escalation",
    "report_request": "reminder",
    "report_reminder": "reminder",
    "report_overdue": "overdue",
    "report_escalation": "escalation",
    "meeting_invitation": "invitation",
    "meeting_update": "invitation",
    "meeting_cancel": "invitation",
    "meeting_reminder": "invitation",
    "meeting_minutes_request": "pilot",
    "series_behind": "pilot",
    "overdue_digest": "pilot",
    "phase_changed": "phase",
    "project_suspended": "steering",
    "project_resumed": "steering",
    "project_abandoned": "steering",
    "partner_joined": "membership",
    "partner_left": "membership",
    "annual_review": "review",
    "convention_end": "convention",
}


@dataclass(frozen=True)
class Route:
    """One line of the routing table: a kind and the audience it goes to."""

    kind: str
    audience: tuple[str, ...]
    overridden: bool  # the definition's ``routing`` says so, not the default


def _accountable_roles(definition: Definition) -> tuple[str, ...]:
    found: list[str] = []
    for entry in definition.raci:
        for role in entry.accountable:
            if role not in found:
                found.append(role)
    return tuple(found) or ("pilot",)


def _default(definition: Definition, kind: str) -> tuple[str, ...]:
    family = KINDS[kind]
    if family in ("reminder", "overdue"):
        return (RESPONSIBLE,)
    if family == "escalation":
        return _accountable_roles(definition)
    if family == "invitation":
        return (ATTENDEES,)
    if family == "pilot":
        return ("pilot",)
    if family == "phase":
        return ("pilot", "agency", INFORMED)
    if family in ("membership", "steering"):
        return ("pilot", "copil", "agency")
    if family == "review":
        review = definition.annual_review
        return tuple(review.attendees) if review is not None else ("pilot",)
    return ("pilot", "partner", "agency")  # convention


def routing_table(definition: Definition) -> list[Route]:
    """Every kind and its audience for ``definition``, in the order of :data:`KINDS`."""
    override = definition.routing
    return [
        Route(kind, tuple(override[kind]), True)
        if kind in override
        else Route(kind, _default(definition, kind), False)
        for kind in KINDS
    ]


def audience(definition: Definition, kind: str) -> tuple[str, ...]:
    """The audience of ``kind`` (role keys and tokens)."""
    if kind in definition.routing:
        return tuple(definition.routing[kind])
    return _default(definition, kind)


def accountable_for(definition: Definition, subject: str) -> tuple[str, ...]:
    """The RACI's accountable roles of the entry about ``subject`` (a milestone or report
    key), if the RACI names one."""
    entry: RaciEntry | None = next(
        (e for e in definition.raci if (e.about or e.action) == subject), None
    )
    return tuple(entry.accountable) if entry is not None else ()


def escalation_audience(
    definition: Definition, kind: str, subject: str, late_role: str
) -> tuple[tuple[str, ...], str]:
    """The roles an escalation about ``subject`` (owed by ``late_role``) goes to, and the
    role whose holders must not receive it (the late party and its peers).

    The item's own accountable in the RACI comes first; else the kind's audience. When
    that leaves nobody but the late party (the pilot's own deliverable), the agency."""
    roles = accountable_for(definition, subject) if kind not in definition.routing else ()
    roles = roles or audience(definition, kind)
    kept = tuple(r for r in roles if r != late_role and r not in TOKENS)
    return (kept or ("agency",)), late_role


def expand(
    roles: Sequence[str],
    *,
    responsible: Iterable[str] = (),
    attendees: Iterable[str] = (),
    informed: Iterable[str] = (),
) -> tuple[str, ...]:
    """``roles`` with its tokens replaced by the item's roles, in order, once each."""
    out: list[str] = []
    for role in roles:
        values: Iterable[str]
        if role == RESPONSIBLE:
            values = responsible
        elif role == ATTENDEES:
            values = attendees
        elif role == INFORMED:
            values = informed
        else:
            values = (role,)
        for value in values:
            if value not in out:
                out.append(value)
    return tuple(out)


def kinds_reaching(definition: Definition, roles: Iterable[str]) -> tuple[str, ...]:
    """The kinds of message that may reach a person holding ``roles`` in a project of
    ``definition``, in the order of :data:`KINDS` (what their preferences page offers).

    A token counts when one of the roles can stand for it anywhere in the definition: owing
    a milestone or a report (``responsible``), attending a meeting series (``attendees``),
    being informed by the RACI or a notification rule (``informed``)."""
    held = set(roles)
    responsible = {m.responsible for m in definition.milestones} | {
        r.owed_by for r in definition.reports
    }
    attendees = {role for s in definition.meetings for role in s.attendees}
    informed = {role for e in definition.raci for role in e.informed} | {
        role for n in definition.notifications for role in n.notify
    }
    out: list[str] = []
    for kind in KINDS:
        if kind in ESCALATIONS:
            # every accountable a RACI entry names, beside the kind's audience; never the
            # late party, which is the responsible: an escalation is not about the reader
            roles_of = set(audience(definition, kind)) | {
                r for e in definition.raci for r in e.accountable
            }
            roles_of = roles_of - set(TOKENS) or {"agency"}
        else:
            roles_of = set(
                expand(
                    audience(definition, kind),
                    responsible=responsible,
                    attendees=attendees,
                    informed=informed,
                )
            )
        if held & roles_of:
            out.append(kind)
    return tuple(out)
