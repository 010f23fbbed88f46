"""A web form for every action the CLI and the API offer, on a project's page.

Each form is declared here as data (``web.forms.Form``) and only calls the function of
``workflow.records`` (or the engine) that the API's route calls: the rules stay there. The
routes are two, for every form: ``GET /projects/{id}/forms/{name}`` shows it (pre-filled from
the query string: ``?meeting=12``, ``?milestone=cadrage``...), ``POST`` the same path runs it
through ``web.forms.run_form`` (CSRF, validation, idempotency, confirmation banner).

:func:`fix_link` gives, for an unmet condition of a refused step, the form that meets it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from web import i18n
from web.bounds import PageId
from web.deps import CopiloteDep, CsrfForm, PageUser
from web.forms import Form, Input, Invalid, run_form, show_form
from web.refusals import sentence
from workflow import tables
from workflow.database import read
from workflow.definition import Definition
from workflow.engine import PartnerIn
from workflow.errors import NotFound, TransitionRefused, Unmet
from workflow.lifecycle import BUILTIN_TRIGGERS
from workflow.read_models.detail import ProjectDetail, project_detail

__all__ = ["DANGEROUS_BUILTINS", "dangerous", "fix_link", "form_url", "router"]

router = APIRouter()
PARIS = ZoneInfo("Europe/Paris")

DANGEROUS_BUILTINS = ("suspend", "abandon")
INDICATOR_KINDS = [("process", "processus"), ("activity", "activité"), ("result", "résultat")]


@dataclass(frozen=True)
class Context:
    """What a form is built from: the system, who acts, the project as it is now."""

    c: Any
    user: Any
    project: ProjectDetail
    definition: Definition
    lang: str
    query: Mapping[str, str]

    @property
    def pid(self) -> int:
        return self.project.id

    @property
    def actor(self) -> str:
        return str(self.user.name or self.user.email)

    @property
    def today(self) -> date:
        return self.project.today


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


def _not_after_today(ctx: Context, name: str, day: date | None) -> date | None:
    if day is not None and day > ctx.today:
        raise Invalid(name, "la date ne peut pas être dans le futur")
    return day


def _not_before_today(ctx: Context, name: str, day: date | None) -> date | None:
    if day is not None and day < ctx.today:
        raise Invalid(name, "la date ne peut pas être passée")
    return day


def _meeting_choices(ctx: Context, statuses: tuple[str, ...]) -> list[tuple[str, str]]:
    return [
        (
            str(m.id),
            m.label + (f" ({m.starts_at.astimezone(PARIS):%d/%m/%Y %H:%M})" if m.starts_at else ""),
        )
        for m in ctx.project.meetings
        if m.status in statuses
    ]


# -- the forms -------------------------------------------------------------------------------
def decision_form(ctx: Context) -> Form:
    choices = [
        (d.key, ctx.definition.decision_label(d.key, ctx.lang)) for d in ctx.definition.decisions
    ]

    def act(v: dict[str, Any]) -> str:
        on = _not_after_today(ctx, "on", v["on"])
        ctx.c.records.record_decision(ctx.pid, v["key"], by=ctx.actor, text=v["text"] or "", on=on)
        return "Décision enregistrée."

    return Form(
        "decision",
        "Enregistrer une décision",
        [
            Input("key", "Décision", "choice", True, choices, ctx.query.get("key", "")),
            Input("text", "Texte de la décision (facultatif)", "text"),
            Input("on", "Prise le", "day", value=ctx.today.isoformat()),
        ],
        "Enregistrer la décision",
        act,
        anchor="avancement",
    )


def partner_add_form(ctx: Context) -> Form:
    roles = [(r.key, r.label) for r in ctx.definition.roles if r.key not in ("agency", "pilot")]

    def act(v: dict[str, Any]) -> str:
        if "@" not in v["email"]:
            raise Invalid("email", "une adresse e-mail contient @")
        ctx.c.records.add_partner(
            ctx.pid,
            PartnerIn(v["organisation"], v["email"], v["contact_name"], tuple(v["roles"])),
            v["joined_on"],
        )
        return "Partenaire ajouté."

    return Form(
        "partner_add",
        "Ajouter un partenaire",
        [
            Input("organisation", "Structure", required=True),
            Input("contact_name", "Personne à contacter"),
            Input("email", "Adresse e-mail", required=True),
            Input("roles", "Rôles", "checks", True, roles, ["partner"]),
            Input("joined_on", "Arrivée le", "day", value=ctx.today.isoformat()),
        ],
        "Ajouter le partenaire",
        act,
        anchor="partenaires",
    )


def partner_leave_form(ctx: Context) -> Form:
    active = [(str(p.id), p.organisation) for p in ctx.project.partners if p.left_on is None]

    def act(v: dict[str, Any]) -> str:
        on = _not_before_today(ctx, "on", v["on"])
        ctx.c.records.partner_leaves(ctx.pid, int(v["partner"]), on=on)
        return "Départ du partenaire enregistré."

    return Form(
        "partner_leave",
        "Départ d'un partenaire",
        [
            Input("partner", "Partenaire", "choice", True, active, ctx.query.get("partner", "")),
            Input(
                "on",
                "Part le",
                "day",
                hint="Laissez vide : il part à l'échéance annuelle de la convention.",
            ),
        ],
        "Enregistrer le départ",
        act,
        intro="Un partenaire quitte le projet à l'échéance annuelle de la convention, sauf date donnée.",
        anchor="partenaires",
    )


def _slug(label: str, taken: set[str]) -> str:
    ascii_text = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_")[:50] or "indicateur"
    if not base[0].isalpha():
        base = "i_" + base
    key, n = base, 2
    while key in taken:
        key, n = f"{base}_{n}", n + 1
    return key


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}".replace(".", ",")


def indicator_form(ctx: Context) -> Form:
    existing = {i.key: i for i in ctx.project.indicators}
    chosen = existing.get(ctx.query.get("indicator", ""))

    def act(v: dict[str, Any]) -> str:
        key = v["indicator"]
        if not key:
            if not v["label"]:
                raise Invalid("label", "à remplir pour un nouvel indicateur")
            if not v["kind"]:
                raise Invalid("kind", "à remplir pour un nouvel indicateur")
            key = _slug(v["label"], set(existing))
        ctx.c.records.set_indicator(
            ctx.pid,
            key,
            label=v["label"] or None,
            kind=v["kind"],
            planned=v["planned"],
            realised=v["realised"],
            unit=v["unit"] or None,
            period=v["period"] or None,
            gap_explanation=v["gap_explanation"],
            corrective_measure=v["corrective_measure"],
        )
        return "Indicateur enregistré."

    def val(name: str) -> str:
        if chosen is None:
            return ""
        value = getattr(chosen, name)
        return _number(value) if isinstance(value, float) else str(value or "")

    return Form(
        "indicator",
        "Saisir un indicateur",
        [
            Input(
                "indicator",
                "Indicateur",
                "choice",
                choices=[("", "nouvel indicateur"), *((i.key, i.label) for i in existing.values())],
                value=chosen.key if chosen else "",
            ),
            Input("label", "Libellé", value=val("label")),
            Input("kind", "Type", "choice", choices=INDICATOR_KINDS, value=val("kind")),
            Input("unit", "Unité", value=val("unit"), hint="par exemple : personnes, ateliers"),
            Input("period", "Période", value=val("period"), hint="par exemple : 2026, T3 2026"),
            Input("planned", "Prévu", "number", value=val("planned")),
            Input("realised", "Réalisé", "number", value=val("realised")),
            Input(
                "gap_explanation", "Explication des écarts", "text", value=val("gap_explanation")
            ),
            Input(
                "corrective_measure", "Mesure corrective", "text", value=val("corrective_measure")
            ),
        ],
        "Enregistrer l'indicateur",
        act,
        anchor="indicateurs",
    )


def _euros(cents: int) -> str:
    return f"{cents / 100:.2f}".replace(".", ",")


def _budget_inputs(line: Any) -> list[Input]:
    return [
        Input("label", "Ligne", required=True, value=line.label if line else ""),
        Input(
            "planned", "Prévu (€)", "amount", True, value=_euros(line.planned_cents) if line else ""
        ),
        Input("spent", "Dépensé (€)", "amount", value=_euros(line.spent_cents) if line else "0"),
        Input(
            "forecast",
            "Prévision (€)",
            "amount",
            value=_euros(line.forecast_cents) if line else "0",
        ),
    ]


def budget_add_form(ctx: Context) -> Form:
    def act(v: dict[str, Any]) -> str:
        ctx.c.records.add_budget_line(
            ctx.pid,
            v["label"],
            planned_cents=v["planned"],
            spent_cents=v["spent"] or 0,
            forecast_cents=v["forecast"] or 0,
        )
        return "Ligne de budget ajoutée."

    return Form(
        "budget_add",
        "Ajouter une ligne de budget",
        _budget_inputs(None),
        "Ajouter",
        act,
        anchor="budget",
    )


def budget_edit_form(ctx: Context) -> Form:
    lines = {str(b.id): b for b in ctx.project.budget}
    chosen = lines.get(ctx.query.get("line", ""))

    def act(v: dict[str, Any]) -> str:
        ctx.c.records.edit_budget_line(
            ctx.pid,
            int(v["line"]),
            label=v["label"],
            planned_cents=v["planned"],
            spent_cents=v["spent"] or 0,
            forecast_cents=v["forecast"] or 0,
        )
        return "Ligne de budget modifiée."

    return Form(
        "budget_edit",
        "Modifier une ligne de budget",
        [
            Input(
                "line",
                "Ligne à modifier",
                "choice",
                True,
                [(k, b.label) for k, b in lines.items()],
                str(chosen.id) if chosen else "",
            ),
            *_budget_inputs(chosen),
        ],
        "Enregistrer",
        act,
        anchor="budget",
    )


def meeting_schedule_form(ctx: Context) -> Form:
    series = [(s.key, s.label) for s in ctx.definition.meetings]
    expected = [
        (m.occurrence, m.label)
        for m in ctx.project.meetings
        if m.status == "expected" and m.occurrence
    ]

    def act(v: dict[str, Any]) -> str:
        ctx.c.records.schedule_meeting(
            ctx.pid,
            v["series"],
            v["starts_at"],
            occurrence=v["occurrence"],
            location=v["location"],
        )
        return "Réunion planifiée : les invitations partent."

    return Form(
        "meeting_schedule",
        "Planifier une réunion",
        [
            Input("series", "Série", "choice", True, series, ctx.query.get("series", "")),
            Input(
                "occurrence",
                "Réunion attendue (facultatif)",
                "choice",
                choices=[("", "aucune"), *expected],
                value=ctx.query.get("occurrence", ""),
            ),
            Input("starts_at", "Début", "instant", True),
            Input("location", "Lieu"),
        ],
        "Planifier",
        act,
        anchor="reunions",
    )


def meeting_move_form(ctx: Context) -> Form:
    planned = _meeting_choices(ctx, ("planned",))

    def act(v: dict[str, Any]) -> str:
        ctx.c.records.move_meeting(
            ctx.pid, int(v["meeting"]), v["starts_at"], v["location"] or None
        )
        return "Réunion déplacée : les invités sont prévenus."

    return Form(
        "meeting_move",
        "Déplacer une réunion",
        [
            Input("meeting", "Réunion", "choice", True, planned, ctx.query.get("meeting", "")),
            Input("starts_at", "Nouveau début", "instant", True),
            Input("location", "Lieu", hint="Laissez vide pour garder le lieu."),
        ],
        "Déplacer",
        act,
        anchor="reunions",
    )


def meeting_cancel_form(ctx: Context) -> Form:
    planned = _meeting_choices(ctx, ("planned",))

    def act(v: dict[str, Any]) -> str:
        ctx.c.records.cancel_meeting(ctx.pid, int(v["meeting"]), reason=v["reason"])
        return "Réunion annulée : les invités sont prévenus."

    return Form(
        "meeting_cancel",
        "Annuler une réunion",
        [
            Input("meeting", "Réunion", "choice", True, planned, ctx.query.get("meeting", "")),
            Input("reason", "Motif de l'annulation", "text", True),
        ],
        "Annuler la réunion",
        act,
        intro="Les invités reçoivent l'annulation. Une réunion annulée ne compte plus.",
        danger=True,
        anchor="reunions",
    )


def _yes_answers(ctx: Context, meeting_id: int) -> set[int]:
    with read(ctx.c.db) as conn:
        return set(
            conn.execute(
                sa.select(tables.attendance.c.partner_id).where(
                    tables.attendance.c.meeting_id == meeting_id,
                    tables.attendance.c.answer == "yes",
                )
            ).scalars()
        )


def meeting_held_form(ctx: Context) -> Form:
    opened = _meeting_choices(ctx, ("expected", "planned"))
    new = [(f"series:{s.key}", f"nouvelle réunion : {s.label}") for s in ctx.definition.meetings]
    chosen = ctx.query.get("meeting", "")
    if not chosen and ctx.query.get("occurrence"):
        chosen = next(
            (str(m.id) for m in ctx.project.meetings if m.occurrence == ctx.query["occurrence"]), ""
        )
    if not chosen and ctx.query.get("series"):
        chosen = f"series:{ctx.query['series']}"
    partners = [p for p in ctx.project.partners if p.left_on is None or p.left_on >= ctx.today]
    names = {
        str(p.id): p.organisation + (f" ({p.contact_name})" if p.contact_name else "")
        for p in partners
    }
    present: list[str] = []
    if chosen.isdigit() and len(chosen) < 10:
        yes = _yes_answers(ctx, int(chosen))
        present = [str(p.id) for p in partners if p.id in yes]

    def act(v: dict[str, Any]) -> str:
        held_on = _not_after_today(ctx, "held_on", v["held_on"])
        meeting: str = v["meeting"]
        ctx.c.records.meeting_held(
            ctx.pid,
            meeting_id=int(meeting) if meeting.isdigit() else None,
            series=meeting.removeprefix("series:") if meeting.startswith("series:") else None,
            held_on=held_on,
            attendees=[names[k] for k in v["attendees"]],
            minutes_ref=v["minutes_ref"] or None,
        )
        return "Réunion enregistrée comme tenue."

    return Form(
        "meeting_held",
        "Enregistrer une réunion tenue",
        [
            Input("meeting", "Réunion", "choice", True, [*opened, *new], chosen),
            Input("held_on", "Tenue le", "day", value=ctx.today.isoformat()),
            Input(
                "attendees",
                "Présents",
                "checks",
                choices=list(names.items()),
                value=present,
                hint="Cochés d'avance : ceux qui ont répondu « présent » à l'invitation.",
            ),
            Input("minutes_ref", "Réf. du compte rendu"),
        ],
        "Enregistrer",
        act,
        anchor="reunions",
    )


def milestone_done_form(ctx: Context) -> Form:
    opened = [(m.key, m.label) for m in ctx.project.milestones if m.done_on is None]

    def act(v: dict[str, Any]) -> str:
        on = _not_after_today(ctx, "on", v["on"])
        ctx.c.records.milestone_done(
            ctx.pid,
            v["milestone"],
            by=ctx.actor,
            deliverable_ref=v["deliverable_ref"] or None,
            on=on,
        )
        return "Jalon enregistré comme fait."

    return Form(
        "milestone_done",
        "Marquer un jalon comme fait",
        [
            Input("milestone", "Jalon", "choice", True, opened, ctx.query.get("milestone", "")),
            Input("deliverable_ref", "Réf. du livrable"),
            Input("on", "Fait le", "day", value=ctx.today.isoformat()),
        ],
        "Marquer fait",
        act,
        anchor="tableau",
    )


def milestone_reopen_form(ctx: Context) -> Form:
    done = [(m.key, m.label) for m in ctx.project.milestones if m.done_on is not None]

    def act(v: dict[str, Any]) -> str:
        ctx.c.records.reopen_milestone(ctx.pid, v["milestone"], by=ctx.actor, comment=v["comment"])
        return "Jalon rouvert."

    return Form(
        "milestone_reopen",
        "Rouvrir un jalon",
        [
            Input("milestone", "Jalon", "choice", True, done, ctx.query.get("milestone", "")),
            Input("comment", "Pourquoi le rouvrir ?", "text", True),
        ],
        "Rouvrir le jalon",
        act,
        intro="Le jalon redevient à faire ; ses rappels à venir reprennent.",
        danger=True,
        anchor="tableau",
    )


def step_form(ctx: Context) -> Form:
    """The confirmation of a dangerous step (suspend, abandon, a step back)."""
    from web.pages.project import BUILTIN_LABELS

    lifecycle = ctx.c.engine.lifecycle(ctx.project.definition_id, ctx.project.definition_version)
    phase = ctx.project.phase
    choices = []
    for trigger in lifecycle.triggers_from(phase):
        t = lifecycle.transition(trigger, phase)
        dest = t.dest if t is not None else None
        if dangerous(ctx.definition, phase, trigger, dest):
            label = (t.label or trigger) if t is not None else BUILTIN_LABELS[trigger]
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
    back = f"/projects/{project_id}" + (f"#{form.anchor}" if form.anchor else "")
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
