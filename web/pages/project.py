"""A pilot runs a project from these pages: the list of projects, the project's tableau de
bord (seed 001), and the forms that record what was done and advance the phase.

Everyone who may read a project sees its page; only its pilots (``check_act``) see the
forms, and every POST checks it again. A refused advance re-renders the page with status
409 and the unmet conditions next to the button (the one place a page handles
``TransitionRefused`` itself: the generic error page would lose the project's context).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from notifications.wording import say
from web import i18n
from web.bounds import (
    MAX_LENGTH,
    PageId,
    form_day,
    form_id,
    form_instant,
    form_line,
    form_text,
    page_number,
)
from web.deps import AccountsDep, CopiloteDep, CsrfForm, PageUser
from web.forms import once
from web.history_words import RECORD_LABELS
from web.pages.documents import KINDS
from web.pages.exports import feed_url
from web.pages.forms import dangerous, fix_link
from web.pages.responses import PAGE_RESPONSES
from web.refusals import how_to_fix, overdue_words, sentence
from web.report_form import CONTRIBUTIONS, QUESTIONS, TEXTS
from web.routing_table import routing_rows
from web.templating import render
from workflow.conventions import funding_year
from workflow.database import read
from workflow.errors import InvalidInput, NotFound, TransitionRefused, Unmet
from workflow.failures import project_failure
from workflow.lifecycle import BUILTIN_TRIGGERS
from workflow.read_models.board import indicator_rows, project_board, received_reports
from workflow.read_models.detail import milestone_completions
from workflow.read_models.documents import project_documents
from workflow.read_models.plan import plan_of
from workflow.read_models.portfolio import Filters, phase_counts, portfolio, territories

router = APIRouter(default_response_class=HTMLResponse, responses=PAGE_RESPONSES)

BUILTIN_LABELS = {
    "suspend": "Suspendre le projet",
    "resume": "Reprendre le projet",
    "abandon": "Abandonner le projet",
}


HISTORY_LABELS = {
    "create": "Création du projet",
    "migrate": "Passage à la nouvelle version du programme",
}
"""The history's own steps, besides the programme's and the built-in ones (shown by label)."""


def _unmet(unmet: list[Unmet], lang: str, project_id: int) -> list[dict[str, Any]]:
    """Each unmet condition in the page's language, with how to meet it and the form that
    does (none when a partner must act)."""
    return [
        {
            "text": sentence(u, lang),
            "fix": how_to_fix(u, lang),
            "upload": u.subject if u.fix == "upload_deliverable" else None,
            "url": (
                f"/projects/{project_id}/documents?target=milestone:{u.subject}#deposer"
                if u.fix == "upload_deliverable"
                else fix_link(project_id, u)
            ),
        }
        for u in unmet
    ]


MONTHS = {
    "fr": [
        "janv.",
        "févr.",
        "mars",
        "avr.",
        "mai",
        "juin",
        "juil.",
        "août",
        "sept.",
        "oct.",
        "nov.",
        "déc.",
    ],
    "en": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
}


def page_context(request: Request) -> dict[str, Any]:
    """Helpers of the list templates: ``qs("page", 3)`` rebuilds the current query string
    with one parameter changed; ``num(33140)`` writes a count the French way."""
    lang = i18n.language(request)

    def qs(key: str, value: Any) -> str:
        params = {k: v for k, v in request.query_params.items() if k != "lang"}
        if key.endswith("page") and str(value) == "1":
            params.pop(key, None)
        else:
            params[key] = str(value)
        return "?" + urlencode(params)

    def num(value: int) -> str:
        text = f"{value:,}"
        return text.replace(",", "\u202f") if lang == "fr" else text

    return {"qs": qs, "num": num, "months": MONTHS.get(lang, MONTHS["fr"])}


def filter_options(c: Any, filters: Filters, lang: str = "fr") -> dict[str, Any]:
    """Choices of the filter form: programmes, territories, phases (of the chosen programme),
    in the reader's language."""
    definitions = c.registry.latest()
    phases: list[tuple[str, str]] = []
    seen = set()
    for d in definitions:
        if filters.programme and d.id != filters.programme:
            continue
        for p in d.phases:
            if p.key not in seen:
                seen.add(p.key)
                label = d.phase_label(p.key, lang)
                phases.append(
                    (p.key, label if filters.programme else f"{label} ({d.title_in(lang)})")
                )
    phases += [(key, definitions[0].phase_label(key, lang)) for key in ("suspendu", "abandonne")]
    return {
        "programmes": [(d.id, d.title_in(lang)) for d in definitions],
        "territories": territories(c.engine),
        "phases": phases,
    }


def read_filters(programme: str, territory: str, phase: str) -> Filters:
    return Filters(
        form_line(programme, "programme", 64),
        form_line(territory, "territory", 200),
        form_line(phase, "phase", 64),
    )


@router.get("/projects")
def project_list(
    request: Request,
    user: PageUser,
    c: CopiloteDep,
    accounts: AccountsDep,
    programme: str = "",
    territory: str = "",
    phase: str = "",
    page: str = "1",
) -> Response:
    filters = read_filters(programme, territory, phase)
    readable = accounts.readable(user)
    projects = portfolio(c.engine, c.engine.today(), filters, page_number(page), readable=readable)
    return render(
        request,
        "projects.html",
        {
            "projects": projects,
            "filters": filters,
            "counts": phase_counts(c.engine, filters, readable),
            **page_context(request),
            **filter_options(c, filters, i18n.language(request)),
        },
    )


def _triggers(c: Any, board: Any, lang: str) -> list[dict[str, Any]]:
    project = board.project
    lifecycle = c.engine.lifecycle(project.definition_id, project.definition_version)
    found = []
    for trigger in lifecycle.triggers_from(project.phase):
        transition = lifecycle.transition(trigger, project.phase)
        if transition is not None:
            label = transition.label_en if lang == "en" else transition.label
            dest = board.definition.phase_label(transition.dest, lang)
            needs_comment = transition.comment_required
            automatic = transition.automatic is not None
        else:
            label = BUILTIN_LABELS.get(trigger, trigger)
            dest = ""
            needs_comment = trigger in ("suspend", "abandon")
            automatic = False
        found.append(
            {
                "trigger": trigger,
                "label": label,
                "dest": dest,
                "builtin": trigger in BUILTIN_TRIGGERS,
                "dangerous": dangerous(
                    board.definition,
                    project.phase,
                    trigger,
                    transition.dest if transition is not None else None,
                ),
                "needs_comment": needs_comment,
                "automatic": automatic,
                "missing": _unmet(c.engine.check(project.id, trigger), lang, project.id),
            }
        )
    # The forward steps first; suspending, abandoning and steps back after them, apart.
    return sorted(found, key=lambda t: bool(t["dangerous"]))


def show_project(
    request: Request,
    c: Any,
    user: Any,
    project_id: int,
    *,
    refused: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    accounts = c.accounts
    accounts.check_read(user, project_id)
    board = project_board(c.engine, c.renderer, project_id)
    lang = i18n.language(request)
    can_act = project_id in accounts.piloted(user)
    with read(c.db) as conn:
        completions = milestone_completions(conn, project_id)
        failure = project_failure(conn, project_id)
        documents = project_documents(conn, project_id)
    year_of = funding_year(board.definition, board.project.start_date, board.today)
    return render(
        request,
        "project.html",
        {
            "b": board,
            "p": board.project,
            "can_act": can_act,
            "triggers": _triggers(c, board, lang) if can_act else [],
            "comment_limit": MAX_LENGTH["comment"],  # the step's confirmation (form "step")
            "refused": refused,
            "failure": failure,
            "alerts": [
                {
                    "label": overdue_words(a, lang),
                    "since": a.since,
                    "responsible": a.responsible,
                }
                for a in board.alerts
            ],
            "reports": received_reports(c.engine, project_id),
            "completions": completions,
            "questions": QUESTIONS,
            "contributions": CONTRIBUTIONS,
            "texts": TEXTS,
            "feed_url": feed_url(c, project_id, user),
            "year": board.today.year,
            "funding_year": say("funding.year", lang, n=year_of[0], m=year_of[1])
            if year_of
            else None,
            "plan_rows": indicator_rows(plan_of(c.engine, project_id), board.today.year),
            "series_keys": [(s.key, s.label) for s in board.definition.meetings],
            "today_iso": board.today.isoformat(),
            "instrument_words": say(
                f"convention.instrument.{board.funding_instrument or 'unknown'}", lang
            ),
            "documents": documents,
            "document_kinds": KINDS,
            "milestone_files": {d.subject: d for d in documents if d.attached_to == "milestone"},
            "routing": routing_rows(board.definition, lang),
            "routing_words": {
                key: say(f"routing.{key}", lang)
                for key in ("title", "kind", "audience", "overridden")
            },
            "trigger_labels": {
                **HISTORY_LABELS,
                **RECORD_LABELS,
                **BUILTIN_LABELS,
                **{t.trigger: t.label for t in board.definition.transitions},
            },
            **page_context(request),
        },
        status_code=status_code,
    )


@router.get("/projects/{project_id}")
def project_page(request: Request, project_id: PageId, user: PageUser, c: CopiloteDep) -> Response:
    return show_project(request, c, user, project_id)


def _path(project_id: int, anchor: str = "") -> str:
    return f"/projects/{project_id}{'#' + anchor if anchor else ''}"


def _actor(user: Any) -> str:
    return str(user.name or user.email)


@router.post("/projects/{project_id}/advance", dependencies=[CsrfForm])
def advance(
    request: Request,
    project_id: PageId,
    user: PageUser,
    c: CopiloteDep,
    trigger: Annotated[str, Form()],
    comment: Annotated[str, Form()] = "",
    expected_phase: Annotated[str, Form()] = "",
    form_token: Annotated[str, Form()] = "",
) -> Response:
    c.accounts.check_act(user, project_id)
    trigger = form_line(trigger, "trigger", 64)

    def act() -> str | Response:
        try:
            c.engine.advance(
                project_id,
                trigger,
                actor=_actor(user),
                comment=form_text(comment, "comment", MAX_LENGTH["comment"]) or None,
                expected_phase=form_line(expected_phase, "expected_phase", 64) or None,
            )
        except TransitionRefused as refused:
            lang = i18n.language(request)
            return show_project(
                request,
                c,
                user,
                project_id,
                refused={
                    "trigger": trigger,
                    "unmet": _unmet(refused.unmet, lang, project_id),
                    "how_to_fix": say("refusal.how_to_fix", lang),
                    "comment": comment,
                },
                status_code=409,
            )
        return "Étape enregistrée."

    return once(request, c, user, form_token, _path(project_id, "avancement"), act)


@router.post("/projects/{project_id}/milestones/{key}/done", dependencies=[CsrfForm])
def milestone_done(
    request: Request,
    project_id: PageId,
    key: str,
    user: PageUser,
    c: CopiloteDep,
    deliverable_ref: Annotated[str, Form()] = "",
    form_token: Annotated[str, Form()] = "",
) -> Response:
    c.accounts.check_act(user, project_id)

    def act() -> str:
        c.records.milestone_done(
            project_id,
            form_line(key, "key", 64),
            by=_actor(user),
            deliverable_ref=form_line(
                deliverable_ref, "deliverable_ref", MAX_LENGTH["deliverable_ref"]
            )
            or None,
        )
        return "Jalon enregistré comme fait."

    return once(request, c, user, form_token, _path(project_id, "tableau"), act)


@router.post("/projects/{project_id}/meetings", dependencies=[CsrfForm])
def schedule_meeting(
    request: Request,
    project_id: PageId,
    user: PageUser,
    c: CopiloteDep,
    series: Annotated[str, Form()],
    starts_at: Annotated[str, Form()],
    occurrence: Annotated[str, Form()] = "",
    location: Annotated[str, Form()] = "",
    form_token: Annotated[str, Form()] = "",
) -> Response:
    c.accounts.check_act(user, project_id)

    def act() -> str:
        c.records.schedule_meeting(
            project_id,
            form_line(series, "series", 64),
            form_instant(starts_at, "starts_at"),
            occurrence=form_line(occurrence, "occurrence", 64) or None,
            location=form_line(location, "location", MAX_LENGTH["location"]),
        )
        return "Réunion planifiée : les invitations partent."

    return once(request, c, user, form_token, _path(project_id, "reunions"), act)


@router.post("/projects/{project_id}/meetings/held", dependencies=[CsrfForm])
def meeting_held(
    request: Request,
    project_id: PageId,
    user: PageUser,
    c: CopiloteDep,
    meeting: Annotated[str, Form()] = "",
    held_on: Annotated[str, Form()] = "",
    minutes_ref: Annotated[str, Form()] = "",
    form_token: Annotated[str, Form()] = "",
) -> Response:
    """``meeting``: the id of an expected or planned meeting, or ``series:<key>`` for a new one."""
    c.accounts.check_act(user, project_id)
    meeting_id: int | None = None
    series: str | None = None
    meeting = form_line(meeting, "meeting", 80)
    if meeting.startswith("series:"):
        series = meeting.removeprefix("series:")
    elif meeting.isdigit():
        meeting_id = form_id(meeting, "meeting")
        if meeting_id is None:
            raise NotFound("meeting", meeting[:20])
    else:
        raise InvalidInput("meeting", "choose the meeting that was held")

    def act() -> str:
        c.records.meeting_held(
            project_id,
            meeting_id=meeting_id,
            series=series,
            held_on=form_day(held_on, "held_on"),
            minutes_ref=form_line(minutes_ref, "minutes_ref", MAX_LENGTH["minutes_ref"]) or None,
        )
        return "Réunion enregistrée comme tenue."

    return once(request, c, user, form_token, _path(project_id, "reunions"), act)


i18n.register(
    {
        "Travail automatique en échec": "Automatic work failing",
        "Le travail automatique de ce projet (étapes automatiques, rappels) a échoué le": (
            "The automatic work of this project (automatic steps, reminders) failed on"
        ),
        "les autres projets ne sont pas touchés.": "the other projects are not affected.",
        "Réponses des invités": "Invitees' answers",
        "Présents": "Attending",
        "Absents": "Not attending",
        "Projets": "Projects",
        "Programme": "Programme",
        "Territoire": "Territory",
        "Phase": "Phase",
        "Tous": "All",
        "Toutes": "All",
        "Filtrer": "Filter",
        "Projet": "Project",
        "Prochaine échéance": "Next deadline",
        "Retards": "Overdue",
        "Aucun projet.": "No project.",
        "Page": "Page",
        "sur": "of",
        "Précédente": "Previous",
        "Suivante": "Next",
        "Projets par phase": "Projects per phase",
        "Démarrage": "Start",
        "Financement": "Funding",
        "Convention": "Agreement",
        "Alertes": "Alerts",
        "depuis le": "since",
        "Avancement": "Phase",
        "Phase actuelle": "Current phase",
        "Conditions à remplir": "Conditions to meet",
        "Étape refusée": "Step refused",
        "Il manque :": "Missing:",
        "Commentaire": "Comment",
        "obligatoire": "required",
        "automatique à l'échéance": "automatic when due",
        "vers": "to",
        "Aucune étape possible depuis cette phase.": "No step possible from this phase.",
        "Seuls les pilotes du projet peuvent le faire avancer.": "Only the project's pilots may advance it.",
        "Tableau de bord du projet": "Project dashboard",
        "Étapes": "Steps",
        "Qui ? Responsable": "Who? Responsible",
        "Date début": "Start date",
        "Date fin": "End date",
        "Livrables": "Deliverables",
        "en cours": "current",
        "fait le": "done on",
        "enregistré par": "recorded by",
        "correction :": "correction:",
        "rouvert :": "reopened:",
        "jours de retard": "days late",
        "reporté du": "moved from",
        "Réf. du livrable": "Deliverable reference",
        "Marquer fait": "Mark done",
        "Partenaires et rôles": "Partners and roles",
        "Structure": "Organisation",
        "Contact": "Contact",
        "Rôles": "Roles",
        "Arrivée": "Joined",
        "Départ": "Leaves",
        "Réunions": "Meetings",
        "Instance": "Body",
        "Prévues": "Planned",
        "Tenues": "Held",
        "Annulées": "Cancelled",
        "Réunion": "Meeting",
        "Statut": "Status",
        "Date": "Date",
        "Lieu": "Place",
        "attendue": "expected",
        "prévue": "planned",
        "tenue": "held",
        "annulée": "cancelled",
        "Planifier une réunion": "Schedule a meeting",
        "Série": "Series",
        "Occurrence (facultatif)": "Occurrence (optional)",
        "aucune": "none",
        "Début": "Start",
        "Planifier": "Schedule",
        "Enregistrer une réunion tenue": "Record a meeting held",
        "nouvelle réunion :": "new meeting:",
        "Tenue le": "Held on",
        "Réf. du compte rendu": "Minutes reference",
        "Enregistrer": "Record",
        "Indicateurs": "Indicators",
        "Indicateur": "Indicator",
        "Type": "Kind",
        "Prévu": "Planned",
        "Réalisé": "Realised",
        "Explication des écarts": "Explanation of gaps",
        "Mesure corrective": "Corrective measure",
        "processus": "process",
        "activité": "activity",
        "résultat": "result",
        "Aucun indicateur.": "No indicator.",
        "Budget": "Budget",
        "Ligne": "Line",
        "Dépensé": "Spent",
        "Prévision": "Forecast",
        "Écart": "Variance",
        "Bilans reçus": "Reports received",
        "Partenaire": "Partner",
        "Période": "Period",
        "Transmis le": "Sent on",
        "Aucun bilan reçu.": "No report received.",
        "Historique": "History",
        "Qui": "Who",
        "Étape": "Step",
        "Messages envoyés": "Messages sent",
        "Destinataire": "Recipient",
        "Objet": "Subject",
        "Tentatives": "Attempts",
        "Envoyé le": "Sent on",
        "Erreur": "Error",
        "en attente": "pending",
        "en cours d'envoi": "sending",
        "envoyé": "sent",
        "échec": "failed",
        "regroupé avec d'autres avis": "merged with other notices",
        "Aucun message.": "No message.",
        "les plus récents sur": "most recent of",
        "Exports": "Exports",
        "Rapport annuel (CSV)": "Annual report (CSV)",
        "Rapport annuel (Excel)": "Annual report (Excel)",
        "Agenda du projet (iCalendar)": "Project calendar (iCalendar)",
        "Adresse d'abonnement pour votre agenda (personnelle, ne la partagez pas) :": "Subscription address for your calendar app (personal, do not share it):",
        "Détails": "Details",
        "Lancer": "Go",
        "Aucun partenaire.": "No partner.",
        "Aucune réunion.": "No meeting.",
        "Jalon": "Milestone",
        "Suspendre le projet": "Suspend the project",
        "Création du projet": "Project created",
        "Passage à la nouvelle version du programme": "Moved to the programme's new version",
        "Reprendre le projet": "Resume the project",
        "Abandonner le projet": "Abandon the project",
        "non": "no",
        "oui": "yes",
        "terminée": "finished",
        "en retard": "late",
        "à venir": "to come",
        "début de la phase": "start of the phase",
        "phase en cours ou réalisée": "phase under way or done",
        "phase prévue": "planned phase",
        "échéance du jalon": "milestone due",
        "jalon fait": "milestone done",
        "jalon en retard": "milestone late",
        "Étape suivante\u202f:": "Next phase:",
        "prévue à partir du": "planned from",
        "En retard\u202f: à traiter d'abord": "Late: deal with these first",
        "En retard": "Late",
        "échéance le": "due on",
        "Prochaine étape": "Next step",
        "Légende": "Key",
        "dates calculées avec les durées du programme, marquées *": "dates computed from the programme's durations, marked *",
        "Aujourd'hui\u202f:": "Today:",
        "aujourd'hui": "today",
        "trait vertical": "vertical line",
        "Tableau de bord du projet, défilable": "Project dashboard, scrollable",
        "Étapes et jalons du projet, avec leurs dates et un calendrier par mois": (
            "The project's phases and milestones, with their dates and a calendar by month"
        ),
        "fait": "done",
        "Réunions par instance": "Meetings per body",
        "Liste des réunions": "List of meetings",
        "Motif\u202f:": "Reason:",
        "départ": "leaving",
        "prévu et réalisé": "planned and realised",
        "Plan d'actions : prévu et réalisé": "Action plan: planned and realised",
        "Indicateurs des fiches-actions": "Indicators of the action sheets",
        "Objectif": "Objective",
        "Fiche-action": "Action sheet",
        "État": "State",
        "en deçà du prévu": "below plan",
        "à renseigner": "to be filled in",
        "atteint": "reached",
        "Aucun indicateur de fiche-action pour cette année.": (
            "No action-sheet indicator for this year."
        ),
        "Voir le plan d'actions": "See the action plan",
        "Indicateurs du projet": "Indicators of the project",
        "Lignes de budget": "Budget lines",
        "Aucune ligne de budget.": "No budget line.",
        "Bilans reçus des partenaires": "Reports received from the partners",
        "Historique des étapes, le plus récent d'abord": "History of the steps, latest first",
        "Messages envoyés, le plus récent d'abord": "Messages sent, latest first",
    }
)
