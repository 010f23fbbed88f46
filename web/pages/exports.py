"""Exports of one project: the annual report in the CPOM form of seed 000 (CSV and XLSX) and an
iCalendar feed of its meetings and deadlines.

Spreadsheets: every text cell that a spreadsheet would read as a formula (it starts with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return) is written with a leading ``'``, in
the CSV and in the XLSX alike; amounts and dates are typed cells in the XLSX. The CSV is
the French spreadsheet dialect: ``;`` between cells, decimal comma, UTF-8 with a BOM so
that Excel shows the accents.

The calendar feed: a calendar application subscribes to a URL and polls it without
signing in, so the project page gives each reader a personal feed address carrying a
signed key (itsdangerous, salt ``copilote-calendar-feed``) that names the project and the
user. The key does not expire (a subscription lasts for months), but every request checks
that this user may still read this project: a pilot who loses a project loses its feed.
Changing ``COPILOTE_SECRET_KEY`` revokes every feed address. Signed-in users may also open
the feed without a key. A key for project A never opens project B.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from icalendar import Calendar, Event
from itsdangerous import BadSignature, URLSafeSerializer
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from notifications.message import clean_text_line
from web.auth import Principal
from web.bounds import FIRST_DAY, LAST_DAY, PageId, query_year
from web.deps import CopiloteDep, PageUser, page_user
from web.links import LinkError
from web.ports import Application
from web.templating import PARIS
from workflow.calendar import in_paris
from workflow.read_models.annual import AnnualReport, CpomRow, annual_report
from workflow.read_models.detail import agenda

__all__ = ["feed_url", "neutralise", "router"]

router = APIRouter()


def _two_hours_after(start: datetime) -> datetime:
    """A meeting without its end lasts two hours (none at the last instant Python holds)."""
    try:
        return start + timedelta(hours=2)
    except OverflowError:
        return start


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def neutralise(value: str) -> str:
    """A text a spreadsheet shows as text, never runs as a formula."""
    return "'" + value if value.startswith(_FORMULA_START) else value


class Amount(str):
    """An amount the export computed itself (``-4,00``): written as the number it is, since
    only text that came from a user needs :func:`neutralise`."""

    __slots__ = ()


# -- the annual report ---------------------------------------------------------------------


def _fr_day(value: date | str | None) -> str:
    if value is None:
        return ""
    return value.strftime("%d/%m/%Y") if isinstance(value, date) else value


# The CPOM form is French (seed 000): its cells are worded here, from the read model's data.
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


def _gap(a: CpomRow, as_of: date) -> str:
    if a.gap == "done_late":
        return f"Réalisé avec {a.days_late} jour(s) de retard"
    if a.gap == "not_done":
        return f"Non réalisé : {a.days_late} jour(s) de retard"
    if a.gap == "upcoming":
        return "Échéance à venir"
    if a.gap == "stated":
        return a.gap_explanation
    if a.gap == "meetings_missing":
        missing = a.planned_meetings - a.held_meetings
        text = f"{missing} réunion(s) non tenue(s) à la date du {as_of:%d/%m/%Y}"
    elif a.gap == "none":
        text = "Pas d'écart"
    else:
        text = ""
    if a.cancelled_meetings:
        text += f" ; {a.cancelled_meetings} annulée(s)"
    return text


def action_cells(a: CpomRow, as_of: date) -> list[Any]:
    """The nine cells of an action, dates as dates (the XLSX formats them)."""
    if a.kind == "milestone":
        specific = a.specific_objective
        realised: date | str = a.realised_on or ""
        planned_indicator = f"Livrable : {a.deliverable}" if a.deliverable else "Réalisé"
        realised_indicator = (
            (a.deliverable_ref or "Livré") if a.realised_on is not None else "Non réalisé"
        )
    elif a.kind == "meeting_series":
        specific = a.specific_objective
        realised = ", ".join(f"{d:%d/%m/%Y}" for d in a.held_on)
        planned_indicator = f"{a.planned_meetings} réunion(s)"
        realised_indicator = f"{a.held_meetings} réunion(s)"
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
        _gap(a, as_of),
        a.corrective_measure,
    ]


def _euros(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100},{abs(cents) % 100:02d}"


def action_header(report: AnnualReport) -> list[str]:
    as_of = f"{report.as_of:%d/%m/%Y}"
    return [
        "Objectif général",
        "Objectifs spécifiques",
        f"Actions mises en œuvre en {report.year}",
        "Échéance prévue",
        f"Échéance réalisée à la date du {as_of}",
        "Indicateur (pour mesurer l'atteinte des objectifs spécifiques) PRÉVISIONNEL",
        "Indicateur (pour mesurer l'atteinte des objectifs spécifiques) RÉALISÉ",
        "Explication des écarts",
        f"Mesure corrective effectuée à la date du {as_of}",
    ]


def budget_header(report: AnnualReport) -> list[str]:
    as_of = report.as_of
    after = as_of + timedelta(days=1)
    return [
        "Objectif général",
        "Objectifs spécifiques",
        f"Budget prévisionnel {report.year}",
        f"Dépenses au {as_of:%d/%m/%Y}",
        f"Dépenses prévisionnelles du {after:%d/%m/%Y} au 31/12/{report.year}",
        f"Écart entre le budget alloué et les dépenses engagées ou à venir en {report.year}",
        "Commentaires",
    ]


def _preamble(report: AnnualReport) -> list[list[str]]:
    return [
        ["Nom de la structure", report.structure],
        ["Projet", report.title],
        ["Programme", report.programme],
        ["Territoire", report.territory],
        ["Année d'exécution", str(report.year)],
    ]


def annual_csv(report: AnnualReport) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")

    def row(cells: list[Any]) -> None:
        writer.writerow([c if isinstance(c, Amount) else neutralise(str(c)) for c in cells])

    for line in _preamble(report):
        row(line)
    row([])
    row(action_header(report))
    for a in report.actions:
        cells = action_cells(a, report.as_of)
        row([*cells[:3], _fr_day(cells[3]), _fr_day(cells[4]), *cells[5:]])
    row([])
    row(budget_header(report))
    for b in [*report.budget, report.budget_total]:
        row(
            [
                b.general_objective,
                b.label,
                Amount(_euros(b.planned_cents)),
                Amount(_euros(b.spent_cents)),
                Amount(_euros(b.forecast_cents)),
                Amount(_euros(b.variance_cents)),
                "",
            ]
        )
    return out.getvalue().encode("utf-8-sig")


def _xlsx_text(value: str) -> str:
    return neutralise(ILLEGAL_CHARACTERS_RE.sub("", value))


def annual_xlsx(report: AnnualReport) -> bytes:
    book = Workbook()
    actions = book.active
    assert actions is not None  # a new workbook has its first sheet
    actions.title = "Actions"
    bold = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")

    def put(sheet: Any, row: int, values: list[Any], header: bool = False) -> None:
        for col, value in enumerate(values, start=1):
            cell = sheet.cell(row=row, column=col)
            if isinstance(value, str):
                cell.value = _xlsx_text(value)
                cell.data_type = "s"  # text, never a formula, whatever it starts with
            else:
                cell.value = value
            if isinstance(value, date):
                cell.number_format = "DD/MM/YYYY"
            elif isinstance(value, float):
                cell.number_format = '#,##0.00 "€"'
            cell.alignment = wrap
            if header:
                cell.font = bold

    rownum = 1
    for line in _preamble(report):
        put(actions, rownum, line)
        actions.cell(row=rownum, column=1).font = bold
        rownum += 1
    rownum += 1
    put(actions, rownum, action_header(report), header=True)
    header_row = rownum
    for a in report.actions:
        rownum += 1
        put(actions, rownum, action_cells(a, report.as_of))
    actions.freeze_panes = actions.cell(row=header_row + 1, column=1)
    for col, width in enumerate((28, 24, 36, 14, 18, 30, 30, 34, 30), start=1):
        actions.column_dimensions[get_column_letter(col)].width = width

    budget = book.create_sheet("Budget")
    put(budget, 1, budget_header(report), header=True)
    rownum = 1
    for b in report.budget:
        rownum += 1
        put(
            budget,
            rownum,
            [
                b.general_objective,
                b.label,
                b.planned_cents / 100,
                b.spent_cents / 100,
                b.forecast_cents / 100,
                b.variance_cents / 100,
                "",
            ],
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


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"'}


@router.get("/projects/{project_id}/export/annual.csv")
def export_annual_csv(
    project_id: PageId, user: PageUser, c: CopiloteDep, year: str = ""
) -> Response:
    c.accounts.check_read(user, project_id)
    report = annual_report(c.engine, project_id, query_year(year, c.engine.today()))
    return Response(
        annual_csv(report),
        media_type="text/csv; charset=utf-8",
        headers=_attachment(f"rapport-annuel-{project_id}-{report.year}.csv"),
    )


@router.get("/projects/{project_id}/export/annual.xlsx")
def export_annual_xlsx(
    project_id: PageId, user: PageUser, c: CopiloteDep, year: str = ""
) -> Response:
    c.accounts.check_read(user, project_id)
    report = annual_report(c.engine, project_id, query_year(year, c.engine.today()))
    return Response(
        annual_xlsx(report),
        media_type=XLSX_TYPE,
        headers=_attachment(f"rapport-annuel-{project_id}-{report.year}.xlsx"),
    )


# -- the calendar feed -----------------------------------------------------------------------


def _feed_signer(c: Application) -> URLSafeSerializer:
    return URLSafeSerializer(c.settings.secret_key, salt="copilote-calendar-feed")


def feed_key(c: Application, project_id: int, user: Principal) -> str:
    return str(_feed_signer(c).dumps({"project": project_id, "user": user.id}))


def feed_url(c: Application, project_id: int, user: Principal) -> str:
    base = c.settings.base_url.rstrip("/")
    return f"{base}/projects/{project_id}/calendar.ics?key={feed_key(c, project_id, user)}"


def _feed_reader(c: Application, project_id: int, key: str) -> Principal:
    try:
        data = _feed_signer(c).loads(key)
        wanted, uid = int(data["project"]), int(data["user"])
    except (BadSignature, TypeError, KeyError, ValueError):
        raise LinkError("it is not a valid calendar feed address (altered or truncated)") from None
    if wanted != project_id:
        raise LinkError("this calendar feed address is for another project")
    user = c.accounts.user(uid)
    if user is None:
        raise LinkError("the account this calendar feed address belongs to no longer exists")
    return user


def _next_day(day: date) -> date:
    """The end of an all-day event (the next day), even for the last date there is."""
    return day if day == date.max else day + timedelta(days=1)


def project_calendar(c: Application, project_id: int) -> bytes:
    """The project's meetings (planned, held, cancelled) and milestone deadlines."""
    now = c.clock.now()
    domain = c.settings.mail_domain
    found = agenda(c.engine, project_id)
    project, meetings, milestones = found.project, found.meetings, found.milestones
    cal = Calendar()
    cal.add("prodid", "-//Copilote//Agenda du projet//FR")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", clean_text_line(f"Copilote – {project.title}"))
    cal.add("x-wr-timezone", "Europe/Paris")
    cal.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT1H")
    stamp = now.astimezone(PARIS)
    first: date | None = None
    last: date | None = None
    for m in meetings:
        if m.starts_at is None and m.held_on is None:
            continue  # expected by the programme, no date yet
        event = Event()
        # The UID of the emailed invitation (notifications.delivery): the same meeting.
        event.add("uid", f"meeting-{m.id}@{domain}")
        event.add("sequence", m.sequence)
        event.add("dtstamp", stamp)
        if m.starts_at is not None:
            start = in_paris(m.starts_at)
            end = in_paris(m.ends_at) if m.ends_at else _two_hours_after(start)
            event.add("dtstart", start)
            event.add("dtend", end)
            day = start.date()
        elif m.held_on is not None:
            event.add("dtstart", m.held_on)
            event.add("dtend", _next_day(m.held_on))
            day = m.held_on
        first, last = min(first or day, day), max(last or day, day)
        event.add("summary", clean_text_line(f"{m.label} – {project.title}"))
        if m.location:
            event.add("location", clean_text_line(m.location))
        status = {"held": "tenue", "planned": "prévue", "cancelled": "annulée"}.get(m.status, "")
        event.add("description", f"Réunion {status}".strip())
        event.add("status", "CANCELLED" if m.status == "cancelled" else "CONFIRMED")
        cal.add_component(event)
    for ms in milestones:
        event = Event()
        event.add("uid", f"milestone-{ms.id}@{domain}")
        event.add("dtstamp", stamp)
        event.add("dtstart", ms.due_on)
        event.add("dtend", _next_day(ms.due_on))
        event.add("transp", "TRANSPARENT")
        done = f" (fait le {ms.done_on:%d/%m/%Y})" if ms.done_on else ""
        event.add("summary", clean_text_line(f"Échéance : {ms.label}{done} – {project.title}"))
        lines = [f"Responsable : {ms.responsible_label}"]
        if ms.deliverable:
            lines.append(f"Livrable : {ms.deliverable}")
        event.add("description", "\n".join(lines))
        event.add("categories", ["Échéance"])
        cal.add_component(event)
    if first is not None and last is not None:
        # A date stored before the bounds (0001-01-01) must not overflow: the zone rules
        # only matter within the years the application accepts anyway.
        first, last = max(first, FIRST_DAY), min(max(last, first), LAST_DAY)
        cal.add_missing_timezones(
            first_date=first - timedelta(days=366), last_date=last + timedelta(days=366)
        )
    data: bytes = cal.to_ical()
    return data


@router.get("/projects/{project_id}/calendar.ics")
def calendar_feed(request: Request, project_id: PageId, c: CopiloteDep, key: str = "") -> Response:
    user = _feed_reader(c, project_id, key) if key else page_user(request, c.accounts)
    c.accounts.check_read(user, project_id)
    return Response(
        project_calendar(c, project_id),
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'inline; filename="projet-{project_id}.ics"'},
    )
