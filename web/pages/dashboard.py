"""The agency's dashboard: every project at a glance and what is late.

Agency users only (a pilot gets 403). Filters are plain GET parameters of a form (no
JavaScript); each long list shows 50 rows with its total and its own page parameter:
``page`` for the overdue milestones, ``projects_page``, ``reports_page``, ``meetings_page``.
Every figure comes from :mod:`workflow.read_models.portfolio` (SQL, paginated, counted
with GROUP BY).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from web import i18n
from web.auth import Forbidden
from web.bounds import page_number
from web.deps import CopiloteDep, PageUser
from web.pages.project import filter_options, page_context, read_filters
from web.pages.responses import PAGE_RESPONSES
from web.templating import render
from workflow.failures import failed_projects
from workflow.read_models.portfolio import (
    missing_reports,
    overdue_milestones,
    phase_counts,
    portfolio,
    upcoming_meetings,
)

router = APIRouter(default_response_class=HTMLResponse, responses=PAGE_RESPONSES)

UPCOMING_WEEKS = 4


@router.get("/dashboard")
def dashboard(
    request: Request,
    user: PageUser,
    c: CopiloteDep,
    programme: str = "",
    territory: str = "",
    phase: str = "",
    page: str = "1",
    projects_page: str = "1",
    reports_page: str = "1",
    meetings_page: str = "1",
) -> Response:
    if not user.is_agency:
        raise Forbidden(user.email, "see the agency dashboard")
    filters = read_filters(programme, territory, phase)
    now = c.clock.now()
    today = c.engine.today()
    return render(
        request,
        "dashboard.html",
        {
            "filters": filters,
            "today": today,
            "weeks": UPCOMING_WEEKS,
            "counts": phase_counts(c.engine, filters),
            "overdue": overdue_milestones(c.engine, today, filters, page_number(page)),
            "failures": failed_projects(c.db),
            "projects": portfolio(c.engine, today, filters, page_number(projects_page)),
            "reports": missing_reports(c.engine, now, filters, page_number(reports_page)),
            "meetings": upcoming_meetings(
                c.engine, now, filters, page_number(meetings_page), weeks=UPCOMING_WEEKS
            ),
            **page_context(request),
            **filter_options(c, filters, i18n.language(request)),
        },
    )


i18n.register(
    {
        "jalons en retard, phases au-delà de leur fin prévue, étapes automatiques impossibles et"
        " instances (COPIL...) en retard sur leur rythme ; le détail est sur la page du projet": (
            "overdue milestones, phases past their planned end, automatic steps that could not"
            " be taken and bodies (COPIL...) behind their cadence; the project's page has the"
            " details"
        ),
        "Tableau de bord de l'agence": "Agency dashboard",
        "Projets en échec": "Failing projects",
        "Le travail automatique de ces projets a échoué ; les autres projets continuent.": (
            "The automatic work of these projects failed; the other projects go on."
        ),
        "échec le": "failed on",
        "Situation au": "As of",
        "Jalons en retard": "Overdue milestones",
        "Jalon": "Milestone",
        "Échéance": "Due",
        "Retard": "Late",
        "jours": "days",
        "Responsable": "Responsible",
        "Tenu par": "Held by",
        "personne": "nobody",
        "Aucun jalon en retard.": "No overdue milestone.",
        "Bilans trimestriels manquants": "Missing quarterly reports",
        "Aucun bilan manquant.": "No missing report.",
        "Réunions des semaines à venir": "Meetings in the coming weeks",
        "semaines": "weeks",
        "Aucune réunion prévue.": "No meeting planned.",
        "Portefeuille": "Portfolio",
        "Effacer": "Clear",
        "résultats": "results",
        "Dû le": "Due on",
        "Bilan": "Report",
    }
)
