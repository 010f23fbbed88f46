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

from datetime import date, datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from icalendar import Calendar, Event
from itsdangerous import BadSignature, URLSafeSerializer

from notifications.message import clean_text_line
from notifications.wording import money
from web.auth import Principal
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
