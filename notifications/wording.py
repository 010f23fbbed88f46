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
from functools import lru_cache
from typing import Any

from babel.core import Locale
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal

__all__ = [
    "COUNTED",
    "LANGUAGES",
    "PHRASES",
    "UnknownPhrase",
    "UnknownUnit",
    "clock_time",
    "count",
    "euros",
    "long_date",
    "money",
    "say",
]

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
        "refusal.too_few_partners": "{active:active_partner}, il en faut au moins {needed}",
        "refusal.reports_missing": "{label} non reçu de : {organisations}",
        "refusal.no_partner_to_report": "{label} : aucun partenaire actif pour le remettre",
        "refusal.comment_required": (
            "un commentaire expliquant pourquoi est obligatoire pour cette étape"
        ),
        "refusal.deliverable_file_missing": "{label} : document « {deliverable} » non déposé",
        "fix.record_milestone": "enregistrer « {label} » comme fait",
        "fix.record_meeting": "tenir la réunion « {label} » puis l'enregistrer comme tenue",
        "fix.record_decision": "enregistrer la décision « {decision} »",
        "fix.add_partner": "ajouter un partenaire actif au projet",
        "fix.submit_reports": "obtenir le « {label} » de : {organisations}",
        "fix.give_comment": "indiquer pourquoi dans le commentaire de l'étape",
        "fix.upload_deliverable": "déposer le document « {deliverable} » (page Documents du projet)",
        "refusal.objectives_missing": "aucun objectif général enregistré (arbre des objectifs)",
        "refusal.actions_missing": "aucune fiche-action enregistrée",
        "fix.record_objectives": (
            "saisir les objectifs et les fiches-actions du projet (page « Plan d'actions »)"
        ),
        "refusal.how_to_fix": "Pour y remédier :",
        # -- conventions (workflow.read_models.conventions) -----------------------------------
        "convention.status.awaiting_signatures": "en attente de signatures",
        "convention.status.in_force": "en vigueur",
        "convention.status.lapsed": "caduque (non renouvelée)",
        "convention.instrument.decision": "décision attributive",
        "convention.instrument.convention": "convention",
        "convention.instrument.unknown": "montant non renseigné",
        "convention.change.renewal": "renouvellement exprès",
        "convention.change.avenant": "avenant",
        "funding.year": "année {n} sur {m}",
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
        "overdue.days_late": "{days:day_late}",
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
        # -- routing: kinds of message and their audiences ------------------------------------
        "routing.kind.milestone_reminder": "Rappel d'échéance d'un jalon",
        "routing.kind.milestone_overdue": "Jalon en retard",
        "routing.kind.milestone_escalation": "Escalade d'un jalon en retard",
        "routing.kind.report_request": "Demande de bilan",
        "routing.kind.report_reminder": "Rappel de bilan",
        "routing.kind.report_overdue": "Bilan en retard",
        "routing.kind.report_escalation": "Escalade d'un bilan manquant",
        "routing.kind.meeting_invitation": "Invitation à une réunion",
        "routing.kind.meeting_update": "Réunion modifiée",
        "routing.kind.meeting_cancel": "Réunion annulée",
        "routing.kind.meeting_reminder": "Rappel de réunion",
        "routing.kind.meeting_minutes_request": "Présences et compte rendu à saisir",
        "routing.kind.series_behind": "Instance à réunir",
        "routing.kind.overdue_digest": "Point hebdomadaire des retards",
        "routing.kind.phase_changed": "Changement de phase",
        "routing.kind.project_suspended": "Projet suspendu",
        "routing.kind.project_resumed": "Projet repris",
        "routing.kind.project_abandoned": "Projet abandonné",
        "routing.kind.partner_joined": "Arrivée de partenaires",
        "routing.kind.partner_left": "Départ de partenaires",
        "routing.kind.annual_review": "Bilan annuel à tenir",
        "routing.kind.convention_end": "Fin de la convention",
        "routing.audience.responsible": "le responsable de l'élément",
        "routing.audience.attendees": "les participants de l'instance",
        "routing.audience.informed": "les rôles informés (RACI)",
        "routing.overridden": "choix du programme",
        "routing.escalation_rule": (
            "jamais la partie en retard ni ses pairs ; l'agence quand le pilote est en retard"
        ),
        "routing.organiser_rule": "sauf le pilote qui l'organise",
        "routing.title": "Qui reçoit quoi",
        "routing.kind": "Message",
        "routing.audience": "Destinataires",
        # -- errors on pages: what went wrong, in words ---------------------------------------
        "error.not_found": "{what} n° {key} introuvable : vérifiez l'adresse de la page.",
        "error.not_found.page": "Cette page n'existe pas. Vérifiez son adresse.",
        "error.forbidden": "Vous n'avez pas accès à cette page avec votre compte.",
        "error.method": (
            "Cette adresse ne s'ouvre pas ainsi : revenez à la page précédente et utilisez"
            " son formulaire."
        ),
        "error.refused": "Cette étape n'est pas possible pour l'instant :",
        "error.unknown_trigger": (
            "Cette étape n'existe pas depuis la phase actuelle du projet : rechargez la page"
            " du projet pour voir les étapes possibles."
        ),
        "error.conflict": (
            "Ce projet a été modifié par quelqu'un d'autre entre-temps. Rechargez la page et"
            " recommencez si l'action a toujours un sens."
        ),
        "error.already_recorded": (
            "Ce jalon a déjà été enregistré comme fait le {done_on} par {done_by} :"
            " il n'est pas enregistré une seconde fois."
        ),
        "error.invalid": "Valeur refusée pour le champ « {field} » : {reason}",
        "error.invalid.missing": "Le champ « {field} » est obligatoire.",
        "error.invalid.generic": "Valeur refusée pour le champ « {field} ».",
        "error.internal": (
            "Une erreur inattendue s'est produite : rien n'a été enregistré. Si elle se"
            " reproduit, communiquez le numéro d'incident {incident} à l'équipe Copilote."
        ),
        "error.other": "Votre demande n'a pas pu être traitée.",
        "error.csrf_missing": (
            "Ce formulaire ne vient pas d'une page de Copilote : rien n'a été enregistré."
            " Rechargez la page et recommencez."
        ),
        "error.session_expired": "Votre session a expiré : reconnectez-vous pour continuer.",
        "error.form_expired": (
            "Ce formulaire avait expiré : rien n'a été enregistré. Vérifiez-le et envoyez-le"
            " de nouveau."
        ),
        "input.not_a_date": "« {value} » n'est pas une date (par exemple 12/06/2026).",
        "input.not_an_instant": (
            "« {value} » n'est pas une date avec une heure (par exemple 12/06/2026 14:00)."
        ),
        "input.out_of_bounds": "le {day} n'est pas entre le {first} et le {last}.",
        "input.too_long": "{max_length} caractères au plus.",
        "input.required": "ce champ est obligatoire.",
        "input.confirmation_missing": (
            "cette action demande d'être confirmée (par sa page ou sa fenêtre de confirmation) ;"
            " rien n'a été modifié."
        ),
        "input.shares_over_100": (
            "{share} % avec les {others} % des autres cofinanceurs dépasse 100 % pour {year}."
        ),
        "input.objective_under_general": "un objectif spécifique se range sous un objectif général.",
        "input.objective_under_specific": (
            "un objectif opérationnel se range sous un objectif spécifique."
        ),
        "input.etp_out_of_range": "{etp} ETP n'est pas entre 0 et {max}.",
        "input.reason_only_if_cancelled": (
            "seule une réunion annulée a un motif d'annulation : annulez-la d'abord."
        ),
        "input.year_out_of_range": "{year} n'est pas une année entre {first} et {last}.",
        "input.negative_amount": "un montant ne peut pas être négatif.",
        "input.amount_too_large": "un montant ne peut pas dépasser dix milliards d'euros.",
        "input.end_before_start": "la fin ({end}) est avant le début ({start}).",
        "input.control_characters": (
            "caractères non autorisés (caractères de contrôle, retours à la ligne)."
        ),
        "input.meeting_in_past": (
            "le {day} est passé : une réunion se planifie à partir d'aujourd'hui ({today})."
            " Une réunion déjà tenue s'enregistre comme tenue."
        ),
        "input.meeting_too_far": (
            "le {day} est à plus de {years} ans : une réunion se planifie au plus tard le {last}."
        ),
        "field.starts_at": "date et heure de début",
        "field.held_on": "date de la réunion",
        "field.location": "lieu",
        "field.minutes_ref": "référence du compte rendu",
        "field.comment": "commentaire",
        "field.deliverable_ref": "référence du livrable",
        "field.year": "année",
        "field.meeting": "réunion",
        "field.series": "instance",
        "field.trigger": "étape",
        "field.project": "projet",
        "field.confirm": "confirmation",
        "noun.project": "Projet",
        "noun.meeting": "Réunion",
        "noun.partner": "Partenaire",
        "noun.milestone": "Jalon",
        "noun.user": "Compte",
        "noun.report": "Bilan",
        "noun.programme definition": "Programme",
    },
    "en": {
        # -- refusals: unmet exit conditions and how to meet them ----------------------------
        "refusal.milestone_not_done": "{label}: not done",
        "refusal.deliverable_not_delivered": "{label}: deliverable not delivered",
        "refusal.occurrence_not_held": "{label}: meeting not held",
        "refusal.series_not_held": "no “{label}” meeting held in this phase",
        "refusal.decision_not_recorded": "decision “{decision}” not recorded",
        "refusal.too_few_partners": "{active:active_partner}, at least {needed} needed",
        "refusal.reports_missing": "{label} not received from: {organisations}",
        "refusal.no_partner_to_report": "{label}: no active partner to submit it",
        "refusal.comment_required": "a comment saying why is required for this step",
        "refusal.deliverable_file_missing": "{label}: document “{deliverable}” not filed",
        "fix.record_milestone": "record “{label}” as done",
        "fix.record_meeting": "hold the meeting “{label}”, then record it as held",
        "fix.record_decision": "record the decision “{decision}”",
        "fix.add_partner": "add an active partner to the project",
        "fix.submit_reports": "get the “{label}” from: {organisations}",
        "fix.upload_deliverable": "file the document “{deliverable}” (the project's Documents page)",
        "fix.give_comment": "say why in the step's comment",
        "refusal.objectives_missing": "no general objective recorded (objectives tree)",
        "refusal.actions_missing": "no fiche-action recorded",
        "fix.record_objectives": "enter the project's objectives and fiches-actions",
        "refusal.how_to_fix": "To fix it:",
        # -- conventions (workflow.read_models.conventions) -----------------------------------
        "convention.status.awaiting_signatures": "awaiting signatures",
        "convention.status.in_force": "in force",
        "convention.status.lapsed": "lapsed (not renewed)",
        "convention.instrument.decision": "grant decision",
        "convention.instrument.convention": "convention",
        "convention.instrument.unknown": "amount not given",
        "convention.change.renewal": "express renewal",
        "convention.change.avenant": "amendment (avenant)",
        "funding.year": "year {n} of {m}",
        # -- overdue items: what is late (read models) ----------------------------------------
        "overdue.milestone": "{label}: milestone overdue",
        "overdue.phase": "phase {label} past its planned end",
        "overdue.automatic_step": "automatic step not possible: {label}",
        "overdue.automatic_step.no_reason": "automatic step not possible",
        "overdue.automatic_step.unmet": "automatic step “{label}” not possible: {conditions}",
        "overdue.meeting_series.weeks": "{label}: none held or planned every {every} weeks",
        "overdue.meeting_series.months": "{label}: none held or planned every {every} months",
        "overdue.days_late": "{days:day_late}",
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
        # -- routing: kinds of message and their audiences ------------------------------------
        "routing.kind.milestone_reminder": "Milestone deadline reminder",
        "routing.kind.milestone_overdue": "Milestone overdue",
        "routing.kind.milestone_escalation": "Overdue milestone escalated",
        "routing.kind.report_request": "Report request",
        "routing.kind.report_reminder": "Report reminder",
        "routing.kind.report_overdue": "Report overdue",
        "routing.kind.report_escalation": "Missing report escalated",
        "routing.kind.meeting_invitation": "Meeting invitation",
        "routing.kind.meeting_update": "Meeting changed",
        "routing.kind.meeting_cancel": "Meeting cancelled",
        "routing.kind.meeting_reminder": "Meeting reminder",
        "routing.kind.meeting_minutes_request": "Attendance and minutes to record",
        "routing.kind.series_behind": "Committee to convene",
        "routing.kind.overdue_digest": "Weekly overdue digest",
        "routing.kind.phase_changed": "Phase change",
        "routing.kind.project_suspended": "Project suspended",
        "routing.kind.project_resumed": "Project resumed",
        "routing.kind.project_abandoned": "Project abandoned",
        "routing.kind.partner_joined": "Partners joining",
        "routing.kind.partner_left": "Partners leaving",
        "routing.kind.annual_review": "Annual review to hold",
        "routing.kind.convention_end": "End of the agreement",
        "routing.audience.responsible": "whoever owes the item",
        "routing.audience.attendees": "the committee's attendees",
        "routing.audience.informed": "the informed roles (RACI)",
        "routing.overridden": "the programme's choice",
        "routing.escalation_rule": "never the late party nor its peers; the agency when the pilot is late",
        "routing.organiser_rule": "except the pilot who organises it",
        "routing.title": "Who receives what",
        "routing.kind": "Message",
        "routing.audience": "Recipients",
        # -- errors on pages: what went wrong, in words ---------------------------------------
        "error.not_found": "{what} no. {key} not found: check the page's address.",
        "error.not_found.page": "This page does not exist. Check its address.",
        "error.forbidden": "Your account does not give access to this page.",
        "error.method": "This address does not open this way: go back and use the page's form.",
        "error.refused": "This step is not possible yet:",
        "error.unknown_trigger": (
            "This step does not exist from the project's current phase: reload the project"
            " page to see the possible steps."
        ),
        "error.conflict": (
            "Someone else changed this project meanwhile. Reload the page and try again if"
            " the action still makes sense."
        ),
        "error.already_recorded": (
            "This milestone was already recorded done on {done_on} by {done_by}: it is not"
            " recorded twice."
        ),
        "error.invalid": "Value refused for the field “{field}”: {reason}",
        "error.invalid.missing": "The field “{field}” is required.",
        "error.invalid.generic": "Value refused for the field “{field}”.",
        "error.internal": (
            "An unexpected error occurred: nothing was saved. If it happens again, give the"
            " incident number {incident} to the Copilote team."
        ),
        "error.other": "Your request could not be handled.",
        "error.csrf_missing": (
            "This form did not come from a Copilote page: nothing was saved. Reload the page"
            " and try again."
        ),
        "error.session_expired": "Your session has expired: sign in again to go on.",
        "error.form_expired": (
            "This form had expired: nothing was saved. Check it and send it again."
        ),
        "input.not_a_date": "“{value}” is not a date (for example 12/06/2026).",
        "input.not_an_instant": "“{value}” is not a date and time (for example 12/06/2026 14:00).",
        "input.out_of_bounds": "{day} is not between {first} and {last}.",
        "input.too_long": "at most {max_length} characters.",
        "input.required": "this field is required.",
        "input.confirmation_missing": (
            "this action must be confirmed (through its confirmation page or window);"
            " nothing was changed."
        ),
        "input.shares_over_100": (
            "{share} % with the other co-funders' {others} % exceeds 100 % for {year}."
        ),
        "input.objective_under_general": "a specific objective sits under a general objective.",
        "input.objective_under_specific": (
            "an operational objective sits under a specific objective."
        ),
        "input.etp_out_of_range": "{etp} FTE is not between 0 and {max}.",
        "input.reason_only_if_cancelled": (
            "only a cancelled meeting has a cancellation reason: cancel it first."
        ),
        "input.year_out_of_range": "{year} is not a year between {first} and {last}.",
        "input.negative_amount": "an amount cannot be negative.",
        "input.amount_too_large": "an amount cannot be over ten billion euros.",
        "input.end_before_start": "the end ({end}) is before the start ({start}).",
        "input.control_characters": "characters not allowed (control characters, line breaks).",
        "input.meeting_in_past": (
            "{day} is past: a meeting is scheduled from today ({today}). A meeting already"
            " held is recorded as held."
        ),
        "input.meeting_too_far": (
            "{day} is more than {years} years ahead: a meeting is scheduled on {last} at the"
            " latest."
        ),
        "field.starts_at": "start date and time",
        "field.held_on": "meeting date",
        "field.location": "place",
        "field.minutes_ref": "minutes reference",
        "field.comment": "comment",
        "field.deliverable_ref": "deliverable reference",
        "field.year": "year",
        "field.meeting": "meeting",
        "field.series": "body",
        "field.trigger": "step",
        "field.project": "project",
        "field.confirm": "confirmation",
        "noun.project": "Project",
        "noun.meeting": "Meeting",
        "noun.partner": "Partner",
        "noun.milestone": "Milestone",
        "noun.user": "Account",
        "noun.report": "Report",
        "noun.programme definition": "Programme",
    },
}


# What is counted, in the singular and the plural, per language: "1 séminaire", "2
# séminaires", "1 day", "3 days". A phrase counts with a format spec ("{days:day_late}").
COUNTED: dict[str, dict[str, tuple[str, str]]] = {
    "fr": {
        "day": ("jour", "jours"),
        "day_late": ("jour de retard", "jours de retard"),
        "week": ("semaine", "semaines"),
        "month": ("mois", "mois"),
        "person": ("personne", "personnes"),
        "partner": ("partenaire", "partenaires"),
        "active_partner": ("partenaire actif", "partenaires actifs"),
        "structure": ("structure", "structures"),
        "meeting": ("réunion", "réunions"),
        "meeting_not_held": ("réunion non tenue", "réunions non tenues"),
        "meeting_planned_not_held": ("réunion prévue non tenue", "réunions prévues non tenues"),
        "meeting_cancelled": ("réunion annulée", "réunions annulées"),
        "seminar": ("séminaire", "séminaires"),
        "working_group": ("groupe de travail", "groupes de travail"),
        "project": ("projet", "projets"),
        "overdue_item": ("élément en retard", "éléments en retard"),
        "message": ("message", "messages"),
        "late_project": ("projet en retard", "projets en retard"),
        "overdue_milestone": ("jalon en retard", "jalons en retard"),
        "missing_report": ("bilan manquant", "bilans manquants"),
        "meeting_in_4_weeks": ("réunion dans les 4 semaines", "réunions dans les 4 semaines"),
    },
    "en": {
        "day": ("day", "days"),
        "day_late": ("day late", "days late"),
        "week": ("week", "weeks"),
        "month": ("month", "months"),
        "person": ("person", "people"),
        "partner": ("partner", "partners"),
        "active_partner": ("active partner", "active partners"),
        "structure": ("organisation", "organisations"),
        "meeting": ("meeting", "meetings"),
        "meeting_not_held": ("meeting not held", "meetings not held"),
        "meeting_planned_not_held": ("planned meeting not held", "planned meetings not held"),
        "meeting_cancelled": ("cancelled meeting", "cancelled meetings"),
        "seminar": ("seminar", "seminars"),
        "working_group": ("working group", "working groups"),
        "project": ("project", "projects"),
        "overdue_item": ("overdue item", "overdue items"),
        "message": ("message", "messages"),
        "late_project": ("late project", "late projects"),
        "overdue_milestone": ("overdue milestone", "overdue milestones"),
        "missing_report": ("missing report", "missing reports"),
        "meeting_in_4_weeks": ("meeting in the next 4 weeks", "meetings in the next 4 weeks"),
    },
}


class UnknownUnit(LookupError):
    def __init__(self, unit: str) -> None:
        super().__init__(
            f"nothing counted as {unit!r} in notifications/wording.py: add its singular and "
            "plural to COUNTED, in French and in English"
        )
        self.unit = unit


@lru_cache(maxsize=4096)
def _whole(n: int, locale: str) -> str:
    """An integer formatted for a locale ("1 234"): babel's work (tens of µs) done once per
    number, as a page counts the same days late and totals on many of its rows."""
    return format_decimal(n, locale=locale)


@lru_cache(maxsize=4096)
def count(n: int, unit: str, lang: str = "fr") -> str:
    """``n`` things of ``unit`` with the right plural: "0 jour", "1 personne", "12 personnes"
    (French takes the singular for 0 and 1), "0 days", "1 person", "12 people"; the number
    formatted for the language ("1 234 jours"). The one home of plurals: pages, emails,
    exports and the command line count through it."""
    return f"{_whole(n, _LOCALES.get(lang, _LOCALES['fr']))} {noun(n, unit, lang)}"


@lru_cache(maxsize=4096)
def noun(n: int, unit: str, lang: str = "fr") -> str:
    """The words :func:`count` puts after the number, alone ("jalons en retard"): for a page
    that sets the number apart (the dashboard's tiles)."""
    forms = COUNTED.get(lang, COUNTED["fr"]).get(unit)
    if forms is None:
        raise UnknownUnit(unit)
    one = Locale.parse(_LOCALES.get(lang, _LOCALES["fr"])).plural_form(abs(n)) == "one"
    return forms[0] if one else forms[1]


class _Number(str):
    """A number in a phrase: formatted for the language, or counted with a unit as its
    format spec (``{days:day_late}``)."""

    n: int
    lang: str

    def __new__(cls, n: int, lang: str) -> _Number:
        number = super().__new__(cls, _whole(n, _LOCALES.get(lang, "fr_FR")))
        number.n, number.lang = n, lang
        return number

    def __format__(self, spec: str) -> str:
        return count(self.n, spec, self.lang) if spec else str(self)


def long_date(value: date, lang: str = "fr", *, with_year: bool = True) -> str:
    """A date as people write it: "1er janvier 2027", "14 février 2018", "1 January 2027"."""
    locale = _LOCALES.get(lang, _LOCALES["fr"])
    # French writes the first of the month as an ordinal: "1er janvier 2027".
    pattern = "d'er' MMMM" if value.day == 1 and lang == "fr" else "d MMMM"
    return format_date(value, pattern + (" y" if with_year else ""), locale=locale)


def clock_time(moment: datetime, lang: str = "fr") -> str:
    """A time of day as people write it: "14 h", "14 h 30" in French; "14:30" in English.
    ``moment`` is already in the reader's zone (Europe/Paris)."""
    if lang == "fr":
        return f"{moment.hour} h" + (f" {moment.minute:02d}" if moment.minute else "")
    return f"{moment.hour:02d}:{moment.minute:02d}"


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
    if isinstance(value, int):
        return _Number(value, lang)
    if isinstance(value, float):
        return format_decimal(value, locale=locale)
    return value


def euros(cents: int | None, lang: str = "fr") -> str:
    """An amount in euro cents as people read it: ``153 846,75 €`` (``€153,846.75``)."""
    return "—" if cents is None else money(cents, lang)


def say(key: str, lang: str = "fr", /, **params: Any) -> str:
    """The phrase ``key`` in ``lang`` (French when that language lacks it), filled in."""
    table: Mapping[str, str] = PHRASES.get(lang, PHRASES["fr"])
    phrase = table.get(key) or PHRASES["fr"].get(key)
    if phrase is None:
        raise UnknownPhrase(key)
    return phrase.format(**{name: _format(value, lang) for name, value in params.items()})
