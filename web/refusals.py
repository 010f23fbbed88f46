"""A refused step's unmet conditions in the reader's words, for the API, the pages and the CLI.

The engine gives each unmet condition as data (:class:`workflow.errors.Unmet`); the sentence
(``refusal.<kind>``) and how to meet it (``fix.<fix>``) are phrases of
``notifications/wording.py``, in the reader's language.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from starlette.requests import Request

from notifications.wording import LANGUAGES, UnknownPhrase, say
from web import i18n
from web.auth import Forbidden
from web.csrf import CsrfRefused
from workflow.errors import (
    AlreadyRecorded,
    ConflictError,
    InvalidInput,
    NotFound,
    TransitionRefused,
    UnknownTrigger,
    Unmet,
)
from workflow.progress import OverdueItem

__all__ = [
    "error_words",
    "field_words",
    "how_to_fix",
    "overdue_words",
    "request_language",
    "sentence",
    "worded",
]


def _params(unmet: Unmet, lang: str) -> dict[str, Any]:
    """The sentence's values; a label given in English too (``decision_en``) replaces the
    French one (``decision``) for an English reader."""
    params = {
        name: ", ".join(str(v) for v in value) if isinstance(value, list | tuple) else value
        for name, value in unmet.params.items()
    }
    return _in_language(params, lang)


def _in_language(params: dict[str, Any], lang: str) -> dict[str, Any]:
    """A label given in ``lang`` too (``label_en`` beside ``label``) replaces the French one."""
    if lang != "fr":
        for name in [n for n in params if n.endswith(f"_{lang}")]:
            params[name.removesuffix(f"_{lang}")] = params[name]
    return params


def sentence(unmet: Unmet, lang: str) -> str:
    """What is missing, e.g. « COPIL 1 : réunion non tenue »."""
    return say(f"refusal.{unmet.kind}", lang, **_params(unmet, lang))


def how_to_fix(unmet: Unmet, lang: str) -> str:
    """The action that meets it, e.g. « tenir la réunion « COPIL 1 » puis l'enregistrer »."""
    return say(f"fix.{unmet.fix}", lang, **_params(unmet, lang))


def overdue_words(item: OverdueItem, lang: str) -> str:
    """What is late, in the reader's words; an automatic step names its unmet conditions."""
    params = _in_language(dict(item.phrase_params), lang)
    if item.conditions:
        params = {**params, "conditions": "; ".join(sentence(u, lang) for u in item.conditions)}
    return say(item.phrase_key, lang, **params)


def worded(unmet: Iterable[Unmet], lang: str) -> list[dict[str, Any]]:
    """Each condition as data (kind, subject, params, fix) with its sentence and its fix."""
    return [
        {**u.as_dict(), "text": sentence(u, lang), "fix_text": how_to_fix(u, lang)} for u in unmet
    ]


def request_language(request: Request) -> str:
    """The API's language: ``?lang=``, else the first known language of ``Accept-Language``,
    else the interface's rule (cookie, the user's preference), French by default."""
    if request.query_params.get("lang") not in LANGUAGES:
        for tag in request.headers.get("accept-language", "").split(","):
            code = tag.split(";")[0].strip().lower()[:2]
            if code in LANGUAGES:
                return code
    return i18n.language(request)


def _say_or(key: str, lang: str, fallback: str, **params: Any) -> str:
    try:
        return say(key, lang, **params)
    except UnknownPhrase:
        return fallback


def field_words(field: str, lang: str) -> str:
    """A form field as people call it ("date et heure de début"), else its name."""
    return _say_or(f"field.{field}", lang, field)


def error_words(exc: Exception, lang: str) -> str:
    """What went wrong, as a page says it in ``lang``: the engine's English messages are for
    logs, the API and the command line; a page words each error type here, once."""
    if isinstance(exc, NotFound):
        what = _say_or(f"noun.{exc.what}", lang, str(exc.what))
        return say("error.not_found", lang, what=what, key=str(exc.key))
    if isinstance(exc, TransitionRefused):
        return say("error.refused", lang)
    if isinstance(exc, UnknownTrigger):
        return say("error.unknown_trigger", lang)
    if isinstance(exc, AlreadyRecorded):
        return say("error.already_recorded", lang, done_on=exc.done_on, done_by=exc.done_by or "—")
    if isinstance(exc, ConflictError):
        return say("error.conflict", lang)
    if isinstance(exc, CsrfRefused):
        return say("error.csrf_missing", lang)
    if isinstance(exc, Forbidden):
        return say("error.forbidden", lang)
    if isinstance(exc, InvalidInput):
        field = field_words(exc.field, lang)
        if exc.phrase is not None:
            return say(
                "error.invalid", lang, field=field, reason=say(exc.phrase, lang, **exc.params)
            )
        return say("error.invalid.generic", lang, field=field)
    return say("error.other", lang)
