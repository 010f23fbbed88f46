"""reminder occasion columns, outbox subject, milestone completions

Reminders planned before this revision get their ``schedule``, ``period`` and ``step`` from
their occasion key (parsed by workflow.occasions), and pending meeting notices their meeting
(``outbox.subject_id``, how a meeting's unsent invitations are found), in batches.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 10:15:00
"""

from collections.abc import Iterator, Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import workflow.models
from workflow.occasions import MeetingNotice, Planned, parse

BATCH = 1000

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("reminder") as batch:
        batch.add_column(
            sa.Column("schedule", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch.add_column(
            sa.Column("period", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True)
        )
        batch.add_column(
            sa.Column("step", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True)
        )
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("subject_id", sa.Integer(), nullable=True))
    _fill_reminder_columns()
    _fill_outbox_subjects()
    op.create_table(
        "milestone_completion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("milestone_id", sa.Integer(), nullable=False),
        sa.Column("done_on", sa.Date(), nullable=False),
        sa.Column("done_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("deliverable_ref", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("comment", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("recorded_at", workflow.models.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["milestone_id"], ["milestone.id"]),
        sa.ForeignKeyConstraint(["project_id"], ["project.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_milestone_completion_milestone_id"),
        "milestone_completion",
        ["milestone_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_milestone_completion_project_id"),
        "milestone_completion",
        ["project_id"],
        unique=False,
    )
    # Milestones recorded done before this revision: their one completion, as it stands.
    op.execute(
        "INSERT INTO milestone_completion"
        " (project_id, milestone_id, done_on, done_by, deliverable_ref, comment, recorded_at)"
        " SELECT project_id, id, done_on, COALESCE(done_by, ''), deliverable_ref, NULL,"
        " CURRENT_TIMESTAMP FROM milestone WHERE done_on IS NOT NULL"
    )


def _batches(sql: str) -> Iterator[list[tuple[int, str]]]:
    """The rows ``sql`` selects (id, key), ``BATCH`` at a time, in id order."""
    conn = op.get_bind()
    last = 0
    while True:
        rows = [
            (int(i), str(k))
            for i, k in conn.execute(sa.text(sql), {"after": last, "size": BATCH}).all()
        ]
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def _fill_reminder_columns() -> None:
    conn = op.get_bind()
    update = sa.text(
        "UPDATE reminder SET schedule = :schedule, period = :period, step = :step WHERE id = :id"
    )
    for rows in _batches(
        "SELECT id, occasion FROM reminder WHERE id > :after ORDER BY id LIMIT :size"
    ):
        values = []
        for id_, key in rows:
            try:
                occasion = parse(key)
            except ValueError:
                continue  # not one the planner writes: nothing to say about it
            if isinstance(occasion, Planned):
                schedule, period, step = occasion.columns()
                values.append({"id": id_, "schedule": schedule, "period": period, "step": step})
        if values:
            conn.execute(update, values)


def _outbox_meeting(key: str) -> int | None:
    # "meeting:{id}:{change}:{sequence}:{email}"; a key longer than the column keeps its start.
    head = ":".join(key.split(":", 4)[:4])
    try:
        occasion = parse(head)
    except ValueError:
        return None
    return occasion.meeting_id if isinstance(occasion, MeetingNotice) else None


def _fill_outbox_subjects() -> None:
    conn = op.get_bind()
    update = sa.text("UPDATE outbox SET subject_id = :subject WHERE id = :id")
    for rows in _batches(
        'SELECT id, "key" FROM outbox WHERE id > :after'
        " AND kind IN ('meeting_invitation', 'meeting_update', 'meeting_cancel')"
        " ORDER BY id LIMIT :size"
    ):
        values = [
            {"id": id_, "subject": meeting}
            for id_, key in rows
            if (meeting := _outbox_meeting(key)) is not None
        ]
        if values:
            conn.execute(update, values)


def downgrade() -> None:
    op.drop_index(op.f("ix_milestone_completion_project_id"), table_name="milestone_completion")
    op.drop_index(op.f("ix_milestone_completion_milestone_id"), table_name="milestone_completion")
    op.drop_table("milestone_completion")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("subject_id")
    with op.batch_alter_table("reminder") as batch:
        batch.drop_column("step")
        batch.drop_column("period")
        batch.drop_column("schedule")
