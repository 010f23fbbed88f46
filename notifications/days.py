"""Periods, cadences and non-working days in words, in the reader's language.

The engine writes them into message items (and read models) as data: a quarter as its
``"2026-Q1"`` key, a cadence as ``{"every": 2, "unit": "months"}``, a non-working day as
``{"kind": "public_holiday", "day": date, "country": "FR"}``. The phrases are in
:mod:`notifications.wording` (section "reminders"); public holiday names come from the
``holidays`` package, in the reader's language.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from functools import lru_cache
from typing import Any

import holidays

from .wording import say

__all__ = ["cadence", "holiday_name", "non_working_day", "quarter"]

_LANGUAGES = ("fr", "en")
# The ``holidays`` package's language for each of ours (it writes English the US way).
_HOLIDAY_LANGUAGES = {"fr": "fr", "en": "en_US"}
_PERIOD = re.compile(r"(\d{4})-Q([1-4])")
# French typography writes a holiday named by a common noun in lower case inside a sentence
# ("le lundi de Pâques", "la fête du Travail", "le jour de l'An"), a proper noun capitalised
# ("la Toussaint", "Noël").
_FR_COMMON_NOUNS = ("Lundi ", "Fête ", "Jour ")


def _lang(lang: str) -> str:
    return lang if lang in _LANGUAGES else "fr"


def quarter(period: str | Mapping[str, Any], lang: str, *, short: bool = False) -> str:
    """A quarter, from its ``"2026-Q1"`` key (or ``{"year": 2026, "quarter": 1}``): "1er
    trimestre 2026" / "first quarter of 2026", or short "T1 2026" / "Q1 2026"."""
    if isinstance(period, Mapping):
        year, number = int(period["year"]), int(period["quarter"])
    else:
        found = _PERIOD.fullmatch(str(period))
        if found is None:
            raise ValueError(f"not a quarter key: {period!r} (expected like '2026-Q1')")
        year, number = int(found[1]), int(found[2])
    if short:
        return say("reminders.quarter.short", _lang(lang), quarter=str(number), year=str(year))
    return say(f"reminders.quarter.long.{number}", _lang(lang), year=str(year))


def cadence(value: Mapping[str, Any], lang: str) -> str:
    """``{"every": 2, "unit": "months"}`` -> "tous les 2 mois" / "every 2 months"."""
    every, unit = int(value["every"]), str(value["unit"])
    if unit not in ("months", "weeks"):
        raise ValueError(f"unknown cadence unit {unit!r} (months or weeks)")
    if every == 1:
        return say(f"reminders.cadence.{unit}.one", _lang(lang))
    return say(f"reminders.cadence.{unit}.many", _lang(lang), every=str(every))


@lru_cache(maxsize=256)
def holiday_name(day: date, lang: str, country: str = "FR") -> str | None:
    """The public holiday on ``day`` in ``country``, named in ``lang``, or None."""
    lang = _lang(lang)
    names = holidays.country_holidays(country, years=day.year, language=_HOLIDAY_LANGUAGES[lang])
    name = names.get(day)
    if not name:
        return None
    if lang == "fr" and name.startswith(_FR_COMMON_NOUNS):
        name = name[0].lower() + name[1:]
    return str(name)


def non_working_day(value: Mapping[str, Any] | Any, lang: str) -> str:
    """Why a day is not worked, in words: "samedi" / "Saturday", or the public holiday's name
    ("lundi de Pâques" / "Easter Monday"). ``value``: an item's ``non_working_day`` mapping, or
    any object with ``kind``, ``day`` and ``country`` (``workflow.calendar.NonWorkingDay``)."""
    lang = _lang(lang)
    if isinstance(value, Mapping):
        kind, day, country = value["kind"], value["day"], value.get("country", "FR")
    else:
        kind, day, country = value.kind, value.day, value.country
    if kind == "public_holiday":
        name = holiday_name(day, lang, country)
        if name is None:
            return say("reminders.non_working.public_holiday.unnamed", lang)
        return say("reminders.non_working.public_holiday", lang, name=name)
    if kind in ("saturday", "sunday"):
        return say(f"reminders.non_working.{kind}", lang)
    raise ValueError(f"unknown kind of non-working day {kind!r}")
