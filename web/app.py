"""The ASGI application: routers, signed-cookie sessions, and the one place errors become
HTTP statuses (404 unknown, 409 conflict or refused step, 422 invalid input, 401/403 rights).
"""

from __future__ import annotations

import logging
import math
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

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

from notifications.wording import say
from web import api, health, i18n, pages
from web.auth import Forbidden, NotSignedIn
from web.csrf import CsrfRefused
from web.deps import SIGNED_IN_COOKIE, LoginRequired
from web.links import LinkError
from web.pages.answer_links import link_refused
from web.ports import Application
from web.refusals import error_words, field_words, request_language, worded
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

__all__ = ["DATABASE_RETRY_AFTER_SECONDS", "create_app", "error_page"]

log = logging.getLogger("copilote.web")

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
        if _is_api(request):
            headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
            body = error_body(exc, request_language(request))
            return JSONResponse(body, status_code=status, headers=headers)
        if status == 401:
            return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)
        if isinstance(exc, CsrfRefused) and not exc.missing:
            return _form_expired(request)
        if isinstance(exc, LinkError):
            return link_refused(request, exc)
        lang = i18n.language(request)
        return error_page(
            request,
            status,
            title,
            error_words(exc, lang),
            body=error_body(exc, lang),
            detail=str(exc),
        )

    async def on_invalid_request(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        if _is_api(request):
            return JSONResponse(validation_body(exc), status_code=422)
        # A page: an identifier in the path out of bounds is no such page; anything else
        # (a query or form value the bounds refuse) is bad input, each field named in words.
        lang = i18n.language(request)
        errors = exc.errors()
        if any(error.get("loc", ("",))[0] == "path" for error in errors):
            return error_page(request, 404, "Page introuvable", say("error.not_found.page", lang))
        sentences = []
        for error in errors:
            field = field_words(str(_printable(error.get("loc", ("",))[-1])), lang)
            kind = "missing" if error.get("type") == "missing" else "generic"
            sentences.append(say(f"error.invalid.{kind}", lang, field=field))
        return error_page(request, 422, "Erreur", " ".join(dict.fromkeys(sentences)))

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
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
        if _is_api(request) or exc.status_code not in _PAGE_STATUS:
            return await http_exception_handler(request, exc)
        title, phrase = _PAGE_STATUS[exc.status_code]
        response = error_page(request, exc.status_code, title, say(phrase, i18n.language(request)))
        response.headers.update(headers)
        return response

    async def on_crash(request: Request, exc: Exception) -> Response:
        """Anything unforeseen: logged with an incident number the person can quote."""
        incident = secrets.token_hex(4).upper()
        log.error(
            "incident %s: %s %s raised %s",
            incident,
            request.method,
            request.url.path,
            type(exc).__name__,
            exc_info=exc,
        )
        if _is_api(request):
            body = {"detail": f"Internal error (incident {incident})", "error": "InternalError",
                    "incident": incident}  # fmt: skip
            return JSONResponse(body, status_code=500)
        lang = i18n.language(request)
        return error_page(
            request, 500, "Erreur", say("error.internal", lang, incident=incident),
            body={"incident": incident},
        )  # fmt: skip

    async def on_login_required(request: Request, exc: Exception) -> Response:
        next_url = exc.next_url if isinstance(exc, LoginRequired) else "/"
        expired = "&expired=1" if request.cookies.get(SIGNED_IN_COOKIE) else ""
        return RedirectResponse(f"/login?next={quote(next_url)}{expired}", status_code=303)

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
    app.add_exception_handler(Exception, on_crash)
    return app


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


# Page statuses shown as a page in the reader's language: (title, phrase).
_PAGE_STATUS = {
    404: ("Page introuvable", "error.not_found.page"),
    403: ("Accès refusé", "error.forbidden"),
    405: ("Page introuvable", "error.method"),
}


def error_page(
    request: Request,
    status: int,
    title: str,
    message: str,
    *,
    body: dict[str, Any] | None = None,
    detail: str | None = None,
    back: str | None = None,
) -> Response:
    """The one error page: a title, what happened in the reader's words, a way onwards
    (``back``: the page to return to, else the home page)."""
    return render(
        request,
        "error.html",
        {"title": title, "message": message, "body": body or {}, "detail": detail, "back": back},
        status_code=status,
    )


def _form_expired(request: Request) -> Response:
    """A form whose CSRF token no longer matches (session expired, page left open): back to
    where it came from, through sign-in when needed, with "Votre session a expiré"."""
    if request.url.path.startswith("/answer/"):
        # A partner's page: the link is their key, there is nothing to sign in to; the
        # refusal says so and leads back to the form (nothing was saved).
        back = request.url.path.removesuffix("/renew")
        lang = i18n.language(request)
        return error_page(
            request, 403, "Demande refusée", say("error.form_expired", lang), back=back
        )
    back = _same_site_referer(request)
    if request.session.get("uid") is not None and request.url.path != "/login":
        # Still signed in: the page was left open from an earlier session (or another
        # account's): nothing was saved, and the form is to be opened again, not sign-in.
        lang = i18n.language(request)
        return error_page(
            request, 403, "Demande refusée", say("error.form_expired", lang), back=back
        )
    return RedirectResponse(f"/login?next={quote(back)}&expired=1", status_code=303)


def _same_site_referer(request: Request) -> str:
    """The page a form was posted from, on this site (the sign-in page's own ``next``)."""
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc and referer.netloc != request.url.netloc:
        return "/"
    if referer.path == "/login":
        found = parse_qs(referer.query).get("next", ["/"])[0]
        return found if found.startswith("/") and not found.startswith("//") else "/"
    if not referer.path.startswith("/"):
        return "/"
    return referer.path + (f"?{referer.query}" if referer.query else "")
