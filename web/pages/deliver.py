"""A partner sends a deliverable they owe, from the personal link of its milestone's emails.

The milestone's reminder and overdue notice to a partner responsible for it carry a signed
link (:mod:`web.links`, purpose ``milestone``) to this page. There the partner uploads the
file, or declares it done with a comment saying what was sent and where; when the
definition says the deliverable is a file (``deliverable: file``), only the file will do (a
milestone done without its file would hold the phase back). Either records the milestone done at once, in the
partner's name (:meth:`workflow.records.Records.milestone_done`): the partner is the RACI's
responsible, so their word ends the reminders as the pilot's would; the pilot sees who sent
what in the project's history and documents, and corrects it there if it is not right (an
intermediate "awaiting confirmation" state would keep reminding the partner of what they
have already sent, or need a second state on every milestone and its own reminders).

The link lasts while the milestone is open, and :data:`web.links.MARGIN_DAYS` after it is
done (to see what was sent); a partner who left, or whose role no longer owes it, is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from web import i18n
from web.bounds import storable
from web.deps import CopiloteDep, CsrfForm
from web.links import LinkError
from web.pages.answer import Posted, contacts, private_page
from web.pages.documents import refusal
from web.pages.responses import PAGE_RESPONSES
from web.uploads import read_upload
from workflow import tables
from workflow.calendar import paris_date
from workflow.database import read
from workflow.errors import InvalidInput
from workflow.lifecycle import SUSPENDED
from workflow.progress import closed

router = APIRouter(default_response_class=HTMLResponse, responses=PAGE_RESPONSES)

COMMENT_MAX = 2000


@dataclass
class Deliverable:
    """A milestone link checked against the records."""

    project: Any
    partner: Any
    milestone: Any
    wants_file: bool  # the definition's ``deliverable: file``
    label: str  # what is to be sent: the deliverable's label, else the milestone's
    responsible: str  # the responsible role's label
    today: date
    closed_reason: str | None
    pilot: Any
    document: Any  # the file this partner filed for it, or None


def _open(conn: sa.Connection, c: Any, token: str) -> Deliverable:
    link = c.links.read(token)
    if link.purpose != "milestone":
        raise LinkError("it is not a link to send a deliverable")
    today = paris_date(c.clock.now())
    project = conn.execute(
        sa.select(tables.project).where(tables.project.c.id == link.project_id)
    ).one_or_none()
    if project is None:
        raise LinkError("the project it was made for no longer exists")
    partner = conn.execute(
        sa.select(tables.partner).where(
            tables.partner.c.id == link.partner_id, tables.partner.c.project_id == project.id
        )
    ).one_or_none()
    if partner is None:
        raise LinkError("it was not made for a partner of this project")
    if partner.joined_on > today or (partner.left_on is not None and partner.left_on <= today):
        raise LinkError(f"{partner.organisation} is no longer a partner of this project")
    m = conn.execute(
        sa.select(tables.milestone).where(
            tables.milestone.c.project_id == project.id, tables.milestone.c.key == link.detail
        )
    ).one_or_none()
    if m is None:
        raise LinkError("it names a deliverable this project does not have")
    if m.responsible_role not in set(partner.roles):
        raise LinkError(f"{partner.organisation} is not responsible for this deliverable")
    # open: it lasts while the milestone is; done: the margin after the day it was done
    c.links.check_age(link, m.done_on or max(today, m.due_on), c.clock.now())
    definition = c.engine.definition(project.definition_id, project.definition_version)
    spec = next((s for s in definition.milestones if s.key == m.key), None)
    reason = None
    if project.phase == SUSPENDED:
        reason = "Ce projet est suspendu : rien ne peut être transmis pour l'instant."
    elif closed(c.engine, project):
        reason = "Ce projet est terminé : rien ne peut plus être transmis."
    d = tables.document.c
    document = conn.execute(
        sa.select(tables.document).where(
            d.project_id == project.id,
            d.attached_to == "milestone",
            d.subject == m.key,
            d.partner_id == partner.id,
        )
    ).first()
    return Deliverable(
        project,
        partner,
        m,
        bool(spec and spec.deliverable_file),
        m.deliverable or m.label,
        definition.role_label(m.responsible_role),
        today,
        reason,
        contacts(conn, project.id, today)[0],
        document,
    )


def opened(request: Request, c: CopiloteDep, token: str) -> Deliverable:
    with read(c.db) as conn:
        target = _open(conn, c, token)
    request.state.lang = target.partner.lang  # the language of their emails
    return target


Target = Annotated[Deliverable, Depends(opened)]


def _page(
    request: Request,
    c: Any,
    t: Deliverable,
    comment: str = "",
    error: dict[str, Any] | None = None,
) -> Response:
    return private_page(
        request,
        "deliver.html",
        {
            "t": t,
            "comment": comment,
            "error": error,
            "action": request.url.path.removesuffix("/file"),
            "max_mb": c.settings.upload_max_bytes / 1_000_000,
            "done": request.query_params.get("done") == "1",
        },
        int(error["status"]) if error else 200,
    )


def _comment(value: str) -> str:
    """The comment as stored: refused beyond :data:`COMMENT_MAX` or with control characters."""
    comment = value.strip()
    if len(comment) > COMMENT_MAX:
        raise InvalidInput("comment", f"at most {COMMENT_MAX} characters")
    if not storable(comment, lines=True):
        raise InvalidInput("comment", "control characters are not allowed")
    return comment


def _record(c: Any, t: Deliverable, ref: str | None, comment: str | None) -> None:
    if t.milestone.done_on is None:
        c.records.milestone_done(
            t.project.id,
            t.milestone.key,
            by=t.partner.organisation,
            deliverable_ref=ref,
            comment=comment or None,
        )


@router.get("/deliver/{token}")
def deliver_page(request: Request, c: CopiloteDep, t: Target) -> Response:
    return _page(request, c, t)


@router.post("/deliver/{token}", dependencies=[CsrfForm])
def declare_done(
    request: Request, c: CopiloteDep, t: Target, posted: Posted, token: str
) -> Response:
    """Declared done with a comment saying what was sent and where (required)."""
    raw = str(posted.get("comment", ""))
    try:
        if t.closed_reason is not None:
            raise InvalidInput("project", t.closed_reason)
        if t.wants_file:
            raise InvalidInput("file", "this deliverable is a file: send the file itself")
        comment = _comment(raw)
        if not comment:
            raise InvalidInput("comment", "say what was sent and where, in a few words")
    except InvalidInput as exc:
        error = {"key": exc.field, "detail": str(exc), "status": 422}
        return _page(request, c, t, raw, error)
    _record(c, t, None, comment)
    return RedirectResponse(f"/deliver/{token}?done=1", status_code=303)


@router.post("/deliver/{token}/file")
async def send_file(request: Request, c: CopiloteDep, t: Target, token: str) -> Response:
    """The deliverable's file (and an optional comment): filed as the partner's deliverable
    document, and the milestone recorded done with its name."""
    try:
        if t.closed_reason is not None:
            raise InvalidInput("project", t.closed_reason)
        upload = await read_upload(request, c.settings.upload_max_bytes)
        try:
            comment = _comment(upload.fields.get("comment", ""))
            await run_in_threadpool(
                lambda: c.documents.attach(
                    t.project.id,
                    upload.file,
                    upload.filename,
                    by=t.partner.organisation,
                    attached_to="milestone",
                    subject=t.milestone.key,
                    document_id=t.document.id if t.document is not None else None,
                    partner_id=t.partner.id,
                )
            )
        finally:
            upload.close()
    except InvalidInput as exc:  # the page again, in the partner's language; nothing stored
        error = refusal(exc, c.settings.upload_max_bytes / 1_000_000)
        if exc.field == "comment":
            error["key"] = "comment"
        return await run_in_threadpool(_page, request, c, t, "", error)
    await run_in_threadpool(_record, c, t, upload.filename, comment)
    return RedirectResponse(f"/deliver/{token}?done=1", status_code=303)


i18n.register(
    {
        "Livrable à transmettre": "Deliverable to send",
        "Étape": "Step",
        "Livrable attendu": "Deliverable expected",
        "Responsable": "Responsible",
        "Envoyer le fichier": "Send the file",
        "Fichier": "File",
        "Déclarer le livrable transmis": "Declare the deliverable sent",
        "Commentaire : ce qui a été transmis et où": "Comment: what was sent and where",
        "Déclarer transmis": "Declare it sent",
        "Merci ! Le livrable est enregistré comme transmis le": (
            "Thank you! The deliverable is recorded as sent on"
        ),
        "par": "by",
        "Votre pilote de projet en est informé dans Copilote.": (
            "Your project pilot sees it in Copilote."
        ),
        "Fichier déjà transmis": "File already sent",
        "un nouveau fichier en ajoute une nouvelle version.": "a new file adds a new version.",
        "Rien n'a été enregistré :": "Nothing was saved:",
        "Dites en quelques mots ce qui a été transmis et où (2000 caractères au plus).": (
            "Say in a few words what was sent and where (2000 characters at most)."
        ),
        "Taille maximale": "Maximum size",
        "Mo": "MB",
    }
)
