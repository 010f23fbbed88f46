"""FastAPI dependencies: the wired system, the signed-in user, CSRF checks."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Form, Request

from web.auth import Accounts, NotSignedIn, Principal
from web.csrf import check_csrf
from web.ports import Application

__all__ = [
    "SIGNED_IN_COOKIE",
    "AccountsDep",
    "ApiUser",
    "CopiloteDep",
    "CsrfForm",
    "LoginRequired",
    "MaybePageUser",
    "PageUser",
]

SIGNED_IN_COOKIE = "copilote_signed_in"
"""Set on sign-in, removed on sign-out: a page that finds it without a valid session knows
the session has expired (and says so) rather than that the person never signed in."""

_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


class LoginRequired(Exception):
    """A page needs a signed-in user: answered with a redirect to the sign-in page."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


def get_copilote(request: Request) -> Application:
    """The running system :func:`web.app.create_app` was given."""
    return request.app.state.copilote  # type: ignore[no-any-return]


def get_accounts(request: Request) -> Accounts:
    return request.app.state.copilote.accounts  # type: ignore[no-any-return]


CopiloteDep = Annotated[Application, Depends(get_copilote)]
AccountsDep = Annotated[Accounts, Depends(get_accounts)]


def _from_session(request: Request, accounts: Accounts) -> Principal | None:
    uid = request.session.get("uid")
    if not isinstance(uid, int):
        return None
    return accounts.session_user(uid, request.session.get("sv"))


def api_user(request: Request, accounts: AccountsDep) -> Principal:
    """Bearer token, or the session cookie (then unsafe methods need ``X-CSRF-Token``)."""
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        who = accounts.user_for_token(header[7:].strip())
        if who is None:
            raise NotSignedIn()
    else:
        who = _from_session(request, accounts)
        if who is None:
            raise NotSignedIn()
        if request.method in _UNSAFE:
            check_csrf(request, request.headers.get("x-csrf-token"))
    request.state.principal = who
    return who


def page_user(request: Request, accounts: AccountsDep) -> Principal:
    who = _from_session(request, accounts)
    if who is None:
        raise LoginRequired(str(request.url.path))
    request.state.principal = who
    return who


def csrf_form(request: Request, csrf_token: Annotated[str, Form()] = "") -> None:
    check_csrf(request, csrf_token)


ApiUser = Annotated[Principal, Depends(api_user)]
PageUser = Annotated[Principal, Depends(page_user)]
CsrfForm = Depends(csrf_form)


def optional_page_user(request: Request, accounts: AccountsDep) -> Principal | None:
    """The signed-in user if any, for the pages anyone may read (the legal pages)."""
    who = _from_session(request, accounts)
    if who is not None:
        request.state.principal = who
    return who


MaybePageUser = Annotated[Principal | None, Depends(optional_page_user)]
