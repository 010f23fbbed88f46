"""What a pilot records on a project: partners, milestones, meetings, reports, indicators,
decisions and budget lines. Reading needs the right to see the project; recording needs to be
its pilot. Each write is one transaction with the notices it causes (see workflow.records)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from web.api import reading
from web.api.errors import COMMON_ERRORS
from web.api.projects import actor
from web.api.schemas import (
    KEY,
    MAX_ID,
    BudgetLineIn,
    BudgetLineOut,
    DecisionIn,
    DecisionOut,
    IndicatorIn,
    IndicatorOut,
    MeetingCancelIn,
    MeetingHeldIn,
    MeetingMoveIn,
    MeetingOut,
    MeetingScheduleIn,
    MilestoneDoneIn,
    MilestoneOut,
    NewMeetingHeldIn,
    PartnerIn,
    PartnerLeaveIn,
    PartnerLeaveOut,
    PartnerOut,
    ProjectId,
    ReportIn,
    ReportOut,
)
from web.deps import AccountsDep, ApiUser, CopiloteDep
from workflow.database import read
from workflow.engine import PartnerIn as EnginePartner

router = APIRouter(prefix="/projects/{project_id}", tags=["records"], responses=COMMON_ERRORS)

PartnerId = Annotated[int, Path(ge=1, le=MAX_ID)]
MeetingId = Annotated[int, Path(ge=1, le=MAX_ID)]
RecordKey = Annotated[str, Path(max_length=64, pattern=KEY)]


# -- partners ----------------------------------------------------------------------------------
@router.get("/partners", response_model=list[PartnerOut])
def list_partners(
    project_id: ProjectId, c: CopiloteDep, accounts: AccountsDep, who: ApiUser
) -> list[PartnerOut]:
    """Every partner row, the pilot and the agency included, with roles and dates."""
    accounts.check_read(who, project_id)
    with read(c.db) as conn:
        c.engine.project_row(conn, project_id)
        return reading.partners(conn, project_id)


@router.post("/partners", status_code=201, response_model=PartnerOut)
def add_partner(
    project_id: ProjectId, body: PartnerIn, c: CopiloteDep, accounts: AccountsDep, who: ApiUser
) -> PartnerOut:
    """A structure joins the project (roles from the programme definition, e.g. partner, copil)."""
    accounts.check_act(who, project_id)
    partner_id = c.records.add_partner(
        project_id,
        EnginePartner(
            body.organisation, body.email, body.contact_name, tuple(body.roles), body.lang
        ),
        body.joined_on,
    )
    with read(c.db) as conn:
        return reading.partners(conn, project_id, partner_id)[0]


@router.post("/partners/{partner_id}/leave", response_model=PartnerLeaveOut)
def partner_leaves(
    project_id: ProjectId,
    partner_id: PartnerId,
    c: CopiloteDep,
    accounts: AccountsDep,
    who: ApiUser,
    body: PartnerLeaveIn | None = None,
) -> PartnerLeaveOut:
    """A partner leaves, by default at the convention's annual deadline (seed 001)."""
    accounts.check_act(who, project_id)
    on = c.records.partner_leaves(project_id, partner_id, on=body.on if body else None)
    return PartnerLeaveOut(partner_id=partner_id, left_on=on)


# -- milestones --------------------------------------------------------------------------------
@router.get("/milestones", response_model=list[MilestoneOut])
def list_milestones(
    project_id: ProjectId, c: CopiloteDep, accounts: AccountsDep, who: ApiUser
) -> list[MilestoneOut]:
    """The milestones opened so far, by due date, with their state (open, late, done)."""
    accounts.check_read(who, project_id)
    with read(c.db) as conn:
        row = c.engine.project_row(conn, project_id)
        d = c.engine.definition(row.definition_id, row.definition_version)
        return reading.milestones(conn, d, project_id, c.engine.today())


@router.post("/milestones/{key}/done", response_model=MilestoneOut)
def milestone_done(
    project_id: ProjectId,
    key: RecordKey,
    c: CopiloteDep,
    accounts: AccountsDep,
    who: ApiUser,
    body: MilestoneDoneIn | None = None,
) -> MilestoneOut:
    """Mark a milestone done (its reminders stop). Already done: 409 naming who recorded it and
    when, unless ``correct`` with a ``comment`` (both records are kept)."""
    accounts.check_act(who, project_id)
    body = body or MilestoneDoneIn()
    c.records.milestone_done(
        project_id,
        key,
        by=actor(who),
        deliverable_ref=body.deliverable_ref,
        on=body.on,
        correct=body.correct,
        comment=body.comment,
    )
    with read(c.db) as conn:
        row = c.engine.project_row(conn, project_id)
        d = c.engine.definition(row.definition_id, row.definition_version)
        return next(
            m for m in reading.milestones(conn, d, project_id, c.engine.today()) if m.key == key
        )


# -- meetings ----------------------------------------------------------------------------------
def _meeting(c: CopiloteDep, project_id: int, meeting_id: int) -> MeetingOut:
    with read(c.db) as conn:
        return reading.meetings(conn, project_id, meeting_id)[0]


@router.get("/meetings", response_model=list[MeetingOut])
def list_meetings(
    project_id: ProjectId, c: CopiloteDep, accounts: AccountsDep, who: ApiUser
) -> list[MeetingOut]:
    """Meetings expected by the programme, planned, held or cancelled."""
    accounts.check_read(who, project_id)
    with read(c.db) as conn:
        c.engine.project_row(conn, project_id)
        return reading.meetings(conn, project_id)


@router.post("/meetings", status_code=201, response_model=MeetingOut)
def schedule_meeting(
    project_id: ProjectId,
    body: MeetingScheduleIn,
    c: CopiloteDep,
    accounts: AccountsDep,
    who: ApiUser,
) -> MeetingOut:
    """Plan a meeting of a series (or an expected occurrence); invitations are queued."""
    accounts.check_act(who, project_id)
    meeting_id = c.records.schedule_meeting(
        project_id,
        body.series,
        body.starts_at,
        occurrence=body.occurrence,
        location=body.location,
        label=body.label,
        agenda=body.agenda,
    )
    return _meeting(c, project_id, meeting_id)


@router.post("/meetings/held", status_code=201, response_model=MeetingOut)
def record_new_meeting_held(
    project_id: ProjectId,
    body: NewMeetingHeldIn,
    c: CopiloteDep,
    accounts: AccountsDep,
    who: ApiUser,
) -> MeetingOut:
    """Record a meeting held that was not planned here: an expected occurrence (``occurrence``)
    or a new meeting of a series (``series``)."""
    accounts.check_act(who, project_id)
    meeting_id = c.records.meeting_held(
        project_id,
        occurrence=body.occurrence,
        series=body.series,
        held_on=body.held_on,
        attendees=body.attendees,
        minutes_ref=body.minutes_ref,
    )
    return _meeting(c, project_id, meeting_id)


@router.post("/meetings/{meeting_id}/move", response_model=MeetingOut)
def move_meeting(
    project_id: ProjectId,
    meeting_id: MeetingId,
    body: MeetingMoveIn,
    c: CopiloteDep,
    accounts: AccountsDep,
    who: ApiUser,
) -> MeetingOut:
    """Move a planned meeting; updated invitations are queued."""
    accounts.check_act(who, project_id)
    c.records.move_meeting(project_id, meeting_id, body.starts_at, body.location)
    return _meeting(c, project_id, meeting_id)


@router.post("/meetings/{meeting_id}/cancel", response_model=MeetingOut)
def cancel_meeting(
    project_id: ProjectId,
    meeting_id: MeetingId,
    c: CopiloteDep,
    accounts: AccountsDep,
    who: ApiUser,
    body: MeetingCancelIn | None = None,
) -> MeetingOut:
    """Cancel a planned meeting (with the reason, optional); cancellations are queued."""
    accounts.check_act(who, project_id)
    c.records.cancel_meeting(project_id, meeting_id, reason=body.reason if body else None)
    return _meeting(c, project_id, meeting_id)


@router.post("/meetings/{meeting_id}/held", response_model=MeetingOut)
def meeting_held(
    project_id: ProjectId,
    meeting_id: MeetingId,
    c: CopiloteDep,
    accounts: AccountsDep,
    who: ApiUser,
    body: MeetingHeldIn | None = None,
) -> MeetingOut:
    """Record that a meeting was held (by default today), with attendees and minutes."""
    accounts.check_act(who, project_id)
    body = body or MeetingHeldIn()
    c.records.meeting_held(
        project_id,
        meeting_id=meeting_id,
        held_on=body.held_on,
        attendees=body.attendees,
        minutes_ref=body.minutes_ref,
    )
    return _meeting(c, project_id, meeting_id)


# -- reports -----------------------------------------------------------------------------------
@router.get("/reports", response_model=list[ReportOut])
def list_reports(
    project_id: ProjectId, c: CopiloteDep, accounts: AccountsDep, who: ApiUser
) -> list[ReportOut]:
    """Reports received (quarterly reports...), with their content."""
    accounts.check_read(who, project_id)
    with read(c.db) as conn:
        c.engine.project_row(conn, project_id)
        return reading.reports(conn, project_id)


@router.post("/reports", status_code=201, response_model=ReportOut)
def submit_report(
    project_id: ProjectId, body: ReportIn, c: CopiloteDep, accounts: AccountsDep, who: ApiUser
) -> ReportOut:
    """The pilot submits a report on behalf of a partner (sent again: replaced)."""
    accounts.check_act(who, project_id)
    report_id = c.records.submit_report(
        project_id, body.partner_id, body.schedule, body.period, body.content
    )
    with read(c.db) as conn:
        return reading.reports(conn, project_id, report_id)[0]


# -- indicators, decisions, budget ---------------------------------------------------------------
@router.get("/indicators", response_model=list[IndicatorOut])
def list_indicators(
    project_id: ProjectId, c: CopiloteDep, accounts: AccountsDep, who: ApiUser
) -> list[IndicatorOut]:
    accounts.check_read(who, project_id)
    with read(c.db) as conn:
        c.engine.project_row(conn, project_id)
        return reading.indicators(conn, project_id)


@router.put("/indicators/{key}", response_model=IndicatorOut)
def set_indicator(
    project_id: ProjectId,
    key: RecordKey,
    body: IndicatorIn,
    c: CopiloteDep,
    accounts: AccountsDep,
    who: ApiUser,
) -> IndicatorOut:
    """Create an indicator (label and kind needed) or change its values (only those sent)."""
    accounts.check_act(who, project_id)
    c.records.set_indicator(project_id, key, **body.model_dump(exclude_none=True), by=actor(who))
    with read(c.db) as conn:
        return reading.indicators(conn, project_id, key)[0]


@router.get("/decisions", response_model=list[DecisionOut])
def list_decisions(
    project_id: ProjectId, c: CopiloteDep, accounts: AccountsDep, who: ApiUser
) -> list[DecisionOut]:
    accounts.check_read(who, project_id)
    with read(c.db) as conn:
        c.engine.project_row(conn, project_id)
        return reading.decisions(conn, project_id)


@router.post("/decisions", status_code=201, response_model=DecisionOut)
def record_decision(
    project_id: ProjectId, body: DecisionIn, c: CopiloteDep, accounts: AccountsDep, who: ApiUser
) -> DecisionOut:
    """Record a decision (e.g. taken by the COPIL); some steps need one."""
    accounts.check_act(who, project_id)
    decision_id = c.records.record_decision(
        project_id, body.key, by=actor(who), text=body.text, label=body.label, on=body.on
    )
    with read(c.db) as conn:
        return reading.decisions(conn, project_id, decision_id)[0]


@router.get("/budget", response_model=list[BudgetLineOut])
def list_budget(
    project_id: ProjectId, c: CopiloteDep, accounts: AccountsDep, who: ApiUser
) -> list[BudgetLineOut]:
    accounts.check_read(who, project_id)
    with read(c.db) as conn:
        c.engine.project_row(conn, project_id)
        return reading.budget(conn, project_id)


@router.post("/budget", status_code=201, response_model=BudgetLineOut)
def add_budget_line(
    project_id: ProjectId, body: BudgetLineIn, c: CopiloteDep, accounts: AccountsDep, who: ApiUser
) -> BudgetLineOut:
    """A budget line of a year: planned, spent and forecast amounts in euro cents, the general
    objective it funds and a comment (changed with ``PUT budget/lines/{id}``)."""
    accounts.check_act(who, project_id)
    line_id = c.records.budget.set_budget_line(
        project_id,
        None,
        year=body.year or c.engine.today().year,
        label=body.label,
        objective=body.objective,
        planned_cents=body.planned_cents,
        spent_cents=body.spent_cents,
        forecast_cents=body.forecast_cents,
        comment=body.comment,
        by=actor(who),
    )
    with read(c.db) as conn:
        return reading.budget(conn, project_id, line_id)[0]
