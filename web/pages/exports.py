"""Exports of one project: the annual report in the CPOM form of seed 000 (CSV and XLSX) and an
iCalendar feed of its meetings and deadlines.

Spreadsheets: every text cell that a spreadsheet would read as a formula (it starts with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return) is written with a leading ``'``, in
the CSV and in the XLSX alike; amounts and dates are typed cells in the XLSX. The CSV is
the French spreadsheet dialect: ``;`` between cells, decimal comma, UTF-8 with a BOM so
that Excel shows the accents.

The portfolio (the agency's dashboard, its filters and its order): CSV and XLSX, agency
only. These files are for machines and further sums, so dates are ISO (``2026-05-04``) and
numbers plain (``3``), not the page's « 4 mai 2026 »; the CSV is ``;``-separated UTF-8 with
a BOM, as a French Excel opens it. Both are written page by page (:data:`EXPORT_PAGE` rows
at a time): the CSV is streamed, the XLSX is written by openpyxl's write-only mode into a
spooled temporary file, so 100,000 projects never sit in memory as objects.

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
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from icalendar import Calendar, Event
from itsdangerous import BadSignature, URLSafeSerializer
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from notifications.message import clean_text_line
from notifications.wording import money
from web import i18n
from web.auth import Forbidden, Principal
from web.bounds import FIRST_DAY, LAST_DAY, PageId, form_day, query_year
from web.cpom import (
    action_header,
    annual_csv,
    annual_xlsx,
    budget_header,
    budget_rows,
    neutralise,
    preamble,
    report_rows,
)
from web.deps import CopiloteDep, PageUser, page_user
from web.links import LinkError
from web.pages.responses import PAGE_RESPONSES, file_response
from web.ports import Application
from web.templating import PARIS, render
from workflow.calendar import in_paris
from workflow.read_models.annual import AnnualReport, annual_report
from workflow.read_models.detail import agenda
from workflow.read_models.portfolio import (
    DASHBOARD_SORT,
    PORTFOLIO_SORTS,
    Filters,
    ProjectLine,
    Sort,
    portfolio,
    read_sort,
)

__all__ = ["feed_url", "neutralise", "router"]

router = APIRouter(default_response_class=HTMLResponse, responses=PAGE_RESPONSES)


def _two_hours_after(start: datetime) -> datetime:
    """A meeting without its end lasts two hours (none at the last instant Python holds)."""
    try:
        return start + timedelta(hours=2)
    except OverflowError:
        return start


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"'}


def _report(c: Application, project_id: int, year: str, as_of: str) -> AnnualReport:
    """``?year=`` (default: that of ``?as_of=``, else this year) and ``?as_of=`` (a date:
    the report as it stood that day; default today, or the year's last day if past)."""
    day = form_day(as_of, "as_of") if as_of else None
    chosen = query_year(year, day or c.engine.today())
    return annual_report(c.engine, project_id, chosen, day)


@router.get(
    "/projects/{project_id}/export/annual.csv",
    response_class=Response,
    responses=file_response("text/csv", "the annual report, one line per item (CSV)"),
)
def export_annual_csv(
    project_id: PageId, user: PageUser, c: CopiloteDep, year: str = "", as_of: str = ""
) -> Response:
    c.accounts.check_read(user, project_id)
    report = _report(c, project_id, year, as_of)
    return Response(
        annual_csv(report),
        media_type="text/csv; charset=utf-8",
        headers=_attachment(f"rapport-annuel-{project_id}-{report.year}.csv"),
    )


@router.get(
    "/projects/{project_id}/export/annual.xlsx",
    response_class=Response,
    responses=file_response(XLSX_TYPE, "the annual report (Excel workbook)"),
)
def export_annual_xlsx(
    project_id: PageId, user: PageUser, c: CopiloteDep, year: str = "", as_of: str = ""
) -> Response:
    c.accounts.check_read(user, project_id)
    report = _report(c, project_id, year, as_of)
    return Response(
        annual_xlsx(report),
        media_type=XLSX_TYPE,
        headers=_attachment(f"rapport-annuel-{project_id}-{report.year}.xlsx"),
    )


@router.get("/projects/{project_id}/report/annual", response_class=HTMLResponse)
def annual_page(
    request: Request,
    project_id: PageId,
    user: PageUser,
    c: CopiloteDep,
    year: str = "",
    as_of: str = "",
) -> HTMLResponse:
    """The CPOM report as a printable page (the browser's print makes the PDF), with a date
    field choosing the day it is taken on."""
    c.accounts.check_read(user, project_id)
    report = _report(c, project_id, year, as_of)
    return render(
        request,
        "objectives/annual.html",
        {
            "report": report,
            "preamble": preamble(report),
            "header": action_header(report),
            "rows": report_rows(report),
            "budget_header": budget_header(report),
            "budget": budget_rows(report),
            "money": money,
        },
    )


# -- the portfolio -----------------------------------------------------------------------------

EXPORT_PAGE = 1000
PORTFOLIO_COLUMNS = (
    ("Identifiant", 12),
    ("Projet", 40),
    ("Programme", 32),
    ("Territoire", 22),
    ("Phase", 26),
    ("En cours", 10),
    ("Prochaine échéance", 18),
    ("Intitulé de l'échéance", 36),
    ("Éléments en retard", 18),
)


@dataclass(frozen=True)
class Listing:
    """The dashboard's portfolio as the agency sees it: its filters, its order (``sort``, the
    page's parameter) and ``show=late`` (late projects only)."""

    filters: Filters
    sort: Sort = DASHBOARD_SORT
    late_only: bool = False


def _portfolio_lines(c: Application, listing: Listing) -> Iterator[ProjectLine]:
    """Every project of the dashboard's portfolio, in its order, a page at a time."""
    today, number = c.engine.today(), 1
    while True:
        page = portfolio(
            c.engine,
            today,
            listing.filters,
            number,
            size=EXPORT_PAGE,
            sort=listing.sort,
            late_only=listing.late_only,
        )
        yield from page.rows
        if number >= page.pages:
            return
        number += 1


def _cells(line: ProjectLine, lang: str) -> list[object]:
    """One row: text (neutralised), the date as a date, counts as integers."""
    _ = i18n.gettext(lang)
    return [
        line.id,
        neutralise(line.title),
        neutralise(line.programme),
        neutralise(line.territory),
        neutralise(line.phase_label),
        _("oui") if line.in_progress else _("non"),
        line.next_deadline,
        neutralise(line.next_deadline_label or ""),
        line.overdue,
    ]


def _agency_listing(
    user: Principal, programme: str, territory: str, phase: str, sort: str, show: str
) -> Listing:
    if not user.is_agency:
        raise Forbidden(user.email, "export the agency's portfolio")
    # the dashboard's reading of its filters (web.pages.project imports this module)
    from web.pages.project import read_filters

    return Listing(
        read_filters(programme, territory, phase),
        read_sort(sort, PORTFOLIO_SORTS, DASHBOARD_SORT),
        show == "late",
    )


def _portfolio_csv(c: Application, listing: Listing, lang: str) -> Iterator[bytes]:
    _ = i18n.gettext(lang)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")

    def written() -> bytes:
        data = buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()
        return data

    writer.writerow([_(name) for name, _width in PORTFOLIO_COLUMNS])
    yield "\ufeff".encode() + written()
    for n, line in enumerate(_portfolio_lines(c, listing), start=1):
        cells = _cells(line, lang)
        writer.writerow(
            ["" if v is None else v.isoformat() if isinstance(v, date) else v for v in cells]
        )
        if n % EXPORT_PAGE == 0:  # one chunk per page read
            yield written()
    yield written()


@router.get(
    "/dashboard/export.csv",
    response_class=Response,
    responses=file_response("text/csv", "the agency's filtered portfolio (CSV)"),
)
def export_portfolio_csv(
    request: Request,
    user: PageUser,
    c: CopiloteDep,
    programme: str = "",
    territory: str = "",
    phase: str = "",
    sort: str = "",
    show: str = "",
) -> StreamingResponse:
    listing = _agency_listing(user, programme, territory, phase, sort, show)
    lines = _portfolio_csv(c, listing, i18n.language(request))
    # the first chunk (the header) is written now: a refusal of the filters is a page, not
    # a broken download
    head = next(lines)
    return StreamingResponse(
        _chain(head, lines),
        media_type="text/csv; charset=utf-8",
        headers=_attachment(f"portefeuille-{c.engine.today().isoformat()}.csv"),
    )


def _chain(head: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    yield head
    yield from rest


def _xlsx_text(value: object) -> object:
    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


@router.get(
    "/dashboard/export.xlsx",
    response_class=Response,
    responses=file_response(XLSX_TYPE, "the agency's filtered portfolio (Excel workbook)"),
)
def export_portfolio_xlsx(
    request: Request,
    user: PageUser,
    c: CopiloteDep,
    programme: str = "",
    territory: str = "",
    phase: str = "",
    sort: str = "",
    show: str = "",
) -> StreamingResponse:
    listing = _agency_listing(user, programme, territory, phase, sort, show)
    lang = i18n.language(request)
    _ = i18n.gettext(lang)
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Portefeuille"))
    sheet.freeze_panes = "A2"
    for index, (_name, width) in enumerate(PORTFOLIO_COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    bold = Font(bold=True)
    header = []
    for name, _width in PORTFOLIO_COLUMNS:
        cell = WriteOnlyCell(sheet, value=_(name))
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for line in _portfolio_lines(c, listing):
        row = []
        for value in _cells(line, lang):
            cell = WriteOnlyCell(sheet, value=_xlsx_text(value))
            if isinstance(value, date):
                cell.number_format = "yyyy-mm-dd"
            row.append(cell)
        sheet.append(row)
    spool = tempfile.SpooledTemporaryFile(max_size=8_000_000)  # noqa: SIM115 (streamed below)
    book.save(spool)
    spool.seek(0)

    def chunks() -> Iterator[bytes]:
        with spool:
            while block := spool.read(65536):
                yield block

    return StreamingResponse(
        chunks(),
        media_type=XLSX_TYPE,
        headers=_attachment(f"portefeuille-{c.engine.today().isoformat()}.xlsx"),
    )


i18n.register(
    {
        "Identifiant": "Id",
        "Projet": "Project",
        "Territoire": "Territory",
        "En cours": "In progress",
        "Prochaine échéance": "Next deadline",
        "Intitulé de l'échéance": "Deadline",
        "Éléments en retard": "Overdue items",
        "oui": "yes",
        "non": "no",
    }
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


@router.get(
    "/projects/{project_id}/calendar.ics",
    response_class=Response,
    responses=file_response("text/calendar", "the project's meetings and deadlines (iCalendar)"),
)
def calendar_feed(request: Request, project_id: PageId, c: CopiloteDep, key: str = "") -> Response:
    user = _feed_reader(c, project_id, key) if key else page_user(request, c.accounts)
    c.accounts.check_read(user, project_id)
    return Response(
        project_calendar(c, project_id),
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'inline; filename="projet-{project_id}.ics"'},
    )
