"""A project's documents in the API: the list (each document with its versions, newest
first) and the download of any version, for whoever may read the project. Files are filed
from the pages, by partners from their link, and with ``copilote document attach``."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel

from web.api.errors import COMMON_ERRORS
from web.api.schemas import ProjectId
from web.bounds import PageId
from web.deps import AccountsDep, ApiUser, CopiloteDep
from web.uploads import file_response
from workflow.documents import ACCEPTED

router = APIRouter(prefix="/projects/{project_id}", tags=["documents"], responses=COMMON_ERRORS)


class VersionOut(BaseModel):
    number: int
    filename: str
    size: int
    media_type: str
    sha256: str
    uploaded_by: str
    uploaded_at: datetime
    download: str


class DocumentOut(BaseModel):
    id: int
    attached_to: str
    subject: str
    title: str
    shared_with_partners: bool
    versions: list[VersionOut]


@router.get("/documents", response_model=list[DocumentOut])
def list_documents(
    project_id: ProjectId, c: CopiloteDep, accounts: AccountsDep, who: ApiUser
) -> list[DocumentOut]:
    """Every document of the project: what it is attached to (``project``, ``milestone``,
    ``minutes``, ``attendance``, ``convention``, ``report``) and its versions."""
    accounts.check_read(who, project_id)
    return [
        DocumentOut(
            id=d.id,
            attached_to=d.attached_to,
            subject=d.subject,
            title=d.title,
            shared_with_partners=d.shared_with_partners,
            versions=[
                VersionOut(
                    number=v.number,
                    filename=v.filename,
                    size=v.size,
                    media_type=v.media_type,
                    sha256=v.digest,
                    uploaded_by=v.uploaded_by,
                    uploaded_at=v.uploaded_at,
                    download=f"/api/projects/{project_id}/documents/{d.id}/{v.number}",
                )
                for v in d.versions
            ],
        )
        for d in c.documents.documents(project_id)
    ]


@router.get(
    "/documents/{document_id}/{number}",
    response_class=Response,
    responses={
        200: {
            "description": "the file, as an attachment",
            "content": {media_type: {} for media_type in ACCEPTED},
        }
    },
)
def download_document(
    project_id: ProjectId,
    document_id: PageId,
    number: PageId,
    c: CopiloteDep,
    accounts: AccountsDep,
    who: ApiUser,
) -> Response:
    """One version of a document, as an attachment (its type read from its content)."""
    accounts.check_read(who, project_id)
    _, version = c.documents.version(project_id, document_id, number)
    return file_response(version, c.documents.content(version.digest))
