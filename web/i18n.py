"""Interface language: French by default, English available.

Strings are written in French in the templates and code (``_("Tableau de bord")``); each
page module registers its English translations with :func:`register`. A missing English
translation shows the French text, never an error. The language comes from ``?lang=``
(remembered in a cookie), then the cookie, then the signed-in user's preference, then the
language stored for the partner whose link opened the page.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from starlette.requests import Request

from workflow.definition import meeting_number

__all__ = ["DATABASE_BUSY", "LANGS", "gettext", "in_reader_language", "language", "register"]

LANGS = ("fr", "en")
_DATABASE_BUSY = (
    "La base de données ne répond pas pour le moment. Merci de réessayer dans quelques secondes."
)
DATABASE_BUSY = _DATABASE_BUSY  # the page and the API say it when the database cannot be used
_EN: dict[str, str] = {}


def register(english: dict[str, str]) -> None:
    _EN.update(english)


def gettext(lang: str) -> Callable[[str], str]:
    if lang == "en":
        return lambda text: _EN.get(text, text)
    return lambda text: text


_NUMBERED = re.compile(r"(.+) n°(\d+)")


def in_reader_language(value: str, lang: str, english: Mapping[str, str]) -> str:
    """What a page shows for ``value`` in ``lang``: for an English reader, the English label
    of a definition's French label (``english``: :meth:`DefinitionRegistry.english_labels`,
    built from each definition's ``label``/``label_en``), and the series' English label in a
    numbered meeting ("COPIL no. 2"). Only whole values are translated: a person's own text
    that happens to contain a label is left as written."""
    if lang != "en" or not value:
        return value
    found = english.get(value)
    if found is not None:
        return found
    numbered = _NUMBERED.fullmatch(value)
    if numbered is not None and numbered[1] in english:
        return meeting_number(english[numbered[1]], numbered[2], "en")
    return value


def language(request: Request) -> str:
    asked = request.query_params.get("lang")
    if asked in LANGS:
        return asked
    cookie = request.cookies.get("lang")
    if cookie in LANGS:
        return cookie
    user = getattr(request.state, "principal", None)
    if user is not None and user.lang in LANGS:
        return str(user.lang)
    stored = getattr(request.state, "lang", None)  # a partner's, on the pages of their link
    if stored in LANGS:
        return str(stored)
    return "fr"


register(
    {
        "Se connecter": "Sign in",
        "Se déconnecter": "Sign out",
        "Adresse e-mail": "Email address",
        "Mot de passe": "Password",
        "Adresse e-mail ou mot de passe incorrect.": "Wrong email address or password.",
        "Trop de tentatives de connexion : réessayez dans quelques minutes.": (
            "Too many sign-in attempts: try again in a few minutes."
        ),
        "Tableau de bord": "Dashboard",
        "Projets": "Projects",
        "Erreur": "Error",
        "Retour": "Back",
        "Numéro d'incident": "Incident number",
        "Détail technique": "Technical detail",
        "Revenir à l'accueil": "Back to the home page",
        "Revenir au formulaire": "Back to the form",
        "Page introuvable": "Page not found",
        "Accès refusé": "Access denied",
        "Demande refusée": "Request refused",
        "Lien invalide": "Invalid link",
        "Service momentanément indisponible": "Service temporarily unavailable",
        # the confirmations' modal and page (web/templates/_confirm.html)
        "Annuler": "Cancel",
        "Fermer": "Close",
        "Fermer la fenêtre": "Close the window",
        _DATABASE_BUSY: "The database is not answering at the moment. Please try again"
        " in a few seconds.",
    }
)
