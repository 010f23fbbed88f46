"""A person's mail preferences, opened from the signed link every message carries (no account).

Per kind of message: "immediately" or "in my weekly digest"; and the language of the
messages. The same address answers the one-click unsubscribe of RFC 8058: a POST of
``List-Unsubscribe=One-Click`` (what mail clients send for the ``List-Unsubscribe-Post``
header) moves every kind to the weekly digest. Nothing can be switched off: convocations and
report requests still arrive, in the digest (:mod:`workflow.preferences`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from web import i18n
from web.deps import CopiloteDep
from web.pages.responses import PAGE_RESPONSES
from web.templating import render
from workflow.database import read
from workflow.errors import InvalidInput
from workflow.preferences import KINDS, LANGUAGES, Preference, load, save

router = APIRouter(default_response_class=HTMLResponse, responses=PAGE_RESPONSES)

_PRIVATE = {
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex",
}

LABELS = {
    "meetings": "Réunions : convocations, changements, rappels, comptes rendus",
    "reports": "Bilans trimestriels : demandes et relances",
    "deadlines": "Échéances : livrables à venir et en retard",
    "news": "Vie du projet : phases, partenaires, convention, rythme des réunions",
}
LANGUAGE_LABELS = {"fr": "Français", "en": "English"}

i18n.register(
    {
        "Vos préférences de messages": "Your message preferences",
        "Messages envoyés à": "Messages sent to",
        "Pour chaque sorte de message, choisissez de le recevoir tout de suite ou dans votre récapitulatif hebdomadaire. Aucun message ne peut être supprimé : les convocations et les demandes de bilan arrivent toujours, au plus tard dans le récapitulatif.": (
            "For each kind of message, choose to receive it at once or in your weekly digest."
            " No message can be switched off: convocations and report requests always arrive,"
            " at the latest in the digest."
        ),
        "Tout de suite": "At once",
        "Dans mon récapitulatif hebdomadaire": "In my weekly digest",
        "Langue des messages": "Language of the messages",
        "Enregistrer": "Save",
        "Vos préférences sont enregistrées.": "Your preferences are saved.",
        LABELS["meetings"]: "Meetings: convocations, changes, reminders, minutes",
        LABELS["reports"]: "Quarterly reports: requests and reminders",
        LABELS["deadlines"]: "Deadlines: deliverables due and late",
        LABELS["news"]: "Project news: phases, partners, convention, meeting rhythm",
    }
)


def _email(c: CopiloteDep, token: str) -> str:
    return c.links.read_preferences(token)


Email = Annotated[str, Depends(_email)]


async def _form(request: Request) -> FormData:
    return await request.form()


Posted = Annotated[FormData, Depends(_form)]


def _page(request: Request, preference: Preference, saved: bool, status: int = 200) -> Response:
    if preference.lang is not None:
        request.state.lang = preference.lang
    context: dict[str, Any] = {
        "email": preference.email,
        "families": [(key, LABELS[key], key in preference.digest) for key in KINDS],
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
    return _page(request, preference, saved=request.query_params.get("saved") == "1")


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
    for family in KINDS:
        choice = posted.get(f"kind_{family}", "now")
        if choice not in ("now", "digest"):
            raise InvalidInput(f"kind_{family}", f"{choice!r} is neither 'now' nor 'digest'")
        if choice == "digest":
            digest.append(family)
    if not isinstance(lang, str) or lang not in LANGUAGES:
        raise InvalidInput("lang", f"{lang!r} is not offered: choose one of fr, en")
    with c.db.begin() as conn:
        save(conn, email, lang, digest, now)
    return RedirectResponse(f"{request.url.path}?saved=1", status_code=303)
