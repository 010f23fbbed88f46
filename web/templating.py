"""Jinja2 page templates, with the language, the CSRF token and the signed-in user in reach.

Autoescaping is on for every template (names from partners may contain HTML).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.templating import Jinja2Templates
from starlette.requests import Request
from starlette.responses import HTMLResponse

from web.csrf import csrf_token, new_form_token
from web.i18n import gettext, language

__all__ = ["render", "templates"]

PARIS = ZoneInfo("Europe/Paris")
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


def _day(value: date | datetime | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return value.astimezone(PARIS).strftime("%d/%m/%Y %H:%M")
    return value.strftime("%d/%m/%Y")


templates.env.filters["day"] = _day


def render(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    lang = language(request)
    ctx = {
        "lang": lang,
        "_": gettext(lang),
        "csrf_token": csrf_token(request),
        "new_form_token": new_form_token,  # one per form written out in a page (web/forms.py)
        "user": getattr(request.state, "principal", None),
        # a confirmation left by the form that redirected here (web/forms.py), shown once
        "flash": request.session.pop("flash", None),
        "flash_repeated": request.session.pop("flash_repeated", False),
        **context,
    }
    response = templates.TemplateResponse(request, name, ctx, status_code=status_code)
    if request.query_params.get("lang") == lang:
        response.set_cookie("lang", lang, max_age=365 * 86400, samesite="lax")
    return response
