"""The plan d'actions page of a project: its objectives tree, fiches-actions with their
indicators, meetings' notes for the CPOM report, and the budget of a year (issue 13). Reading
needs the right to see the project. Each part links to its forms (``web/pages/plan_forms.py``,
``web/pages/plan_entry_forms.py``), run like every form of a project by ``web/pages/forms.py``:
the pilot only, errors beside the fields, one idempotency token, a confirmation banner."""

from __future__ import annotations

from babel.numbers import format_percent
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from notifications.wording import money
from web import i18n
from web.bounds import PageId, query_year
from web.deps import CopiloteDep, PageUser
from web.pages.responses import PAGE_RESPONSES
from web.templating import render
from workflow.read_models.annual import annual_report
from workflow.read_models.detail import MeetingLine, agenda
from workflow.read_models.plan import plan_of

__all__ = ["router"]

router = APIRouter(default_response_class=HTMLResponse, responses=PAGE_RESPONSES)


def _percent(basis_points: int, lang: str) -> str:
    """49 % / 49%, 49,5 % / 49.5%: a share as its reader writes it (babel)."""
    return format_percent(basis_points / 10_000, locale=lang, decimal_quantization=False)


@router.get("/projects/{project_id}/plan", response_class=HTMLResponse)
def plan_page(
    request: Request, project_id: PageId, user: PageUser, c: CopiloteDep, year: str = ""
) -> HTMLResponse:
    c.accounts.check_read(user, project_id)
    chosen = query_year(year, c.engine.today())
    lang = i18n.language(request)
    dated = agenda(c.engine, project_id)
    definition = c.engine.shown_definition(
        dated.project.definition_id, dated.project.definition_version
    )

    def meeting_name(m: MeetingLine) -> str:
        return definition.meeting_label(m.series, m.occurrence, m.label, lang)

    return render(
        request,
        "objectives/plan.html",
        {
            "project_id": project_id,
            "plan": plan_of(c.engine, project_id),
            "meetings": [m for m in dated.meetings if m.status != "expected"],
            "meeting_name": meeting_name,
            "report": annual_report(c.engine, project_id, chosen),
            "year": chosen,
            "money": money,
            "percent": _percent,
            "can_act": project_id in c.accounts.piloted(user, project_id),
        },
    )


i18n.register(
    {
        "Plan d'actions": "Action plan",
        "Objectifs": "Objectives",
        "Fiches-actions": "Action sheets",
        "Budget": "Budget",
        "Rapport annuel CPOM": "CPOM annual report",
        "Année": "Year",
        "À la date du": "As of",
        "Le rapport de quelle année, à quelle date ?": "The report of which year, as of which day?",
        "Actions, échéances, indicateurs, écarts et mesures correctives": (
            "Actions, deadlines, indicators, gaps and corrective measures"
        ),
        "Budget prévu, dépensé et prévu jusqu'au 31 décembre, avec l'écart": (
            "Budget planned, spent and forecast to 31 December, with the gap"
        ),
        "Total": "Total",
        "Afficher": "Show",
        "Enregistrer": "Save",
        "Ajouter un objectif": "Add an objective",
        "Ajouter une fiche-action": "Add an action sheet",
        "Ajouter un indicateur": "Add an indicator",
        "ajouter un indicateur": "add an indicator",
        "annoter": "annotate",
        "Objectif enregistré.": "Objective saved.",
        "Fiche-action enregistrée.": "Action sheet saved.",
        "Réunion annotée.": "Meeting annotated.",
        "Ligne de budget enregistrée.": "Budget line saved.",
        "Dépenses de l'année par objectif général : prévu, dépensé, prévision, écart": (
            "The year's expenses by general objective: planned, spent, forecast, gap"
        ),
        "Cofinancement": "Co-financing",
        "Part de chaque cofinanceur dans le budget de l'année": (
            "Each co-funder's share of the year's budget"
        ),
        "Part": "Share",
        "Actions": "Actions",
        "Aucun cofinanceur saisi pour cette année.": "No co-funder entered for this year.",
        "Ajouter un cofinanceur": "Add a co-funder",
        "général": "general",
        "spécifique": "specific",
        "opérationnel": "operational",
        "Objectif servi": "Objective served",
        "Partenaire responsable": "Responsible partner",
        "Public visé": "Target public",
        "Indicateurs": "Indicators",
        "Prévu": "Planned",
        "Dépensé": "Spent",
        "Prévision": "Forecast",
        "Écart": "Gap",
        "Commentaire": "Comment",
        "Aucun objectif saisi.": "No objective entered.",
        "Réunions : action, écart, mesure corrective": "Meetings: action, gap, corrective measure",
    }
)
