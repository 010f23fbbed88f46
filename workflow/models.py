"""The stored records (SQLModel tables). One module: they are one schema, migrated together.

Timestamps are timezone-aware (stored as UTC); calendar dates people see are Europe/Paris
dates. Money is stored in euro cents, so no float or Decimal rounding reaches the database.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import JSON, Column, Field, SQLModel

__all__ = [
    "GRANT_THRESHOLD_CENTS",
    "Blob",
    "BlobChunk",
    "BudgetLine",
    "Convention",
    "ConventionChange",
    "ConventionParty",
    "CopilTally",
    "Decision",
    "Document",
    "DocumentVersion",
    "FicheAction",
    "FormSubmission",
    "FundingShare",
    "HistoryEntry",
    "Indicator",
    "Meeting",
    "Milestone",
    "MilestoneCompletion",
    "Objective",
    "OutboxMessage",
    "OverdueDaily",
    "Partner",
    "Preference",
    "Project",
    "RealisedValue",
    "Reminder",
    "Report",
    "UtcDateTime",
    "funding_instrument",
    "instrument_of",
]

GRANT_THRESHOLD_CENTS = 23_000_00
"""Seed 001: below 23,000 EUR a year a grant decision; at or above, a full convention."""


def instrument_of(amount_cents: int | None) -> str | None:
    """The one home of seed 001's 23,000 EUR rule: ``decision`` (a grant decision, "décision
    attributive") below the threshold, ``convention`` at or above it; None when unknown."""
    if amount_cents is None:
        return None
    return "decision" if amount_cents < GRANT_THRESHOLD_CENTS else "convention"


def funding_instrument(funding_cents: int | None) -> str | None:
    """The instrument of a project's funding, as data: ``decision``, ``convention`` or None
    (unknown); pages, CLI and API word it (``convention.instrument.*`` phrases)."""
    return instrument_of(funding_cents)


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite (naive storage) and PostgreSQL."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(
                f"naive datetime {value!r}: Copilote stores only timezone-aware instants"
            )
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _ts(nullable: bool = False, **kw: Any) -> Any:
    return Field(default=None, sa_column=Column(UtcDateTime(), nullable=nullable, **kw))


class Project(SQLModel, table=True):
    # The dashboard's counts per programme and phase read this index alone (bench/dashboard).
    __table_args__ = (
        sa.Index("ix_project_definition_phase", "definition_id", "phase"),
        # The dashboard's failing projects: the few flagged rows, never the whole table.
        sa.Index(
            "ix_project_failed_at",
            "failed_at",
            sqlite_where=sa.text("failed_at IS NOT NULL"),
            postgresql_where=sa.text("failed_at IS NOT NULL"),
        ),
        # The dashboard's late projects (0016): counted and sorted by their earliest open
        # milestone, the in-progress test and the filters read from the index alone.
        sa.Index(
            "ix_project_open_due",
            "open_due",
            "definition_id",
            "definition_version",
            "phase",
            "territory",
        ),
        # The portfolio sorted by title (0016): a page without sorting every project.
        sa.Index("ix_project_title", "title", "id"),
        # The projects not in progress, from the index alone (0018, read_models.portfolio).
        sa.Index(
            "ix_project_phase_definition",
            "phase",
            "definition_id",
            "definition_version",
            "open_due",
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    definition_id: str = Field(max_length=64, index=True)
    definition_version: int
    variant: str | None = Field(default=None, max_length=64)
    title: str = Field(max_length=300)
    territory: str = Field(default="", max_length=200, index=True)
    start_date: date
    convention_start: date | None = None
    convention_end: date | None = None
    funding_cents: int | None = None
    lang: str = Field(default="fr", max_length=5)
    phase: str = Field(max_length=64, index=True)
    suspended_from: str | None = Field(default=None, max_length=64)
    phase_entered_at: datetime = _ts()
    flagged_overdue_at: datetime | None = _ts(nullable=True)
    flag_reason: str | None = None
    auto_due_on: date | None = Field(default=None, index=True)
    # Due work that raised for this project (the pass went on with the others): when it last
    # failed and a short reason; cleared when the project is migrated to another definition
    # version or its due automatic step then goes through (workflow.failures).
    failed_at: datetime | None = _ts(nullable=True)
    failure: str | None = Field(default=None, max_length=500)
    version: int = 1
    created_at: datetime = _ts()
    # The earliest due date of the project's open milestones, NULL when none is open: kept
    # by workflow.lateness, the one home of that rule (added by 0016, hence last).
    open_due: date | None = None


class CopilTally(SQLModel, table=True):
    """A project's COPIL meetings of a year, planned and held (workflow.copil_tally keeps it;
    the agency's chart sums it per programme through ``ix_copil_tally_year``)."""

    __tablename__ = "copil_tally"
    __table_args__ = (sa.Index("ix_copil_tally_year", "year", "definition_id", "planned", "held"),)
    project_id: int = Field(foreign_key="project.id", primary_key=True)
    year: int = Field(primary_key=True)
    definition_id: str = Field(max_length=64)
    planned: int = 0
    held: int = 0


class DueTally(SQLModel, table=True):
    """Open milestones of the projects in progress, per programme and due date (kept by
    :mod:`workflow.due_tally` alone; the dashboard's overdue count sums the rows due before
    today instead of reading every open milestone)."""

    __tablename__ = "due_tally"
    definition_id: str = Field(max_length=64, primary_key=True)
    due_on: date = Field(primary_key=True)
    open_milestones: int = 0


class Partner(SQLModel, table=True):
    """A structure in the project, the pilot and the agency included (roles say who is who)."""

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    organisation: str = Field(max_length=300)
    contact_name: str = Field(default="", max_length=200)
    email: str = Field(max_length=320)
    roles: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    lang: str = Field(default="fr", max_length=5)
    joined_on: date
    left_on: date | None = None

    # The dashboard's missing reports read a project's active partners (0013); on
    # PostgreSQL the index also carries what they show and filter (JSON has no b-tree order).
    __table_args__ = (
        sa.Index(
            "ix_partner_project_active",
            "project_id",
            "joined_on",
            "left_on",
            postgresql_include=["roles", "organisation", "id"],
        ),
    )


class Milestone(SQLModel, table=True):
    __table_args__ = (
        sa.UniqueConstraint("project_id", "key"),
        # The agency's overdue view reads open milestones by due date across all projects;
        # project_id in the index lets it count them without reading the rows (bench/dashboard).
        sa.Index(
            "ix_milestone_open_due",
            "due_on",
            "project_id",
            sqlite_where=sa.text("done_on IS NULL"),
            postgresql_where=sa.text("done_on IS NULL"),
        ),
        # The dashboard's rows: a page of projects' next deadline and overdue count, read
        # from their open milestones only, in date order.
        sa.Index(
            "ix_milestone_open_project",
            "project_id",
            "due_on",
            sqlite_where=sa.text("done_on IS NULL"),
            postgresql_where=sa.text("done_on IS NULL"),
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    key: str = Field(max_length=64)
    label: str
    phase: str = Field(max_length=64)
    deliverable: str | None = None
    responsible_role: str = Field(max_length=64)
    due_on: date
    moved_from: date | None = None
    done_on: date | None = None
    done_by: str | None = None
    deliverable_ref: str | None = None


class MilestoneCompletion(SQLModel, table=True):
    """Each time a milestone was recorded done: the first record, then any explicit correction
    (with its comment). The milestone row holds the one in force; these rows keep them all."""

    __tablename__ = "milestone_completion"
    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    milestone_id: int = Field(foreign_key="milestone.id", index=True)
    done_on: date
    done_by: str = Field(max_length=200)
    deliverable_ref: str | None = None
    comment: str | None = None
    recorded_at: datetime = _ts()


class Meeting(SQLModel, table=True):
    """One meeting: expected by the definition (no date yet), planned, held or cancelled."""

    # The dashboard's meetings of the coming weeks walk planned meetings by start
    # (the literal 'planned' in the query lets SQLite use it).
    __table_args__ = (
        sa.Index(
            "ix_meeting_planned_start",
            "starts_at",
            "project_id",
            sqlite_where=sa.text("status = 'planned'"),
            postgresql_where=sa.text("status = 'planned'"),
        ),
        # A project's planned meetings by start (0018): the meetings ahead of the projects not
        # in progress, subtracted from the whole count (read_models.portfolio).
        sa.Index(
            "ix_meeting_project_planned",
            "project_id",
            "starts_at",
            sqlite_where=sa.text("status = 'planned'"),
            postgresql_where=sa.text("status = 'planned'"),
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    series: str = Field(max_length=64)
    occurrence: str | None = Field(default=None, max_length=64)
    label: str
    status: str = Field(default="expected", max_length=16)
    starts_at: datetime | None = _ts(nullable=True)
    ends_at: datetime | None = _ts(nullable=True)
    location: str = ""
    sequence: int = 0
    held_on: date | None = None
    attendees: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    minutes_ref: str | None = None
    phase: str | None = Field(default=None, max_length=64)
    # The fiche-action the meeting serves (its COPIL, its working group), why it was
    # cancelled, and the gap and corrective measure the pilot states on it (CPOM report).
    action_id: int | None = Field(default=None, foreign_key="fiche_action.id")
    cancel_reason: str | None = None
    gap_explanation: str | None = None
    corrective_measure: str | None = None
    agenda: str = ""  # the order of business, shown in the invitation (email and page)


class Decision(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    key: str = Field(max_length=64)
    label: str = ""
    decided_on: date
    decided_by: str = ""
    text: str = ""


class Indicator(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("project_id", "key"),)
    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    key: str = Field(max_length=64)
    label: str
    kind: str = Field(max_length=16)  # process | activity | result
    planned: float | None = None
    realised: float | None = None
    unit: str = ""
    period: str = Field(default="", sa_column_kwargs={"server_default": ""})  # e.g. "2026"
    gap_explanation: str | None = None
    corrective_measure: str | None = None
    # Issue 13: an indicator belongs to a fiche-action and to a year (its target is yearly);
    # without a year (indicators recorded before) it shows in every year's report.
    action_id: int | None = Field(default=None, foreign_key="fiche_action.id", index=True)
    year: int | None = None
    source: str = ""
    method: str = ""
    corrective_measure_cpom: str | None = None  # "soumise ... pour la fin de la 3e année"


class BudgetLine(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    label: str
    planned_cents: int = 0
    spent_cents: int = 0
    forecast_cents: int = 0
    # The year the line budgets (lines recorded before: the project's first year) and the
    # general objective it funds (seed 000 budgets by objective), with the pilot's comment.
    year: int | None = Field(default=None, index=True)
    objective_id: int | None = Field(default=None, foreign_key="objective.id")
    comment: str = ""


class FundingShare(SQLModel, table=True):
    """Co-financing of a year: each funder's share, in basis points (FSE at 49 % = 4900)."""

    __tablename__ = "funding_share"
    __table_args__ = (sa.UniqueConstraint("project_id", "year", "funder"),)
    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    year: int
    funder: str = Field(max_length=200)
    share_basis_points: int


class Objective(SQLModel, table=True):
    """The objectives tree: general objectives, specific ones under them, operational ones
    under those (seed 001, « Plan d'actions » ; seed 000 reports against it)."""

    __table_args__ = (sa.UniqueConstraint("project_id", "key"),)
    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    key: str = Field(max_length=64)
    level: str = Field(max_length=16)  # general | specific | operational
    parent_id: int | None = Field(default=None, foreign_key="objective.id")
    label: str
    position: int = 0


class FicheAction(SQLModel, table=True):
    """An action (fiche-action): it serves an objective, a partner is responsible for it."""

    __tablename__ = "fiche_action"
    __table_args__ = (sa.UniqueConstraint("project_id", "key"),)
    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    key: str = Field(max_length=64)
    objective_id: int = Field(foreign_key="objective.id", index=True)
    label: str
    partner_id: int | None = Field(default=None, foreign_key="partner.id")
    starts_on: date | None = None
    ends_on: date | None = None
    target_public: str = ""
    etp: float | None = None
    budget_cents: int | None = None
    series: str | None = Field(default=None, max_length=64)  # the meetings it is made of
    planned: str = ""  # the planned measure, as the form says it ("10h par semaine")
    realised: str = ""
    gap_explanation: str | None = None
    corrective_measure: str | None = None
    corrective_measure_cpom: str | None = None
    position: int = 0


class RealisedValue(SQLModel, table=True):
    """What a partner's quarterly report says was realised, for one action or one indicator."""

    __tablename__ = "realised_value"
    __table_args__ = (
        sa.UniqueConstraint("report_id", "action_id", "indicator_id", name="uq_realised_value"),
    )
    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    report_id: int = Field(foreign_key="report.id", index=True)
    partner_id: int = Field(foreign_key="partner.id")
    period: str = Field(max_length=16)
    action_id: int | None = Field(default=None, foreign_key="fiche_action.id")
    indicator_id: int | None = Field(default=None, foreign_key="indicator.id")
    value: float | None = None
    comment: str = ""


class Convention(SQLModel, table=True):
    """A partnership convention of a project (seed 001, "Contractualisation").

    It takes effect when its last party signs (``effective_on``, None until then) and is in
    force until ``ends_on`` (the anniversary of that day, or as the definition says), which
    an express renewal moves on by one period; after it without a renewal it has lapsed."""

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    label: str = Field(max_length=300)
    duration_months: int = 12
    effective_on: date | None = None
    ends_on: date | None = None
    created_by: str = Field(max_length=200)
    created_at: datetime = _ts()


class ConventionParty(SQLModel, table=True):
    """A partner party to a convention: the amount granted to it when the convention was
    made (later amounts are in :class:`ConventionChange`), its signature, its notice."""

    __tablename__ = "convention_party"
    __table_args__ = (sa.UniqueConstraint("convention_id", "partner_id"),)
    id: int | None = Field(default=None, primary_key=True)
    convention_id: int = Field(foreign_key="convention.id", index=True)
    partner_id: int = Field(foreign_key="partner.id")
    amount_cents: int | None = None
    signed_on: date | None = None
    notice_received_on: date | None = None
    leaves_on: date | None = None


class ConventionChange(SQLModel, table=True):
    """A renewal or an avenant of a convention, from ``effective_on``: the amounts of the
    parties it changes (partner id -> cents), and for a renewal the new end."""

    __tablename__ = "convention_change"
    id: int | None = Field(default=None, primary_key=True)
    convention_id: int = Field(foreign_key="convention.id", index=True)
    kind: str = Field(max_length=16)  # renewal | avenant
    effective_on: date
    ends_on: date | None = None
    object: str = ""
    amounts: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    recorded_by: str = Field(max_length=200)
    recorded_at: datetime = _ts()


class Report(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("project_id", "partner_id", "schedule", "period"),)
    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    partner_id: int = Field(foreign_key="partner.id")
    schedule: str = Field(max_length=64)
    period: str = Field(max_length=16)  # e.g. 2026-Q2
    submitted_at: datetime = _ts()
    content: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class OwedTally(SQLModel, table=True):
    """The missing reports as events per programme, version and day (kept by
    :mod:`workflow.owed_reports` alone): a report owed counts +1 from the day it is missing,
    -1 from the day its partner leaves; the sum of the days up to today is how many are
    missing (the dashboard's count, instead of reading every row owed)."""

    __tablename__ = "owed_tally"
    definition_id: str = Field(max_length=64, primary_key=True)
    definition_version: int = Field(primary_key=True)
    day: date = Field(primary_key=True)
    delta: int = 0


class OwedReport(SQLModel, table=True):
    """A quarterly report a partner owes (one per partner, schedule and period), from the
    moment its ``report_overdue`` reminder is planned; ``received_at`` once it is sent.

    Kept by :mod:`workflow.owed_reports` alone. It carries the project's and the partner's
    columns that the dashboard orders by (title, organisation: never changed once written)
    and filters on (programme, version, phase, territory; joined and left dates), so that
    the missing reports are counted and paged from ``ix_owed_report_open`` in its order,
    without reading a project or a partner row."""

    __tablename__ = "owed_report"
    __table_args__ = (
        sa.UniqueConstraint("project_id", "partner_id", "schedule", "period"),
        sa.Index(
            "ix_owed_report_open",
            "overdue_at",
            "project_title",
            "partner_organisation",
            "partner_id",
            "definition_id",
            "definition_version",
            "phase",
            "territory",
            "partner_joined_on",
            "partner_left_on",
            sqlite_where=sa.text("received_at IS NULL"),
            postgresql_where=sa.text("received_at IS NULL"),
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id")
    partner_id: int = Field(foreign_key="partner.id", index=True)
    schedule: str = Field(max_length=64)
    period: str = Field(max_length=16)
    overdue_at: datetime = _ts()  # the report_overdue reminder's time: listed from then on
    received_at: datetime | None = _ts(nullable=True)
    definition_id: str = Field(max_length=64)
    definition_version: int
    phase: str = Field(max_length=64)
    territory: str = Field(default="", max_length=200)
    project_title: str = Field(max_length=300)
    partner_organisation: str = Field(max_length=300)
    partner_joined_on: date
    partner_left_on: date | None = None


class ReportDraft(SQLModel, table=True):
    """What a partner has typed in a report form and saved without sending it (one per
    partner, schedule and period: the link's report); removed when the report is sent."""

    __tablename__ = "report_draft"
    __table_args__ = (sa.UniqueConstraint("project_id", "partner_id", "schedule", "period"),)
    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    partner_id: int = Field(foreign_key="partner.id")
    schedule: str = Field(max_length=64)
    period: str = Field(max_length=16)
    saved_at: datetime = _ts()
    content: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class HistoryEntry(SQLModel, table=True):
    __tablename__ = "history"
    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    at: datetime = _ts()
    actor: str
    trigger: str = Field(max_length=64)
    from_phase: str = Field(max_length=64)
    to_phase: str = Field(max_length=64)
    comment: str | None = None


class Reminder(SQLModel, table=True):
    """A moment at which something is due to be said (derived from the records, swept when due)."""

    __table_args__ = (
        sa.Index(
            "ix_reminder_pending_due",
            "due_at",
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        ),
        # The dashboard's missing reports read only the reports' overdue reminders (a few
        # per project and quarter) out of the millions the planner keeps.
        sa.Index(
            "ix_reminder_report_overdue",
            "due_at",
            "project_id",
            "schedule",
            "period",
            "kind",  # covering on SQLite only with every column the query names
            sqlite_where=sa.text("kind = 'report_overdue'"),
            postgresql_where=sa.text("kind = 'report_overdue'"),
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    occasion: str = Field(max_length=200, unique=True)
    kind: str = Field(max_length=32)
    subject_id: int | None = None
    chain: str = Field(max_length=200, index=True)
    # What the occasion key says, as columns (workflow.occasions builds and parses the key):
    # a report's schedule and period ("2026-Q2"), and the step of a chain ("before:14",
    # "overdue", "escalation", "request", "minutes").
    schedule: str | None = Field(default=None, max_length=64)
    period: str | None = Field(default=None, max_length=16)
    step: str | None = Field(default=None, max_length=32)
    due_at: datetime = _ts()
    status: str = Field(default="pending", max_length=16)
    fired_at: datetime | None = _ts(nullable=True)


class OutboxMessage(SQLModel, table=True):
    """A message to send, written in the transaction of the event that causes it."""

    __tablename__ = "outbox"
    __table_args__ = (
        sa.Index(
            "ix_outbox_ready",
            "next_attempt_at",
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        ),
        sa.Index(
            "ix_outbox_in_flight",
            "claimed_until",
            sqlite_where=sa.text("status = 'sending'"),
            postgresql_where=sa.text("status = 'sending'"),
        ),
        # The notice budget counts a project's messages of the last window (workflow.outbox).
        sa.Index("ix_outbox_project_created", "project_id", "created_at"),
        # Messages held for their person's weekly digest (looked for at every sweep).
        sa.Index(
            "ix_outbox_held",
            "created_at",
            sqlite_where=sa.text("status = 'held'"),
            postgresql_where=sa.text("status = 'held'"),
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=300, unique=True)
    project_id: int | None = Field(default=None, foreign_key="project.id", index=True)
    recipient_name: str = ""
    recipient_email: str = Field(max_length=320)
    lang: str = Field(default="fr", max_length=5)
    kind: str = Field(max_length=32)
    # The meeting a meeting notice is about: a meeting's unsent invitations are found by it.
    subject_id: int | None = None
    items: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    status: str = Field(default="pending", max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = _ts()
    claimed_by: str | None = None
    claimed_until: datetime | None = _ts(nullable=True)
    created_at: datetime = _ts()
    sent_at: datetime | None = _ts(nullable=True)
    last_error: str | None = None


class Preference(SQLModel, table=True):
    """How one address wants its mail (chosen from the signed link in every message, no
    account): which kinds of message wait for the weekly digest, and in which language.

    An outbox message of a kind moved to the digest is written ``held``; the weekly digest
    takes the held messages of its person into one message and marks them ``merged``."""

    email: str = Field(primary_key=True, max_length=320)  # lower-cased
    lang: str | None = Field(default=None, max_length=5)
    digest_kinds: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = _ts()


class Attendance(SQLModel, table=True):
    """A partner's answer to a meeting invitation, given through their personal link."""

    __table_args__ = (sa.UniqueConstraint("meeting_id", "partner_id"),)
    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True)
    partner_id: int = Field(foreign_key="partner.id")
    answer: str = Field(max_length=16)  # yes | no | maybe
    comment: str = ""
    answered_at: datetime = _ts()


class UserAccount(SQLModel, table=True):
    """Someone who signs in: the agency (role ``agency``) or a project pilot (``pilot``).

    Which projects a pilot runs is not stored here: a user pilots every project where a
    partner row with the role ``pilot`` carries the user's email. Partners have no account.
    """

    __tablename__ = "user_account"
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, unique=True)
    name: str = Field(default="", max_length=200)
    role: str = Field(max_length=16)  # agency | pilot
    password_hash: str
    lang: str = Field(default="fr", max_length=5)
    created_at: datetime = _ts()
    # Raised by sign-out, a password change or disabling: every session cookie signed with an
    # older value is refused (server-side revocation of signed-cookie sessions).
    session_version: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    disabled_at: datetime | None = _ts(nullable=True)  # set: no sign-in, session nor token


class ApiToken(SQLModel, table=True):
    """A token for scripts. Only its SHA-256 is kept (the token itself is 256 random bits)."""

    __tablename__ = "api_token"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    name: str = Field(default="", max_length=100)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = _ts()
    last_used_at: datetime | None = _ts(nullable=True)
    expires_at: datetime | None = _ts(nullable=True)  # none: created_at + the setting
    revoked_at: datetime | None = _ts(nullable=True)


class Blob(SQLModel, table=True):
    """A file's bytes in the database storage backend, stored once by their SHA-256 however
    many documents use them (workflow.documents.SqlBlobStore); the bytes are in chunks."""

    __tablename__ = "blob"
    digest: str = Field(primary_key=True, max_length=64)
    size: int = Field(sa_column=Column(sa.BigInteger(), nullable=False))
    created_at: datetime = _ts()


class BlobChunk(SQLModel, table=True):
    __tablename__ = "blob_chunk"
    digest: str = Field(primary_key=True, foreign_key="blob.digest", max_length=64)
    seq: int = Field(primary_key=True)
    data: bytes = Field(sa_column=Column(sa.LargeBinary(), nullable=False))


class Document(SQLModel, table=True):
    """A document of a project and what it is attached to: ``attached_to`` is ``project``
    (the free documents space), ``milestone`` (``subject``: its key), ``minutes`` or
    ``attendance`` (``subject``: the meeting id), ``convention``, or ``report``
    (``subject``: ``<schedule>:<period>:<partner id>``). Its versions hold the files."""

    __table_args__ = (sa.Index("ix_document_subject", "project_id", "attached_to", "subject"),)
    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    attached_to: str = Field(max_length=16)
    subject: str = Field(default="", max_length=120)
    title: str = Field(max_length=200)
    shared_with_partners: bool = False
    # The partner who created it through their personal link (they may read it), if any.
    partner_id: int | None = Field(default=None, foreign_key="partner.id")
    created_at: datetime = _ts()


class DocumentVersion(SQLModel, table=True):
    """One uploaded file of a document; a new version keeps the older ones (who, when)."""

    __tablename__ = "document_version"
    __table_args__ = (sa.UniqueConstraint("document_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id", index=True)
    number: int
    digest: str = Field(max_length=64, index=True)
    size: int = Field(sa_column=Column(sa.BigInteger(), nullable=False))
    media_type: str = Field(max_length=100)
    filename: str = Field(max_length=200)
    uploaded_by: str = Field(max_length=320)
    partner_id: int | None = Field(default=None, foreign_key="partner.id")
    uploaded_at: datetime = _ts()


class FormSubmission(SQLModel, table=True):
    """A web form's idempotency token: claimed by the first POST that carries it.

    A second POST of the same token (a double click, a resent form) does not repeat the
    action: it is shown the outcome the first one recorded (``outcome_url``, ``flash``).
    """

    __tablename__ = "form_submission"
    token: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    claimed_at: datetime = _ts()
    outcome_url: str | None = Field(default=None, max_length=300)  # none: still running
    flash: str | None = Field(default=None, max_length=1000)


class OverdueDaily(SQLModel, table=True):
    """What was late in one programme on one day (Paris), as the due work counted it: the
    dashboard's trend reads these rows, a few hundred for half a year, never the projects.

    One row per day and programme (the unique pair): a later pass the same day updates it.
    """

    __tablename__ = "overdue_daily"
    __table_args__ = (sa.UniqueConstraint("day", "programme"),)
    id: int | None = Field(default=None, primary_key=True)
    day: date
    programme: str = Field(max_length=64)  # the definition id
    overdue_milestones: int = 0  # open milestones past their date, projects in progress
    missing_reports: int = 0  # quarterly reports past their date and not received
    late_projects: int = 0  # projects in progress with anything late (workflow.progress)
    projects: int = 0  # projects in progress that day
    recorded_at: datetime = _ts()
