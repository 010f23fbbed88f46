"""What the engine's data says, in words: one table per language, shared by every surface.

The engine returns data (a refusal's unmet conditions, an overdue item, a reminder's period)
as a *kind* and its parameters; pages, emails, the API and the CLI turn it into words here,
in the reader's language, so a sentence is written once per language and a rewording reaches
every surface at once. Parameters that are dates, numbers or money are formatted with babel
for that language ("1er janvier 2027", "153 846,75 €").

A phrase is a ``str.format`` template over named parameters. A kind with no phrase in the
asked language falls back to French (the programmes' language), never to the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from babel.dates import format_date
from babel.numbers import format_decimal

__all__ = ["LANGUAGES", "PHRASES", "UnknownPhrase", "say"]

LANGUAGES = ("fr", "en")
_LOCALES = {"fr": "fr_FR", "en": "en_GB"}


class UnknownPhrase(LookupError):
    def __init__(self, key: str) -> None:
        super().__init__(
            f"no phrase {key!r} in notifications/wording.py: add it to the French table"
            " (and the English one)"
        )
        self.key = key


# Each section belongs to one kind of data; keep keys prefixed by their section.
PHRASES: dict[str, dict[str, str]] = {
    "fr": {
        # -- refusals: unmet exit conditions and how to meet them ----------------------------
        # -- overdue items: what is late (read models) ----------------------------------------
        "overdue.milestone": "{label} : jalon en retard",
        "overdue.phase": "phase « {label} » : fin prévue dépassée",
        "overdue.automatic_step": "étape automatique impossible : {label}",
        "overdue.automatic_step.no_reason": "étape automatique impossible",
        "overdue.meeting_series.weeks": (
            "{label} : aucune réunion tenue ou prévue depuis {every} semaines"
        ),
        "overdue.meeting_series.months": "{label} : aucune réunion tenue ou prévue depuis {every} mois",
        "overdue.days_late": "{days} jour(s) de retard",
        # -- reminders: periods, cadences, non-working days ------------------------------------
    },
    "en": {
        # -- refusals: unmet exit conditions and how to meet them ----------------------------
        # -- overdue items: what is late (read models) ----------------------------------------
        "overdue.milestone": "{label}: milestone overdue",
        "overdue.phase": "phase {label} past its planned end",
        "overdue.automatic_step": "automatic step not possible: {label}",
        "overdue.automatic_step.no_reason": "automatic step not possible",
        "overdue.meeting_series.weeks": "{label}: none held or planned every {every} weeks",
        "overdue.meeting_series.months": "{label}: none held or planned every {every} months",
        "overdue.days_late": "{days} day(s) late",
        # -- reminders: periods, cadences, non-working days ------------------------------------
    },
}


def _format(value: Any, lang: str) -> Any:
    locale = _LOCALES.get(lang, _LOCALES["fr"])
    if isinstance(value, datetime):
        return format_date(value.date(), "d MMMM y", locale=locale)
    if isinstance(value, date):
        return format_date(value, "d MMMM y", locale=locale)
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return format_decimal(value, locale=locale)
    return value


def say(key: str, lang: str = "fr", /, **params: Any) -> str:
    """The phrase ``key`` in ``lang`` (French when that language lacks it), filled in."""
    table: Mapping[str, str] = PHRASES.get(lang, PHRASES["fr"])
    phrase = table.get(key) or PHRASES["fr"].get(key)
    if phrase is None:
        raise UnknownPhrase(key)
    return phrase.format(**{name: _format(value, lang) for name, value in params.items()})
