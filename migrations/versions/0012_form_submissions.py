"""web forms: idempotency tokens, an indicator's period

``form_submission`` holds the token each form page issues: the first POST carrying it claims
it, and a second POST of the same token is shown the first one's outcome instead of
repeating the action (two clicks 30 ms apart schedule one meeting). ``indicator.period`` is
the period an indicator's values cover (2026, T3 2026). A cancelled meeting's reason,
``meeting.cancel_reason``, came with the plan d'actions (0010).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 13:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import workflow.models

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "form_submission",
        sa.Column("token", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("claimed_at", workflow.models.UtcDateTime(timezone=True), nullable=False),
        sa.Column("outcome_url", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column("flash", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("token"),
    )
    op.create_index(
        op.f("ix_form_submission_user_id"), "form_submission", ["user_id"], unique=False
    )
    with op.batch_alter_table("indicator") as batch:
        batch.add_column(
            sa.Column(
                "period", sqlmodel.sql.sqltypes.AutoString(), server_default="", nullable=False
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("indicator") as batch:
        batch.drop_column("period")
    op.drop_index(op.f("ix_form_submission_user_id"), table_name="form_submission")
    op.drop_table("form_submission")
