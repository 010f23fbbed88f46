"""The plan d'actions' own forms (issues 12 and 13), declared as data (``web.forms.Form``) and
run by ``web/pages/forms.py`` like every form of a project: an objective of the tree, a
fiche-action, an indicator of a fiche-action and a year, and a meeting's note for the CPOM
report (the action it served, why it was cancelled, its gap and corrective measure).

Each calls :mod:`workflow.plan` (or ``records.set_indicator``), the rules' one home, and goes
back to the plan page. People choose among labels (objectives, fiches-actions, partners'
organisations, meetings named by the definition), never keys: a new item's key is made from
its label."""

from __future__ import annotations

from typing import Any

from web import i18n
from web.forms import Form, Input, Invalid
from web.pages.form_context import PARIS, Context
from web.pages.plan_forms import checked_year
from web.pages.record_forms import INDICATOR_KINDS, _slug
from workflow.plan import ActionIn
from workflow.read_models.plan import PlanView, plan_of

__all__ = ["action_form", "meeting_note_form", "objective_form", "plan_indicator_form"]

LEVELS = [("general", "général"), ("specific", "spécifique"), ("operational", "opérationnel")]
MEETING_STATUS = {"planned": "prévue", "held": "tenue", "cancelled": "annulée"}


def _back(ctx: Context, anchor: str) -> dict[str, Any]:
    return {"back": f"/projects/{ctx.pid}/plan#{anchor}"}


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}".replace(".", ",")


def _euros(cents: int | None) -> str:
    return "" if cents is None else f"{cents / 100:.2f}".replace(".", ",")


def objective_form(ctx: Context) -> Form:
    plan = plan_of(ctx.c.engine, ctx.pid)
    existing = {o.key: o for o in plan.objectives}
    chosen = existing.get(ctx.query.get("objective", ""))

    def act(v: dict[str, Any]) -> str:
        key = v["objective"] or _slug(v["label"] or "objectif", set(existing))
        ctx.c.records.plan.set_objective(
            ctx.pid,
            key,
            label=v["label"],
            level=v["level"] or None,
            parent=v["parent"] or None,
            by=ctx.actor,
        )
        return "Objectif modifié." if v["objective"] else "Objectif ajouté."

    return Form(
        "objective",
        "Objectif du plan d'actions",
        [
            Input(
                "objective",
                "Objectif à modifier",
                "choice",
                choices=[("", "nouvel objectif"), *((o.key, o.label) for o in plan.objectives)],
                value=chosen.key if chosen else "",
            ),
            Input("label", "Libellé", "line", True, value=chosen.label if chosen else ""),
            Input(
                "level",
                "Niveau",
                "choice",
                choices=LEVELS,
                value=chosen.level if chosen else "",
                hint="un objectif spécifique est rattaché à un objectif général, "
                "un objectif opérationnel à un objectif spécifique",
            ),
            Input(
                "parent",
                "Rattaché à",
                "choice",
                choices=[(o.key, o.label) for o in plan.objectives if o.level != "operational"],
                value=(chosen.parent or "") if chosen else "",
            ),
        ],
        "Enregistrer l'objectif",
        act,
        anchor="objectifs",
        extra=_back(ctx, "objectifs"),
    )


def action_form(ctx: Context) -> Form:
    plan = plan_of(ctx.c.engine, ctx.pid)
    existing = {a.key: a for a in plan.actions}
    chosen = existing.get(ctx.query.get("action", ""))
    partners = [(str(p.id), p.organisation) for p in ctx.project.partners if p.left_on is None]

    def act(v: dict[str, Any]) -> str:
        key = v["action"] or _slug(v["label"] or "action", set(existing))
        ctx.c.records.plan.set_action(
            ctx.pid,
            key,
            ActionIn(
                objective=v["objective"] or None,
                label=v["label"],
                partner_id=int(v["partner_id"]) if v["partner_id"] else None,
                starts_on=v["starts_on"],
                ends_on=v["ends_on"],
                target_public=v["target_public"] or None,
                etp=v["etp"],
                budget_cents=v["budget"],
                planned=v["planned"],
                realised=v["realised"],
                gap_explanation=v["gap_explanation"],
                corrective_measure=v["corrective_measure"],
                corrective_measure_cpom=v["corrective_measure_cpom"],
            ),
            by=ctx.actor,
        )
        return "Fiche-action modifiée." if v["action"] else "Fiche-action ajoutée."

    def val(name: str) -> Any:
        return getattr(chosen, name) if chosen is not None else None

    return Form(
        "action",
        "Fiche-action",
        [
            Input(
                "action",
                "Fiche-action à modifier",
                "choice",
                choices=[("", "nouvelle fiche-action"), *((a.key, a.label) for a in plan.actions)],
                value=chosen.key if chosen else "",
            ),
            Input("label", "Libellé", "line", True, value=val("label") or ""),
            Input(
                "objective",
                "Objectif servi",
                "choice",
                choices=[(o.key, o.label) for o in plan.objectives],
                value=val("objective") or "",
            ),
            Input(
                "partner_id",
                "Partenaire responsable",
                "choice",
                choices=partners,
                value=str(val("partner_id") or ""),
            ),
            Input("starts_on", "Début", "day", value=val("starts_on") or ""),
            Input("ends_on", "Fin", "day", value=val("ends_on") or ""),
            Input("target_public", "Public visé", value=val("target_public") or ""),
            Input("etp", "ETP", "number", value=_number(val("etp"))),
            Input("budget", "Budget (€)", "amount", value=_euros(val("budget_cents"))),
            Input("planned", "Prévu", "text", value=val("planned") or ""),
            Input("realised", "Réalisé", "text", value=val("realised") or ""),
            Input(
                "gap_explanation",
                "Explication des écarts",
                "text",
                value=val("gap_explanation") or "",
            ),
            Input(
                "corrective_measure",
                "Mesure corrective",
                "text",
                value=val("corrective_measure") or "",
            ),
            Input(
                "corrective_measure_cpom",
                "Mesure corrective (fin de la 3e année du CPOM)",
                "text",
                value=val("corrective_measure_cpom") or "",
            ),
        ],
        "Enregistrer la fiche-action",
        act,
        anchor="fiches",
        extra=_back(ctx, "fiches"),
    )


def _indicators(plan: PlanView) -> dict[str, tuple[str, Any]]:
    return {i.key: (a.key, i) for a in plan.actions for i in a.indicators}


def plan_indicator_form(ctx: Context) -> Form:
    plan = plan_of(ctx.c.engine, ctx.pid)
    existing = _indicators(plan)
    taken = {i.key for i in ctx.project.indicators}
    found = existing.get(ctx.query.get("indicator", ""))
    action_key, chosen = found if found is not None else (ctx.query.get("action", ""), None)

    def act(v: dict[str, Any]) -> str:
        key = v["indicator"] or _slug(v["label"] or "indicateur", taken)
        ctx.c.records.set_indicator(
            ctx.pid,
            key,
            label=v["label"] or None,
            kind=v["kind"] or None,
            action=v["action"],
            year=checked_year(v["year"]),
            planned=v["planned"],
            realised=v["realised"],
            unit=v["unit"] or None,
            source=v["source"] or None,
            method=v["method"] or None,
            gap_explanation=v["gap_explanation"],
            corrective_measure=v["corrective_measure"],
            by=ctx.actor,
        )
        return "Indicateur enregistré."

    def val(name: str) -> str:
        value = getattr(chosen, name) if chosen is not None else None
        return _number(value) if isinstance(value, float) else str(value or "")

    year = val("year") or ctx.query.get("year", "") or str(ctx.today.year)
    return Form(
        "plan_indicator",
        "Indicateur d'une fiche-action",
        [
            Input(
                "indicator",
                "Indicateur à modifier",
                "choice",
                choices=[
                    ("", "nouvel indicateur"),
                    *((k, i.label) for k, (_, i) in existing.items()),
                ],
                value=chosen.key if chosen else "",
            ),
            Input(
                "action",
                "Fiche-action",
                "choice",
                True,
                [(a.key, a.label) for a in plan.actions],
                action_key,
            ),
            Input("label", "Libellé", value=val("label")),
            Input("kind", "Type", "choice", choices=INDICATOR_KINDS, value=val("kind")),
            Input("year", "Année", "number", True, value=year),
            Input("planned", "Cible", "number", value=val("planned")),
            Input("realised", "Réalisé", "number", value=val("realised")),
            Input("unit", "Unité", value=val("unit"), hint="par exemple : personnes, ateliers"),
            Input("source", "Source", value=val("source")),
            Input("method", "Méthode", value=val("method")),
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
        extra=_back(ctx, "fiches"),
    )


def meeting_note_form(ctx: Context) -> Form:
    plan = plan_of(ctx.c.engine, ctx.pid)
    _ = i18n.gettext(ctx.lang)
    meetings = []
    for m in ctx.project.meetings:
        if m.status not in MEETING_STATUS:
            continue
        name = ctx.definition.meeting_label(m.series, m.occurrence, m.label, ctx.lang)
        when = m.held_on or (m.starts_at.astimezone(PARIS).date() if m.starts_at else None)
        shown = f"{when:%d/%m/%Y}, " if when else ""
        meetings.append((str(m.id), f"{name} ({shown}{_(MEETING_STATUS[m.status])})"))

    def act(v: dict[str, Any]) -> str:
        notes = ("action", "cancel_reason", "gap_explanation", "corrective_measure")
        if not any(v[name] for name in notes):
            raise Invalid("_form", "rien à enregistrer : remplissez au moins un champ")
        ctx.c.records.plan.meeting_note(
            ctx.pid,
            int(v["meeting_id"]),
            action=v["action"] or None,
            cancel_reason=v["cancel_reason"],
            gap_explanation=v["gap_explanation"],
            corrective_measure=v["corrective_measure"],
            by=ctx.actor,
        )
        return "Réunion annotée."

    return Form(
        "meeting_note",
        "Annoter une réunion pour le rapport CPOM",
        [
            Input("meeting_id", "Réunion", "choice", True, meetings, ctx.query.get("meeting", "")),
            Input(
                "action",
                "Fiche-action servie",
                "choice",
                choices=[(a.key, a.label) for a in plan.actions],
            ),
            Input(
                "cancel_reason",
                "Motif d'annulation",
                "text",
                hint="seulement pour une réunion annulée",
            ),
            Input("gap_explanation", "Explication des écarts", "text"),
            Input("corrective_measure", "Mesure corrective", "text"),
        ],
        "Enregistrer la note",
        act,
        anchor="reunions-notes",
        extra=_back(ctx, "reunions-notes"),
    )


i18n.register(
    {
        "nouvel objectif": "new objective",
        "Retour au plan d'actions": "Back to the action plan",
        "nouvelle fiche-action": "new action sheet",
        "Objectif du plan d'actions": "Objective of the action plan",
        "Objectif à modifier": "Objective to edit",
        "Niveau": "Level",
        "un objectif spécifique est rattaché à un objectif général, "
        "un objectif opérationnel à un objectif spécifique": (
            "a specific objective sits under a general one, an operational objective under a "
            "specific one"
        ),
        "Enregistrer l'objectif": "Record the objective",
        "Objectif ajouté.": "Objective added.",
        "Objectif modifié.": "Objective edited.",
        "Fiche-action": "Action sheet",
        "Fiche-action à modifier": "Action sheet to edit",
        "Début": "Start",
        "Fin": "End",
        "ETP": "FTE",
        "Budget (€)": "Budget (€)",
        "Mesure corrective": "Corrective measure",
        "Mesure corrective (fin de la 3e année du CPOM)": (
            "Corrective measure (end of the CPOM's 3rd year)"
        ),
        "Enregistrer la fiche-action": "Record the action sheet",
        "Fiche-action ajoutée.": "Action sheet added.",
        "Fiche-action modifiée.": "Action sheet edited.",
        "Indicateur d'une fiche-action": "Indicator of an action sheet",
        "Indicateur à modifier": "Indicator to edit",
        "Cible": "Target",
        "Source": "Source",
        "Méthode": "Method",
        "prévue": "planned",
        "tenue": "held",
        "annulée": "cancelled",
        "Annoter une réunion pour le rapport CPOM": "Annotate a meeting for the CPOM report",
        "Réunion": "Meeting",
        "Fiche-action servie": "Action sheet served",
        "Motif d'annulation": "Reason for cancelling",
        "seulement pour une réunion annulée": "only for a cancelled meeting",
        "Enregistrer la note": "Record the note",
        "rien à enregistrer : remplissez au moins un champ": (
            "nothing to record: fill in at least one field"
        ),
    }
)
