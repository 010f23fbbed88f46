"""Following up: who you are, a project's history and outbox (what was sent to whom, what
failed), and what is overdue across the projects you may see."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from web.api import reading
from web.api.errors import COMMON_ERRORS
from web.api.schemas import MAX_ID, HistoryOut, OutboxOut, OverdueOut, ProjectId, UserOut
from web.deps import AccountsDep, ApiUser, CopiloteDep
from workflow.database import read
from workflow.progress import overdue_items

router = APIRouter(tags=["follow-up"], responses=COMMON_ERRORS)


@router.get("/me", response_model=UserOut)
def me(accounts: AccountsDep, who: ApiUser) -> UserOut:
    """The signed-in user and the projects they pilot."""
    return UserOut(
        id=who.id,
        email=who.email,
        name=who.name,
        role=who.role,
        piloted=sorted(accounts.piloted(who)),
    )


@router.get("/projects/{project_id}/history", response_model=list[HistoryOut])
def project_history(
    project_id: ProjectId, c: CopiloteDep, accounts: AccountsDep, who: ApiUser
) -> list[HistoryOut]:
    """Every step taken, oldest first: when, by whom, from and to which phase, why."""
    accounts.check_read(who, project_id)
    with read(c.db) as conn:
        c.engine.project_row(conn, project_id)
        return reading.history(conn, project_id)


@router.get("/projects/{project_id}/outbox", response_model=list[OutboxOut])
def project_outbox(
    project_id: ProjectId,
    c: CopiloteDep,
    accounts: AccountsDep,
    who: ApiUser,
    status: Annotated[
        Literal["pending", "sending", "sent", "failed", "merged"] | None, Query()
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> list[OutboxOut]:
    """The project's messages, oldest first: kind, recipient, status, attempts, last error."""
    accounts.check_read(who, project_id)
    with read(c.db) as conn:
        c.engine.project_row(conn, project_id)
        return reading.outbox(conn, project_id, status, limit, offset)


@router.get("/overdue", response_model=list[OverdueOut])
def overdue(c: CopiloteDep, accounts: AccountsDep, who: ApiUser) -> list[OverdueOut]:
    """What is late in the projects you may see, most overdue first, with who is responsible."""
    today = c.engine.today()
    readable = accounts.readable(who)
    items = [
        i for i in overdue_items(c.engine, today) if readable is None or i.project_id in readable
    ]
    return reading.overdue(items, today)
