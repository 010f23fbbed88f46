"""Server-rendered pages (usable without JavaScript): sign-in, the agency dashboard, project
pages, the partners' answer pages and the exports."""

from fastapi import APIRouter

from web.pages import answer, dashboard, exports, project, session

router = APIRouter(include_in_schema=False)
router.include_router(session.router)
router.include_router(dashboard.router)
router.include_router(project.router)
router.include_router(answer.router)
router.include_router(exports.router)

__all__ = ["router"]
