"""The budget's forms of the plan d'actions page, declared as data (``web.forms.Form``) and run
by ``web/pages/forms.py`` like every form of a project (CSRF, errors beside the fields and
summarised at the top, idempotency, a confirmation banner): a budget line of a year, and a
co-funder's share of a year (Unapei's FSE at 49 %). Each calls :mod:`workflow.budget`, the
rules' one home; back to the plan page of that year."""

from __future__ import annotations

from typing import Any

from web import i18n
from web.forms import Form, Input, Invalid
from web.pages.form_context import Context
from workflow.plan import FIRST_YEAR, LAST_YEAR
from workflow.read_models.annual import annual_report
from workflow.read_models.plan import plan_of

__all__ = ["budget_line_form", "checked_year", "funding_share_form"]


def _year(ctx: Context) -> int:
    asked = ctx.query.get("year", "")
    return (
        int(asked) if asked.isdigit() and FIRST_YEAR <= int(asked) <= LAST_YEAR else ctx.today.year
    )


def checked_year(value: float) -> int:
    if value != int(value) or not FIRST_YEAR <= value <= LAST_YEAR:
        raise Invalid("year", "une année entre {first} et {last}", first=FIRST_YEAR, last=LAST_YEAR)
    return int(value)


def _back(ctx: Context, year: int, anchor: str) -> dict[str, Any]:
    return {"back": f"/projects/{ctx.pid}/plan?year={year}#{anchor}"}


def funding_share_form(ctx: Context) -> Form:
    year = _year(ctx)
    report = annual_report(ctx.c.engine, ctx.pid, year)
    shares = dict(report.funding)
    funder = ctx.query.get("funder", "")

    def act(v: dict[str, Any]) -> str:
        share = v["share"]
        if not 0 <= share <= 100:
            raise Invalid("share", "un pourcentage entre 0 et 100")
        ctx.c.records.budget.set_funding_share(
            ctx.pid, checked_year(v["year"]), v["funder"], round(share * 100), by=ctx.actor
        )
        return "Part de cofinancement enregistrée." if share else "Part de cofinancement retirée."

    current = shares.get(funder)
    return Form(
        "funding_share",
        "Part d'un cofinanceur",
        [
            Input("year", "Année", "number", True, value=str(year)),
            Input("funder", "Cofinanceur", "line", True, value=funder, hint="par exemple : FSE"),
            Input(
                "share",
                "Part du budget de l'année (%)",
                "number",
                True,
                value="" if current is None else f"{current / 100:g}".replace(".", ","),
                hint="0 retire le cofinanceur ; les parts d'une année ne dépassent pas 100 %",
            ),
        ],
        "Enregistrer la part",
        act,
        anchor="cofinancement",
        extra=_back(ctx, year, "cofinancement"),
    )


def budget_line_form(ctx: Context) -> Form:
    year = _year(ctx)
    report = annual_report(ctx.c.engine, ctx.pid, year)
    lines = {str(b.id): b for b in report.budget if b.id}
    chosen = lines.get(ctx.query.get("line", ""))
    generals = [
        (o.key, o.label) for o in plan_of(ctx.c.engine, ctx.pid).objectives if o.level == "general"
    ]

    def act(v: dict[str, Any]) -> str:
        _set_line(v)
        return "Ligne de budget modifiée." if v["line"] else "Ligne de budget ajoutée."

    def _set_line(v: dict[str, Any]) -> None:
        ctx.c.records.budget.set_budget_line(
            ctx.pid,
            int(v["line"]) if v["line"] else None,
            year=checked_year(v["year"]),
            label=v["label"],
            objective=v["objective"],
            planned_cents=v["planned"],
            spent_cents=v["spent"],
            forecast_cents=v["forecast"],
            comment=v["comment"],
            by=ctx.actor,
        )

    def euros(cents: int | None) -> str:
        return "" if cents is None else f"{cents / 100:.2f}".replace(".", ",")

    return Form(
        "budget_line",
        "Ligne de budget",
        [
            Input(
                "line",
                "Ligne à modifier (vide : une nouvelle ligne)",
                "choice",
                False,
                [(k, b.label) for k, b in lines.items()],
                str(chosen.id) if chosen else "",
            ),
            Input("year", "Année", "number", True, value=str(year)),
            Input("label", "Libellé", "line", value=chosen.label if chosen else ""),
            Input("objective", "Objectif général financé", "choice", False, generals),
            Input(
                "planned",
                "Prévu (€)",
                "amount",
                value=euros(chosen.planned_cents if chosen else None),
            ),
            Input(
                "spent",
                "Dépensé (€)",
                "amount",
                value=euros(chosen.spent_cents if chosen else None),
            ),
            Input(
                "forecast",
                "Prévision (€)",
                "amount",
                value=euros(chosen.forecast_cents if chosen else None),
            ),
            Input("comment", "Commentaire", "text", value=chosen.comment if chosen else ""),
        ],
        "Enregistrer la ligne",
        act,
        anchor="budget",
        extra=_back(ctx, year, "budget"),
    )


i18n.register(
    {
        "Part d'un cofinanceur": "A co-funder's share",
        "Année": "Year",
        "Cofinanceur": "Co-funder",
        "par exemple : FSE": "for example: ESF",
        "Part du budget de l'année (%)": "Share of the year's budget (%)",
        "0 retire le cofinanceur ; les parts d'une année ne dépassent pas 100 %": (
            "0 removes the co-funder; a year's shares do not exceed 100 %"
        ),
        "Enregistrer la part": "Record the share",
        "Part de cofinancement enregistrée.": "Co-financing share recorded.",
        "Part de cofinancement retirée.": "Co-financing share removed.",
        "un pourcentage entre 0 et 100": "a percentage between 0 and 100",
        "une année entre {first} et {last}": "a year between {first} and {last}",
        "Ligne de budget": "Budget line",
        "Ligne à modifier (vide : une nouvelle ligne)": "Line to edit (empty: a new line)",
        "Objectif général financé": "General objective funded",
        "Commentaire": "Comment",
        "Enregistrer la ligne": "Record the line",
    }
)
