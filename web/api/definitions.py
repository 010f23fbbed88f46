"""Programme definitions: the list, one lifecycle in full, and its Mermaid diagram."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import PlainTextResponse

from web.api.errors import COMMON_ERRORS, json_errors
from web.api.reading import definition_detail, definition_summary
from web.api.schemas import KEY, DefinitionDetail, DefinitionSummary
from web.deps import ApiUser, CopiloteDep
from workflow.diagram import mermaid

router = APIRouter(prefix="/definitions", tags=["definitions"], responses=COMMON_ERRORS)

DefinitionId = Annotated[
    str, Path(max_length=64, pattern=KEY, description="e.g. cooperative, acia")
]
Version = Annotated[int | None, Query(ge=1, le=10_000, description="default: the newest version")]


@router.get("", response_model=list[DefinitionSummary])
def list_definitions(c: CopiloteDep, _user: ApiUser) -> list[DefinitionSummary]:
    """Every loaded definition, each version."""
    return [definition_summary(d) for d in sorted(c.registry, key=lambda d: (d.id, d.version))]


@router.get("/{definition_id}", response_model=DefinitionDetail)
def show_definition(
    definition_id: DefinitionId, c: CopiloteDep, _user: ApiUser, version: Version = None
) -> DefinitionDetail:
    """A lifecycle: phases, steps with their conditions, milestones, meetings, reports."""
    return definition_detail(c.engine.definition(definition_id, version))


@router.get(
    "/{definition_id}/diagram",
    response_class=PlainTextResponse,
    responses={
        200: {"content": {"text/plain": {"schema": {"type": "string"}}}},
        **json_errors(COMMON_ERRORS),
    },
)
def definition_diagram(
    definition_id: DefinitionId, c: CopiloteDep, _user: ApiUser, version: Version = None
) -> PlainTextResponse:
    """The lifecycle as a Mermaid ``stateDiagram-v2`` (paste it into any Mermaid viewer)."""
    return PlainTextResponse(mermaid(c.engine.definition(definition_id, version)))
