"""Request and response bodies of the JSON API.

Every input is bounded here, so that anything the database or the date arithmetic could
not take is a 422 naming the field, never a 500: lengths, identifiers that fit a 32-bit
column, dates between 2000 and 2100, aware instants, finite numbers, no control characters.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from fastapi import Path
from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field
from typing_extensions import TypeAliasType

from web.bounds import (
    FIRST_DAY,
    LAST_DAY,
    MAX_ID,
    MAX_LENGTH,
    MULTI_LINE,
    ONE_LINE,
    valid_text,
)

__all__ = [
    "KEY",
    "MAX_ID",
    "ONE_LINE",
    "AdvanceIn",
    "AdvanceOut",
    "BudgetLineIn",
    "BudgetLineOut",
    "CheckOut",
    "DecisionIn",
    "DecisionOut",
    "DefinitionDetail",
    "DefinitionSummary",
    "ErrorOut",
    "HistoryOut",
    "IndicatorIn",
    "IndicatorOut",
    "JsonInteger",
    "MeetingCancelIn",
    "MeetingHeldIn",
    "MeetingMoveIn",
    "MeetingOut",
    "MeetingScheduleIn",
    "MilestoneDoneIn",
    "MilestoneOut",
    "NewMeetingHeldIn",
    "OutboxOut",
    "OverdueOut",
    "PartnerIn",
    "PartnerLeaveIn",
    "PartnerLeaveOut",
    "PartnerOut",
    "PersonIn",
    "ProjectCreate",
    "ProjectDetail",
    "ProjectId",
    "ProjectSummary",
    "ReportIn",
    "ReportOut",
    "UserOut",
    "Year",
]

MAX_REPORT_CHARS = 50_000


# -- bounded input types -------------------------------------------------------------------
# Patterns rather than validators where possible: they are in the OpenAPI schema, so clients
# (and schemathesis) know them. The bounds themselves are web.bounds', shared with the pages.
_text = valid_text


_CONTROL = re.compile(MULTI_LINE)


def _day(value: date) -> date:
    if not FIRST_DAY <= value <= LAST_DAY:
        raise ValueError(f"the date must be between {FIRST_DAY} and {LAST_DAY}")
    return value


def _instant(value: datetime) -> datetime:
    _day(value.date())
    return value


def _report_content(value: dict[str, Any]) -> dict[str, Any]:
    try:
        size = len(json.dumps(value, ensure_ascii=False, allow_nan=False))
    except ValueError:
        raise ValueError("numbers must be finite (no NaN or Infinity)") from None
    if size > MAX_REPORT_CHARS:
        raise ValueError(f"a report is at most {MAX_REPORT_CHARS} characters of JSON")
    _walk_text(value)
    return value


def _walk_text(value: Any) -> None:
    if isinstance(value, str):
        if not _CONTROL.match(value):
            raise ValueError("control characters are not allowed")
        _text(value)
    elif isinstance(value, dict):
        for k, v in value.items():
            _walk_text(k)
            _walk_text(v)
    elif isinstance(value, list):
        for v in value:
            _walk_text(v)


KEY = r"^[a-z][a-z0-9_]*$"
Key = Annotated[str, Field(pattern=KEY, min_length=1, max_length=64, examples=["copil"])]
"""A key of the programme definition: phase, trigger, milestone, meeting series, role..."""
_AnyLine = Annotated[str, Field(pattern=ONE_LINE), AfterValidator(_text)]
_AnyText = Annotated[str, Field(pattern=MULTI_LINE), AfterValidator(_text)]
"""Without a length: each field using them takes its own from ``MAX_LENGTH``."""
Line = Annotated[str, Field(max_length=300, pattern=ONE_LINE), AfterValidator(_text)]
Name = Annotated[str, Field(min_length=1, max_length=300, pattern=ONE_LINE), AfterValidator(_text)]
Text = Annotated[str, Field(max_length=5000, pattern=MULTI_LINE), AfterValidator(_text)]


Email = Annotated[
    str,
    Field(
        min_length=3,
        max_length=320,
        pattern=ONE_LINE,
        examples=["contact@exemple.fr"],
        description="name@domain.fr; checked by the one address rule (workflow/addresses.py) "
        "where it is recorded, so a refusal names the field in the engine's terms "
        "(`pilot.email`, `partner.email`)",
    ),
    AfterValidator(_text),
]
_YEARS = r"^(20[0-9]{2}|2100)-"  # FIRST_DAY to LAST_DAY, declared for clients
Day = Annotated[
    date,
    AfterValidator(_day),
    Field(
        json_schema_extra={
            "pattern": _YEARS + r"[0-9]{2}-[0-9]{2}$",
            "formatMinimum": FIRST_DAY.isoformat(),
            "formatMaximum": LAST_DAY.isoformat(),
        },
        description=f"a date between {FIRST_DAY} and {LAST_DAY}",
    ),
]
Instant = Annotated[
    AwareDatetime,
    AfterValidator(_instant),
    Field(json_schema_extra={"pattern": _YEARS}),
]


def _json_integer(value: Any) -> Any:
    """JSON's integers: ``12`` and ``12.0`` (JSON Schema's ``integer`` takes both), never
    ``false`` nor ``"12"`` (the strict int after this refuses them and any other type)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


JsonInteger = BeforeValidator(_json_integer)
"""With ``Field(strict=True, ...)`` on an int: the JSON integers, ``12.0`` included."""
Cents = Annotated[int, Field(strict=True, ge=0, le=MAX_ID, description="euro cents"), JsonInteger]
RowId = Annotated[int, Field(strict=True, ge=1, le=MAX_ID), JsonInteger]
Year = Annotated[
    int,
    Field(
        strict=True,
        ge=FIRST_DAY.year,
        le=LAST_DAY.year,
        description=f"a year between {FIRST_DAY.year} and {LAST_DAY.year}",
    ),
    JsonInteger,
]
Number = Annotated[float, Field(strict=True, ge=-1e12, le=1e12, allow_inf_nan=False)]
Lang = Literal["fr", "en"]
ProjectId = Annotated[int, Path(ge=1, le=MAX_ID, description="project id")]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- errors ----------------------------------------------------------------------------------
class UnmetOut(BaseModel):
    """One unmet condition of a step, as data and in the request's language."""

    kind: str = Field(
        description="what is missing: milestone_not_done, deliverable_not_delivered, "
        "occurrence_not_held, series_not_held, decision_not_recorded, too_few_partners, "
        "reports_missing, no_partner_to_report, comment_required, deliverable_file_missing",
        examples=["occurrence_not_held"],
    )
    subject: str = Field(description="the definition key it is about", examples=["copil_1"])
    params: dict[str, Any] = Field(description="labels, counts, organisations the text uses")
    fix: str = Field(
        description="the action that meets it: record_milestone, record_meeting, "
        "record_decision, add_partner, submit_reports, give_comment, upload_deliverable",
        examples=["record_meeting"],
    )
    text: str = Field(description="what is missing, in the request's language")
    fix_text: str = Field(description="how to meet it, in the request's language")


class RecordedOut(BaseModel):
    milestone: str
    done_on: date
    done_by: str


class ErrorOut(BaseModel):
    """Every error: ``detail`` says what is wrong and how to fix it."""

    detail: str | list[dict[str, Any]]
    error: str | None = Field(default=None, description="the error type, e.g. TransitionRefused")
    unmet: list[str] | None = Field(
        default=None, description="conditions missing for the step, the engine's sentences (409)"
    )
    conditions: list[UnmetOut] | None = Field(
        default=None,
        description="the same conditions as data, worded in the request's language (?lang=, "
        "Accept-Language, the user's language; French by default) (409)",
    )
    recorded: RecordedOut | None = Field(
        default=None, description="the record in force, when it is already recorded (409)"
    )
    allowed: list[str] | None = Field(
        default=None, description="steps possible from the phase (409)"
    )
    current_phase: str | None = Field(default=None, description="the project's phase now (409)")
    field: str | None = Field(default=None, description="the invalid field (422)")


# -- definitions -------------------------------------------------------------------------------
class DefinitionSummary(BaseModel):
    id: str
    version: int
    title: str
    source: str | None
    description: str | None


class RoleOut(BaseModel):
    key: str
    label: str
    description: str | None


class VariantOut(BaseModel):
    key: str
    label: str


class PhaseOut(BaseModel):
    key: str
    label: str
    description: str | None
    terminal: bool
    initial: bool
    planned_end: str | None = Field(description="when the phase is planned to end, in words")
    reporting: bool


class TransitionOut(BaseModel):
    trigger: str
    label: str | None
    source: list[str]
    dest: str
    conditions: list[str] = Field(description="e.g. 'milestone gouvernance', 'meeting copil'")
    automatic: str | None = Field(description="when the step happens by itself, in words")
    comment_required: bool


class MilestoneSpecOut(BaseModel):
    key: str
    label: str
    phase: str
    deliverable: str | None
    responsible: str
    responsible_label: str
    deadline: str
    variants: list[str] | None


class OccurrenceOut(BaseModel):
    key: str
    label: str
    phase: str
    due: str | None


class MeetingSeriesOut(BaseModel):
    key: str
    label: str
    duration_minutes: int
    attendees: list[str]
    cadence: str | None
    phases: list[str] | None
    occurrences: list[OccurrenceOut]


class ReportSpecOut(BaseModel):
    key: str
    label: str
    frequency: str
    owed_by: str
    sent_to: str
    due_after_period: str


class DefinitionDetail(DefinitionSummary):
    initial: str
    terminal: list[str]
    builtin_triggers: list[str] = Field(description="steps every programme has (suspend...)")
    roles: list[RoleOut]
    variants: list[VariantOut]
    phases: list[PhaseOut]
    transitions: list[TransitionOut]
    milestones: list[MilestoneSpecOut]
    meetings: list[MeetingSeriesOut]
    reports: list[ReportSpecOut]


# -- projects ----------------------------------------------------------------------------------
class PersonIn(_In):
    """The pilot or the agency of a new project."""

    organisation: Name
    email: Email
    contact_name: Annotated[_AnyLine, Field(max_length=MAX_LENGTH["contact_name"])] = ""
    lang: Lang = "fr"


class PartnerIn(PersonIn):
    roles: Annotated[list[Key], Field(min_length=1, max_length=10)] = ["partner"]
    joined_on: Day | None = Field(default=None, description="default: today")


class ProjectCreate(_In):
    definition_id: Key = Field(description="programme, e.g. cooperative, acia")
    version: Annotated[int, Field(strict=True, ge=1, le=10_000), JsonInteger] | None = Field(
        None, description="definition version (default: the newest)"
    )
    title: Name
    start_date: Day
    territory: Annotated[_AnyLine, Field(max_length=MAX_LENGTH["territory"])] = ""
    variant: Key | None = None
    funding_cents: Cents | None = Field(default=None, description="yearly funding in euro cents")
    convention_start: Day | None = None
    convention_end: Day | None = None
    pilot: PersonIn = Field(description="a pilot user creating a project must be its pilot")
    agency: PersonIn | None = None
    lang: Lang = "fr"


class ProjectSummary(BaseModel):
    id: int
    definition_id: str
    definition_version: int
    variant: str | None
    title: str
    territory: str
    phase: str
    phase_label: str
    start_date: date
    version: int = Field(description="bumped by each step; send it back as expected_version")
    flagged_overdue: bool


class CompletionOut(BaseModel):
    done_on: date
    done_by: str
    deliverable_ref: str | None
    comment: str | None = Field(description="why it was corrected (none on the first record)")
    recorded_at: datetime


class MilestoneOut(BaseModel):
    key: str
    label: str
    phase: str
    deliverable: str | None
    responsible_role: str
    responsible_label: str
    due_on: date
    moved_from: date | None
    non_working_day: str | None = Field(description="why the due day is not worked, if so")
    state: Literal["open", "late", "done"]
    done_on: date | None
    done_by: str | None
    deliverable_ref: str | None
    completions: list[CompletionOut] = Field(
        default_factory=list,
        description="every record of it done, oldest first: the first, then each correction",
    )


class MeetingOut(BaseModel):
    id: int
    series: str
    occurrence: str | None
    label: str
    status: Literal["expected", "planned", "held", "cancelled"]
    starts_at: datetime | None
    ends_at: datetime | None
    location: str
    held_on: date | None
    attendees: list[str]
    minutes_ref: str | None
    phase: str | None


class PartnerOut(BaseModel):
    id: int
    organisation: str
    contact_name: str
    email: str
    roles: list[str]
    lang: str
    joined_on: date
    left_on: date | None


class IndicatorOut(BaseModel):
    key: str
    label: str
    kind: str
    planned: float | None
    realised: float | None
    unit: str
    period: str
    gap_explanation: str | None
    corrective_measure: str | None


class DecisionOut(BaseModel):
    id: int
    key: str
    label: str
    decided_on: date
    decided_by: str
    text: str


class BudgetLineOut(BaseModel):
    id: int
    label: str
    planned_cents: int
    spent_cents: int
    forecast_cents: int
    year: int | None = None
    comment: str = ""


class OverdueOut(BaseModel):
    project_id: int
    kind: str = Field(description="milestone, meeting_series, phase or automatic_step")
    subject: str = Field(
        description="the key of what is late: milestone, meeting series or phase (for an"
        " automatic step, the phase it leaves)"
    )
    label: str = Field(
        description="its label in the programme's definition (for an automatic step: why it"
        " could not be taken)"
    )
    since: date = Field(description="the first day late")
    days_late: int
    responsible_role: str
    responsible: str = Field(description="the responsible role's label")
    every: int | None = Field(None, description="meeting series: the cadence, every N units")
    unit: str | None = Field(None, description="meeting series: weeks or months")


class ProjectDetail(ProjectSummary):
    definition_title: str
    lang: str
    convention_start: date | None
    convention_end: date | None
    funding_cents: int | None
    funding_instrument: str | None = Field(
        description="decision (a grant decision, below 23,000 EUR), convention, or null"
    )
    phase_entered_at: datetime
    suspended_from: str | None
    flag_reason: str | None
    next_steps: list[str] = Field(description="triggers possible from the phase")
    milestones: list[MilestoneOut]
    meetings: list[MeetingOut]
    partners: list[PartnerOut]
    indicators: list[IndicatorOut]
    decisions: list[DecisionOut]
    budget: list[BudgetLineOut]
    overdue: list[OverdueOut]


class AdvanceIn(_In):
    trigger: Key = Field(description="the step, e.g. start_diagnostic, suspend, resume")
    comment: Annotated[_AnyText, Field(max_length=MAX_LENGTH["comment"])] | None = None
    expected_version: RowId | None = Field(
        None, description="refuse (409) if the project changed since you read this version"
    )
    expected_phase: Key | None = Field(default=None, description="refuse (409) if no longer in it")


class AdvanceOut(BaseModel):
    project_id: int
    trigger: str
    from_phase: str
    to_phase: str
    version: int


class CheckOut(BaseModel):
    trigger: str
    phase: str
    ready: bool = Field(description="true when nothing is missing")
    unmet: list[str]
    comment_required: bool


# -- records -----------------------------------------------------------------------------------
class PartnerLeaveIn(_In):
    on: Day | None = Field(default=None, description="default: the convention's annual deadline")


class PartnerLeaveOut(BaseModel):
    partner_id: int
    left_on: date


class MilestoneDoneIn(_In):
    deliverable_ref: Annotated[_AnyLine, Field(max_length=MAX_LENGTH["deliverable_ref"])] | None = (
        Field(default=None, description="reference of the deliverable")
    )
    on: Day | None = Field(default=None, description="default: today")
    correct: bool = Field(
        default=False,
        description="correct a milestone already done (needs `comment`); without it, a done "
        "milestone is refused with 409 naming who recorded it and when",
    )
    comment: Annotated[_AnyLine, Field(max_length=MAX_LENGTH["comment"])] | None = Field(
        default=None, description="why (required to correct)"
    )


class MeetingScheduleIn(_In):
    series: Key
    starts_at: Instant = Field(description="with its zone, e.g. 2026-06-12T14:00:00+02:00")
    occurrence: Key | None = Field(
        default=None, description="plan this expected meeting (e.g. copil_1)"
    )
    location: Annotated[_AnyLine, Field(max_length=MAX_LENGTH["location"])] = ""
    label: Name | None = None
    agenda: Text = Field(default="", description="the order of business, in the invitation")


class MeetingMoveIn(_In):
    starts_at: Instant
    location: Annotated[_AnyLine, Field(max_length=MAX_LENGTH["location"])] | None = None


class MeetingCancelIn(_In):
    reason: Annotated[_AnyText, Field(max_length=MAX_LENGTH["reason"])] | None = Field(
        default=None, description="why it is cancelled (kept on the meeting)"
    )


class MeetingHeldIn(_In):
    held_on: Day | None = Field(default=None, description="default: today; never in the future")
    attendees: Annotated[list[Name], Field(max_length=200)] = []
    minutes_ref: Annotated[_AnyLine, Field(max_length=MAX_LENGTH["minutes_ref"])] | None = None


class NewMeetingHeldIn(MeetingHeldIn):
    """A meeting recorded after the fact: an expected occurrence, or a new one of a series."""

    occurrence: Key | None = None
    series: Key | None = None


class DecisionIn(_In):
    key: Key = Field(description="e.g. evaluation_finale_decidee")
    label: Annotated[_AnyLine, Field(max_length=MAX_LENGTH["label"])] = ""
    text: Annotated[_AnyText, Field(max_length=MAX_LENGTH["text"])] = ""
    on: Day | None = None


class IndicatorIn(_In):
    label: Name | None = None
    kind: Literal["process", "activity", "result"] | None = None
    planned: Number | None = None
    realised: Number | None = None
    unit: Annotated[_AnyLine, Field(max_length=MAX_LENGTH["unit"])] | None = None
    period: Annotated[_AnyLine, Field(max_length=MAX_LENGTH["period"])] | None = Field(
        default=None, description="the period the values cover, e.g. 2026 or T3 2026"
    )
    gap_explanation: Annotated[_AnyText, Field(max_length=MAX_LENGTH["gap_explanation"])] | None = (
        None
    )
    corrective_measure: (
        Annotated[_AnyText, Field(max_length=MAX_LENGTH["corrective_measure"])] | None
    ) = None
    action: Key | None = Field(default=None, description="the fiche-action it belongs to")
    year: Year | None = Field(default=None, description="the year its target is for")
    source: Line | None = None
    method: Line | None = None
    corrective_measure_cpom: Text | None = Field(
        default=None, description="measure submitted for the end of the CPOM's 3rd year"
    )


class BudgetLineIn(_In):
    label: Name
    planned_cents: Cents
    spent_cents: Cents = 0
    forecast_cents: Cents = 0
    year: Year | None = Field(default=None, description="the year budgeted (default: this year)")
    objective: Key | None = Field(default=None, description="the general objective funded")
    comment: Text = ""


# What a report's content may hold, in the schema: any JSON whose texts (keys included) have
# no control character but line breaks and tabs. The size and the lone surrogates, which a
# schema cannot state, are _report_content's.
_ReportText = Annotated[str, Field(pattern=MULTI_LINE)]
_NoOtherKeys = Field(json_schema_extra={"additionalProperties": False})
if TYPE_CHECKING:  # mypy cannot follow this recursive alias; pydantic reads the one below
    ReportValue = Any
else:
    ReportValue = TypeAliasType(
        "ReportValue",
        Union[  # noqa: UP007 (a recursive alias is spelt with Union)
            _ReportText,
            Annotated[int, Field(strict=True)],
            Annotated[float, Field(strict=True, allow_inf_nan=False)],
            bool,
            None,
            list["ReportValue"],
            Annotated[dict[_ReportText, "ReportValue"], _NoOtherKeys],
        ],
    )


class ReportIn(_In):
    partner_id: RowId
    schedule: Key = Field(description="e.g. bilan_trimestriel")
    period: str = Field(pattern=r"^20[0-9]{2}-Q[1-4]$", examples=["2026-Q2"])
    content: Annotated[
        dict[_ReportText, ReportValue], _NoOtherKeys, AfterValidator(_report_content)
    ] = {}


class ReportOut(BaseModel):
    id: int
    partner_id: int
    organisation: str
    schedule: str
    period: str
    submitted_at: datetime
    content: dict[str, Any]


# -- operations --------------------------------------------------------------------------------
class HistoryOut(BaseModel):
    id: int
    at: datetime
    actor: str
    trigger: str
    from_phase: str
    to_phase: str
    comment: str | None


class OutboxOut(BaseModel):
    id: int
    kind: str
    recipient_name: str
    recipient_email: str
    status: str = Field(
        description="pending, sending, sent, failed, or merged (held back by the notice"
        " budget and sent within one message with the others, at next_attempt_at)"
    )
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None
    last_error: str | None


class UserOut(BaseModel):
    id: int
    email: str
    name: str
    role: str
    piloted: list[int]
