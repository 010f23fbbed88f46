"""documents: files attached to milestones, meetings, reports, conventions and the project's
documents space, with their versions; the database storage backend's content-addressed blobs

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import workflow.models

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_S = sqlmodel.sql.sqltypes.AutoString
_TS = workflow.models.UtcDateTime


def upgrade() -> None:
    op.create_table(
        "blob",
        sa.Column("digest", _S(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("created_at", _TS(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("digest"),
    )
    op.create_table(
        "blob_chunk",
        sa.Column("digest", _S(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["digest"], ["blob.digest"]),
        sa.PrimaryKeyConstraint("digest", "seq"),
    )
    op.create_table(
        "document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("attached_to", _S(length=16), nullable=False),
        sa.Column("subject", _S(length=120), nullable=False),
        sa.Column("title", _S(length=200), nullable=False),
        sa.Column("shared_with_partners", sa.Boolean(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=True),
        sa.Column("created_at", _TS(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["partner_id"], ["partner.id"]),
        sa.ForeignKeyConstraint(["project_id"], ["project.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_document_project_id", "document", ["project_id"])
    op.create_index("ix_document_subject", "document", ["project_id", "attached_to", "subject"])
    op.create_table(
        "document_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("digest", _S(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("media_type", _S(length=100), nullable=False),
        sa.Column("filename", _S(length=200), nullable=False),
        sa.Column("uploaded_by", _S(length=320), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=True),
        sa.Column("uploaded_at", _TS(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["document.id"]),
        sa.ForeignKeyConstraint(["partner_id"], ["partner.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("document_id", "number"),
    )
    op.create_index("ix_document_version_document_id", "document_version", ["document_id"])
    op.create_index("ix_document_version_digest", "document_version", ["digest"])


def downgrade() -> None:
    op.drop_table("document_version")
    op.drop_table("document")
    op.drop_table("blob_chunk")
    op.drop_table("blob")
