"""Server-rendered pages (usable without JavaScript): sign-in, the agency dashboard, project
pages, the partners' answer pages, the exports and the agency's users page."""

from fastapi import APIRouter

from web.pages import (
    answer,
    answer_links,
    conventions,
    dashboard,
    deliver,
    documents,
    exports,
    forms,
    legal,
    objectives,
    preferences,
    programme_report,
    project,
    session,
    users,
)

router = APIRouter(include_in_schema=False)
router.include_router(session.router)
router.include_router(dashboard.router)
router.include_router(project.router)
router.include_router(forms.router)
router.include_router(conventions.router)
router.include_router(answer.router)
router.include_router(documents.router)
router.include_router(preferences.router)
router.include_router(answer_links.router)
router.include_router(deliver.router)
router.include_router(exports.router)
router.include_router(objectives.router)
router.include_router(programme_report.router)
router.include_router(users.router)
router.include_router(legal.router)

__all__ = ["router"]
