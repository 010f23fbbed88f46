"""The annual report in the CPOM form of seed 000, worded in French: the rows shared by the
CSV, the XLSX and the printable page (web.pages.exports).

A project with objectives is written as seed 000 lays it out: a row per general objective
(its specific objectives in the second cell), then a row per action with the planned and the
realised measure, its indicators, the gap and its explanation, the corrective measure taken
as of the report's date and the one submitted to the agency for the end of the CPOM's third
year (the 10th column). Without objectives, the programme's milestones, meeting series and
indicators are the rows (one general objective: the project).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from notifications.wording import count, long_date
from workflow.read_models.annual import (
    ActionRow,
    AnnualReport,
    BudgetRow,
    CpomRow,
    IndicatorRow,
    MeetingCount,
)
from workflow.read_models.programme_annual import ProgrammeReport

__all__ = [
    "Amount",
    "ReportRow",
    "action_header",
    "annual_csv",
    "annual_xlsx",
    "budget_header",
    "budget_rows",
    "neutralise",
    "preamble",
    "programme_csv",
    "programme_xlsx",
    "report_rows",
]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: str) -> str:
    """A text a spreadsheet shows as text, never runs as a formula."""
    return "'" + value if value.startswith(_FORMULA_START) else value


class Amount(str):
    """An amount the export computed itself (``-4,00``): written as the number it is, since
    only text that came from a user needs :func:`neutralise`."""

    __slots__ = ()


@dataclass(frozen=True)
class ReportRow:
    kind: str  # objective | action
    cells: list[Any]  # ten cells; dates as dates


def _day(value: date | str | None) -> str:
    if value is None:
        return ""
    return value.strftime("%d/%m/%Y") if isinstance(value, date) else value


INDICATOR_KINDS = {
    "process": "Indicateurs de processus",
    "activity": "Indicateurs d'activité",
    "result": "Indicateurs de résultats",
}


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return ""
    text = f"{value:g}".replace(".", ",")
    return f"{text} {unit}".strip()


def _meetings(n: int) -> str:
    return count(n, "meeting")


# -- the layout without objectives (the programme's milestones and meeting series) -----------
def _legacy_gap(a: CpomRow, as_of: date) -> str:
    if a.gap == "done_late":
        return f"Réalisé avec {count(a.days_late, 'day_late')}"
    if a.gap == "not_done":
        return f"Non réalisé : {count(a.days_late, 'day_late')}"
    if a.gap == "upcoming":
        return "Échéance à venir"
    if a.gap == "stated":
        return a.gap_explanation
    parts: list[str] = []
    if a.gap == "meetings_missing":
        missing = a.planned_meetings - a.held_meetings - len(a.upcoming) - a.cancelled_meetings
        parts.append(f"{count(missing, 'meeting_not_held')} à la date du {as_of:%d/%m/%Y}")
    elif a.gap == "none":
        parts.append(_no_gap(a.upcoming))
    parts.extend(_cancellations(a.cancellations))
    if a.gap_explanation:
        parts.append(a.gap_explanation)
    return " ; ".join(p for p in parts if p)


def _no_gap(upcoming: tuple[date, ...]) -> str:
    if upcoming:
        return f"Pas d'écarts (prochaine réunion le {long_date(upcoming[0])})"
    return "Pas d'écarts"  # seed 000's words


def _cancellations(cancelled: Any) -> list[str]:
    out = []
    for c in cancelled:
        when = f" du {long_date(c.day)}" if c.day else ""
        reason = f" : {c.reason}" if c.reason else " (motif non renseigné)"
        out.append(f"Réunion{when} ({c.label}) annulée{reason}")
    return out


def _legacy_cells(a: CpomRow, as_of: date) -> list[Any]:
    if a.kind == "milestone":
        specific = a.specific_objective
        realised: date | str = a.realised_on or ""
        planned_indicator = f"Livrable : {a.deliverable}" if a.deliverable else "Réalisé"
        realised_indicator = (
            (a.deliverable_ref or "Livré") if a.realised_on is not None else "Non réalisé"
        )
        if a.document is not None and a.document_filed_on is not None:
            realised_indicator += (
                f" ; document {a.document} déposé le {a.document_filed_on:%d/%m/%Y}"
            )
    elif a.kind == "meeting_series":
        specific = a.specific_objective
        realised = ", ".join(f"{d:%d/%m/%Y}" for d in a.held_on)
        planned_indicator = _meetings(a.planned_meetings)
        realised_indicator = _meetings(a.held_meetings)
    else:
        kind = a.indicator_kind or ""
        specific = INDICATOR_KINDS.get(kind, kind)
        realised = ""
        planned_indicator = _number(a.planned, a.unit)
        realised_indicator = _number(a.realised, a.unit)
    return [
        a.general_objective,
        specific,
        a.action,
        a.planned_deadline or "",
        realised,
        planned_indicator,
        realised_indicator,
        _legacy_gap(a, as_of),
        a.corrective_measure,
        a.corrective_measure_cpom,
    ]


# -- the layout of objectives and fiches-actions -------------------------------------------------
def _indicator_planned(i: IndicatorRow) -> str:
    target = _number(i.planned, i.unit)
    year = f" en {i.year}" if i.year else ""
    text = f"{i.label} : {target}{year}" if target else i.label
    how = ", ".join(p for p in (i.source, i.method) if p)
    return f"{text} ({how})" if how else text


def _indicator_realised(i: IndicatorRow) -> str:
    return f"{i.label} : {_number(i.realised, i.unit) or 'non renseigné'}"


def _held_text(m: MeetingCount) -> str:
    if not m.held:
        return "Aucune réunion tenue"
    days = ", ".join(
        f"le {long_date(h.day)}" + (f" ({h.participants} participants)" if h.participants else "")
        for h in m.held
    )
    text = f"{_meetings(len(m.held))} : {days}"
    if m.participants:
        text += f" ; {m.participants} participants représentant {m.structures} structures"
    return text


def _action_gap(a: ActionRow, as_of: date) -> str:
    parts: list[str] = []
    if a.gap_explanation:
        parts.append(a.gap_explanation)
    m = a.meetings
    if m is not None:
        parts.extend(_cancellations(m.cancelled))
        parts.extend(m.gap_explanations)
        if not parts:
            if m.not_held:
                parts.append(
                    f"{count(len(m.not_held), 'meeting_planned_not_held')} à la date du "
                    f"{as_of:%d/%m/%Y}"
                )
            else:
                parts.append(_no_gap(m.upcoming))
    parts.extend(f"{i.label} : {i.gap_explanation}" for i in a.indicators if i.gap_explanation)
    if not parts:
        parts.append("Pas d'écarts")
    return " ; ".join(parts)


def _action_cells(a: ActionRow, as_of: date) -> list[Any]:
    m = a.meetings
    planned: date | str = a.planned or (_meetings(m.planned) if m else "") or (a.ends_on or "")
    realised = a.realised or (_meetings(len(m.held)) if m and m.held else "")
    planned_indicators = [_indicator_planned(i) for i in a.indicators]
    realised_indicators = [_indicator_realised(i) for i in a.indicators]
    if m is not None:
        planned_indicators.insert(0, f"Nombre de réunions : {m.planned}")
        realised_indicators.insert(0, _held_text(m))
    corrective = [a.corrective_measure, *(m.corrective_measures if m else ())]
    corrective += [
        f"{i.label} : {i.corrective_measure}" for i in a.indicators if i.corrective_measure
    ]
    cpom = [a.corrective_measure_cpom]
    cpom += [
        f"{i.label} : {i.corrective_measure_cpom}"
        for i in a.indicators
        if i.corrective_measure_cpom
    ]
    return [
        "",
        a.specific_objective,
        a.label,
        planned,
        realised,
        " ; ".join(planned_indicators),
        " ; ".join(realised_indicators),
        _action_gap(a, as_of),
        " ; ".join(p for p in corrective if p),
        " ; ".join(p for p in cpom if p),
    ]


def report_rows(report: AnnualReport) -> list[ReportRow]:
    """The rows under the action header, in order."""
    if not report.objectives:
        return [ReportRow("action", _legacy_cells(a, report.as_of)) for a in report.actions]
    rows: list[ReportRow] = []
    for section in report.objectives:
        specific = " ".join(f"• {s}" for s in section.specific)
        rows.append(ReportRow("objective", [section.label, specific] + [""] * 8))
        rows.extend(ReportRow("action", _action_cells(a, report.as_of)) for a in section.actions)
    return rows


def action_header(report: AnnualReport) -> list[str]:
    as_of = f"{report.as_of:%d/%m/%Y}"
    return [
        "Objectif général",
        "Objectifs spécifiques",
        f"Actions mises en œuvre en {report.year}",
        "Échéance prévue",
        f"Échéance réalisée à la date du {as_of}",
        "Indicateur d'activité (pour mesurer l'atteinte des objectifs spécifiques) PRÉVISIONNEL",
        "Indicateur d'activité (pour mesurer l'atteinte des objectifs spécifiques) RÉALISÉ",
        "Explication des écarts",
        f"Mesure corrective effectuée à la date du {long_date(report.as_of)}",  # seed 000
        "Mesure corrective soumise à l'agence pour la fin de la 3ème année du CPOM",
    ]


def budget_header(report: AnnualReport) -> list[str]:
    """Seed 000: "Dépenses prévisionnelles du 1er septembre au 31 décembre 2018"; a report
    taken on or after the year's last day has nothing left to forecast."""
    after = report.forecast_from
    forecast = (
        f"Dépenses prévisionnelles du {long_date(after, with_year=False)} "
        f"au 31 décembre {report.year}"
        if after is not None
        else f"Dépenses prévisionnelles (exercice {report.year} clos)"
    )
    return [
        "Objectif général",
        "Objectifs spécifiques",
        f"Budget prévisionnel {report.year}",
        f"Dépenses au {report.as_of:%d/%m/%Y}",
        forecast,
        f"Écart entre le budget alloué et les dépenses engagées ou à venir en {report.year}",
        "Commentaires",
    ]


def budget_rows(report: AnnualReport) -> list[BudgetRow]:
    return [*report.budget, report.budget_total]


def preamble(report: AnnualReport) -> list[list[str]]:
    rows = [
        ["Nom de la structure", report.structure],
        ["Projet", report.title],
        ["Programme", report.programme],
        ["Territoire", report.territory],
        ["Année d'exécution", str(report.year)],
    ]
    if report.funding:
        shares = ", ".join(f"{f} {bp / 100:g} %".replace(".", ",") for f, bp in report.funding)
        rows.append(["Cofinancement", shares])
    return rows


def _euros(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100},{abs(cents) % 100:02d}"


def annual_csv(report: AnnualReport) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")

    def row(cells: list[Any]) -> None:
        writer.writerow([c if isinstance(c, Amount) else neutralise(str(c)) for c in cells])

    for line in preamble(report):
        row(line)
    row([])
    row(action_header(report))
    for r in report_rows(report):
        cells = r.cells
        row([*cells[:3], _day(cells[3]), _day(cells[4]), *cells[5:]])
    row([])
    row(budget_header(report))
    for b in budget_rows(report):
        row(_budget_cells(b, lambda cents: Amount(_euros(cents))))
    return out.getvalue().encode("utf-8-sig")


def _budget_cells(b: Any, amount: Any) -> list[Any]:
    """One budget row's cells (objective, line, planned, spent, forecast, gap, comment), its
    amounts given by ``amount`` (a CSV amount or an XLSX number): the one order of the seed's
    budget columns, for a project's report and a programme's."""
    return [
        b.general_objective,
        b.label,
        amount(b.planned_cents),
        amount(b.spent_cents),
        amount(b.forecast_cents),
        amount(b.variance_cents),
        b.comment,
    ]


def _xlsx_text(value: str) -> str:
    return neutralise(ILLEGAL_CHARACTERS_RE.sub("", value))


_BOLD = Font(bold=True)
_WRAP = Alignment(wrap_text=True, vertical="top")


def put(sheet: Any, row: int, values: list[Any], header: bool = False) -> None:
    """One row of a CPOM sheet (a project's report or a programme's): text stays text, never
    a formula whatever it starts with; dates and euros get their formats."""
    for col, value in enumerate(values, start=1):
        cell = sheet.cell(row=row, column=col)
        if isinstance(value, str):
            cell.value = _xlsx_text(value)
            cell.data_type = "s"
        else:
            cell.value = value
        if isinstance(value, date):
            cell.number_format = "DD/MM/YYYY"
        elif isinstance(value, float):
            cell.number_format = '#,##0.00 "€"'
        cell.alignment = _WRAP
        if header:
            cell.font = _BOLD


def annual_xlsx(report: AnnualReport) -> bytes:
    book = Workbook()
    actions = book.active
    assert actions is not None  # a new workbook has its first sheet
    actions.title = "Actions"

    rownum = 1
    for line in preamble(report):
        put(actions, rownum, line)
        actions.cell(row=rownum, column=1).font = _BOLD
        rownum += 1
    rownum += 1
    put(actions, rownum, action_header(report), header=True)
    header_row = rownum
    for r in report_rows(report):
        rownum += 1
        put(actions, rownum, r.cells, header=r.kind == "objective")
    actions.freeze_panes = actions.cell(row=header_row + 1, column=1)
    for col, width in enumerate((28, 24, 36, 14, 18, 30, 30, 34, 30, 30), start=1):
        actions.column_dimensions[get_column_letter(col)].width = width

    budget = book.create_sheet("Budget")
    put(budget, 1, budget_header(report), header=True)
    rownum = 1
    for b in report.budget:
        rownum += 1
        put(
            budget,
            rownum,
            _budget_cells(b, lambda cents: cents / 100),
        )
    total = report.budget_total
    rownum += 1
    put(
        budget,
        rownum,
        [
            "Total",
            "",
            total.planned_cents / 100,
            total.spent_cents / 100,
            total.forecast_cents / 100,
            total.variance_cents / 100,
            "",
        ],
        header=True,
    )
    for col, width in enumerate((28, 36, 16, 16, 22, 24, 30), start=1):
        budget.column_dimensions[get_column_letter(col)].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# -- a programme's report: every project's, a project column in front -----------------------
def _programme_preamble(report: ProgrammeReport) -> list[list[str]]:
    return [
        ["Programme", report.label],
        ["Année d'exécution", str(report.year)],
        ["À la date du", f"{report.as_of:%d/%m/%Y}"],
        ["Projets", str(len(report.reports))],
    ]


def _programme_action_header(report: ProgrammeReport) -> list[str]:
    return ["Projet", "Structure", *action_header(_header_source(report))]


def _programme_budget_header(report: ProgrammeReport) -> list[str]:
    return ["Projet", "Structure", *budget_header(_header_source(report))]


def _header_source(report: ProgrammeReport) -> AnnualReport:
    """The headers name only the year and the day, the same for every project."""
    if report.reports:
        return report.reports[0]
    return AnnualReport(0, "", report.label, "", report.year, report.as_of, "", [], [])


def programme_csv(report: ProgrammeReport) -> bytes:
    """One table of every project's rows, the project in the first column (a spreadsheet
    filters or pivots it by project), then one table of every project's budget lines and
    total."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")

    def row(cells: list[Any]) -> None:
        writer.writerow([c if isinstance(c, Amount) else neutralise(str(c)) for c in cells])

    for first in _programme_preamble(report):
        row(first)
    row([])
    row(_programme_action_header(report))
    for r in report.reports:
        for line in report_rows(r):
            cells = line.cells
            row([r.title, r.structure, *cells[:3], _day(cells[3]), _day(cells[4]), *cells[5:]])
    row([])
    row(_programme_budget_header(report))
    for r in report.reports:
        for b in budget_rows(r):
            row([r.title, r.structure, *_budget_cells(b, lambda cents: Amount(_euros(cents)))])
    return out.getvalue().encode("utf-8-sig")


def programme_xlsx(report: ProgrammeReport) -> bytes:
    """Two sheets, "Actions" and "Budget", each one table with the project in its first
    column (not a sheet per project: a programme of 25 projects stays one table to filter,
    sort and total, and a sheet's name holds only 31 characters)."""
    book = Workbook()
    actions = book.active
    assert actions is not None  # a new workbook has its first sheet
    actions.title = "Actions"

    rownum = 0
    for first in _programme_preamble(report):
        rownum += 1
        put(actions, rownum, first)
        actions.cell(row=rownum, column=1).font = _BOLD
    rownum += 2
    put(actions, rownum, _programme_action_header(report), header=True)
    actions.freeze_panes = actions.cell(row=rownum + 1, column=3)
    for r in report.reports:
        for line in report_rows(r):
            rownum += 1
            put(
                actions,
                rownum,
                [r.title, r.structure, *line.cells],
                header=line.kind == "objective",
            )
    widths = (28, 24, 28, 24, 36, 14, 18, 30, 30, 34, 30, 30)
    for col, width in enumerate(widths, start=1):
        actions.column_dimensions[get_column_letter(col)].width = width

    budget = book.create_sheet("Budget")
    put(budget, 1, _programme_budget_header(report), header=True)
    budget.freeze_panes = budget.cell(row=2, column=3)
    rownum = 1
    for r in report.reports:
        lines = budget_rows(r)
        for n, b in enumerate(lines, start=1):
            rownum += 1
            put(
                budget,
                rownum,
                [r.title, r.structure, *_budget_cells(b, lambda cents: cents / 100)],
                header=n == len(lines),  # the project's total
            )
    for col, width in enumerate((28, 24, 28, 36, 16, 16, 22, 24, 30), start=1):
        budget.column_dimensions[get_column_letter(col)].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
