"""Sign in and out (session in a signed cookie), and the home page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from notifications.wording import say
from web.deps import SIGNED_IN_COOKIE, AccountsDep, CsrfForm, PageUser
from web.i18n import language
from web.templating import render
from web.throttle import SignInThrottled

router = APIRouter()


def _safe_next(url: str) -> str:
    # Only paths on this site: never redirect a signed-in user elsewhere.
    return url if url.startswith("/") and not url.startswith("//") else "/"


@router.get("/login")
def login_form(request: Request, next: str = "/", expired: str = "") -> Response:
    notice = say("error.session_expired", language(request)) if expired else None
    return render(
        request, "login.html", {"next": _safe_next(next), "error": None, "notice": notice}
    )


@router.post("/login", dependencies=[CsrfForm])
def login(
    request: Request,
    accounts: AccountsDep,
    email: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
) -> Response:
    address = request.client.host if request.client else ""
    try:
        who = accounts.authenticate(email, password, address)
    except SignInThrottled as refused:
        response = render(
            request,
            "login.html",
            {
                "next": _safe_next(next),
                "error": "Trop de tentatives de connexion : réessayez dans quelques minutes.",
                "email": email,
            },
            status_code=429,
        )
        response.headers["Retry-After"] = str(refused.retry_after)
        return response
    if who is None:
        return render(
            request,
            "login.html",
            {
                "next": _safe_next(next),
                "error": "Adresse e-mail ou mot de passe incorrect.",
                "email": email,
            },
            status_code=401,
        )
    request.session.clear()  # a new session on sign-in (no fixation)
    request.session["uid"] = who.id
    request.session["sv"] = who.session_version
    signed_in = RedirectResponse(_safe_next(next), status_code=303)
    signed_in.set_cookie(SIGNED_IN_COOKIE, "1", max_age=30 * 86400, httponly=True, samesite="lax")
    return signed_in


@router.post("/logout", dependencies=[CsrfForm])
def logout(request: Request, accounts: AccountsDep) -> Response:
    """Signs out everywhere: a copy of the cookie replayed afterwards is refused."""
    uid = request.session.get("uid")
    if isinstance(uid, int) and accounts.session_user(uid, request.session.get("sv")):
        accounts.end_sessions(uid)
    request.session.clear()
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SIGNED_IN_COOKIE)
    return response


@router.get("/")
def home(user: PageUser) -> Response:
    return RedirectResponse("/dashboard" if user.is_agency else "/projects", status_code=303)
