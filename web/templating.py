"""Jinja2 page templates, with the language, the CSRF token and the signed-in user in reach.

Autoescaping is on for every template (names from partners may contain HTML).
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from notifications.days import quarter
from notifications.wording import clock_time, count, noun
from web.csrf import csrf_token, new_form_token
from web.i18n import gettext, in_reader_language, language
from workflow.calendar import in_paris

__all__ = ["render", "templates"]

PARIS = ZoneInfo("Europe/Paris")
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


def _day(value: date | datetime | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return in_paris(value).strftime("%d/%m/%Y %H:%M")
    return value.strftime("%d/%m/%Y")


templates.env.filters["day"] = _day

_LOCALES = {"fr": "fr_FR", "en": "en_GB"}


@lru_cache(maxsize=4096)
def _long_date(day: date, lang: str) -> str:
    """ "lundi 1er juin 2026", "Monday 1 June 2026": the weekday always, for people."""
    pattern = "EEEE d'er' MMMM y" if lang == "fr" and day.day == 1 else "EEEE d MMMM y"
    return format_date(day, pattern, locale=_LOCALES.get(lang, "fr_FR"))


def _hour(moment: datetime, lang: str) -> str:
    """ "14 h", "14 h 30" in French; "14:30" in English (the emails' rule)."""
    return clock_time(moment, lang)


@pass_context
def _when(context: Context, value: date | datetime | None) -> str:
    """A date (or a date and time, Paris) as people read it, in the page's language."""
    if value is None:
        return "—"
    lang = str(context.get("lang", "fr"))
    if isinstance(value, datetime):
        local = in_paris(value)
        joiner = " à " if lang == "fr" else " at "
        return _long_date(local.date(), lang) + joiner + _hour(local, lang)
    return _long_date(value, lang)


@pass_context
def _hour_filter(context: Context, value: datetime) -> str:
    return _hour(in_paris(value), str(context.get("lang", "fr")))


@pass_context
def _number(context: Context, value: float | int | None) -> str:
    """ "153 846,75", "12" (never "12.0"), in the page's language."""
    if value is None:
        return "—"
    lang = str(context.get("lang", "fr"))
    return _decimal(value, _LOCALES.get(lang, "fr_FR"))


@lru_cache(maxsize=4096)
def _decimal(value: float | int, locale: str) -> str:
    """babel's formatting (tens of µs) done once per value: a page repeats its figures."""
    return format_decimal(value, locale=locale)


@pass_context
def _money(context: Context, cents: int | None) -> str:
    """Cents as an amount in euros: "153 846,75 €" in French, "€153,846.75" in English."""
    if cents is None:
        return "—"
    lang = str(context.get("lang", "fr"))
    return format_currency(cents / 100, "EUR", locale=_LOCALES.get(lang, "fr_FR"))


@pass_context
def _quarter(context: Context, period: str) -> str:
    """A quarter key ("2026-Q3") as people write it: "T3 2026", "Q3 2026"."""
    try:
        return quarter(period, str(context.get("lang", "fr")), short=True)
    except ValueError:
        return period


@pass_context
def _noun(context: Context, value: int, unit: str) -> str:
    """ "jalon en retard", "jalons en retard": the words after ``value``, without it."""
    return noun(value, unit, str(context.get("lang", "fr")))


@pass_context
def _count(context: Context, value: int, unit: str) -> str:
    """ "1 jour", "3 jours", "12 people": ``value`` things of ``unit``, in the page's language."""
    return count(value, unit, str(context.get("lang", "fr")))


# The English labels of the page being rendered for an English reader (set by ``render``
# around the rendering, so that macros of imported templates, which do not see the page's
# variables, translate too); None for a French reader.
_ENGLISH: ContextVar[Mapping[str, str] | None] = ContextVar("english_labels", default=None)


def _finalize(value: Any) -> Any:
    """Every value a page prints: a definition's French label reaches an English reader in
    English (:func:`web.i18n.in_reader_language`)."""
    english = _ENGLISH.get()
    if english is None or type(value) is not str:
        return value
    return in_reader_language(value, "en", english)


def _join(value: Any, d: str = "", attribute: Any = None) -> Markup:
    """Jinja's ``join`` (escaping as it does), each item shown as ``{{ item }}`` would be: in
    the reader's language."""
    items = [
        v
        if attribute is None
        else v[attribute]
        if isinstance(v, Mapping)
        else getattr(v, attribute)
        for v in value
    ]
    return Markup(escape(d).join(escape(_finalize(v)) for v in items))


templates.env.finalize = _finalize
templates.env.filters["join"] = _join
templates.env.filters["count"] = _count
templates.env.filters["noun"] = _noun
templates.env.filters["money"] = _money
templates.env.filters["quarter"] = _quarter
templates.env.filters["when"] = _when
templates.env.filters["hour"] = _hour_filter
templates.env.filters["number"] = _number


def render(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    lang = language(request)
    settings = request.app.state.copilote.settings
    ctx = {
        "agency_name": settings.agency_name,
        "state_brand": settings.brand == "state",
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
    copilote = getattr(request.app.state, "copilote", None)
    english = copilote.registry.english_labels() if lang == "en" and copilote else None
    token = _ENGLISH.set(english)
    try:
        response = templates.TemplateResponse(request, name, ctx, status_code=status_code)
    finally:
        _ENGLISH.reset(token)
    if request.query_params.get("lang") == lang:
        response.set_cookie("lang", lang, max_age=365 * 86400, samesite="lax")
    return response
