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
from decimal import Decimal
from typing import Any

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal

__all__ = ["LANGUAGES", "PHRASES", "UnknownPhrase", "long_date", "money", "say"]

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
        "refusal.milestone_not_done": "{label} : non réalisé",
        "refusal.deliverable_not_delivered": "{label} : livrable non remis",
        "refusal.occurrence_not_held": "{label} : réunion non tenue",
        "refusal.series_not_held": "aucune réunion « {label} » tenue dans cette phase",
        "refusal.decision_not_recorded": "décision « {decision} » non enregistrée",
        "refusal.too_few_partners": "{active} partenaire(s) actif(s), il en faut au moins {needed}",
        "refusal.reports_missing": "{label} non reçu de : {organisations}",
        "refusal.no_partner_to_report": "{label} : aucun partenaire actif pour le remettre",
        "refusal.comment_required": (
            "un commentaire expliquant pourquoi est obligatoire pour cette étape"
        ),
        "fix.record_milestone": "enregistrer « {label} » comme fait",
        "fix.record_meeting": "tenir la réunion « {label} » puis l'enregistrer comme tenue",
        "fix.record_decision": "enregistrer la décision « {decision} »",
        "fix.add_partner": "ajouter un partenaire actif au projet",
        "fix.submit_reports": "obtenir le « {label} » de : {organisations}",
        "fix.give_comment": "indiquer pourquoi dans le commentaire de l'étape",
        "refusal.objectives_missing": "aucun objectif général enregistré (arbre des objectifs)",
        "refusal.actions_missing": "aucune fiche-action enregistrée",
        "fix.record_objectives": (
            "saisir les objectifs et les fiches-actions du projet (page « Plan d'actions »)"
        ),
        "refusal.how_to_fix": "Pour y remédier :",
        # -- overdue items: what is late (read models) ----------------------------------------
        "overdue.milestone": "{label} : jalon en retard",
        "overdue.phase": "phase « {label} » : fin prévue dépassée",
        "overdue.automatic_step": "étape automatique impossible : {label}",
        "overdue.automatic_step.no_reason": "étape automatique impossible",
        "overdue.automatic_step.unmet": "étape automatique « {label} » impossible : {conditions}",
        "overdue.meeting_series.weeks": (
            "{label} : aucune réunion tenue ou prévue depuis {every} semaines"
        ),
        "overdue.meeting_series.months": "{label} : aucune réunion tenue ou prévue depuis {every} mois",
        "overdue.days_late": "{days} jour(s) de retard",
        # -- reminders: periods, cadences, non-working days ------------------------------------
        "reminders.quarter.short": "T{quarter} {year}",
        "reminders.quarter.long.1": "1er trimestre {year}",
        "reminders.quarter.long.2": "2e trimestre {year}",
        "reminders.quarter.long.3": "3e trimestre {year}",
        "reminders.quarter.long.4": "4e trimestre {year}",
        "reminders.cadence.months.one": "tous les mois",
        "reminders.cadence.months.many": "tous les {every} mois",
        "reminders.cadence.weeks.one": "toutes les semaines",
        "reminders.cadence.weeks.many": "toutes les {every} semaines",
        "reminders.non_working.saturday": "samedi",
        "reminders.non_working.sunday": "dimanche",
        "reminders.non_working.public_holiday": "{name}",
        "reminders.non_working.public_holiday.unnamed": "jour férié",
    },
    "en": {
        # -- refusals: unmet exit conditions and how to meet them ----------------------------
        "refusal.milestone_not_done": "{label}: not done",
        "refusal.deliverable_not_delivered": "{label}: deliverable not delivered",
        "refusal.occurrence_not_held": "{label}: meeting not held",
        "refusal.series_not_held": "no “{label}” meeting held in this phase",
        "refusal.decision_not_recorded": "decision “{decision}” not recorded",
        "refusal.too_few_partners": "{active} active partner(s), at least {needed} needed",
        "refusal.reports_missing": "{label} not received from: {organisations}",
        "refusal.no_partner_to_report": "{label}: no active partner to submit it",
        "refusal.comment_required": "a comment saying why is required for this step",
        "fix.record_milestone": "record “{label}” as done",
        "fix.record_meeting": "hold the meeting “{label}”, then record it as held",
        "fix.record_decision": "record the decision “{decision}”",
        "fix.add_partner": "add an active partner to the project",
        "fix.submit_reports": "get the “{label}” from: {organisations}",
        "fix.give_comment": "say why in the step's comment",
        "refusal.objectives_missing": "no general objective recorded (objectives tree)",
        "refusal.actions_missing": "no fiche-action recorded",
        "fix.record_objectives": "enter the project's objectives and fiches-actions",
        "refusal.how_to_fix": "To fix it:",
        # -- overdue items: what is late (read models) ----------------------------------------
        "overdue.milestone": "{label}: milestone overdue",
        "overdue.phase": "phase {label} past its planned end",
        "overdue.automatic_step": "automatic step not possible: {label}",
        "overdue.automatic_step.no_reason": "automatic step not possible",
        "overdue.automatic_step.unmet": "automatic step “{label}” not possible: {conditions}",
        "overdue.meeting_series.weeks": "{label}: none held or planned every {every} weeks",
        "overdue.meeting_series.months": "{label}: none held or planned every {every} months",
        "overdue.days_late": "{days} day(s) late",
        # -- reminders: periods, cadences, non-working days ------------------------------------
        "reminders.quarter.short": "Q{quarter} {year}",
        "reminders.quarter.long.1": "first quarter of {year}",
        "reminders.quarter.long.2": "second quarter of {year}",
        "reminders.quarter.long.3": "third quarter of {year}",
        "reminders.quarter.long.4": "fourth quarter of {year}",
        "reminders.cadence.months.one": "every month",
        "reminders.cadence.months.many": "every {every} months",
        "reminders.cadence.weeks.one": "every week",
        "reminders.cadence.weeks.many": "every {every} weeks",
        "reminders.non_working.saturday": "Saturday",
        "reminders.non_working.sunday": "Sunday",
        "reminders.non_working.public_holiday": "{name}",
        "reminders.non_working.public_holiday.unnamed": "public holiday",
    },
}


def long_date(value: date, lang: str = "fr", *, with_year: bool = True) -> str:
    """A date as people write it: "1er janvier 2027", "14 février 2018", "1 January 2027"."""
    locale = _LOCALES.get(lang, _LOCALES["fr"])
    # French writes the first of the month as an ordinal: "1er janvier 2027".
    pattern = "d'er' MMMM" if value.day == 1 and lang == "fr" else "d MMMM"
    return format_date(value, pattern + (" y" if with_year else ""), locale=locale)


def money(cents: int, lang: str = "fr") -> str:
    """Euro cents as an amount: "153 846,75 €" in French, "€153,846.75" in English."""
    return format_currency(Decimal(cents) / 100, "EUR", locale=_LOCALES.get(lang, _LOCALES["fr"]))


def _format(value: Any, lang: str) -> Any:
    locale = _LOCALES.get(lang, _LOCALES["fr"])
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return long_date(value, lang)
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
