"""mail preferences per address (issue 11: immediately or in the weekly digest, language)

``preference`` holds, per lower-cased address, the kinds of message moved to the weekly
digest and the language chosen; nothing is filled here (no row: every kind immediately, the
language the project gave). Outbox rows gain two statuses, no column: ``held`` (waiting for
the digest, found through the partial index ``ix_outbox_held``) and ``merged`` (sent inside
one).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 13:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import workflow.models

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "preference",
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.Column("lang", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=True),
        sa.Column("digest_kinds", sa.JSON(), nullable=False),
        sa.Column("updated_at", workflow.models.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("email"),
    )
    op.create_index(
        "ix_outbox_held",
        "outbox",
        ["created_at"],
        sqlite_where=sa.text("status = 'held'"),
        postgresql_where=sa.text("status = 'held'"),
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_held", table_name="outbox")
    op.drop_table("preference")
