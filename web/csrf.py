"""Cross-site request forgery protection (synchroniser token kept in the signed session).

Every form carries ``csrf_token``; every unsafe API call made with the session cookie
carries the ``X-CSRF-Token`` header. Calls authenticated by a bearer token need neither:
a browser never sends that header by itself.
"""

from __future__ import annotations

import hmac
import secrets

from starlette.requests import Request

from workflow.errors import WorkflowError

__all__ = ["CsrfRefused", "check_csrf", "csrf_token", "new_form_token"]


class CsrfRefused(WorkflowError, PermissionError):
    """``missing``: no token at all (a form that did not come from Copilote); otherwise the
    token is stale (the session it belonged to has expired or ended)."""

    def __init__(self, missing: bool = False) -> None:
        super().__init__(
            "This form has expired or did not come from Copilote (missing or wrong CSRF "
            "token). Reload the page and submit it again."
        )
        self.missing = missing


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return str(token)


def check_csrf(request: Request, given: str | None) -> None:
    expected = request.session.get("csrf")
    if not expected or not given or not hmac.compare_digest(str(expected), given):
        raise CsrfRefused(missing=not given)


def new_form_token() -> str:
    """A fresh idempotency token for one rendered form (``web/forms.py`` claims it once)."""
    return secrets.token_urlsafe(32)
