"""conventions as records: parties, renewals and avenants

A project's convention was two dates given at its creation (``project.convention_start``
and ``convention_end``). Each such project now gets a convention record: in force from the
start date (or the project's start when only an end was given) to the end, its parties the
project's partners (role ``partner``) who had joined by then, each signed on that day; the
project's funding becomes the amount of its party when it has exactly one (else amounts are
left unknown). The two project columns stay, read by older clients.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 13:10:00
"""

from collections.abc import Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import workflow.models

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MIGRATION_ACTOR = "Copilote (migration 0006)"


def upgrade() -> None:
    op.create_table(
        "convention",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("label", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("duration_months", sa.Integer(), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=True),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("created_at", workflow.models.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["project.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_convention_project_id"), "convention", ["project_id"])
    op.create_table(
        "convention_party",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("convention_id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=True),
        sa.Column("signed_on", sa.Date(), nullable=True),
        sa.Column("notice_received_on", sa.Date(), nullable=True),
        sa.Column("leaves_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["convention_id"], ["convention.id"]),
        sa.ForeignKeyConstraint(["partner_id"], ["partner.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("convention_id", "partner_id"),
    )
    op.create_index(
        op.f("ix_convention_party_convention_id"), "convention_party", ["convention_id"]
    )
    op.create_table(
        "convention_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("convention_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("object", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("amounts", sa.JSON(), nullable=False),
        sa.Column("recorded_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("recorded_at", workflow.models.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["convention_id"], ["convention.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_convention_change_convention_id"), "convention_change", ["convention_id"]
    )
    _convert(op.get_bind())


def _convert(conn: sa.Connection) -> None:
    """Each project's two convention dates become a convention with its parties."""
    meta = sa.MetaData()
    project = sa.Table("project", meta, autoload_with=conn)
    partner = sa.Table("partner", meta, autoload_with=conn)
    convention = sa.Table("convention", meta, autoload_with=conn)
    party = sa.Table("convention_party", meta, autoload_with=conn)
    history = sa.Table("history", meta, autoload_with=conn)
    projects = conn.execute(
        sa.select(
            project.c.id,
            project.c.start_date,
            project.c.convention_start,
            project.c.convention_end,
            project.c.funding_cents,
            project.c.phase,
            project.c.created_at,
        )
        .where(
            sa.or_(project.c.convention_start.is_not(None), project.c.convention_end.is_not(None))
        )
        .order_by(project.c.id)
    ).all()
    for p in projects:
        start: date = p.convention_start or p.start_date
        end: date | None = p.convention_end
        months = _months_between(start, end) if end is not None else 12
        convention_id = conn.execute(
            sa.insert(convention)
            .values(
                project_id=p.id,
                label="Convention de partenariat",
                duration_months=months,
                effective_on=start,
                ends_on=end,
                created_by=MIGRATION_ACTOR,
                created_at=p.created_at,
            )
            .returning(convention.c.id)
        ).scalar_one()
        members = [
            row
            for row in conn.execute(
                sa.select(partner.c.id, partner.c.roles, partner.c.joined_on)
                .where(partner.c.project_id == p.id)
                .order_by(partner.c.id)
            ).all()
            if "partner" in _roles(row.roles) and row.joined_on <= start
        ]
        amount = p.funding_cents if len(members) == 1 else None
        for row in members:
            conn.execute(
                sa.insert(party).values(
                    convention_id=convention_id,
                    partner_id=row.id,
                    amount_cents=amount,
                    signed_on=start,
                )
            )
        conn.execute(
            sa.insert(history).values(
                project_id=p.id,
                at=p.created_at,
                actor=MIGRATION_ACTOR,
                trigger="convention_signed",
                from_phase=p.phase,
                to_phase=p.phase,
                comment=f"convention {convention_id}: converted from the project's dates",
            )
        )


def _roles(value: Any) -> list[str]:
    if isinstance(value, str):  # SQLite returns the JSON text when the table is reflected
        import json

        return list(json.loads(value))
    return list(value or [])


def _months_between(start: date, end: date) -> int:
    months = (end.year - start.year) * 12 + end.month - start.month
    return max(1, min(months, 120))


def downgrade() -> None:
    op.drop_index(op.f("ix_convention_change_convention_id"), table_name="convention_change")
    op.drop_table("convention_change")
    op.drop_index(op.f("ix_convention_party_convention_id"), table_name="convention_party")
    op.drop_table("convention_party")
    op.drop_index(op.f("ix_convention_project_id"), table_name="convention")
    op.drop_table("convention")
