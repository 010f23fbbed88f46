"""The plan d'actions page of a project: its objectives tree, fiches-actions with their
indicators, and the budget of a year, each with a form (issue 13). Reading needs the right to
see the project; the forms need to be its pilot. A refused input changes nothing and the
error page names the field."""

from __future__ import annotations

from typing import Annotated, Any

from babel.numbers import format_percent
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from notifications.wording import money
from web import i18n
from web.bounds import PageId, form_day, form_id, form_line, form_text, query_year
from web.csrf import new_form_token
from web.deps import CopiloteDep, CsrfForm, PageUser
from web.forms import once
from web.pages.responses import PAGE_RESPONSES
from web.templating import render
from workflow.budget import required_euros
from workflow.errors import InvalidInput
from workflow.plan import ActionIn
from workflow.read_models.annual import annual_report
from workflow.read_models.detail import agenda
from workflow.read_models.plan import plan_of

__all__ = ["router"]

router = APIRouter(default_response_class=HTMLResponse, responses=PAGE_RESPONSES)


def _back(project_id: int, year: int | None = None) -> str:
    query = f"?year={year}" if year else ""
    return f"/projects/{project_id}/plan{query}"


def _percent(basis_points: int, lang: str) -> str:
    """49 % / 49%, 49,5 % / 49.5%: a share as its reader writes it (babel)."""
    return format_percent(basis_points / 10_000, locale=lang, decimal_quantization=False)


def _actor(user: Any) -> str:
    """Who the history names for a change made on these pages."""
    return str(user.name or user.email)


def _euros(value: str, field: str) -> int | None:
    return required_euros(value, field) if value.strip() else None


def _number(value: str, field: str) -> float | None:
    value = value.strip().replace(",", ".")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        raise InvalidInput(field, f"{value[:20]!r} is not a number") from None


@router.get("/projects/{project_id}/plan", response_class=HTMLResponse)
def plan_page(
    request: Request, project_id: PageId, user: PageUser, c: CopiloteDep, year: str = ""
) -> HTMLResponse:
    c.accounts.check_read(user, project_id)
    chosen = query_year(year, c.engine.today())
    return render(
        request,
        "objectives/plan.html",
        {
            "project_id": project_id,
            "plan": plan_of(c.engine, project_id),
            "meetings": [
                m for m in agenda(c.engine, project_id).meetings if m.status != "expected"
            ],
            "report": annual_report(c.engine, project_id, chosen),
            "year": chosen,
            "money": money,
            "percent": _percent,
            "form_token": new_form_token(),
            "can_act": project_id in c.accounts.piloted(user, project_id),
        },
    )


@router.post("/projects/{project_id}/plan/objectives", dependencies=[CsrfForm])
def set_objective(
    request: Request,
    project_id: PageId,
    user: PageUser,
    c: CopiloteDep,
    key: Annotated[str, Form()],
    label: Annotated[str, Form()] = "",
    level: Annotated[str, Form()] = "",
    parent: Annotated[str, Form()] = "",
    form_token: Annotated[str, Form()] = "",
) -> Response:
    c.accounts.check_act(user, project_id)

    def act() -> str:
        c.records.plan.set_objective(
            project_id,
            form_line(key, "key", 64),
            label=form_text(label, "label", 2000) or None,
            level=form_line(level, "level", 16) or None,
            parent=form_line(parent, "parent", 64) or None,
            by=_actor(user),
        )
        return "Objectif enregistré."

    back = _back(project_id) + "#objectifs"
    return once(request, c, user, form_token, back, act)


@router.post("/projects/{project_id}/plan/actions", dependencies=[CsrfForm])
def set_action(
    request: Request,
    project_id: PageId,
    user: PageUser,
    c: CopiloteDep,
    key: Annotated[str, Form()],
    objective: Annotated[str, Form()] = "",
    label: Annotated[str, Form()] = "",
    partner_id: Annotated[str, Form()] = "",
    starts_on: Annotated[str, Form()] = "",
    ends_on: Annotated[str, Form()] = "",
    target_public: Annotated[str, Form()] = "",
    etp: Annotated[str, Form()] = "",
    budget: Annotated[str, Form()] = "",
    planned: Annotated[str, Form()] = "",
    realised: Annotated[str, Form()] = "",
    gap_explanation: Annotated[str, Form()] = "",
    corrective_measure: Annotated[str, Form()] = "",
    corrective_measure_cpom: Annotated[str, Form()] = "",
    form_token: Annotated[str, Form()] = "",
) -> Response:
    c.accounts.check_act(user, project_id)

    def act() -> str:
        c.records.plan.set_action(
            project_id,
            form_line(key, "key", 64),
            ActionIn(
                objective=form_line(objective, "objective", 64) or None,
                label=form_text(label, "label", 2000) or None,
                partner_id=form_id(partner_id, "partner_id"),
                starts_on=form_day(starts_on, "starts_on"),
                ends_on=form_day(ends_on, "ends_on"),
                target_public=form_text(target_public, "target_public") or None,
                etp=_number(etp, "etp"),
                budget_cents=_euros(budget, "budget"),
                planned=form_text(planned, "planned") or None,
                realised=form_text(realised, "realised") or None,
                gap_explanation=form_text(gap_explanation, "gap_explanation") or None,
                corrective_measure=form_text(corrective_measure, "corrective_measure") or None,
                corrective_measure_cpom=form_text(
                    corrective_measure_cpom, "corrective_measure_cpom"
                )
                or None,
            ),
            by=_actor(user),
        )
        return "Fiche-action enregistrée."

    back = _back(project_id) + "#fiches"
    return once(request, c, user, form_token, back, act)


@router.post("/projects/{project_id}/plan/indicators", dependencies=[CsrfForm])
def set_indicator(
    request: Request,
    project_id: PageId,
    user: PageUser,
    c: CopiloteDep,
    key: Annotated[str, Form()],
    label: Annotated[str, Form()] = "",
    kind: Annotated[str, Form()] = "",
    action: Annotated[str, Form()] = "",
    year: Annotated[str, Form()] = "",
    planned: Annotated[str, Form()] = "",
    realised: Annotated[str, Form()] = "",
    unit: Annotated[str, Form()] = "",
    source: Annotated[str, Form()] = "",
    method: Annotated[str, Form()] = "",
    gap_explanation: Annotated[str, Form()] = "",
    corrective_measure: Annotated[str, Form()] = "",
    corrective_measure_cpom: Annotated[str, Form()] = "",
    form_token: Annotated[str, Form()] = "",
) -> Response:
    c.accounts.check_act(user, project_id)

    def act() -> str:
        c.records.set_indicator(
            project_id,
            form_line(key, "key", 64),
            label=form_line(label, "label") or None,
            kind=form_line(kind, "kind", 16) or None,
            action=form_line(action, "action", 64) or None,
            year=query_year(year, c.engine.today()) if year.strip() else None,
            planned=_number(planned, "planned"),
            realised=_number(realised, "realised"),
            unit=form_line(unit, "unit", 40) or None,
            source=form_line(source, "source") or None,
            method=form_line(method, "method") or None,
            gap_explanation=form_text(gap_explanation, "gap_explanation") or None,
            corrective_measure=form_text(corrective_measure, "corrective_measure") or None,
            corrective_measure_cpom=form_text(corrective_measure_cpom, "corrective_measure_cpom")
            or None,
            by=_actor(user),
        )
        return "Indicateur enregistré."

    back = _back(project_id) + "#indicateurs"
    return once(request, c, user, form_token, back, act)


@router.post("/projects/{project_id}/plan/meetings", dependencies=[CsrfForm])
def meeting_note(
    request: Request,
    project_id: PageId,
    user: PageUser,
    c: CopiloteDep,
    meeting_id: Annotated[str, Form()],
    action: Annotated[str, Form()] = "",
    cancel_reason: Annotated[str, Form()] = "",
    gap_explanation: Annotated[str, Form()] = "",
    corrective_measure: Annotated[str, Form()] = "",
    form_token: Annotated[str, Form()] = "",
) -> Response:
    c.accounts.check_act(user, project_id)

    def act() -> str:
        meeting = form_id(meeting_id, "meeting_id")
        if meeting is None:
            raise InvalidInput("meeting_id", "choose the meeting")
        c.records.plan.meeting_note(
            project_id,
            meeting,
            action=form_line(action, "action", 64) or None,
            cancel_reason=form_text(cancel_reason, "cancel_reason") or None,
            gap_explanation=form_text(gap_explanation, "gap_explanation") or None,
            corrective_measure=form_text(corrective_measure, "corrective_measure") or None,
            by=_actor(user),
        )
        return "Réunion annotée."

    back = _back(project_id) + "#reunions-notes"
    return once(request, c, user, form_token, back, act)


@router.post("/projects/{project_id}/plan/budget", dependencies=[CsrfForm])
def set_budget_line(
    request: Request,
    project_id: PageId,
    user: PageUser,
    c: CopiloteDep,
    year: Annotated[str, Form()],
    line_id: Annotated[str, Form()] = "",
    label: Annotated[str, Form()] = "",
    objective: Annotated[str, Form()] = "",
    planned: Annotated[str, Form()] = "",
    spent: Annotated[str, Form()] = "",
    forecast: Annotated[str, Form()] = "",
    comment: Annotated[str, Form()] = "",
    form_token: Annotated[str, Form()] = "",
) -> Response:
    c.accounts.check_act(user, project_id)
    chosen = query_year(year, c.engine.today())

    def act() -> str:
        c.records.budget.set_budget_line(
            project_id,
            form_id(line_id, "line_id"),
            year=chosen,
            label=form_text(label, "label", 2000) or None,
            objective=form_line(objective, "objective", 64) or None,
            planned_cents=_euros(planned, "planned"),
            spent_cents=_euros(spent, "spent"),
            forecast_cents=_euros(forecast, "forecast"),
            comment=form_text(comment, "comment") or None,
            by=_actor(user),
        )
        return "Ligne de budget enregistrée."

    back = _back(project_id, chosen) + "#budget"
    return once(request, c, user, form_token, back, act)


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
