"""The ASGI application: routers, signed-cookie sessions, and the one place errors become
HTTP statuses (404 unknown, 409 conflict or refused step, 422 invalid input, 401/403 rights).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from web import api, health, i18n, pages
from web.auth import Forbidden, NotSignedIn
from web.csrf import CsrfRefused
from web.deps import LoginRequired
from web.links import LinkError
from web.ports import Application
from web.refusals import request_language, worded
from web.security import SecretsMasked, SecurityHeaders
from web.templating import render
from web.throttle import SignInThrottled
from workflow.errors import (
    AlreadyRecorded,
    ConflictError,
    InvalidInput,
    MigrationRefused,
    NotFound,
    TransitionRefused,
    UnknownTrigger,
    WorkflowError,
)

__all__ = ["create_app"]

# (status, short title) per error type; the first match in this order wins.
_STATUS: list[tuple[type[Exception], int, str]] = [
    (NotFound, 404, "Page introuvable"),
    (NotSignedIn, 401, "Accès refusé"),
    (Forbidden, 403, "Accès refusé"),
    (CsrfRefused, 403, "Demande refusée"),
    (LinkError, 403, "Lien invalide"),
    (TransitionRefused, 409, "Demande refusée"),
    (ConflictError, 409, "Demande refusée"),
    (UnknownTrigger, 409, "Demande refusée"),
    (MigrationRefused, 409, "Demande refusée"),
    (InvalidInput, 422, "Erreur"),
]


def error_body(exc: Exception, lang: str = "fr") -> dict[str, Any]:
    """The JSON of an error; a refused step's conditions are worded in ``lang``."""
    body: dict[str, Any] = {"detail": str(exc), "error": type(exc).__name__}
    if isinstance(exc, TransitionRefused):
        body["unmet"] = [str(u) for u in exc.unmet]  # the engine's sentences, as before
        body["conditions"] = worded(exc.unmet, lang)
    if isinstance(exc, AlreadyRecorded):
        body["recorded"] = {
            "milestone": exc.milestone,
            "done_on": exc.done_on.isoformat(),
            "done_by": exc.done_by,
        }
    if isinstance(exc, UnknownTrigger):
        body["allowed"] = exc.allowed
    if isinstance(exc, ConflictError):
        body["current_phase"] = exc.current_phase
    if isinstance(exc, InvalidInput):
        body["field"] = exc.field
    return body


def create_app(copilote: Application, *, lifespan: Any = None) -> FastAPI:
    """The application serving ``copilote`` (the composition root hands itself in)."""
    app = FastAPI(
        title="Copilote",
        summary="Co-construction project lifecycles: phases, deadlines, COPIL, reports.",
        version="1.0",
        lifespan=lifespan,
    )
    app.state.copilote = copilote
    app.add_middleware(
        SessionMiddleware,
        secret_key=copilote.settings.secret_key,
        session_cookie="copilote_session",
        max_age=12 * 3600,
        same_site="lax",
        https_only=copilote.settings.base_url.startswith("https://"),
    )
    app.add_middleware(SecurityHeaders)  # outermost: on every response, refusals included
    SecretsMasked.install()
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    app.include_router(api.router, prefix="/api")
    app.include_router(pages.router)
    app.include_router(health.router)

    async def on_error(request: Request, exc: Exception) -> Response:
        status, title = next(
            ((s, t) for kind, s, t in _STATUS if isinstance(exc, kind)),
            (422, "Erreur"),  # another WorkflowError: bad input of some kind
        )
        if request.url.path.startswith("/api/"):
            headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
            body = error_body(exc, request_language(request))
            return JSONResponse(body, status_code=status, headers=headers)
        if status == 401:
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        return render(
            request,
            "error.html",
            {"title": title, "message": str(exc), "body": error_body(exc, i18n.language(request))},
            status_code=status,
        )

    async def on_login_required(request: Request, exc: Exception) -> Response:
        next_url = exc.next_url if isinstance(exc, LoginRequired) else "/"
        return RedirectResponse(f"/login?next={next_url}", status_code=303)

    async def on_throttled(request: Request, exc: Exception) -> Response:
        wait = str(exc.retry_after if isinstance(exc, SignInThrottled) else 1)
        if request.url.path.startswith("/api/"):
            body = {"detail": str(exc), "error": type(exc).__name__}
            return JSONResponse(body, status_code=429, headers={"Retry-After": wait})
        response = render(
            request,
            "error.html",
            {"title": "Demande refusée", "message": str(exc), "body": {}},
            429,
        )
        response.headers["Retry-After"] = wait
        return response

    app.add_exception_handler(WorkflowError, on_error)
    app.add_exception_handler(SignInThrottled, on_throttled)
    app.add_exception_handler(LinkError, on_error)
    app.add_exception_handler(LoginRequired, on_login_required)
    return app
