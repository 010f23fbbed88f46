"""The agency's dashboard: every project at a glance and what is late.

Agency users only (a pilot gets 403). Filters are plain GET parameters of a form (no
JavaScript); each long list shows 50 rows with its total and its own page parameter:
``page`` for the overdue milestones, ``projects_page``, ``reports_page``, ``meetings_page``.
Every figure comes from :mod:`workflow.read_models.portfolio` (SQL, paginated, counted
with GROUP BY or from an index).

Summary tiles sit above the lists: each is the total of the list it links to, the filters
kept (``show=late`` narrows the portfolio to the projects with a milestone past its date).
The portfolio is sorted in SQL by ``sort`` (``late``, ``-late``, ``title``, ``-title``...,
see ``PORTFOLIO_SORTS``), most days late first by default; an unknown value is the default.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from web import i18n
from web.auth import Forbidden
from web.bounds import page_number
from web.charts import dashboard_charts
from web.deps import CopiloteDep, PageUser
from web.pages.project import filter_options, page_context, read_filters
from web.pages.responses import PAGE_RESPONSES
from web.templating import render
from workflow.failures import failed_projects
from workflow.read_models.portfolio import (
    DASHBOARD_SORT,
    PORTFOLIO_SORTS,
    Sort,
    Tiles,
    missing_reports,
    overdue_milestones,
    phase_counts,
    portfolio,
    project_count,
    read_sort,
    upcoming_meetings,
)

router = APIRouter(default_response_class=HTMLResponse, responses=PAGE_RESPONSES)

UPCOMING_WEEKS = 4
DEFAULT_SORT = DASHBOARD_SORT
# A column not yet sorted starts with its most useful direction: numbers largest first.
FIRST_DESCENDING = {"late"}


def dashboard_link(request: Request) -> Callable[..., str]:
    """``link(show="late", projects_page=None)``: the dashboard's URL with those parameters
    changed (``None`` drops one), the others (filters, sort, other pages) kept."""

    def link(**changes: str | None) -> str:
        params = {k: v for k, v in request.query_params.items() if k != "lang"}
        for key, value in changes.items():
            if value is None:
                params.pop(key, None)
            else:
                params[key] = value
        return "/dashboard" + ("?" + urlencode(params) if params else "")

    return link


def sort_header(current: Sort) -> Callable[[str], dict[str, Any]]:
    """For a column key: its ``aria-sort`` (or None) and the ``sort`` value its link sets."""

    def header(key: str) -> dict[str, Any]:
        if key == current.key:
            return {
                "aria": "descending" if current.descending else "ascending",
                "param": current.flipped().param,
            }
        return {"aria": None, "param": Sort(key, key in FIRST_DESCENDING).param}

    return header


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
    sort: str = "",
    show: str = "",
) -> Response:
    if not user.is_agency:
        raise Forbidden(user.email, "see the agency dashboard")
    filters = read_filters(programme, territory, phase)
    order = read_sort(sort, PORTFOLIO_SORTS, DEFAULT_SORT)
    late_only = show == "late"
    now = c.clock.now()
    today = c.engine.today()
    overdue = overdue_milestones(c.engine, today, filters, page_number(page))
    projects = portfolio(
        c.engine,
        today,
        filters,
        page_number(projects_page),
        sort=order,
        late_only=late_only,
    )
    reports = missing_reports(c.engine, now, filters, page_number(reports_page))
    meetings = upcoming_meetings(
        c.engine, now, filters, page_number(meetings_page), weeks=UPCOMING_WEEKS
    )
    counts = phase_counts(c.engine, filters)  # the list and its chart
    # the portfolio's total is one of the project tiles, its page counts the late projects
    tiles = Tiles(
        projects=project_count(c.engine, filters) if late_only else projects.total,
        late_projects=projects.late_projects,
        overdue=overdue.total,
        missing_reports=reports.total,
        meetings=meetings.total,
    )
    return render(
        request,
        "dashboard.html",
        {
            "filters": filters,
            "today": today,
            "weeks": UPCOMING_WEEKS,
            "counts": counts,
            "tiles": tiles,
            "late_only": late_only,
            "sort": order,
            "sort_header": sort_header(order),
            "link": dashboard_link(request),
            "overdue": overdue,
            "failures": failed_projects(c.db),
            "projects": projects,
            "reports": reports,
            "meetings": meetings,
            "with_location": any(m.location for m in meetings.rows),
            "charts": dashboard_charts(request, c, filters, counts),
            # what the exports download: the page's filters, its order, its late-only list
            "listing": {
                **filters.params(),
                **({} if order == DEFAULT_SORT else {"sort": order.param}),
                **({"show": "late"} if late_only else {}),
            },
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
        "Rapport annuel CPOM du programme (XLSX)": "Programme's CPOM annual report (XLSX)",
        "Rapport annuel CPOM du programme (CSV)": "Programme's CPOM annual report (CSV)",
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
        "Synthèse": "Summary",
        "Projets": "Projects",
        "projets en retard": "late projects",
        "Voir tous les projets": "See every project",
        "Jours de retard": "Days late",
        "depuis l'échéance du plus ancien jalon ouvert": "since the due date of the oldest open"
        " milestone",
        "Jalons en retard, le plus en retard d'abord": "Overdue milestones, the latest first",
        "Bilans trimestriels manquants, le plus ancien d'abord": (
            "Missing quarterly reports, the oldest first"
        ),
        "Réunions prévues, la plus proche d'abord": "Planned meetings, the soonest first",
        "Portefeuille ; les en-têtes de colonne trient le tableau": (
            "Portfolio; the column headers sort the table"
        ),
    }
)
