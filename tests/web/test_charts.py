"""The dashboard's charts (issue 14, point 3): their figures on a small portfolio, the
dashboard's filters applied, the SVG markup (title, desc, text labels) and the data tables
(caption, th scope) in French and English; the daily overdue count the trend reads, recorded
once per day and programme by the due work, and the 26-week trend with its gaps."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa

from notifications.wording import money
from tests.smtp_support import SmtpServer
from tests.web.conftest import AGENCY, PARIS, PILOT_A, Site
from workflow import tables
from workflow.budget import Budget
from workflow.database import read
from workflow.driver import run_due
from workflow.engine import NewProject, PartnerIn
from workflow.overdue_daily import record_overdue_daily
from workflow.progress import overdue_items
from workflow.read_models.charts import chart_data, overdue_trend
from workflow.read_models.portfolio import Filters, missing_reports, overdue_milestones

COOP = "Coopérative d'acteurs en promotion de la santé"
ACIA = "ACIA – Actions collectives innovantes et apprenantes"


def paris(year: int, month: int, day: int, hour: int = 9) -> datetime:
    return datetime(year, month, day, hour, tzinfo=PARIS)


def with_acia(site: Site) -> int:
    return site.c.engine.create_project(
        NewProject(
            definition_id="acia",
            variant="axe_1",
            title="EHPAD Les Tilleuls",
            start_date=date(2026, 5, 4),
            territory="Corse-du-Sud",
            pilot=PartnerIn("EHPAD", "pilote@ehpad.example", "Eve", ("pilot", "copil")),
        )
    )


@pytest.fixture
def small(site: Site) -> Site:
    """Two coopératives (Paris, Seine-Saint-Denis) and an ACIA project; COPILs and budget."""
    with_acia(site)
    records, budget = site.c.records, Budget(site.c.engine)
    records.meeting_held(site.project_a, series="copil")  # held today, 4 May 2026
    records.schedule_meeting(site.project_a, "copil", paris(2026, 6, 15, 14))
    records.schedule_meeting(site.project_a, "copil", paris(2027, 1, 11, 14))  # next year
    cancelled = records.schedule_meeting(site.project_b, "copil", paris(2026, 6, 16, 14))
    records.cancel_meeting(site.project_b, cancelled, "reportée")
    records.schedule_meeting(site.project_b, "copil", paris(2026, 9, 14, 14))
    budget.set_budget_line(
        site.project_a, None, year=2026, label="Animation", planned_cents=15_000_000, by="Pia",
        spent_cents=2_500_000, forecast_cents=14_000_050,
    )  # fmt: skip
    budget.set_budget_line(
        site.project_b, None, year=2026, label="Diagnostic", planned_cents=384_675, by="Pia",
        spent_cents=100_000, forecast_cents=384_675,
    )  # fmt: skip
    budget.set_budget_line(
        site.project_b, None, year=2027, label="Suite", planned_cents=99_900_000, by="Pia"
    )  # another year: not in this year's chart
    return site


def test_the_figures_of_each_chart_on_a_small_portfolio_with_the_filters(small: Site) -> None:
    engine, today = small.c.engine, small.c.engine.today()
    data = chart_data(engine, today, Filters())
    assert [(c.programme, c.phase_label, c.count) for c in data.phases] == [
        (ACIA, "Cadrage", 1),
        (COOP, "Préfiguration", 2),
    ]
    assert [(c.programme, c.planned, c.held) for c in data.copil] == [(COOP, 3, 1)]
    assert [
        (t.programme, t.planned_cents, t.spent_cents, t.forecast_cents) for t in data.budget
    ] == [(COOP, 15_384_675, 2_600_000, 14_384_725)]
    assert data.year == 2026

    paris_only = chart_data(engine, today, Filters(territory="Paris"))
    assert [(c.programme, c.count) for c in paris_only.phases] == [(COOP, 1)]
    assert [(c.planned, c.held) for c in paris_only.copil] == [(2, 1)]
    assert [t.planned_cents for t in paris_only.budget] == [15_000_000]

    acia_only = chart_data(engine, today, Filters(programme="acia"))
    assert [c.programme for c in acia_only.phases] == [ACIA]
    assert acia_only.copil == [] and acia_only.budget == []

    other_phase = chart_data(engine, today, Filters(phase="diagnostic"))
    assert other_phase.phases == [] and other_phase.copil == []

    # the yearly tally follows the meetings: B's September COPIL moved to next year leaves
    # this year's count, and held counts once held
    with engine.db.connect() as conn:
        september = conn.execute(
            sa.select(tables.meeting.c.id).where(
                tables.meeting.c.project_id == small.project_b,
                tables.meeting.c.status == "planned",
            )
        ).scalar_one()
    small.c.records.move_meeting(small.project_b, september, paris(2027, 2, 1, 14))
    assert [(c.planned, c.held) for c in chart_data(engine, today, Filters()).copil] == [(2, 1)]


def svg_of(page: str, chart_id: str) -> str:
    found = re.search(rf'<svg id="{chart_id}".*?</svg>', page, re.S)
    assert found, f"no chart {chart_id}"
    return found.group(0)


def test_each_chart_is_an_image_with_title_desc_text_labels_and_its_data_table(small: Site) -> None:
    page = small.client(AGENCY).get("/dashboard").text
    for chart in ("graphique-phases", "graphique-retards", "graphique-copil", "graphique-budget"):
        svg = svg_of(page, chart)
        assert f'role="img" aria-labelledby="{chart}-t {chart}-d"' in svg
        assert f'<title id="{chart}-t">' in svg and f'<desc id="{chart}-d">' in svg
        assert 'viewBox="0 0 360 ' in svg and 'width="100%"' in svg
    copil = html.unescape(svg_of(page, "graphique-copil"))
    assert "COPIL prévus et tenus en 2026" in copil
    assert "Prévus\u202f: 3" in copil and "Tenus\u202f: 1" in copil  # words, not colours
    budget = html.unescape(svg_of(page, "graphique-budget"))
    assert f"Prévu\u202f: {money(15_384_675)}" in budget
    assert "153\u202f846,75\xa0€" in money(15_384_675)
    phases = html.unescape(svg_of(page, "graphique-phases"))
    assert "Préfiguration\u202f: 2" in phases and "Cadrage\u202f: 1" in phases

    section = re.search(r'<section id="graphiques".*?</section>', page, re.S)
    assert section
    tables_ = re.findall(r"<table>(.*?)</table>", section.group(0), re.S)
    assert len(tables_) == 4
    for table in tables_:
        assert "<caption>" in table and '<th scope="col">' in table
        assert "Voir les données" in section.group(0)
    budget_table = html.unescape(tables_[3])
    assert f'<th scope="row">{COOP}</th><td>{money(15_384_675)}</td>' in budget_table
    assert '<a class="fr-btn fr-btn--secondary" href="/dashboard/export.csv"' in page

    filtered = small.client(AGENCY).get("/dashboard", params={"territory": "Paris"}).text
    assert 'href="/dashboard/export.xlsx?territory=Paris"' in filtered
    assert "relevée par programme\u202f: seuls les autres graphiques suivent" in filtered
    english_filtered = small.client(AGENCY).get(
        "/dashboard", params={"territory": "Paris", "lang": "en"}
    )
    assert "only the other charts follow the territory and phase filters" in english_filtered.text

    english = small.client(AGENCY).get("/dashboard", params={"lang": "en"}).text
    copil_en = html.unescape(svg_of(english, "graphique-copil"))
    assert "Planned: 3" in copil_en and "Held: 1" in copil_en
    assert "Show the data" in english and "€153,846.75" in html.unescape(english)


@pytest.fixture
def any_site(db_url: str, smtp_server: SmtpServer) -> Iterator[Site]:
    s = Site(db_url, smtp_server)
    yield s
    s.c.db.dispose()


def daily_rows(site: Site) -> list[tuple[date, str, int, int, int, int]]:
    od = tables.overdue_daily
    with read(site.c.db) as conn:
        return [
            tuple(r)
            for r in conn.execute(
                sa.select(
                    od.c.day,
                    od.c.programme,
                    od.c.overdue_milestones,
                    od.c.missing_reports,
                    od.c.late_projects,
                    od.c.projects,
                ).order_by(od.c.day, od.c.programme)
            )
        ]


def test_the_due_work_records_each_day_once_per_programme_and_updates_it(any_site: Site) -> None:
    site = any_site
    engine, sweeper = site.c.engine, site.c.sweeper
    site.clock.set(paris(2026, 9, 1, 9))
    run_due(engine, sweeper, site.clock.now())
    today = engine.today()
    late = overdue_milestones(engine, today, Filters(programme="cooperative")).total
    assert late > 0
    projects_late = sum(
        1 for pid in (site.project_a, site.project_b) if overdue_items(engine, today, pid)
    )
    reports = missing_reports(engine, site.clock.now(), Filters(programme="cooperative")).total
    first = daily_rows(site)
    assert first == [
        (date(2026, 9, 1), p, *figures)
        for p, figures in sorted(
            {
                "aceso": (0, 0, 0, 0),
                "acia": (0, 0, 0, 0),
                "cooperative": (late, reports, projects_late, 2),
                "unapei": (0, 0, 0, 0),
            }.items()
        )
    ]
    # A pass within the hour counts nothing again; one in the evening updates the day's row.
    site.clock.set(paris(2026, 9, 1, 9) + timedelta(minutes=30))
    assert record_overdue_daily(engine, site.clock.now()) == 0
    key = next(
        m.key
        for m in overdue_milestones(engine, today, Filters()).rows
        if m.project_id == site.project_a
    )
    site.c.records.milestone_done(site.project_a, key, by="Pia")
    site.clock.set(paris(2026, 9, 1, 18))
    run_due(engine, sweeper, site.clock.now())
    second = daily_rows(site)
    assert len(second) == 4
    assert [r[2] for r in second if r[1] == "cooperative"] == [late - 1]
    # the next day is a row of its own
    site.clock.set(paris(2026, 9, 2, 9))
    run_due(engine, sweeper, site.clock.now())
    assert [r[0] for r in daily_rows(site)].count(date(2026, 9, 2)) == 4


def test_the_trend_covers_26_weeks_and_a_week_without_a_count_is_a_gap(site: Site) -> None:
    engine = site.c.engine
    for day, hour in ((date(2026, 8, 3), 9), (date(2026, 8, 12), 9), (date(2026, 8, 26), 9)):
        site.clock.set(datetime.combine(day, datetime.min.time(), tzinfo=PARIS).replace(hour=hour))
        assert record_overdue_daily(engine, site.clock.now()) == 4
    with site.c.db.begin() as conn:  # a programme whose definition is no longer loaded
        conn.execute(
            sa.insert(tables.overdue_daily).values(
                day=date(2026, 8, 5), programme="ancien", overdue_milestones=2,
                missing_reports=1, late_projects=1, projects=3, recorded_at=site.clock.now(),
            )
        )  # fmt: skip
    site.clock.set(paris(2026, 8, 31, 9))
    trend = overdue_trend(engine, engine.today(), Filters())
    ancien = next(line for line in trend.lines if line.programme_id == "ancien")
    assert ancien.programme == "ancien" and ancien.items[trend.mondays.index(date(2026, 8, 3))] == 3
    assert len(trend.mondays) == 26
    assert trend.mondays[-1] == date(2026, 8, 31) and trend.mondays[0] == date(2026, 3, 9)
    coop = next(line for line in trend.lines if line.programme_id == "cooperative")
    week = {monday: coop.items[n] for n, monday in enumerate(trend.mondays)}
    assert week[date(2026, 8, 3)] is not None and week[date(2026, 8, 10)] is not None
    assert week[date(2026, 8, 17)] is None  # no count that week: a gap, not zero
    assert week[date(2026, 8, 24)] is not None and week[date(2026, 8, 31)] is None
    assert sum(v is None for v in coop.items) == 23
    assert week[date(2026, 8, 24)] >= week[date(2026, 8, 10)] > 0  # type: ignore[operator]
    only_acia = overdue_trend(engine, engine.today(), Filters(programme="acia"))
    assert [line.programme_id for line in only_acia.lines] == ["acia"]

    page = site.client(AGENCY).get("/dashboard").text
    svg = svg_of(page, "graphique-retards")
    paths = re.findall(r'<path d="([^"]+)"', svg)
    coop_path = paths[[line.programme_id for line in trend.lines].index("cooperative")]
    assert coop_path.count("M") == 2 and coop_path.count("L") == 1  # broken at the gap
    section = re.search(r'<section id="graphiques".*?</section>', page, re.S)
    assert section
    assert '<th scope="row">17/08/2026</th>' in section.group(0)


def test_a_pilot_does_not_see_the_dashboard_charts(site: Site) -> None:
    assert site.client(PILOT_A).get("/dashboard").status_code == 403


def test_a_failing_count_does_not_stop_the_reminders_nor_delivery(site: Site) -> None:
    """The count is a step of its own: a database without its table (not migrated yet)
    fails it, the sweep and delivery still run, and the error is raised after them."""
    site.clock.set(paris(2026, 9, 1, 9))
    with site.c.db.begin() as conn:
        conn.execute(sa.text("DROP TABLE overdue_daily"))
    delivered: list[datetime] = []
    with pytest.raises(sa.exc.DBAPIError):
        run_due(site.c.engine, site.c.sweeper, site.clock.now(), delivered.append)
    assert delivered == [site.clock.now()]
    with read(site.c.db) as conn:
        queued = conn.execute(sa.select(sa.func.count()).select_from(tables.outbox)).scalar_one()
    assert queued > 0  # the overdue reminders of 1 September went out to the outbox
