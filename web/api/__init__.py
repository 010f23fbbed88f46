"""The JSON API under ``/api``: everything the command line can do. OpenAPI at ``/openapi.json``,
browsable at ``/docs``.

Sign in with ``Authorization: Bearer <token>`` (``copilote user token EMAIL``), or with the
session cookie of the pages, in which case POST/PUT also need the ``X-CSRF-Token`` header.
Reading a project needs the right to see it (the agency: all; a pilot: theirs); acting on it
needs to be its pilot. Lists show only what you may see.

- ``GET /definitions``, ``GET /definitions/{id}`` (phases, steps and their conditions,
  milestones, meetings, reports), ``GET /definitions/{id}/diagram`` (Mermaid text)
- ``POST /projects`` (the agency, or a pilot for themselves), ``GET /projects?programme=&
  territory=&phase=``, ``GET /projects/{id}`` (milestones, meetings, partners, indicators,
  decisions, budget, what is overdue)
- ``GET /projects/{id}/check?trigger=`` (what is missing), ``POST /projects/{id}/advance``
  ``{trigger, comment, expected_version}``
- records under ``/projects/{id}/``: ``partners`` (+ ``/{pid}/leave``), ``milestones``
  (+ ``/{key}/done``), ``meetings`` (schedule; ``held``; ``/{mid}/move|cancel|held``),
  ``reports`` (the pilot submits for a partner), ``indicators/{key}`` (PUT), ``decisions``,
  ``budget``; ``conventions`` (``?on=DATE``; POST a new one; ``/{cid}/sign``, ``/renew``,
  ``/avenants``, ``/notice``)
- ``GET /projects/{id}/documents`` (each document and its versions), ``GET
  /projects/{id}/documents/{doc}/{version}`` (the file, as an attachment)
- ``budget`` (a year's line: ``year``, ``objective``, ``comment``)
- the plan d'actions (issue 13): ``GET /projects/{id}/plan``, ``PUT objectives/{key}``,
  ``PUT actions/{key}``, ``POST meetings/{mid}/note``, ``GET budget/{year}``,
  ``PUT budget/lines/{line}``, ``POST funding``
- ``GET /projects/{id}/history``, ``GET /projects/{id}/outbox`` (who was sent what, status,
  attempts, last error), ``GET /overdue``, ``GET /me``

Errors are JSON ``{"detail": ..., "error": ...}``: 401 not signed in, 403 not allowed (or no
CSRF token), 404 unknown, 409 refused step (``unmet``: every missing condition), conflict
(``current_phase``) or unknown step (``allowed``), 422 invalid input (``field``, or FastAPI's
``detail[].loc``). They are mapped once, in ``web.app``.
"""

from fastapi import APIRouter

from web.api import conventions, definitions, documents, ops, plan, projects, records

router = APIRouter()
router.include_router(definitions.router)
router.include_router(projects.router)
router.include_router(records.router)
router.include_router(conventions.router)
router.include_router(documents.router)
router.include_router(plan.router)
router.include_router(ops.router)

__all__ = ["router"]
