"""A person's mail preferences, opened from the signed link every message carries (no account).

Per kind of message the person receives (by its label): "immediately" or "in my weekly
digest"; and the language of the messages. The same address answers the one-click unsubscribe of RFC 8058: a POST of
``List-Unsubscribe=One-Click`` (what mail clients send for the ``List-Unsubscribe-Post``
header) moves every kind to the weekly digest. Nothing can be switched off: convocations and
report requests still arrive, in the digest (:mod:`workflow.preferences`).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from web import i18n
from web.deps import CopiloteDep
from web.pages.responses import PAGE_RESPONSES
from web.templating import render
from workflow import tables
from workflow.database import read
from workflow.errors import InvalidInput
from workflow.preferences import KINDS, LANGUAGES, Preference, load, save
from workflow.routing import kinds_reaching

router = APIRouter(default_response_class=HTMLResponse, responses=PAGE_RESPONSES)

_PRIVATE = {
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex",
}

# Each kind by what a person recognises in it (French; the English below).
LABELS = {
    "meeting_invitation": "Convocations aux réunions",
    "meeting_update": "Changements de date ou de lieu d'une réunion",
    "meeting_cancel": "Annulations de réunion",
    "meeting_reminder": "Rappels avant une réunion",
    "meeting_minutes_request": "Demandes de compte rendu après une réunion",
    "report_request": "Demandes de bilan trimestriel",
    "report_reminder": "Rappels de bilan avant l'échéance",
    "report_overdue": "Bilans en retard",
    "report_escalation": "Bilans toujours manquants malgré les relances",
    "milestone_reminder": "Livrables à remettre bientôt",
    "milestone_overdue": "Livrables en retard",
    "milestone_escalation": "Livrables toujours en retard malgré les relances",
    "phase_changed": "Changements de phase du projet",
    "partner_joined": "Arrivées de partenaires",
    "partner_left": "Départs de partenaires",
    "project_suspended": "Suspension du projet",
    "project_resumed": "Reprise du projet",
    "project_abandoned": "Abandon du projet",
    "series_behind": "Réunions en retard sur leur rythme",
    "annual_review": "Bilan annuel à organiser",
    "convention_end": "Fin de la convention de partenariat",
}
ENGLISH = {
    "meeting_invitation": "Meeting convocations",
    "meeting_update": "Changes of a meeting's date or place",
    "meeting_cancel": "Meetings cancelled",
    "meeting_reminder": "Reminders before a meeting",
    "meeting_minutes_request": "Requests for minutes after a meeting",
    "report_request": "Quarterly report requests",
    "report_reminder": "Report reminders before the deadline",
    "report_overdue": "Reports overdue",
    "report_escalation": "Reports still missing after reminders",
    "milestone_reminder": "Deliverables due soon",
    "milestone_overdue": "Deliverables overdue",
    "milestone_escalation": "Deliverables still late after reminders",
    "phase_changed": "Project phase changes",
    "partner_joined": "Partners joining",
    "partner_left": "Partners leaving",
    "project_suspended": "Project suspended",
    "project_resumed": "Project resumed",
    "project_abandoned": "Project abandoned",
    "series_behind": "Meetings behind their rhythm",
    "annual_review": "Annual review to organise",
    "convention_end": "End of the partnership convention",
}
ALWAYS = frozenset({"meeting_invitation", "report_request"})
"""Kinds that can wait for the digest but never be switched off (said beside them)."""
LANGUAGE_LABELS = {"fr": "Français", "en": "English"}

i18n.register(
    {
        "Vos préférences de messages": "Your message preferences",
        "Messages envoyés à": "Messages sent to",
        "Pour chaque sorte de message que vous recevez, choisissez de le recevoir tout de suite ou dans votre récapitulatif hebdomadaire. Aucun message ne peut être supprimé : les convocations et les demandes de bilan arrivent toujours, au plus tard dans le récapitulatif.": (
            "For each kind of message you receive, choose to receive it at once or in your"
            " weekly digest. No message can be switched off: convocations and report requests"
            " always arrive, at the latest in the digest."
        ),
        "Toujours envoyé, au plus tard dans le récapitulatif": (
            "Always sent, at the latest in the digest"
        ),
        "Tout de suite": "At once",
        "Dans mon récapitulatif hebdomadaire": "In my weekly digest",
        "Langue des messages": "Language of the messages",
        "Enregistrer": "Save",
        "Vos préférences sont enregistrées.": "Your preferences are saved.",
        **{LABELS[kind]: ENGLISH[kind] for kind in KINDS},
    }
)


def received(conn: sa.Connection, c: Any, email: str) -> list[str]:
    """The kinds ``email`` receives, in the order of :data:`KINDS`: those its roles in each
    of its projects may receive (:func:`workflow.routing.kinds_reaching`) and those it has
    been sent already; every kind when it holds no role anywhere (an old link)."""
    p, o = tables.partner.c, tables.outbox.c
    found: set[str] = set()
    rows = conn.execute(
        sa.select(p.roles, tables.project.c.definition_id, tables.project.c.definition_version)
        .join(tables.project, tables.project.c.id == p.project_id)
        .where(sa.func.lower(p.email) == email)
    ).all()
    for roles, definition_id, version in rows:
        found.update(kinds_reaching(c.engine.definition(definition_id, version), roles or []))
    for (items,) in conn.execute(sa.select(o["items"]).where(o.recipient_email == email)):
        for item in json.loads(items) if isinstance(items, str) else items or []:
            found.add(str(item.get("kind")))
    return [kind for kind in KINDS if kind in found] or list(KINDS)


def _email(c: CopiloteDep, token: str) -> str:
    return c.links.read_preferences(token)


Email = Annotated[str, Depends(_email)]


async def _form(request: Request) -> FormData:
    return await request.form()


Posted = Annotated[FormData, Depends(_form)]


def _page(
    request: Request, preference: Preference, kinds: list[str], saved: bool, status: int = 200
) -> Response:
    if preference.lang is not None:
        request.state.lang = preference.lang
    context: dict[str, Any] = {
        "email": preference.email,
        "kinds": [(key, LABELS[key], key in preference.digest, key in ALWAYS) for key in kinds],
        "languages": [(key, LANGUAGE_LABELS[key]) for key in LANGUAGES],
        "chosen_lang": preference.lang or "fr",
        "saved": saved,
        "action": request.url.path,
    }
    response = render(request, "preferences.html", context, status)
    response.headers.update(_PRIVATE)
    return response


@router.get("/preferences/{token}")
def preferences_page(request: Request, c: CopiloteDep, email: Email) -> Response:
    with read(c.db) as conn:
        preference = load(conn, email)
        kinds = received(conn, c, email)
    return _page(request, preference, kinds, saved=request.query_params.get("saved") == "1")


@router.post(
    "/preferences/{token}",
    responses={
        200: {
            "description": "the one-click unsubscribe done, in a sentence (RFC 8058)",
            "content": {"text/plain": {}},
        }
    },
)
def choose(request: Request, c: CopiloteDep, email: Email, posted: Posted) -> Response:
    """The form's choice, or the one-click unsubscribe (every kind to the weekly digest)."""
    now = c.clock.now()
    if posted.get("List-Unsubscribe") == "One-Click":
        with c.db.begin() as conn:
            kept = load(conn, email)
            save(conn, email, kept.lang, KINDS, now)
        return PlainTextResponse(
            "Every kind of message now comes in your weekly digest.", headers=_PRIVATE
        )
    lang = posted.get("lang")
    digest = []
    for kind in KINDS:  # a kind the page did not offer keeps "now"
        choice = posted.get(f"kind_{kind}", "now")
        if choice not in ("now", "digest"):
            raise InvalidInput(f"kind_{kind}", f"{choice!r} is neither 'now' nor 'digest'")
        if choice == "digest":
            digest.append(kind)
    if not isinstance(lang, str) or lang not in LANGUAGES:
        raise InvalidInput("lang", f"{lang!r} is not offered: choose one of fr, en")
    with c.db.begin() as conn:
        save(conn, email, lang, digest, now)
    return RedirectResponse(f"{request.url.path}?saved=1", status_code=303)
