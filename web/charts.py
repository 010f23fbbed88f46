"""The dashboard's charts as server-rendered SVG: no script, allowed by the CSP, readable as
markup by the tests.

Each chart is an ``<svg role="img" aria-labelledby>`` with its ``<title>`` and ``<desc>``,
drawn in a ``viewBox`` 360 units wide at 100 % width (readable at 390 px: horizontal bars, each bar with
its label and value written above it, so no information is carried by colour alone). Its
data table, the accessible alternative, is always in the page (``dashboard/_charts.html``),
under « Voir les données ». Colours are the DSFR's illustrative palette.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal
from markupsafe import Markup, escape
from starlette.requests import Request

from notifications.render import french_spacing
from web import i18n
from web.ports import Application
from workflow.read_models.charts import ChartData, Trend, chart_data
from workflow.read_models.portfolio import Filters, PhaseCount

__all__ = ["PALETTE", "Bar", "BarGroup", "DashboardCharts", "bar_chart", "dashboard_charts"]

# DSFR illustrative colours (main tokens): bleu-france, vert-émeraude, orange-terre-battue,
# violet-glycine, jaune-tournesol, bleu-écume, rose-tuile, vert-archipel.
PALETTE = (
    "#6a6af4",
    "#00a95f",
    "#e4794a",
    "#a558a0",
    "#c8aa39",
    "#465f9d",
    "#ce614a",
    "#009099",
)
DASHES = ("", "6 3", "2 3", "8 3 2 3", "1 2", "10 4", "4 4", "3 6")  # lines differ by dash too
_LOCALES = {"fr": "fr_FR", "en": "en_GB"}
WIDTH = 360  # a phone's width: text at its size on 390 px, CSS caps the width on wide screens
BAR_H, GAP, GROUP_GAP = 14, 6, 16


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    text: str  # the value as people read it
    colour: int  # index in the palette


@dataclass(frozen=True)
class BarGroup:
    label: str
    bars: list[Bar]


def _esc(text: str) -> str:
    return str(escape(text))


def _text(x: float, y: float, text: str, size: int, *, bold: bool = False) -> tuple[str, int]:
    """A label wrapped to the chart's width (SVG text does not wrap): its markup, with ``y``
    the baseline of its first line, and the height its lines take."""
    chars = int((WIDTH - x) / (size * (0.6 if bold else 0.55)))
    lines = textwrap.wrap(text, max(12, chars)) or [""]
    weight = ' font-weight="bold"' if bold else ""
    spans = "".join(
        f'<tspan x="{x}" dy="{0 if n == 0 else size + 3}">{_esc(line)}</tspan>'
        for n, line in enumerate(lines)
    )
    return f'<text x="{x}" y="{y}" font-size="{size}"{weight}>{spans}</text>', (
        len(lines) * (size + 3)
    )


def _frame(chart_id: str, title: str, desc: str, height: int, body: list[str]) -> Markup:
    return Markup(
        f'<svg id="{chart_id}" class="chart" role="img" aria-labelledby="{chart_id}-t'
        f' {chart_id}-d" viewBox="0 0 {WIDTH} {height}" width="100%"'
        f' preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{chart_id}-t">{_esc(title)}</title>'
        f'<desc id="{chart_id}-d">{_esc(desc)}</desc>' + "".join(body) + "</svg>"
    )


def bar_chart(
    chart_id: str,
    title: str,
    desc: str,
    groups: Sequence[BarGroup],
    empty: str,
    colon: str = " : ",
) -> Markup:
    """Horizontal bars by group: the group's name, then each bar under its own label."""
    top = max((b.value for g in groups for b in g.bars), default=0)
    body: list[str] = []
    y = 4
    if not groups:
        markup, height = _text(0, y + 14, empty, 14)
        body.append(markup)
        y += height + 8
    for g in groups:
        markup, height = _text(0, y + 14, g.label, 15, bold=True)
        body.append(markup)
        y += height + 4
        for b in g.bars:
            width = 0 if top == 0 else max(2, round((WIDTH - 4) * b.value / top)) if b.value else 0
            markup, height = _text(0, y + 12, f"{b.label}{colon}{b.text}", 13)
            body.append(markup)
            y += height
            body.append(
                f'<rect x="0" y="{y}" width="{width}" height="{BAR_H}"'
                f' fill="{PALETTE[b.colour % len(PALETTE)]}"><title>{_esc(b.label)}{colon}'
                f"{_esc(b.text)}</title></rect>"
            )
            y += BAR_H + GAP
        y += GROUP_GAP
    return _frame(chart_id, title, desc, y, body)


def line_chart(
    chart_id: str,
    title: str,
    desc: str,
    trend: Trend,
    week_label: Callable[[date], str],
    number: Callable[[int], str],
    empty: str,
    colon: str = " : ",
) -> Markup:
    """One line per programme over the weeks; a week without data breaks the line (a gap).
    Each line ends with its programme's name and last value, and has its own dash pattern."""
    left, right, top_y, plot_h = 34, 14, 10, 150
    legend_y = top_y + plot_h + 34
    values = [v for line in trend.lines for v in line.items if v is not None]
    top = max(values, default=0) or 1
    n = len(trend.mondays)
    step = (WIDTH - left - right) / max(1, n - 1)

    def x(i: int) -> float:
        return round(left + i * step, 1)

    def y(v: int) -> float:
        return round(top_y + plot_h - plot_h * v / top, 1)

    body = [
        f'<line x1="{left}" y1="{top_y + plot_h}" x2="{WIDTH - right}" y2="{top_y + plot_h}"'
        ' stroke="#666" />',
        f'<text x="{left - 4}" y="{top_y + plot_h + 4}" font-size="11" text-anchor="end">0</text>',
        f'<text x="{left - 4}" y="{top_y + 8}" font-size="11" text-anchor="end">'
        f"{_esc(number(top))}</text>",
    ]
    for i in range(0, n, 4):
        body.append(
            f'<text x="{x(i)}" y="{top_y + plot_h + 18}" font-size="11" text-anchor="middle">'
            f"{_esc(week_label(trend.mondays[i]))}</text>"
        )
    if not values:
        body.append(
            f'<text x="{left}" y="{top_y + plot_h / 2}" font-size="14">{_esc(empty)}</text>'
        )
    for k, line in enumerate(trend.lines):
        colour, dash = PALETTE[k % len(PALETTE)], DASHES[k % len(DASHES)]
        path, pen_down = [], False
        for i, v in enumerate(line.items):
            if v is None:
                pen_down = False
                continue
            path.append(f"{'L' if pen_down else 'M'}{x(i)} {y(v)}")
            pen_down = True
            body.append(f'<circle cx="{x(i)}" cy="{y(v)}" r="3" fill="{colour}" />')
        if path:
            dashed = f' stroke-dasharray="{dash}"' if dash else ""
            body.append(
                f'<path d="{" ".join(path)}" fill="none" stroke="{colour}" stroke-width="2"'
                f"{dashed} />"
            )
        last = next((v for v in reversed(line.items) if v is not None), None)
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        body.append(
            f'<line x1="0" y1="{legend_y - 4}" x2="28" y2="{legend_y - 4}" stroke="{colour}"'
            f' stroke-width="3"{dashed} />'
        )
        shown = "—" if last is None else number(last)
        markup, height = _text(34, legend_y, f"{line.programme}{colon}{shown}", 13)
        body.append(markup)
        legend_y += height + 5
    return _frame(chart_id, title, desc, legend_y, body)


@dataclass(frozen=True)
class DashboardCharts:
    """The figures (for the data tables) and the SVG of each chart, in the reader's language."""

    data: ChartData
    phases_svg: Markup
    trend_svg: Markup
    copil_svg: Markup
    budget_svg: Markup


def _in_reader_language(data: ChartData, lang: str, c: Application) -> ChartData:
    """The programmes' and phases' labels the charts draw, for an English reader in English
    (the pages' one rule, :func:`web.i18n.in_reader_language`; the SVG is drawn here, out of
    reach of the templates' translation of printed values)."""
    if lang == "fr":
        return data
    english = c.registry.english_labels()

    def say(label: str) -> str:
        return i18n.in_reader_language(label, lang, english)

    return replace(
        data,
        phases=[
            replace(p, programme=say(p.programme), phase_label=say(p.phase_label))
            for p in data.phases
        ],
        trend=replace(
            data.trend, lines=[replace(t, programme=say(t.programme)) for t in data.trend.lines]
        ),
        copil=[replace(x, programme=say(x.programme)) for x in data.copil],
        budget=[replace(b, programme=say(b.programme)) for b in data.budget],
    )


def dashboard_charts(
    request: Request, c: Application, filters: Filters, counts: list[PhaseCount] | None = None
) -> DashboardCharts:
    lang = i18n.language(request)
    _ = i18n.gettext(lang)
    locale = _LOCALES.get(lang, "fr_FR")
    today = c.engine.today()
    data = _in_reader_language(chart_data(c.engine, today, filters, counts), lang, c)

    def number(value: int) -> str:
        return str(format_decimal(value, locale=locale))

    def money(cents: int) -> str:
        return str(format_currency(cents / 100, "EUR", locale=locale))

    empty = _("Aucune donnée pour ces filtres.")
    colon = " : " if lang == "fr" else ": "
    by_programme: dict[str, list[Bar]] = {}
    for k, count in enumerate(data.phases):
        by_programme.setdefault(count.programme, []).append(
            Bar(count.phase_label, count.count, number(count.count), k)
        )
    phases = bar_chart(
        "graphique-phases",
        _("Projets par phase et par programme"),
        _("Barres horizontales : nombre de projets de chaque phase, groupées par programme."),
        [BarGroup(p, bars) for p, bars in by_programme.items()],
        empty,
        colon,
    )
    trend = line_chart(
        "graphique-retards",
        _("Éléments en retard par semaine (26 semaines)"),
        _(
            "Courbes : jalons en retard et bilans manquants par programme, relevés chaque jour"
            " ; une semaine sans relevé interrompt la courbe."
        ),
        data.trend,
        lambda day: str(format_date(day, "d MMM", locale=locale)),
        number,
        empty,
        colon,
    )
    copil = bar_chart(
        "graphique-copil",
        _("COPIL prévus et tenus en") + f" {data.year}",
        _("Barres horizontales : COPIL prévus et COPIL tenus cette année, par programme."),
        [
            BarGroup(
                x.programme,
                [
                    Bar(_("Prévus"), x.planned, number(x.planned), 0),
                    Bar(_("Tenus"), x.held, number(x.held), 1),
                ],
            )
            for x in data.copil
        ],
        empty,
        colon,
    )
    budget = bar_chart(
        "graphique-budget",
        _("Budget") + f" {data.year}{colon}" + _("prévu, dépensé, prévisionnel"),
        _("Barres horizontales : montants prévus, dépensés et prévisionnels, par programme."),
        [
            BarGroup(
                t.programme,
                [
                    Bar(_("Prévu"), t.planned_cents, money(t.planned_cents), 0),
                    Bar(_("Dépensé"), t.spent_cents, money(t.spent_cents), 1),
                    Bar(_("Prévisionnel"), t.forecast_cents, money(t.forecast_cents), 2),
                ],
            )
            for t in data.budget
        ],
        empty,
        colon,
    )
    charts = [phases, trend, copil, budget]
    if lang == "fr":  # narrow no-break spaces before « : » and the like
        charts = [Markup(french_spacing(str(svg))) for svg in charts]
    return DashboardCharts(data, *charts)


i18n.register(
    {
        "Aucune donnée pour ces filtres.": "No data for these filters.",
        "Projets par phase et par programme": "Projects per phase and programme",
        "Barres horizontales : nombre de projets de chaque phase, groupées par programme.": (
            "Horizontal bars: number of projects in each phase, grouped by programme."
        ),
        "Éléments en retard par semaine (26 semaines)": "Overdue items per week (26 weeks)",
        "Courbes : jalons en retard et bilans manquants par programme, relevés chaque jour"
        " ; une semaine sans relevé interrompt la courbe.": (
            "Lines: overdue milestones and missing reports per programme, counted every day;"
            " a week without a count breaks the line."
        ),
        "COPIL prévus et tenus en": "COPIL meetings planned and held in",
        "Barres horizontales : COPIL prévus et COPIL tenus cette année, par programme.": (
            "Horizontal bars: COPIL meetings planned and held this year, per programme."
        ),
        "Prévus": "Planned",
        "Tenus": "Held",
        "Budget": "Budget",
        "prévu, dépensé, prévisionnel": "planned, spent, forecast",
        "Barres horizontales : montants prévus, dépensés et prévisionnels, par programme.": (
            "Horizontal bars: amounts planned, spent and forecast, per programme."
        ),
        "Prévu": "Planned",
        "Dépensé": "Spent",
        "Prévisionnel": "Forecast",
        "Graphiques": "Charts",
        "La tendance des retards est relevée par programme\u202f: seuls les autres graphiques"
        " suivent"
        " les filtres de territoire et de phase.": (
            "The overdue trend is counted per programme: only the other charts follow the"
            " territory and phase filters."
        ),
        "Voir les données": "Show the data",
        "Programme": "Programme",
        "Phase": "Phase",
        "Projets": "Projects",
        "jalons en retard + bilans manquants, au dernier relevé de la semaine\u202f; «\u202f—\u202f»"
        "\u202f: aucun"
        " relevé": "overdue milestones + missing reports, as last counted in the week; « — »: no count",
        "Semaine du": "Week of",
        "jalons": "milestones",
        "bilans": "reports",
        "projets en retard": "late projects",
        "Exporter (CSV)": "Export (CSV)",
        "Exporter (XLSX)": "Export (XLSX)",
    }
)
