"""mail preferences per kind of message

``preference.digest_kinds`` held families (meetings, reports, deadlines, news); the page now
offers each kind of message a person receives. A stored family becomes every kind it stood
for, so what a person chose keeps its effect; the table itself does not change. Going back
keeps a family only where all its kinds were chosen.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 16:30:00
"""

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The families as they stood at 0012 (a migration does not read the code that may change).
FAMILIES: dict[str, tuple[str, ...]] = {
    "meetings": (
        "meeting_invitation",
        "meeting_update",
        "meeting_cancel",
        "meeting_reminder",
        "meeting_minutes_request",
    ),
    "reports": ("report_request", "report_reminder", "report_overdue", "report_escalation"),
    "deadlines": ("milestone_reminder", "milestone_overdue", "milestone_escalation"),
    "news": (
        "phase_changed",
        "partner_joined",
        "partner_left",
        "project_suspended",
        "project_resumed",
        "project_abandoned",
        "series_behind",
        "annual_review",
        "convention_end",
    ),
}


def _rewrite(change: Any) -> None:
    bind = op.get_bind()
    table = sa.table(
        "preference", sa.column("email", sa.String), sa.column("digest_kinds", sa.JSON)
    )
    for email, stored in bind.execute(sa.select(table.c.email, table.c.digest_kinds)).all():
        chosen = json.loads(stored) if isinstance(stored, str) else list(stored or [])
        new = change(chosen)
        if new != chosen:
            bind.execute(sa.update(table).where(table.c.email == email).values(digest_kinds=new))


def upgrade() -> None:
    def to_kinds(chosen: list[str]) -> list[str]:
        kinds = {k for name in chosen for k in FAMILIES.get(name, (name,))}
        return sorted(kinds)

    _rewrite(to_kinds)


def downgrade() -> None:
    def to_families(chosen: list[str]) -> list[str]:
        return sorted(f for f, kinds in FAMILIES.items() if set(kinds) <= set(chosen))

    _rewrite(to_families)
