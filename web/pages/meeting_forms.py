"""The forms of a project's meetings: schedule, move, cancel with a reason, record as held
with the attendance ticked in advance from the invitation answers."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from web.forms import Form, Input
from web.pages.form_context import PARIS, Context, not_after_today
from workflow import tables
from workflow.database import read

__all__ = [
    "meeting_cancel_form",
    "meeting_held_form",
    "meeting_move_form",
    "meeting_schedule_form",
]


def _meeting_choices(ctx: Context, statuses: tuple[str, ...]) -> list[tuple[str, str]]:
    return [
        (
            str(m.id),
            ctx.definition.meeting_label(m.series, m.occurrence, m.label, ctx.lang)
            + (f" ({m.starts_at.astimezone(PARIS):%d/%m/%Y %H:%M})" if m.starts_at else ""),
        )
        for m in ctx.project.meetings
        if m.status in statuses
    ]


def meeting_schedule_form(ctx: Context) -> Form:
    series = [
        (s.key, ctx.definition.label("meeting", s.key, ctx.lang)) for s in ctx.definition.meetings
    ]
    expected = [
        (m.occurrence, ctx.definition.meeting_label(m.series, m.occurrence, m.label, ctx.lang))
        for m in ctx.project.meetings
        if m.status == "expected" and m.occurrence
    ]

    def act(v: dict[str, Any]) -> str:
        ctx.c.records.schedule_meeting(
            ctx.pid,
            v["series"],
            v["starts_at"],
            occurrence=v["occurrence"],
            location=v["location"],
        )
        return "Réunion planifiée : les invitations partent."

    return Form(
        "meeting_schedule",
        "Planifier une réunion",
        [
            Input("series", "Série", "choice", True, series, ctx.query.get("series", "")),
            Input(
                "occurrence",
                "Réunion attendue (facultatif)",
                "choice",
                choices=[("", "aucune"), *expected],
                value=ctx.query.get("occurrence", ""),
            ),
            Input("starts_at", "Début", "instant", True),
            Input("location", "Lieu"),
        ],
        "Planifier",
        act,
        anchor="reunions",
    )


def meeting_move_form(ctx: Context) -> Form:
    planned = _meeting_choices(ctx, ("planned",))

    def act(v: dict[str, Any]) -> str:
        ctx.c.records.move_meeting(
            ctx.pid, int(v["meeting"]), v["starts_at"], v["location"] or None
        )
        return "Réunion déplacée : les invités sont prévenus."

    return Form(
        "meeting_move",
        "Déplacer une réunion",
        [
            Input("meeting", "Réunion", "choice", True, planned, ctx.query.get("meeting", "")),
            Input("starts_at", "Nouveau début", "instant", True),
            Input("location", "Lieu", hint="Laissez vide pour garder le lieu."),
        ],
        "Déplacer",
        act,
        anchor="reunions",
    )


def meeting_cancel_form(ctx: Context) -> Form:
    planned = _meeting_choices(ctx, ("planned",))

    def act(v: dict[str, Any]) -> str:
        ctx.c.records.cancel_meeting(ctx.pid, int(v["meeting"]), reason=v["reason"])
        return "Réunion annulée : les invités sont prévenus."

    return Form(
        "meeting_cancel",
        "Annuler une réunion",
        [
            Input("meeting", "Réunion", "choice", True, planned, ctx.query.get("meeting", "")),
            Input("reason", "Motif de l'annulation", "text", True),
        ],
        "Annuler la réunion",
        act,
        intro="Les invités reçoivent l'annulation. Une réunion annulée ne compte plus.",
        danger=True,
        anchor="reunions",
    )


def _yes_answers(ctx: Context, meeting_id: int) -> set[int]:
    with read(ctx.c.db) as conn:
        return set(
            conn.execute(
                sa.select(tables.attendance.c.partner_id).where(
                    tables.attendance.c.meeting_id == meeting_id,
                    tables.attendance.c.answer == "yes",
                )
            ).scalars()
        )


def meeting_held_form(ctx: Context) -> Form:
    opened = _meeting_choices(ctx, ("expected", "planned"))
    new = [
        (
            f"series:{s.key}",
            f"nouvelle réunion : {ctx.definition.label('meeting', s.key, ctx.lang)}",
        )
        for s in ctx.definition.meetings
    ]
    chosen = ctx.query.get("meeting", "")
    if not chosen and ctx.query.get("occurrence"):
        chosen = next(
            (str(m.id) for m in ctx.project.meetings if m.occurrence == ctx.query["occurrence"]), ""
        )
    if not chosen and ctx.query.get("series"):
        chosen = f"series:{ctx.query['series']}"
    partners = [p for p in ctx.project.partners if p.left_on is None or p.left_on >= ctx.today]
    names = {
        str(p.id): p.organisation + (f" ({p.contact_name})" if p.contact_name else "")
        for p in partners
    }
    present: list[str] = []
    if chosen.isdigit() and len(chosen) < 10:
        yes = _yes_answers(ctx, int(chosen))
        present = [str(p.id) for p in partners if p.id in yes]

    def act(v: dict[str, Any]) -> str:
        held_on = not_after_today(ctx, "held_on", v["held_on"])
        meeting: str = v["meeting"]
        ctx.c.records.meeting_held(
            ctx.pid,
            meeting_id=int(meeting) if meeting.isdigit() else None,
            series=meeting.removeprefix("series:") if meeting.startswith("series:") else None,
            held_on=held_on,
            attendees=[names[k] for k in v["attendees"]],
            minutes_ref=v["minutes_ref"] or None,
        )
        return "Réunion enregistrée comme tenue."

    return Form(
        "meeting_held",
        "Enregistrer une réunion tenue",
        [
            Input("meeting", "Réunion", "choice", True, [*opened, *new], chosen),
            Input("held_on", "Tenue le", "day", value=ctx.today.isoformat()),
            Input(
                "attendees",
                "Présents",
                "checks",
                choices=list(names.items()),
                value=present,
                hint="Cochés d'avance : ceux qui ont répondu « présent » à l'invitation.",
            ),
            Input("minutes_ref", "Réf. du compte rendu"),
        ],
        "Enregistrer",
        act,
        anchor="reunions",
    )
