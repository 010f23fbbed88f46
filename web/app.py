"""The ASGI application: routers, signed-cookie sessions, and the one place errors become
HTTP statuses (404 unknown, 409 conflict or refused step, 422 invalid input, 401/403 rights).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import Match

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
from workflow.documents import FileTooLarge
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

__all__ = ["DATABASE_RETRY_AFTER_SECONDS", "create_app"]

# The database is locked (SQLite) or cannot be reached (PostgreSQL): the request may work
# again in a moment. 503 with Retry-After, not a 500.
DATABASE_RETRY_AFTER_SECONDS = 5
_DATABASE_TROUBLE = (sa.exc.OperationalError, sa.exc.TimeoutError, sa.exc.DisconnectionError)

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
    (FileTooLarge, 413, "Fichier trop volumineux"),
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


def _printable(value: Any) -> Any:
    """``value`` as JSON can always carry it: a lone surrogate escaped, NaN and infinities as
    words (an invalid input is echoed back in ``detail[].input``; it must not make a 500)."""
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, dict):
        return {_printable(k): _printable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_printable(v) for v in value]
    return value


i18n.register(
    {"Cette page n'existe pas.": "This page does not exist.", "Valeur refusée": "Value refused"}
)


def validation_body(exc: RequestValidationError) -> dict[str, Any]:
    """The 422 of a request the schemas refuse, safe whatever the input was."""
    detail = _printable(jsonable_encoder(exc.errors()))
    return {"detail": detail, "error": "RequestValidationError"}


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

    async def on_invalid_request(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        if request.url.path.startswith("/api/"):
            return JSONResponse(validation_body(exc), status_code=422)
        # A page: an identifier in the path out of bounds is no such page; anything else
        # (a query or form value the bounds refuse) is bad input.
        in_path = any(error.get("loc", ("",))[0] == "path" for error in exc.errors())
        status, title = (404, "Page introuvable") if in_path else (422, "Erreur")
        _ = i18n.gettext(i18n.language(request))
        fields = ", ".join(str(e.get("loc", ("",))[-1]) for e in exc.errors())
        message = (
            _("Cette page n'existe pas.")
            if in_path
            else f"{_('Valeur refusée')} : {_printable(fields)}"
        )
        return render(
            request,
            "error.html",
            {"title": title, "message": message, "body": validation_body(exc)},
            status_code=status,
        )

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 405:
            headers = dict(exc.headers or {})
            # Every method the path answers, not only the first matching route's: the API's
            # and the pages' (which the OpenAPI schema leaves out) alike.
            allowed = [
                method
                for method in ("DELETE", "GET", "PATCH", "POST", "PUT")
                if any(
                    route.matches({**request.scope, "method": method})[0] == Match.FULL
                    for route in app.router.routes
                )
            ]
            if allowed:
                headers["Allow"] = ", ".join(allowed)
            exc = StarletteHTTPException(405, exc.detail, headers)
        return await http_exception_handler(request, exc)

    async def on_login_required(request: Request, exc: Exception) -> Response:
        next_url = exc.next_url if isinstance(exc, LoginRequired) else "/"
        return RedirectResponse(f"/login?next={next_url}", status_code=303)

    async def on_database_trouble(request: Request, exc: Exception) -> Response:
        headers = {"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS), "Cache-Control": "no-store"}
        if request.url.path.startswith("/api/"):
            body = {
                "detail": i18n.gettext("en")(i18n.DATABASE_BUSY),
                "error": "DatabaseUnavailable",
            }
            return JSONResponse(body, status_code=503, headers=headers)
        response = render(
            request,
            "error.html",
            {
                "title": "Service momentanément indisponible",
                "message": i18n.gettext(i18n.language(request))(i18n.DATABASE_BUSY),
                "body": {},
            },
            status_code=503,
        )
        response.headers.update(headers)
        return response

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
    for kind in _DATABASE_TROUBLE:
        app.add_exception_handler(kind, on_database_trouble)
    app.add_exception_handler(LinkError, on_error)
    app.add_exception_handler(LoginRequired, on_login_required)
    app.add_exception_handler(RequestValidationError, on_invalid_request)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    return app
