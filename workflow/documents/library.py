"""Attaching files to what they prove, in versions: the one writer of ``document`` rows.

A file is checked (:func:`~workflow.documents.content.inspect_file`: type from the content,
size limit) and its target checked against the records before anything is stored; then its
bytes go to the store (once per SHA-256), then one transaction writes the document, its new
version and, for the minutes of a held meeting, the message to the meeting's attendees.

Milestones, meetings (``minutes``, ``attendance``) and the convention have one document each:
attaching again adds a version. The project's documents space and a partner's report
attachments hold as many documents as are filed; a new version names its ``document_id``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

import sqlalchemy as sa

from workflow import tables
from workflow.database import read
from workflow.documents.content import Checked, inspect_file
from workflow.documents.store import CHUNK_SIZE, BlobStore
from workflow.engine import Engine
from workflow.errors import InvalidInput, NotFound
from workflow.progress import closed
from workflow.read_models.documents import DocumentView, VersionView, project_documents

__all__ = ["ATTACHMENTS", "Attached", "Documents"]

ATTACHMENTS = ("project", "milestone", "minutes", "attendance", "convention", "report")
_ONE_PER_SUBJECT = ("milestone", "minutes", "attendance", "convention")


@dataclass(frozen=True)
class Attached:
    document_id: int
    version_id: int
    number: int
    checked: Checked
    stored: bool  # False: the same bytes were already stored (kept once)


def _chunks(file: BinaryIO) -> Iterator[bytes]:
    file.seek(0)
    while chunk := file.read(CHUNK_SIZE):
        yield chunk


class Documents:
    def __init__(self, engine: Engine, store: BlobStore, max_bytes: int) -> None:
        self.engine, self.store, self.max_bytes = engine, store, max_bytes

    # -- writing -------------------------------------------------------------------------
    def attach(
        self,
        project_id: int,
        file: BinaryIO,
        filename: str,
        *,
        by: str,
        attached_to: str = "project",
        subject: str = "",
        document_id: int | None = None,
        title: str | None = None,
        shared: bool | None = None,
        partner_id: int | None = None,
    ) -> Attached:
        """Attach ``file`` (seekable, read in chunks) as a new document or a new version.

        ``partner_id``: filed by that partner from their link (they may then read it, and
        may add versions only to documents they filed): an attachment to their report, or a
        deliverable their role is responsible for. Refused with nothing stored when
        the file or the target is not right."""
        if title is not None and len(title) > 200:
            raise InvalidInput("title", "at most 200 characters")
        checked = inspect_file(file, filename, self.max_bytes)
        with read(self.engine.db) as conn:  # checked before storing anything
            self._target(conn, project_id, attached_to, subject, document_id, partner_id)
        stored = self.store.put(checked.digest, checked.size, _chunks(file))
        now = self.engine.clock.now()
        with self.engine.db.begin() as conn:
            project, existing = self._target(
                conn, project_id, attached_to, subject, document_id, partner_id
            )
            if existing is None:
                new_id = conn.execute(
                    tables.document.insert()
                    .values(
                        project_id=project_id,
                        attached_to=attached_to,
                        subject=subject,
                        title=title or checked.filename,
                        shared_with_partners=(
                            shared if shared is not None else attached_to == "minutes"
                        ),
                        partner_id=partner_id,
                        created_at=now,
                    )
                    .returning(tables.document.c.id)
                ).scalar_one()
                doc_id, number = int(new_id), 1
            else:
                doc_id = int(existing.id)
                number = 1 + int(
                    conn.execute(
                        sa.select(sa.func.max(tables.document_version.c.number)).where(
                            tables.document_version.c.document_id == doc_id
                        )
                    ).scalar_one()
                    or 0
                )
                changes: dict[str, Any] = {}
                if shared is not None:
                    changes["shared_with_partners"] = shared
                if title:
                    changes["title"] = title
                if changes:
                    conn.execute(
                        tables.document.update()
                        .where(tables.document.c.id == doc_id)
                        .values(**changes)
                    )
            version_id = conn.execute(
                tables.document_version.insert()
                .values(
                    document_id=doc_id,
                    number=number,
                    digest=checked.digest,
                    size=checked.size,
                    media_type=checked.media_type,
                    filename=checked.filename,
                    uploaded_by=by[:320],
                    partner_id=partner_id,
                    uploaded_at=now,
                )
                .returning(tables.document_version.c.id)
            ).scalar_one()
            if existing is None and attached_to == "minutes":
                meeting = conn.execute(
                    sa.select(tables.meeting).where(tables.meeting.c.id == int(subject))
                ).one()
                definition = self.engine.definition(
                    project.definition_id, project.definition_version
                )
                self.engine.planner.on_minutes(
                    conn, definition, project, meeting, checked.filename, now
                )
        return Attached(doc_id, int(version_id), number, checked, stored)

    def _target(
        self,
        conn: sa.Connection,
        project_id: int,
        attached_to: str,
        subject: str,
        document_id: int | None,
        partner_id: int | None,
    ) -> tuple[Any, Any]:
        """The project and the document a new version goes to (None: a new document)."""
        project = self.engine.project_row(conn, project_id)
        if closed(self.engine, project):
            raise InvalidInput(
                "project", f"project {project_id} is closed ({project.phase}); nothing can be filed"
            )
        d = tables.document
        if document_id is not None:
            existing = conn.execute(
                sa.select(d).where(d.c.id == document_id, d.c.project_id == project_id)
            ).one_or_none()
            if existing is None or (partner_id is not None and existing.partner_id != partner_id):
                raise NotFound("document", document_id)
            return project, existing
        if attached_to not in ATTACHMENTS:
            raise InvalidInput("attached_to", f"one of {', '.join(ATTACHMENTS)}")
        if attached_to == "milestone":
            found = conn.execute(
                sa.select(tables.milestone.c.id).where(
                    tables.milestone.c.project_id == project_id,
                    tables.milestone.c.key == subject,
                )
            ).first()
            if found is None:
                raise InvalidInput("subject", f"project {project_id} has no milestone {subject!r}")
        elif attached_to in ("minutes", "attendance"):
            meeting = None
            if subject.isdigit():
                meeting = conn.execute(
                    sa.select(tables.meeting.c.status).where(
                        tables.meeting.c.project_id == project_id,
                        tables.meeting.c.id == int(subject),
                    )
                ).first()
            if meeting is None:
                raise InvalidInput("subject", f"project {project_id} has no meeting {subject!r}")
            if meeting.status != "held":
                raise InvalidInput(
                    "subject", "record the meeting as held before attaching its minutes or sheet"
                )
        elif attached_to == "report":
            schedule, _, rest = subject.partition(":")
            period, _, partner = rest.partition(":")
            definition = self.engine.definition(project.definition_id, project.definition_version)
            owner = None
            if partner.isdigit():
                owner = conn.execute(
                    sa.select(tables.partner.c.id).where(
                        tables.partner.c.project_id == project_id,
                        tables.partner.c.id == int(partner),
                    )
                ).first()
            if owner is None or schedule not in {r.key for r in definition.reports} or not period:
                raise InvalidInput("subject", "name a report as <schedule>:<period>:<partner id>")
        elif attached_to == "convention" and subject:
            # The signed copy of one of the project's conventions (its id); without one, the
            # project's convention as it stood before conventions were records.
            found = None
            if subject.isdigit():
                found = conn.execute(
                    sa.select(tables.convention.c.id).where(
                        tables.convention.c.project_id == project_id,
                        tables.convention.c.id == int(subject),
                    )
                ).first()
            if found is None:
                raise InvalidInput("subject", f"project {project_id} has no convention {subject!r}")
        elif subject:
            raise InvalidInput("subject", f"a {attached_to} document has no subject")
        if partner_id is not None and attached_to == "milestone":
            responsible = conn.execute(
                sa.select(tables.milestone.c.responsible_role).where(
                    tables.milestone.c.project_id == project_id,
                    tables.milestone.c.key == subject,
                )
            ).scalar()
            roles = conn.execute(
                sa.select(tables.partner.c.roles).where(tables.partner.c.id == partner_id)
            ).scalar()
            if responsible not in (roles or []):
                raise InvalidInput(
                    "subject", "a partner files only the deliverables their role is responsible for"
                )
        elif partner_id is not None and attached_to != "report":
            raise InvalidInput(
                "attached_to",
                "a partner files attachments to their report and the deliverables they are"
                " responsible for, nothing else",
            )
        if attached_to not in _ONE_PER_SUBJECT:
            return project, None
        # One document per subject, and per partner for what partners file (each partner's
        # fiche-action is theirs; the pilot's is the project's).
        filed_by = d.c.partner_id.is_(None) if partner_id is None else d.c.partner_id == partner_id
        existing = conn.execute(
            sa.select(d).where(
                d.c.project_id == project_id,
                d.c.attached_to == attached_to,
                d.c.subject == subject,
                filed_by,
            )
        ).first()
        return project, existing

    # -- reading -------------------------------------------------------------------------
    def documents(self, project_id: int, **filters: Any) -> list[DocumentView]:
        with read(self.engine.db) as conn:
            return project_documents(conn, project_id, **filters)

    def version(
        self, project_id: int, document_id: int, number: int | None = None
    ) -> tuple[DocumentView, VersionView]:
        """A document of this project and one of its versions (the latest by default)."""
        found = self.documents(project_id, document_id=document_id)
        if not found:
            raise NotFound("document", document_id)
        document = found[0]
        if number is None:
            return document, document.latest
        version = next((v for v in document.versions if v.number == number), None)
        if version is None:
            raise NotFound("version", f"{document_id}/{number}")
        return document, version

    def content(self, digest: str) -> Iterator[bytes]:
        return self.store.chunks(digest)
