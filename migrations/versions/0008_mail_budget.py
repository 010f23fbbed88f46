"""the notice budget: an index on a project's messages by creation time

The notice budget (``workflow.outbox.NoticeBudget``) counts, at each notice a person's action
causes, the project's messages of the last window to that person: by this index it reads the
window's rows only, not the project's whole history. Held-back notices are outbox rows with
the status ``merged`` (a string column: nothing to change for it).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 13:35:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_outbox_project_created", "outbox", ["project_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_outbox_project_created", table_name="outbox")
