"""A project's documents as data: each document with its versions, newest first (the page
shows the latest with its history; the API lists them; the tableau de bord and the CPOM
report name what was filed and when)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from workflow import tables

__all__ = [
    "DocumentView",
    "Targets",
    "VersionView",
    "document_targets",
    "partner_deliverables",
    "partner_may_read",
    "project_documents",
]


@dataclass(frozen=True)
class VersionView:
    id: int
    number: int
    filename: str
    size: int
    media_type: str
    digest: str
    uploaded_by: str
    uploaded_at: datetime
    partner_id: int | None


@dataclass(frozen=True)
class DocumentView:
    id: int
    project_id: int
    attached_to: str  # project | milestone | minutes | attendance | convention | report
    subject: str  # milestone key, meeting id, "<schedule>:<period>:<partner id>" or ""
    title: str
    shared_with_partners: bool
    partner_id: int | None  # the partner who created it from their link
    created_at: datetime
    versions: tuple[VersionView, ...]  # newest first

    @property
    def latest(self) -> VersionView:
        return self.versions[0]


def partner_may_read(document: DocumentView, partner_id: int) -> bool:
    """The one rule for partners: what is shared with partners, and what they filed."""
    return document.shared_with_partners or document.partner_id == partner_id


def project_documents(
    conn: sa.Connection,
    project_id: int,
    *,
    attached_to: Sequence[str] | None = None,
    subject: str | None = None,
    document_id: int | None = None,
) -> list[DocumentView]:
    """The project's documents (optionally of one kind, subject or id), oldest first."""
    d, v = tables.document, tables.document_version
    query = sa.select(d).where(d.c.project_id == project_id).order_by(d.c.id)
    if attached_to is not None:
        query = query.where(d.c.attached_to.in_(list(attached_to)))
    if subject is not None:
        query = query.where(d.c.subject == subject)
    if document_id is not None:
        query = query.where(d.c.id == document_id)
    documents = conn.execute(query).all()
    if not documents:
        return []
    versions: dict[int, list[VersionView]] = {}
    for r in conn.execute(
        sa.select(v)
        .where(v.c.document_id.in_([doc.id for doc in documents]))
        .order_by(v.c.document_id, v.c.number.desc())
    ):
        versions.setdefault(r.document_id, []).append(
            VersionView(
                r.id,
                r.number,
                r.filename,
                r.size,
                r.media_type,
                r.digest,
                r.uploaded_by,
                r.uploaded_at,
                r.partner_id,
            )
        )
    return [
        DocumentView(
            doc.id,
            doc.project_id,
            doc.attached_to,
            doc.subject,
            doc.title,
            doc.shared_with_partners,
            doc.partner_id,
            doc.created_at,
            tuple(versions[doc.id]),
        )
        for doc in documents
        if doc.id in versions
    ]


@dataclass(frozen=True)
class Targets:
    """What a project's documents can be attached to, with the labels people see."""

    milestones: tuple[tuple[str, str], ...]  # (key, label)
    held_meetings: tuple[tuple[int, str], ...]  # (id, label)
    partners: dict[int, str]  # id -> organisation
    conventions: tuple[tuple[int, str], ...] = ()  # (id, label) of the project's conventions

    def subject_label(self, document: DocumentView) -> str:
        if document.attached_to == "milestone":
            return dict(self.milestones).get(document.subject, document.subject)
        if document.attached_to in ("minutes", "attendance") and document.subject.isdigit():
            return dict(self.held_meetings).get(int(document.subject), document.subject)
        if document.attached_to == "convention" and document.subject.isdigit():
            return dict(self.conventions).get(int(document.subject), document.subject)
        if document.attached_to == "report":
            schedule, _, rest = document.subject.partition(":")
            period, _, partner = rest.partition(":")
            who = self.partners.get(int(partner), "") if partner.isdigit() else ""
            return f"{who} · {period}"
        return ""


def partner_deliverables(
    conn: sa.Connection, project_id: int, roles: Sequence[str]
) -> list[tuple[str, str]]:
    """(key, label) of the milestones a partner's roles are responsible for, due order."""
    m = tables.milestone
    return [
        (r.key, r.label)
        for r in conn.execute(
            sa.select(m.c.key, m.c.label)
            .where(m.c.project_id == project_id, m.c.responsible_role.in_(list(roles)))
            .order_by(m.c.due_on, m.c.id)
        )
    ]


def document_targets(conn: sa.Connection, project_id: int) -> Targets:
    m, mt, p = tables.milestone, tables.meeting, tables.partner
    return Targets(
        tuple(
            (r.key, r.label)
            for r in conn.execute(
                sa.select(m.c.key, m.c.label).where(m.c.project_id == project_id).order_by(m.c.id)
            )
        ),
        tuple(
            (r.id, r.label)
            for r in conn.execute(
                sa.select(mt.c.id, mt.c.label)
                .where(mt.c.project_id == project_id, mt.c.status == "held")
                .order_by(mt.c.held_on, mt.c.id)
            )
        ),
        {
            r.id: r.organisation
            for r in conn.execute(
                sa.select(p.c.id, p.c.organisation).where(p.c.project_id == project_id)
            )
        },
        tuple(
            (r.id, r.label)
            for r in conn.execute(
                sa.select(tables.convention.c.id, tables.convention.c.label)
                .where(tables.convention.c.project_id == project_id)
                .order_by(tables.convention.c.id)
            )
        ),
    )
