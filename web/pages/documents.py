"""Documents on the pages: a project's documents (each with its latest version and its
history), uploads by the pilot, report attachments filed by a partner from their personal
link, and the minutes a partner reads from the link in their email.

Who reads what is decided once: the people who may read the project (``check_read``) read
all its documents; a partner, through a signed link, reads what is shared with partners and
what they filed (:func:`workflow.read_models.documents.partner_may_read`). Only the project's
pilots upload from the project's pages; a partner attaches files to their own report.
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from web import i18n
from web.bounds import PageId
from web.csrf import new_form_token
from web.deps import CopiloteDep, PageUser
from web.forms import once
from web.links import LinkError, LinkTarget
from web.pages.answer import _PRIVATE, ReportTarget, Target
from web.pages.responses import PAGE_RESPONSES
from web.pages.responses import file_response as documented_file
from web.templating import render
from web.uploads import Upload, file_response, read_upload
from workflow import tables
from workflow.calendar import paris_date
from workflow.database import read
from workflow.documents import ACCEPTED, FileRefused, FileTooLarge
from workflow.errors import AlreadyRecorded, InvalidInput, NotFound
from workflow.read_models.documents import (
    DocumentView,
    document_targets,
    partner_deliverables,
    partner_may_read,
    project_documents,
)

router = APIRouter(default_response_class=HTMLResponse, responses=PAGE_RESPONSES)

A_FILE = documented_file(ACCEPTED, "the file, as an attachment (its type read from its content)")

KINDS = {
    "project": "Espace documents",
    "milestone": "Livrable",
    "minutes": "Compte rendu",
    "attendance": "Feuille d'émargement",
    "convention": "Convention signée",
    "report": "Pièce jointe de bilan",
}


def _int(value: str, field: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    if not value.isdigit() or len(value) > 12:
        raise InvalidInput(field, "a number is expected")
    return int(value)


def _project_attach(c: Any, project_id: int, upload: Upload, by: str) -> int:
    f = upload.fields
    target = f.get("target", "project:")
    attached_to, _, subject = target.partition(":")
    document_id = _int(f.get("document_id", ""), "document_id")
    title = f.get("title", "").strip() or None
    attached = c.documents.attach(
        project_id,
        upload.file,
        upload.filename,
        by=by,
        attached_to=attached_to,
        subject=subject,
        document_id=document_id,
        title=title,
        shared=(f.get("shared") == "on") if "shared_set" in f else None,
    )
    if attached_to == "milestone" and f.get("mark_done") == "on" and document_id is None:
        # Already recorded done: the file is filed as its deliverable all the same.
        with suppress(AlreadyRecorded):
            c.records.milestone_done(
                project_id, subject, by=by, deliverable_ref=attached.checked.filename
            )
    return int(attached.document_id)


def refusal(exc: InvalidInput, max_mb: float) -> dict[str, Any]:
    """A refused upload as the page says it (in its language), with the detail, and its
    status: 413 too large, else 422."""
    if isinstance(exc, FileTooLarge):
        return {"key": "too_large", "max_mb": max_mb, "detail": str(exc), "status": 413}
    if isinstance(exc, FileRefused):
        return {"key": "type", "detail": str(exc), "status": 422}
    return {"key": "other", "detail": str(exc), "status": 422}


@router.get("/projects/{project_id}/documents")
def documents_page(
    request: Request, project_id: PageId, user: PageUser, c: CopiloteDep, target: str = ""
) -> Response:
    return _project_page(request, c, user, project_id, target)


def _project_page(
    request: Request,
    c: Any,
    user: Any,
    project_id: int,
    target: str = "",
    error: dict[str, Any] | None = None,
) -> Response:
    c.accounts.check_read(user, project_id)
    with read(c.db) as conn:
        project = c.engine.project_row(conn, project_id)
        documents = project_documents(conn, project_id)
        targets = document_targets(conn, project_id)
    return render(
        request,
        "documents/project.html",
        {
            "p": project,
            "documents": documents,
            "targets": targets,
            "kinds": KINDS,
            "can_act": project_id in c.accounts.piloted(user),
            "max_mb": c.settings.upload_max_bytes / 1_000_000,
            "form_token": new_form_token(),
            "chosen": target[:200],
            "error": error,
        },
        error["status"] if error else 200,
    )


@router.post("/projects/{project_id}/documents")
async def upload_document(
    request: Request, project_id: PageId, user: PageUser, c: CopiloteDep
) -> Response:
    await run_in_threadpool(c.accounts.check_act, user, project_id)
    created: list[int] = []

    def attach(upload: Upload) -> str:
        created.append(_project_attach(c, project_id, upload, str(user.name or user.email)))
        return "Document déposé."

    def at_the_document() -> str:
        return f"/projects/{project_id}/documents#doc-{created[0]}"

    try:
        upload = await read_upload(request, c.settings.upload_max_bytes)
        try:  # once per form token: a double click files one version
            token = upload.fields.get("form_token", "")
            return await run_in_threadpool(
                once, request, c, user, token, at_the_document, lambda: attach(upload)
            )
        finally:
            upload.close()
    except InvalidInput as exc:  # the page again, saying why; nothing was stored
        error = refusal(exc, c.settings.upload_max_bytes / 1_000_000)
        return await run_in_threadpool(_project_page, request, c, user, project_id, "", error)


@router.get(
    "/projects/{project_id}/documents/{document_id}/{number}",
    response_class=Response,
    responses=A_FILE,
)
def download(
    project_id: PageId, document_id: PageId, number: PageId, user: PageUser, c: CopiloteDep
) -> Response:
    c.accounts.check_read(user, project_id)
    _, version = c.documents.version(project_id, document_id, number)
    return file_response(version, c.documents.content(version.digest))


# -- partners, from their personal link ------------------------------------------------------
def _report_subject(t: ReportTarget) -> str:
    return f"{t.schedule.key}:{t.period}:{t.partner.id}"


def _report_target(t: Any) -> ReportTarget:
    if not isinstance(t, ReportTarget):
        raise LinkError("this link does not take documents")
    return t


def _partner_page(
    request: Request, c: Any, t: ReportTarget, error: dict[str, Any] | None = None
) -> Response:
    with read(c.db) as conn:
        documents = project_documents(conn, t.project.id)
        deliverables = partner_deliverables(conn, t.project.id, t.partner.roles)
    mine = [
        d
        for d in documents
        if (d.attached_to == "report" and d.subject == _report_subject(t))
        or (d.attached_to == "milestone" and d.partner_id == t.partner.id)
    ]
    shared = [d for d in documents if d not in mine and partner_may_read(d, t.partner.id)]
    response = render(
        request,
        "documents/partner.html",
        {
            "t": t,
            "mine": mine,
            "deliverables": deliverables,
            "shared": shared,
            "kinds": KINDS,
            "base": request.url.path,
            "error": error,
            "max_mb": c.settings.upload_max_bytes / 1_000_000,
        },
        error["status"] if error else 200,
    )
    response.headers.update(_PRIVATE)
    return response


@router.get("/answer/{token}/documents")
def partner_documents(request: Request, c: CopiloteDep, t: Target) -> Response:
    return _partner_page(request, c, _report_target(t))


@router.post("/answer/{token}/documents")
async def partner_upload(request: Request, c: CopiloteDep, t: Target, token: str) -> Response:
    target = _report_target(t)
    if target.closed_reason is not None:
        raise InvalidInput("project", target.closed_reason)
    try:
        upload = await read_upload(request, c.settings.upload_max_bytes)
        # A deliverable their role is responsible for (the library checks it), else the report.
        milestone = upload.fields.get("target", "").removeprefix("milestone:")
        try:
            await run_in_threadpool(
                lambda: c.documents.attach(
                    target.project.id,
                    upload.file,
                    upload.filename,
                    by=target.partner.organisation,
                    attached_to="milestone" if milestone else "report",
                    subject=milestone or _report_subject(target),
                    document_id=_int(upload.fields.get("document_id", ""), "document_id"),
                    partner_id=target.partner.id,
                )
            )
        finally:
            upload.close()
    except InvalidInput as exc:  # the page again, in the partner's language; nothing stored
        error = refusal(exc, c.settings.upload_max_bytes / 1_000_000)
        return await run_in_threadpool(_partner_page, request, c, target, error)
    return RedirectResponse(f"/answer/{token}/documents", 303)


def _partner_file(c: Any, project_id: int, partner_id: int, document_id: int, number: int) -> Any:
    document, version = c.documents.version(project_id, document_id, number)
    if not partner_may_read(document, partner_id):
        raise NotFound("document", document_id)  # not shown to partners: as if absent
    response = file_response(version, c.documents.content(version.digest))
    response.headers.update(_PRIVATE)
    return response


@router.get(
    "/answer/{token}/documents/{document_id}/{number}", response_class=Response, responses=A_FILE
)
def partner_download(c: CopiloteDep, t: Target, document_id: PageId, number: PageId) -> Response:
    target = _report_target(t)
    return _partner_file(c, target.project.id, target.partner.id, document_id, number)  # type: ignore[no-any-return]


# -- the minutes link of the email -------------------------------------------------------------
def _minutes_link(c: Any, token: str) -> tuple[LinkTarget, Any, Any, list[DocumentView]]:
    link = c.links.read(token)
    if link.purpose != "minutes" or not link.detail.isdigit():
        raise LinkError("it is not a link to read minutes")
    # Minutes have no occasion that ends: the link lasts the links' age from its sending.
    c.links.check_age(link, None, c.clock.now())
    today = paris_date(c.clock.now())
    with read(c.db) as conn:
        partner = conn.execute(
            tables.partner.select().where(
                tables.partner.c.id == link.partner_id,
                tables.partner.c.project_id == link.project_id,
            )
        ).one_or_none()
        if partner is None:
            raise LinkError("it was not made for a partner of this project")
        if partner.left_on is not None and partner.left_on <= today:
            raise LinkError(f"{partner.organisation} is no longer a partner of this project")
        meeting = conn.execute(
            tables.meeting.select().where(
                tables.meeting.c.id == int(link.detail),
                tables.meeting.c.project_id == link.project_id,
            )
        ).one_or_none()
        if meeting is None:
            raise LinkError("it names a meeting this project does not have")
        project = c.engine.project_row(conn, link.project_id)
        documents = [
            d
            for d in project_documents(
                conn, link.project_id, attached_to=("minutes", "attendance"), subject=link.detail
            )
            if partner_may_read(d, partner.id)
        ]
    return link, project, (partner, meeting), documents


@router.get("/shared/{token}")
def minutes_page(request: Request, c: CopiloteDep, token: str) -> Response:
    _, project, (partner, meeting), documents = _minutes_link(c, token)
    request.state.lang = partner.lang
    response = render(
        request,
        "documents/minutes.html",
        {"project": project, "meeting": meeting, "documents": documents, "kinds": KINDS},
    )
    response.headers.update(_PRIVATE)
    return response


@router.get("/shared/{token}/{document_id}/{number}", response_class=Response, responses=A_FILE)
def minutes_download(c: CopiloteDep, token: str, document_id: PageId, number: PageId) -> Response:
    link, _, _, documents = _minutes_link(c, token)
    if document_id not in {d.id for d in documents}:
        raise NotFound("document", document_id)
    return _partner_file(c, link.project_id, link.partner_id, document_id, number)  # type: ignore[no-any-return]


i18n.register(
    {
        "Document déposé.": "Document filed.",
        "Documents": "Documents",
        "Espace documents": "Documents space",
        "Livrable": "Deliverable",
        "Compte rendu": "Minutes",
        "Feuille d'émargement": "Attendance sheet",
        "Convention signée": "Signed agreement",
        "Pièce jointe de bilan": "Report attachment",
        "Aucun document.": "No document.",
        "Document": "Document",
        "Rattaché à": "Attached to",
        "Version": "Version",
        "Déposé par": "Filed by",
        "le": "on",
        "Versions précédentes": "Earlier versions",
        "partagé avec les partenaires": "shared with partners",
        "Déposer un document": "File a document",
        "Déposer la convention signée": "File the signed convention",
        "Fichier": "File",
        "Titre (facultatif)": "Title (optional)",
        "Partager avec les partenaires": "Share with partners",
        "Marquer le jalon fait": "Mark the milestone done",
        "Déposer": "File",
        "Nouvelle version": "New version",
        "Formats acceptés : PDF, ODT, ODS, DOCX, XLSX, PNG, JPEG, CSV ; taille maximale": (
            "Accepted: PDF, ODT, ODS, DOCX, XLSX, PNG, JPEG, CSV; largest size"
        ),
        "Mo": "MB",
        "ko": "KB",
        "Pièces jointes au bilan": "Report attachments",
        "Joindre des documents au bilan": "Attach documents to the report",
        "Joindre": "Attach",
        "Documents partagés par le projet": "Documents shared by the project",
        "Retour au bilan": "Back to the report",
        "Tout voir": "See all",
        "Réunion tenue le": "Meeting held on",
        "Joindre à": "Attach to",
        "Bilan": "Report",
        "déposé le": "filed on",
        "Fichier refusé : rien n'a été enregistré.": "File refused: nothing was saved.",
        "Le fichier dépasse la taille maximale de": "The file is larger than the limit of",
        "Ce fichier n'est pas d'un type accepté (PDF, ODT, ODS, DOCX, XLSX, PNG, JPEG, CSV) :"
        " le type est lu dans son contenu, pas dans son nom.": (
            "This file is not of an accepted type (PDF, ODT, ODS, DOCX, XLSX, PNG, JPEG, CSV):"
            " the type is read from its content, not from its name."
        ),
    }
)
