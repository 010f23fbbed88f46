"""Projects: create, list (with filters), show, check a step, advance."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from web.api.errors import COMMON_ERRORS, CONFLICT
from web.api.reading import project_detail, project_summaries
from web.api.schemas import (
    KEY,
    MAX_ID,
    ONE_LINE,
    AdvanceIn,
    AdvanceOut,
    CheckOut,
    PersonIn,
    ProjectCreate,
    ProjectDetail,
    ProjectId,
    ProjectSummary,
)
from web.auth import ROLES, Forbidden, Principal
from web.deps import AccountsDep, ApiUser, CopiloteDep
from workflow.database import read
from workflow.engine import NewProject, PartnerIn, StepNotAvailable
from workflow.errors import UnknownTrigger

router = APIRouter(prefix="/projects", tags=["projects"], responses=COMMON_ERRORS)


def actor(who: Principal) -> str:
    """How a signed-in user appears in the history and on records."""
    return who.name or who.email


def _partner(person: PersonIn, roles: tuple[str, ...]) -> PartnerIn:
    return PartnerIn(person.organisation, person.email, person.contact_name, roles, person.lang)


@router.post("", status_code=201, response_model=ProjectDetail)
def create_project(
    body: ProjectCreate, c: CopiloteDep, who: ApiUser, response: Response
) -> ProjectDetail:
    """Create a project in its programme's first phase. The agency may create any project; a
    pilot creates only projects they pilot (``pilot.email`` is their own address)."""
    if who.role not in ROLES:
        raise Forbidden(who.email, "create projects")
    if not who.is_agency and body.pilot.email.strip().lower() != who.email:
        raise Forbidden(
            who.email,
            f"create a project piloted by {body.pilot.email.strip()!r} (use your own address)",
        )
    project_id = c.engine.create_project(
        NewProject(
            definition_id=body.definition_id,
            version=body.version,
            title=body.title,
            start_date=body.start_date,
            pilot=_partner(body.pilot, ("pilot", "copil")),
            territory=body.territory,
            variant=body.variant,
            agency=_partner(body.agency, ("agency",)) if body.agency else None,
            convention_start=body.convention_start,
            convention_end=body.convention_end,
            funding_cents=body.funding_cents,
            actor=actor(who),
            lang=body.lang,
        )
    )
    response.headers["Location"] = f"/api/projects/{project_id}"
    with read(c.db) as conn:
        return project_detail(c.engine, conn, project_id)


@router.get("", response_model=list[ProjectSummary])
def list_projects(
    c: CopiloteDep,
    accounts: AccountsDep,
    who: ApiUser,
    programme: Annotated[
        str | None, Query(max_length=64, pattern=KEY, description="definition id, e.g. acia")
    ] = None,
    territory: Annotated[str | None, Query(max_length=200, pattern=ONE_LINE)] = None,
    phase: Annotated[str | None, Query(max_length=64, pattern=KEY)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> list[ProjectSummary]:
    """The projects you may see (the agency: all; a pilot: theirs), by id."""
    with read(c.db) as conn:
        return project_summaries(
            c.engine,
            conn,
            accounts.readable(who),
            programme=programme,
            territory=territory,
            phase=phase,
            limit=limit,
            offset=offset,
        )


@router.get("/{project_id}", response_model=ProjectDetail)
def show_project(
    project_id: ProjectId, c: CopiloteDep, accounts: AccountsDep, who: ApiUser
) -> ProjectDetail:
    """The project with its milestones, meetings, partners, indicators, decisions, budget and
    what is overdue."""
    accounts.check_read(who, project_id)
    with read(c.db) as conn:
        return project_detail(c.engine, conn, project_id)


@router.get("/{project_id}/check", response_model=CheckOut, responses=CONFLICT)
def check_step(
    project_id: ProjectId,
    trigger: Annotated[str, Query(max_length=64, pattern=KEY, description="the step")],
    c: CopiloteDep,
    accounts: AccountsDep,
    who: ApiUser,
) -> CheckOut:
    """What is missing before ``trigger`` may be taken now (409 if the step does not exist from
    the project's phase)."""
    accounts.check_read(who, project_id)
    with read(c.db) as conn:
        row = c.engine.project_row(conn, project_id)
    lifecycle = c.engine.lifecycle(row.definition_id, row.definition_version)
    allowed = lifecycle.triggers_from(row.phase)
    if trigger not in allowed:
        if trigger in lifecycle.known_triggers:
            raise StepNotAvailable(project_id, trigger, row.phase, allowed)
        raise UnknownTrigger(project_id, trigger, row.phase, allowed)
    unmet = c.engine.check(project_id, trigger)
    transition = lifecycle.transition(trigger, row.phase)
    return CheckOut(
        trigger=trigger,
        phase=row.phase,
        ready=not unmet,
        unmet=[str(u) for u in unmet],
        comment_required=trigger in ("suspend", "abandon")
        or bool(transition and transition.comment_required),
    )


@router.post("/{project_id}/advance", response_model=AdvanceOut, responses=CONFLICT)
def advance_project(
    project_id: ProjectId,
    body: AdvanceIn,
    c: CopiloteDep,
    accounts: AccountsDep,
    who: ApiUser,
) -> AdvanceOut:
    """Take a step. Refused (409) with every unmet condition in ``unmet``; a conflict (409,
    ``current_phase``) when the project is no longer at ``expected_version``/``expected_phase``."""
    accounts.check_act(who, project_id)
    result = c.engine.advance(
        project_id,
        body.trigger,
        actor=actor(who),
        comment=body.comment,
        expected_phase=body.expected_phase,
        expected_version=body.expected_version,
    )
    return AdvanceOut(
        project_id=result.project_id,
        trigger=result.trigger,
        from_phase=result.from_phase,
        to_phase=result.to_phase,
        version=result.version,
    )
