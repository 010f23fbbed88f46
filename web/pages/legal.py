"""The pages every public service must show, reachable without signing in, in French and
English: the accessibility statement (RGAA model), the legal notice, personal data."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from web.deps import CopiloteDep, MaybePageUser
from web.i18n import register
from web.templating import render

__all__ = ["AXE_CORE_VERSION", "STATEMENT_DATE", "router"]

router = APIRouter()

# The statement's facts: when it was written and with which automated checker
# (tests/web/test_accessibility.py checks that the installed axe-core is this one).
STATEMENT_DATE = "2026-11-30"
AXE_CORE_VERSION = "4.12.1"

PAGES = {
    "/accessibilite": ("legal/accessibility.html", "Déclaration d'accessibilité"),
    "/mentions-legales": ("legal/notice.html", "Mentions légales"),
    "/donnees-personnelles": ("legal/personal_data.html", "Données personnelles"),
}


def _page(request: Request, copilote: CopiloteDep, path: str) -> Response:
    template, title = PAGES[path]
    settings = copilote.settings
    return render(
        request,
        template,
        {
            "title": title,
            "contact_email": settings.contact_email,
            "base_url": settings.base_url,
            "statement_date": STATEMENT_DATE,
            "axe_version": AXE_CORE_VERSION,
        },
    )


@router.get("/accessibilite")
def accessibility(request: Request, copilote: CopiloteDep, user: MaybePageUser) -> Response:
    return _page(request, copilote, "/accessibilite")


@router.get("/mentions-legales")
def notice(request: Request, copilote: CopiloteDep, user: MaybePageUser) -> Response:
    return _page(request, copilote, "/mentions-legales")


@router.get("/donnees-personnelles")
def personal_data(request: Request, copilote: CopiloteDep, user: MaybePageUser) -> Response:
    return _page(request, copilote, "/donnees-personnelles")


register(
    {
        "Déclaration d'accessibilité": "Accessibility statement",
        "Mentions légales": "Legal notice",
        "Données personnelles": "Personal data",
        "Accessibilité : partiellement conforme": "Accessibility: partially compliant",
        "Accès rapide": "Skip links",
        "Contenu": "Content",
        "Menu": "Menu",
        "Pied de page": "Footer",
        "Accueil": "Home",
        "Menu principal": "Main menu",
        "Copilote : suivi des programmes co-construits (phases, échéances, COPIL, bilans).": (
            "Copilote: follow-up of co-constructed programmes (phases, deadlines, steering"
            " committees, reports)."
        ),
        "Service proposé par": "A service of",
        "Sauf mention contraire, les contenus de ce site sont sous": (
            "Unless stated otherwise, the content of this site is under"
        ),
        "licence etalab-2.0": "the etalab-2.0 licence",
        # the words the pages converted to the DSFR added (login, forms, partners' pages)
        "Se connecter avec son compte": "Sign in with your account",
        "Format attendu : nom@domaine.fr": "Expected format: name@domain.fr",
        "Votre réponse n'a pas été enregistrée :": "Your answer was not saved:",
        "2000 caractères au plus": "2,000 characters at most",
        "Indicateurs du projet : valeur prévue et valeur réalisée": (
            "The project's indicators: planned and actual values"
        ),
        "Filtrer les projets": "Filter the projects",
        "Pagination": "Pagination",
        "retards": "overdue items",
        "bilans": "reports",
        "réunions": "meetings",
        "projets": "projects",
        "liste": "list",
        "8 caractères au moins": "8 characters at least",
    }
)
