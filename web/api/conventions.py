"""A project's partnership conventions through the API: read them (amounts in force on a
date, status, renewals, avenants, "année N sur M"), create one, record a party's signature,
an express renewal, an avenant, a party's notice. Reading needs the right to see the
project; recording needs to be its pilot; the agency also records renewals. See workflow.conventions."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from web.api.errors import COMMON_ERRORS
from web.api.projects import actor
from web.api.schemas import MAX_ID, Cents, Day, Line, ProjectId, RowId, Text, _In
from web.deps import AccountsDep, ApiUser, CopiloteDep
from workflow.conventions import DEFAULT_LABEL, PartyIn
from workflow.database import read
from workflow.errors import NotFound
from workflow.read_models.conventions import ConventionsView, project_conventions

__all__ = ["router"]

router = APIRouter(prefix="/projects/{project_id}", tags=["conventions"], responses=COMMON_ERRORS)

ConventionId = Annotated[int, Path(ge=1, le=MAX_ID, description="convention id")]
PartnerRef = Annotated[RowId, Field(description="partner id")]


class PartyAmountIn(_In):
    partner_id: PartnerRef
    amount_cents: Cents | None = Field(default=None, description="euro cents; null: not known")


class ConventionIn(_In):
    label: Line = DEFAULT_LABEL
    parties: Annotated[list[PartyAmountIn], Field(min_length=1, max_length=500)]


class SignatureIn(_In):
    partner_id: PartnerRef
    on: Day


class RenewalIn(_In):
    amounts: Annotated[list[PartyAmountIn], Field(max_length=500)] = []


class AvenantIn(_In):
    on: Day
    object: Text
    amounts: Annotated[list[PartyAmountIn], Field(max_length=500)] = []


class NoticeIn(_In):
    partner_id: PartnerRef
    received_on: Day


class NoticeOut(BaseModel):
    partner_id: int
    leaves_on: date


def _check_renew(accounts: AccountsDep, who: ApiUser, project_id: int) -> None:
    """The project's pilots record everything about its conventions; the agency, which
    signs them, also records their express renewal (seed 001)."""
    if not who.is_agency:
        accounts.check_act(who, project_id)


def _check(c: CopiloteDep, project_id: int, convention_id: int) -> None:
    """The convention is one of this project's (else 404, as for any unknown id)."""
    if c.conventions.project_of(convention_id) != project_id:
        raise NotFound("convention", convention_id)


def _view(c: CopiloteDep, project_id: int, on: date | None = None) -> ConventionsView:
    with read(c.db) as conn:
        return project_conventions(c.engine, conn, project_id, on=on)


def _amounts(parties: list[PartyAmountIn]) -> dict[int, int | None]:
    return {p.partner_id: p.amount_cents for p in parties}


@router.get("/conventions", response_model=ConventionsView)
def list_conventions(
    project_id: ProjectId,
    c: CopiloteDep,
    accounts: AccountsDep,
    who: ApiUser,
    on: Annotated[Day | None, Query(description="amounts and status as on this date")] = None,
) -> ConventionsView:
    """The project's conventions, parties and amounts in force (today, or ``on``)."""
    accounts.check_read(who, project_id)
    return _view(c, project_id, on)


@router.post("/conventions", status_code=201, response_model=ConventionsView)
def create_convention(
    project_id: ProjectId, body: ConventionIn, c: CopiloteDep, accounts: AccountsDep, who: ApiUser
) -> ConventionsView:
    """A convention to be signed by its parties (partners of the project)."""
    accounts.check_act(who, project_id)
    parties = [PartyIn(p.partner_id, p.amount_cents) for p in body.parties]
    c.conventions.create(project_id, parties, by=actor(who), label=body.label)
    return _view(c, project_id)


@router.post("/conventions/{convention_id}/sign", response_model=ConventionsView)
def sign_convention(
    project_id: ProjectId,
    convention_id: ConventionId,
    body: SignatureIn,
    c: CopiloteDep,
    accounts: AccountsDep,
    who: ApiUser,
) -> ConventionsView:
    """A party's signature; the last one makes the convention take effect that day."""
    accounts.check_act(who, project_id)
    _check(c, project_id, convention_id)
    c.conventions.sign(convention_id, body.partner_id, on=body.on, by=actor(who))
    return _view(c, project_id)


@router.post("/conventions/{convention_id}/renew", response_model=ConventionsView)
def renew_convention(
    project_id: ProjectId,
    convention_id: ConventionId,
    c: CopiloteDep,
    accounts: AccountsDep,
    who: ApiUser,
    body: RenewalIn | None = None,
) -> ConventionsView:
    """Express renewal for one more period, with new amounts for the parties given."""
    _check_renew(accounts, who, project_id)
    _check(c, project_id, convention_id)
    amounts = _amounts(body.amounts) if body else {}
    c.conventions.renew(convention_id, by=actor(who), amounts=amounts)
    return _view(c, project_id)


@router.post(
    "/conventions/{convention_id}/avenants", status_code=201, response_model=ConventionsView
)
def amend_convention(
    project_id: ProjectId,
    convention_id: ConventionId,
    body: AvenantIn,
    c: CopiloteDep,
    accounts: AccountsDep,
    who: ApiUser,
) -> ConventionsView:
    """An avenant from ``on``: its object and the parties' new amounts."""
    accounts.check_act(who, project_id)
    _check(c, project_id, convention_id)
    c.conventions.amend(
        convention_id, on=body.on, object=body.object, amounts=_amounts(body.amounts), by=actor(who)
    )
    return _view(c, project_id)


@router.post("/conventions/{convention_id}/notice", response_model=NoticeOut)
def give_notice(
    project_id: ProjectId,
    convention_id: ConventionId,
    body: NoticeIn,
    c: CopiloteDep,
    accounts: AccountsDep,
    who: ApiUser,
) -> NoticeOut:
    """A party's notice, received on ``received_on``: it leaves one notice period later."""
    accounts.check_act(who, project_id)
    _check(c, project_id, convention_id)
    leaves = c.conventions.terminate(
        convention_id, body.partner_id, received_on=body.received_on, by=actor(who)
    )
    return NoticeOut(partner_id=body.partner_id, leaves_on=leaves)
