"""A web form for every action the CLI and the API offer, on a project's page.

Each form is declared as data (``web.forms.Form``: the meetings' in ``meeting_forms.py``,
the other records' in ``record_forms.py``, a dangerous step's confirmation here) and only
calls the function of ``workflow.records`` (or the engine) that the API's route calls: the
rules stay there. The routes are two, for every form: ``GET /projects/{id}/forms/{name}``
shows it (pre-filled from the query string: ``?meeting=12``, ``?milestone=cadrage``...),
``POST`` the same path runs it through ``web.forms.run_form`` (CSRF, validation,
idempotency, confirmation banner).

:func:`fix_link` gives, for an unmet condition of a refused step, the form that meets it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from web import i18n
from web.bounds import PageId
from web.deps import CopiloteDep, CsrfForm, PageUser
from web.forms import Form, Input, Invalid, run_form, show_form
from web.pages.form_context import Context
from web.pages.meeting_forms import (
    meeting_cancel_form,
    meeting_held_form,
    meeting_move_form,
    meeting_schedule_form,
)
from web.pages.plan_entry_forms import (
    action_form,
    meeting_note_form,
    objective_form,
    plan_indicator_form,
)
from web.pages.plan_forms import budget_line_form, funding_share_form
from web.pages.record_forms import (
    budget_add_form,
    budget_edit_form,
    decision_form,
    indicator_form,
    milestone_done_form,
    milestone_reopen_form,
    partner_add_form,
    partner_leave_form,
)
from web.refusals import sentence
from workflow.database import read
from workflow.definition import Definition
from workflow.errors import NotFound, TransitionRefused, Unmet
from workflow.lifecycle import BUILTIN_TRIGGERS
from workflow.read_models.detail import project_detail

__all__ = ["DANGEROUS_BUILTINS", "dangerous", "fix_link", "form_url", "router"]

router = APIRouter()

DANGEROUS_BUILTINS = ("suspend", "abandon")


def form_url(project_id: int, name: str, **query: str) -> str:
    params = "&".join(f"{k}={v}" for k, v in query.items())
    return f"/projects/{project_id}/forms/{name}" + (f"?{params}" if params else "")


def fix_link(project_id: int, unmet: Unmet) -> str | None:
    """The form that meets an unmet condition, pre-filled; none when a partner must act."""
    if unmet.fix == "record_milestone":
        return form_url(project_id, "milestone_done", milestone=unmet.subject)
    if unmet.fix == "record_meeting":
        kind = "occurrence" if unmet.kind == "occurrence_not_held" else "series"
        return form_url(project_id, "meeting_held", **{kind: unmet.subject})
    if unmet.fix == "record_decision":
        return form_url(project_id, "decision", key=unmet.subject)
    if unmet.fix == "add_partner":
        return form_url(project_id, "partner_add")
    return None


def dangerous(definition: Definition, source: str, trigger: str, dest: str | None) -> bool:
    """Suspending, abandoning, and a step back to an earlier phase."""
    if trigger in DANGEROUS_BUILTINS:
        return True
    if trigger in BUILTIN_TRIGGERS or dest is None:
        return False
    order = [p.key for p in definition.phases]
    return source in order and dest in order and order.index(dest) < order.index(source)


def step_form(ctx: Context) -> Form:
    """The confirmation of a dangerous step (suspend, abandon, a step back)."""
    from web.pages.project import BUILTIN_LABELS
    from workflow.definition import in_language

    lifecycle = ctx.c.engine.lifecycle(ctx.project.definition_id, ctx.project.definition_version)
    phase = ctx.project.phase
    choices = []
    for trigger in lifecycle.triggers_from(phase):
        t = lifecycle.transition(trigger, phase)
        dest = t.dest if t is not None else None
        if dangerous(ctx.definition, phase, trigger, dest):
            label = (
                in_language(t.label, t.label_en, ctx.lang)
                if t is not None
                else BUILTIN_LABELS[trigger]
            )
            choices.append((trigger, label))

    def act(v: dict[str, Any]) -> str:
        try:
            ctx.c.engine.advance(
                ctx.pid,
                v["trigger"],
                actor=ctx.actor,
                comment=v["comment"],
                expected_phase=phase,
            )
        except TransitionRefused as refused:
            raise Invalid(
                "trigger",
                "refusé : {reason}",
                reason="; ".join(sentence(u, ctx.lang) for u in refused.unmet),
            ) from None
        return "Étape enregistrée."

    return Form(
        "step",
        "Confirmer l'étape",
        [
            Input("trigger", "Étape", "choice", True, choices, ctx.query.get("trigger", "")),
            Input("comment", "Pourquoi ? (obligatoire)", "text", True),
            Input("confirm", "Confirmation", "checks", True, [("yes", "Je confirme cette étape")]),
        ],
        "Confirmer",
        act,
        intro="Cette étape suspend, abandonne ou fait revenir le projet en arrière : elle est enregistrée dans l'historique et les membres du projet sont prévenus.",
        danger=True,
        anchor="avancement",
    )


FORMS: dict[str, Callable[[Context], Form]] = {
    "decision": decision_form,
    "partner_add": partner_add_form,
    "partner_leave": partner_leave_form,
    "indicator": indicator_form,
    "budget_add": budget_add_form,
    "budget_edit": budget_edit_form,
    "budget_line": budget_line_form,
    "funding_share": funding_share_form,
    "objective": objective_form,
    "action": action_form,
    "plan_indicator": plan_indicator_form,
    "meeting_note": meeting_note_form,
    "meeting_schedule": meeting_schedule_form,
    "meeting_move": meeting_move_form,
    "meeting_cancel": meeting_cancel_form,
    "meeting_held": meeting_held_form,
    "milestone_done": milestone_done_form,
    "milestone_reopen": milestone_reopen_form,
    "step": step_form,
}


def _context(request: Request, c: Any, user: Any, project_id: int) -> Context:
    c.accounts.check_act(user, project_id)
    with read(c.db) as conn:
        project = project_detail(c.engine, conn, project_id)
    definition = c.engine.shown_definition(project.definition_id, project.definition_version)
    query = {k: v[:100] for k, v in request.query_params.items()}
    return Context(c, user, project, definition, i18n.language(request), query)


def _build(name: str, ctx: Context) -> Form:
    builder = FORMS.get(name)
    if builder is None:
        raise NotFound("form", name[:40])
    return builder(ctx)


@router.get("/projects/{project_id}/forms/{name}")
def form_page(
    request: Request, project_id: PageId, name: str, user: PageUser, c: CopiloteDep
) -> Response:
    ctx = _context(request, c, user, project_id)
    return show_form(request, _build(name, ctx), ctx.project)


@router.post("/projects/{project_id}/forms/{name}", dependencies=[CsrfForm])
async def form_post(
    request: Request, project_id: PageId, name: str, user: PageUser, c: CopiloteDep
) -> Response:
    ctx = await run_in_threadpool(_context, request, c, user, project_id)
    form = _build(name, ctx)
    back = form.extra.get("back") or (
        f"/projects/{project_id}" + (f"#{form.anchor}" if form.anchor else "")
    )
    return await run_form(request, c, user, form, ctx.project, back)


i18n.register(
    {
        "la date ne peut pas être dans le futur": "the date cannot be in the future",
        "la date ne peut pas être passée": "the date cannot be in the past",
        "une adresse e-mail contient @": "an email address contains @",
        "à remplir pour un nouvel indicateur": "required for a new indicator",
        "Enregistrer une décision": "Record a decision",
        "Décision": "Decision",
        "Texte de la décision (facultatif)": "Text of the decision (optional)",
        "Prise le": "Taken on",
        "Enregistrer la décision": "Record the decision",
        "Décision enregistrée.": "Decision recorded.",
        "Ajouter un partenaire": "Add a partner",
        "Personne à contacter": "Contact person",
        "Arrivée le": "Joins on",
        "Ajouter le partenaire": "Add the partner",
        "Partenaire ajouté.": "Partner added.",
        "Départ d'un partenaire": "A partner leaves",
        "Part le": "Leaves on",
        "Laissez vide : il part à l'échéance annuelle de la convention.": (
            "Leave empty: they leave at the agreement's annual deadline."
        ),
        "Enregistrer le départ": "Record the departure",
        "Départ du partenaire enregistré.": "Partner's departure recorded.",
        "Un partenaire quitte le projet à l'échéance annuelle de la convention, sauf date donnée.": (
            "A partner leaves the project at the agreement's annual deadline, unless a date is given."
        ),
        "Saisir un indicateur": "Enter an indicator",
        "nouvel indicateur": "new indicator",
        "Libellé": "Label",
        "Unité": "Unit",
        "par exemple : personnes, ateliers": "for example: people, workshops",
        "par exemple : 2026, T3 2026": "for example: 2026, Q3 2026",
        "Enregistrer l'indicateur": "Record the indicator",
        "Indicateur enregistré.": "Indicator recorded.",
        "Prévu (€)": "Planned (€)",
        "Dépensé (€)": "Spent (€)",
        "Prévision (€)": "Forecast (€)",
        "Ajouter une ligne de budget": "Add a budget line",
        "Ajouter": "Add",
        "Ligne de budget ajoutée.": "Budget line added.",
        "Modifier une ligne de budget": "Edit a budget line",
        "Ligne à modifier": "Line to edit",
        "Ligne de budget modifiée.": "Budget line edited.",
        "Réunion attendue (facultatif)": "Expected meeting (optional)",
        "Réunion planifiée : les invitations partent.": "Meeting scheduled: the invitations are on their way.",
        "Déplacer une réunion": "Move a meeting",
        "Nouveau début": "New start",
        "Laissez vide pour garder le lieu.": "Leave empty to keep the place.",
        "Déplacer": "Move",
        "Réunion déplacée : les invités sont prévenus.": "Meeting moved: the invitees are told.",
        "Annuler une réunion": "Cancel a meeting",
        "Motif de l'annulation": "Reason for cancelling",
        "Annuler la réunion": "Cancel the meeting",
        "Les invités reçoivent l'annulation. Une réunion annulée ne compte plus.": (
            "The invitees receive the cancellation. A cancelled meeting no longer counts."
        ),
        "Réunion annulée : les invités sont prévenus.": "Meeting cancelled: the invitees are told.",
        "Cochés d'avance : ceux qui ont répondu « présent » à l'invitation.": (
            "Ticked in advance: those who answered “attending” to the invitation."
        ),
        "Réunion enregistrée comme tenue.": "Meeting recorded as held.",
        "Marquer un jalon comme fait": "Mark a milestone done",
        "Fait le": "Done on",
        "Jalon enregistré comme fait.": "Milestone recorded as done.",
        "Rouvrir un jalon": "Reopen a milestone",
        "Pourquoi le rouvrir ?": "Why reopen it?",
        "Rouvrir le jalon": "Reopen the milestone",
        "Le jalon redevient à faire ; ses rappels à venir reprennent.": (
            "The milestone is to do again; its coming reminders resume."
        ),
        "Jalon rouvert.": "Milestone reopened.",
        "Confirmer l'étape": "Confirm the step",
        "Confirmer l'étape : {step}": "Confirm the step: {step}",
        "Pourquoi ? (obligatoire)": "Why? (required)",
        "Confirmation": "Confirmation",
        "Je confirme cette étape": "I confirm this step",
        "Confirmer": "Confirm",
        "Cette étape suspend, abandonne ou fait revenir le projet en arrière : elle est enregistrée dans l'historique et les membres du projet sont prévenus.": (
            "This step suspends, abandons or takes the project back: it is recorded in the "
            "history and the project's members are told."
        ),
        "Étape enregistrée.": "Step recorded.",
        "Autres étapes (confirmation et commentaire demandés) :": (
            "Other steps (confirmation and comment required):"
        ),
        "modifier": "edit",
        "rouvrir": "reopen",
        "déplacer": "move",
        "annuler": "cancel",
        "planifier": "schedule",
        "tenue : saisir les présences": "held: enter attendance",
        "Le formulaire n'a pas été enregistré :": "The form was not recorded:",
        "— choisir —": "— choose —",
        "Retour au projet": "Back to the project",
        "(déjà enregistré : ce formulaire a été envoyé deux fois, il n'a pas été répété)": (
            "(already recorded: this form was sent twice, it was not repeated)"
        ),
    }
)
