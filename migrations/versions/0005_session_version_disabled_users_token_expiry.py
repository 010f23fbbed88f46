"""session version and disabled users, API token expiry and revocation

``user_account.session_version`` is raised by sign-out, a password change and disabling: a
session cookie carrying an older value is refused. ``api_token.expires_at`` is set when a
token is created; tokens created before this revision expire ``COPILOTE_TOKEN_MAX_AGE_DAYS``
after their creation (read from ``created_at``, so nothing is filled here).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 11:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import workflow.models

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(
            sa.Column("session_version", sa.Integer(), server_default="0", nullable=False)
        )
        batch.add_column(
            sa.Column("disabled_at", workflow.models.UtcDateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("api_token") as batch:
        batch.add_column(
            sa.Column("expires_at", workflow.models.UtcDateTime(timezone=True), nullable=True)
        )
        batch.add_column(
            sa.Column("revoked_at", workflow.models.UtcDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("api_token") as batch:
        batch.drop_column("revoked_at")
        batch.drop_column("expires_at")
    with op.batch_alter_table("user_account") as batch:
        batch.drop_column("disabled_at")
        batch.drop_column("session_version")
