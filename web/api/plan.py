"""The plan d'actions through the API: objectives, fiches-actions, meeting notes, the budget
per year and co-financing shares (issue 13). Reading needs the right to see the project;
writing needs to be its pilot. Each write is one transaction (see workflow.plan)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from web.api.errors import COMMON_ERRORS
from web.api.projects import actor
from web.api.schemas import (
    KEY,
    MAX_ID,
    Cents,
    Day,
    JsonInteger,
    Key,
    Line,
    Name,
    ProjectId,
    RowId,
    Text,
    Year,
    _In,
)
from web.deps import AccountsDep, ApiUser, CopiloteDep
from workflow import tables
from workflow.database import read
from workflow.plan import ActionIn
from workflow.read_models.annual import annual_report
from workflow.read_models.plan import plan_of

router = APIRouter(prefix="/projects/{project_id}", tags=["plan"], responses=COMMON_ERRORS)

RecordKey = Annotated[str, Path(max_length=64, pattern=KEY)]
LineId = Annotated[int, Path(ge=1, le=MAX_ID)]
Position = Annotated[int, Field(strict=True, ge=0, le=10_000), JsonInteger]
BasisPoints = Annotated[int, Field(strict=True, ge=0, le=10_000), JsonInteger]


class ObjectiveIn(_In):
    label: Name | None = None
    level: Literal["general", "specific", "operational"] | None = None
    parent: Key | None = Field(default=None, description="the objective it sits under")
    position: Position | None = None


class ActionBody(_In):
    objective: Key | None = Field(default=None, description="the objective it serves")
    label: Name | None = None
    partner_id: RowId | None = None
    starts_on: Day | None = None
    ends_on: Day | None = None
    target_public: Text | None = None
    etp: Annotated[float, Field(strict=True, ge=0, le=1000, allow_inf_nan=False)] | None = None
    budget_cents: Cents | None = None
    series: Key | None = Field(default=None, description="the meeting series it is made of")
    planned: Text | None = None
    realised: Text | None = None
    gap_explanation: Text | None = None
    corrective_measure: Text | None = None
    corrective_measure_cpom: Text | None = None


class MeetingNoteIn(_In):
    action: Key | None = Field(default=None, description="the fiche-action it serves")
    cancel_reason: Text | None = None
    gap_explanation: Text | None = None
    corrective_measure: Text | None = None


class BudgetLineChange(_In):
    year: Year | None = None
    label: Name | None = None
    objective: Key | None = Field(default=None, description="the general objective funded")
    planned_cents: Cents | None = None
    spent_cents: Cents | None = None
    forecast_cents: Cents | None = None
    comment: Text | None = None


class FundingShareIn(_In):
    year: Year
    funder: Line = Field(min_length=1, examples=["FSE"])
    share_basis_points: BasisPoints = Field(
        description="hundredths of a percent: 49 % is 4900; 0 removes the funder"
    )


class ObjectiveOut(BaseModel):
    key: str
    level: str
    parent: str | None
    label: str
    position: int


class PlanIndicatorOut(BaseModel):
    key: str
    label: str
    kind: str
    year: int | None
    planned: float | None
    realised: float | None
    unit: str
    source: str
    method: str
    gap_explanation: str | None
    corrective_measure: str | None


class ActionOut(BaseModel):
    key: str
    objective: str
    label: str
    partner_id: int | None
    partner: str
    starts_on: date | None
    ends_on: date | None
    target_public: str
    etp: float | None
    budget_cents: int | None
    series: str | None
    planned: str
    realised: str
    gap_explanation: str | None
    corrective_measure: str | None
    corrective_measure_cpom: str | None
    indicators: list[PlanIndicatorOut]


class PlanOut(BaseModel):
    objectives: list[ObjectiveOut]
    actions: list[ActionOut]


class BudgetYearLineOut(BaseModel):
    id: int | None
    general_objective: str
    label: str
    planned_cents: int
    spent_cents: int
    forecast_cents: int
    variance_cents: int
    comment: str


class BudgetYearOut(BaseModel):
    year: int
    lines: list[BudgetYearLineOut]
    total: BudgetYearLineOut
    funding: dict[str, int] = Field(description="funder: share in hundredths of a percent")


def _plan(c: CopiloteDep, project_id: int) -> PlanOut:
    return PlanOut.model_validate(plan_of(c.engine, project_id), from_attributes=True)


@router.get("/plan", response_model=PlanOut)
def get_plan(project_id: ProjectId, c: CopiloteDep, accounts: AccountsDep, who: ApiUser) -> PlanOut:
    """The objectives tree and the fiches-actions, each with its indicators."""
    accounts.check_read(who, project_id)
    return _plan(c, project_id)


@router.put("/objectives/{key}", response_model=PlanOut)
def set_objective(
    project_id: ProjectId,
    key: RecordKey,
    body: ObjectiveIn,
    c: CopiloteDep,
    accounts: AccountsDep,
    who: ApiUser,
) -> PlanOut:
    """Create an objective (label and level needed; specific under general, operational under
    specific) or change its label, parent or position."""
    accounts.check_act(who, project_id)
    c.records.plan.set_objective(project_id, key, **body.model_dump(), by=actor(who))
    return _plan(c, project_id)


@router.put("/actions/{key}", response_model=PlanOut)
def set_action(
    project_id: ProjectId,
    key: RecordKey,
    body: ActionBody,
    c: CopiloteDep,
    accounts: AccountsDep,
    who: ApiUser,
) -> PlanOut:
    """Create a fiche-action (objective and label needed) or change the fields sent."""
    accounts.check_act(who, project_id)
    c.records.plan.set_action(project_id, key, ActionIn(**body.model_dump()), by=actor(who))
    return _plan(c, project_id)


@router.post("/meetings/{meeting_id}/note", status_code=204)
def meeting_note(
    project_id: ProjectId,
    meeting_id: LineId,
    body: MeetingNoteIn,
    c: CopiloteDep,
    accounts: AccountsDep,
    who: ApiUser,
) -> None:
    """Tie a meeting to its action; state why it was cancelled, its gap, the corrective measure."""
    accounts.check_act(who, project_id)
    c.records.plan.meeting_note(project_id, meeting_id, **body.model_dump(), by=actor(who))


def _budget_year(c: CopiloteDep, project_id: int, year: int) -> BudgetYearOut:
    report = annual_report(c.engine, project_id, year)

    def line(b: object) -> BudgetYearLineOut:
        return BudgetYearLineOut.model_validate(b, from_attributes=True)

    return BudgetYearOut(
        year=year,
        lines=[line(b) for b in report.budget],
        total=line(report.budget_total),
        funding=dict(report.funding),
    )


@router.get("/budget/{year}", response_model=BudgetYearOut)
def budget_of_year(
    project_id: ProjectId,
    year: Annotated[int, Path(ge=2000, le=2100)],
    c: CopiloteDep,
    accounts: AccountsDep,
    who: ApiUser,
) -> BudgetYearOut:
    """A year's budget lines (planned, spent, forecast, gap, comment), totals and funders."""
    accounts.check_read(who, project_id)
    return _budget_year(c, project_id, year)


@router.put("/budget/lines/{line_id}", response_model=BudgetYearOut)
def change_budget_line(
    project_id: ProjectId,
    line_id: LineId,
    body: BudgetLineChange,
    c: CopiloteDep,
    accounts: AccountsDep,
    who: ApiUser,
) -> BudgetYearOut:
    """Change a budget line's year, label, objective, amounts or comment (only those sent)."""
    accounts.check_act(who, project_id)
    c.records.budget.set_budget_line(project_id, line_id, **body.model_dump(), by=actor(who))
    with read(c.db) as conn:
        year = conn.execute(
            tables.budget_line.select()
            .with_only_columns(tables.budget_line.c.year)
            .where(tables.budget_line.c.id == line_id)
        ).scalar()
    return _budget_year(c, project_id, year or c.engine.today().year)


@router.post("/funding", response_model=BudgetYearOut)
def set_funding_share(
    project_id: ProjectId, body: FundingShareIn, c: CopiloteDep, accounts: AccountsDep, who: ApiUser
) -> BudgetYearOut:
    """A co-funder's share of a year (e.g. FSE at 4900 for 49 %); 0 removes it."""
    accounts.check_act(who, project_id)
    c.records.budget.set_funding_share(
        project_id, body.year, body.funder, body.share_basis_points, by=actor(who)
    )
    return _budget_year(c, project_id, body.year)
