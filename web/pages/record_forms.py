"""The forms of what a pilot records besides meetings: decisions, partners, indicators,
budget lines, milestones."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from web.forms import Form, Input, Invalid
from web.pages.form_context import Context, not_after_today, not_before_today
from workflow.engine import PartnerIn

__all__ = [
    "budget_add_form",
    "budget_edit_form",
    "decision_form",
    "indicator_form",
    "milestone_done_form",
    "milestone_reopen_form",
    "partner_add_form",
    "partner_leave_form",
]

INDICATOR_KINDS = [("process", "processus"), ("activity", "activité"), ("result", "résultat")]


def decision_form(ctx: Context) -> Form:
    choices = [
        (d.key, ctx.definition.decision_label(d.key, ctx.lang)) for d in ctx.definition.decisions
    ]

    def act(v: dict[str, Any]) -> str:
        on = not_after_today(ctx, "on", v["on"])
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
    roles = [
        (r.key, ctx.definition.role_label(r.key, ctx.lang))
        for r in ctx.definition.roles
        if r.key not in ("agency", "pilot")
    ]

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
        on = not_before_today(ctx, "on", v["on"])
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
            by=ctx.actor,
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
            by=ctx.actor,
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
            by=ctx.actor,
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


def milestone_done_form(ctx: Context) -> Form:
    opened = [
        (m.key, ctx.definition.label("milestone", m.key, ctx.lang, default=m.label))
        for m in ctx.project.milestones
        if m.done_on is None
    ]

    def act(v: dict[str, Any]) -> str:
        on = not_after_today(ctx, "on", v["on"])
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
    done = [
        (m.key, ctx.definition.label("milestone", m.key, ctx.lang, default=m.label))
        for m in ctx.project.milestones
        if m.done_on is not None
    ]

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
