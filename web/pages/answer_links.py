"""The page of an answer link that opens nothing, and « recevoir un nouveau lien ».

A genuine link whose time is over (:mod:`web.links`) shows, in the partner's language, whom
to write to (the project's pilot) and a button that sends a fresh link for the same purpose
to the address on record only, at most :data:`RENEWALS_PER_HOUR` an hour per address (the
outbox's ``answer_link`` messages are the count). An altered link, or one whose partner has
left, shows the same page without the button.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from web import i18n
from web.deps import CopiloteDep, CsrfForm
from web.links import LinkError, LinkTarget
from web.pages.answer import contacts, private_page
from web.pages.responses import PAGE_RESPONSES
from workflow import tables
from workflow.calendar import in_paris, paris_date
from workflow.database import read
from workflow.outbox import queue_message

__all__ = ["RENEWALS_PER_HOUR", "link_refused", "router"]

router = APIRouter(default_response_class=HTMLResponse, responses=PAGE_RESPONSES)

RENEWALS_PER_HOUR = 3
"""New links a person may ask for in an hour (each is an email to the address on record)."""
RENEWAL_KIND = "answer_link"


def _linked(c: Any, target: LinkTarget) -> tuple[Any, Any, Any] | None:
    """(project, partner, pilot) of a genuine link's target, when the partner is still one."""
    today = paris_date(c.clock.now())
    with read(c.db) as conn:
        project = conn.execute(
            sa.select(tables.project).where(tables.project.c.id == target.project_id)
        ).one_or_none()
        partner = conn.execute(
            sa.select(tables.partner).where(
                tables.partner.c.id == target.partner_id,
                tables.partner.c.project_id == target.project_id,
            )
        ).one_or_none()
        if project is None or partner is None:
            return None
        pilot, _ = contacts(conn, project.id, today)
    if partner.joined_on > today or (partner.left_on is not None and partner.left_on <= today):
        return None
    return project, partner, pilot


def link_refused(request: Request, exc: LinkError, token: str | None = None) -> Response:
    """The page of a link that opens nothing, in the partner's language when the link is
    genuine: who to contact, and for an expired link a way to receive a new one."""
    c = request.app.state.copilote
    found = _linked(c, exc.target) if exc.target is not None else None
    if found is not None:
        request.state.lang = found[1].lang
    token = token or request.path_params.get("token")
    return private_page(
        request,
        "answer_refused.html",
        {
            "expired": exc.expired,
            "renewable": exc.expired and found is not None and token is not None,
            "project": found[0] if found else None,
            "partner": found[1] if found else None,
            "pilot": found[2] if found else None,
            "reason": exc.reason,
            "action": f"/answer/{token}/renew",
            "sent": None,
        },
        403,
    )


@router.post("/answer/{token}/renew", dependencies=[CsrfForm])
def renew(request: Request, c: CopiloteDep, token: str) -> Response:
    """Sends a fresh link for the same purpose, only to the address on record, at most
    :data:`RENEWALS_PER_HOUR` an hour per person; says which happened."""
    target = c.links.read(token)  # an altered link: refused, nothing sent
    found = _linked(c, target)
    if found is None:
        raise LinkError("it was not made for a current partner of a project")
    project, partner, pilot = found
    request.state.lang = partner.lang
    now = c.clock.now()
    with c.db.begin() as conn:
        recent = conn.execute(
            sa.select(sa.func.count())
            .select_from(tables.outbox)
            .where(
                tables.outbox.c.kind == RENEWAL_KIND,
                sa.func.lower(tables.outbox.c.recipient_email) == partner.email.lower(),
                tables.outbox.c.created_at > now - timedelta(hours=1),
            )
        ).scalar_one()
        sent = recent < RENEWALS_PER_HOUR
        if sent:
            context = c.engine.planner.context(conn, project, paris_date(now))
            url = c.links.make(target.purpose, project.id, partner.id, target.detail)
            queue_message(
                conn,
                # the n-th request of the hour: distinct even at one instant of a fixed clock
                key=f"{RENEWAL_KIND}:{partner.id}:{now.isoformat()}:{recent}",
                project_id=project.id,
                email=partner.email,
                name=partner.contact_name or partner.organisation,
                lang=partner.lang,
                kind=RENEWAL_KIND,
                items=[
                    {
                        **context,
                        "kind": RENEWAL_KIND,
                        "partner_name": partner.organisation,
                        "answer_url": url,
                        "valid_until": in_paris(now + timedelta(seconds=c.links.max_age)).date(),
                    }
                ],
                now=now,
            )
    response = private_page(
        request,
        "answer_refused.html",
        {
            "expired": True,
            "renewable": False,
            "project": project,
            "partner": partner,
            "pilot": pilot,
            "reason": "",
            "action": "",
            "sent": sent,
        },
        200 if sent else 429,
    )
    if not sent:
        response.headers["Retry-After"] = "3600"
    return response


i18n.register(
    {
        "Nouveau lien": "New link",
        "Lien expiré": "Expired link",
        "Un nouveau lien vient d'être envoyé à l'adresse enregistrée pour": (
            "A new link has just been sent to the address on record for"
        ),
        "Il arrive dans quelques minutes ; pensez à regarder dans les indésirables.": (
            "It arrives within a few minutes; check your spam folder too."
        ),
        "Vous avez déjà demandé 3 nouveaux liens au cours de la dernière heure : réessayez"
        " dans une heure, ou écrivez à votre pilote de projet.": (
            "You have already asked for 3 new links in the last hour: try again in an hour,"
            " or write to your project pilot."
        ),
        "Ce lien personnel n'est plus valable : le délai pour répondre avec lui est passé.": (
            "This personal link is no longer valid: the time to answer with it is over."
        ),
        "Ce lien ne peut pas être utilisé : il est incomplet, modifié, ou ne correspond plus à"
        " un partenaire du projet.": (
            "This link cannot be used: it is incomplete, altered, or no longer matches a"
            " partner of the project."
        ),
        "Vous pouvez recevoir un nouveau lien à l'adresse enregistrée pour votre structure"
        " (3 demandes par heure au plus).": (
            "You can receive a new link at the address on record for your organisation"
            " (at most 3 requests an hour)."
        ),
        "Recevoir un nouveau lien": "Receive a new link",
        "Besoin d'aide ?": "Need help?",
        "Écrivez à votre pilote de projet": "Write to your project pilot",
        "Écrivez à la personne qui vous a envoyé ce lien : votre pilote de projet.": (
            "Write to the person who sent you this link: your project pilot."
        ),
    }
)
