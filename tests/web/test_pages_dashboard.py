"""The agency's dashboard (issue 4, § 4): what is late across every project, sorted by days
late, with who holds it; missing quarterly reports; meetings ahead; filters; counts per
phase; pagination. And the read models behind it, on SQLite and PostgreSQL."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.plan_support import enter_plan
from tests.smtp_support import SmtpServer
from tests.web.conftest import AGENCY, PARIS, PILOT_A, PILOT_B, ROOT, Site
from workflow import tables
from workflow.database import read
from workflow.engine import NewProject, PartnerIn
from workflow.failures import record_failure
from workflow.loader import load_definition
from workflow.progress import overdue_items
from workflow.read_models import portfolio as queries
from workflow.read_models.portfolio import Filters

ALPHA = "alpha@asso.example"
BETA = "beta@centre.example"


def paris(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=PARIS)


def rows_of(page: str, section: str) -> list[str]:
    """The text of each body row of a section's table (tags dropped)."""
    found = re.search(rf'<section id="{section}".*?</section>', page, re.S)
    assert found, f"no section {section}"
    body = re.search(r"<tbody>(.*?)</tbody>", found.group(0), re.S)
    assert body
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body.group(1), re.S)
    return [html.unescape(" ".join(re.sub(r"<[^>]+>", " ", r).split())) for r in rows]


def later_project(site: Site, title: str, territory: str, email: str) -> int:
    return site.c.engine.create_project(
        NewProject(
            definition_id="cooperative",
            title=title,
            start_date=site.c.engine.today(),
            territory=territory,
            pilot=PartnerIn(f"Structure {title}", email, title, ("pilot", "copil")),
        )
    )


def to_implementation(site: Site, pid: int) -> None:
    """The project reaches « mise en œuvre », where partners owe quarterly reports."""
    records, engine = site.c.records, site.c.engine
    records.meeting_held(pid, occurrence="reunion_lancement")
    for key in ("gouvernance", "orientations_validees"):
        records.milestone_done(pid, key, by="Pia")
    engine.advance(pid, "start_diagnostic", actor="Pia")
    records.milestone_done(pid, "diagnostic_local_sante", by="Pia")
    records.meeting_held(pid, series="copil")
    engine.advance(pid, "start_action_plan", actor="Pia")
    for key in ("arbre_objectifs", "fiches_actions", "indicateurs", "convention_signee"):
        records.milestone_done(pid, key, by="Pia")
    records.meeting_held(pid, series="copil")
    enter_plan(records, pid)  # issue 13: objectives: required
    engine.advance(pid, "validate_action_plan", actor="Pia")


def test_an_overdue_milestone_appears_once_the_clock_passes_its_date_latest_first(
    site: Site,
) -> None:
    agency = site.client(AGENCY)
    first = agency.get("/dashboard")
    assert first.status_code == 200
    assert rows_of(first.text, "retards") == ["Aucun jalon en retard."]

    site.clock.set(paris(2026, 5, 20, 9, 0))
    c_id = later_project(site, "Coopérative C", "Paris", "pilote.c@exemple.fr")
    site.clock.set(paris(2026, 8, 1, 9, 0))  # A and B due 04/07 (28 days), C due 20/07 (12 days)
    site.c.records.milestone_done(site.project_b, "gouvernance", by="Paul")

    page = agency.get("/dashboard")
    assert page.status_code == 200
    rows = rows_of(page.text, "retards")
    assert rows == [
        "28 jours Mise en place des instances de gouvernance Coopérative A "
        "Coopérative d'acteurs en promotion de la santé Paris 04/07/2026 "
        "Coordinateur·rice de la coopérative (DD de l'ARS) Structure A",
        "28 jours Validation des orientations – communication Coopérative A "
        "Coopérative d'acteurs en promotion de la santé Paris 04/07/2026 "
        "Coordinateur·rice de la coopérative (DD de l'ARS) Structure A",
        "28 jours Validation des orientations – communication Coopérative B "
        "Coopérative d'acteurs en promotion de la santé Seine-Saint-Denis 04/07/2026 "
        "Coordinateur·rice de la coopérative (DD de l'ARS) Structure B",
        "12 jours Mise en place des instances de gouvernance Coopérative C "
        "Coopérative d'acteurs en promotion de la santé Paris 20/07/2026 "
        "Coordinateur·rice de la coopérative (DD de l'ARS) Structure Coopérative C",
        "12 jours Validation des orientations – communication Coopérative C "
        "Coopérative d'acteurs en promotion de la santé Paris 20/07/2026 "
        "Coordinateur·rice de la coopérative (DD de l'ARS) Structure Coopérative C",
    ]
    assert f'href="/projects/{c_id}"' in page.text
    assert re.search(r"Jalons en retard\s*<span class=\"count\">5</span>", page.text)
    # the portfolio counts them too (milestones, phase past its planned end, COPIL cadence)
    portfolio = rows_of(page.text, "portefeuille")
    assert len(portfolio) == 3 and portfolio[0].startswith("Coopérative A")
    with read(site.c.db) as conn:
        rows = [site.c.engine.project_row(conn, p) for p in (site.project_a, site.project_b, c_id)]
        counts = queries.overdue_counts(conn, site.c.engine, rows, site.c.engine.today())
    for pid in (site.project_a, site.project_b, c_id):
        assert counts[pid] == len(overdue_items(site.c.engine, site.c.engine.today(), pid))
    assert portfolio[0].endswith(f" {counts[site.project_a]}")


def test_filters_narrow_every_list_and_the_counts_per_phase(site: Site) -> None:
    site.c.engine.create_project(
        NewProject(
            definition_id="acia",
            variant="axe_1",
            title="EHPAD Les Tilleuls",
            start_date=date(2026, 5, 4),
            territory="Corse-du-Sud",
            pilot=PartnerIn("EHPAD", "pilote@ehpad.example", "Eve", ("pilot", "copil")),
        )
    )
    site.clock.set(paris(2026, 9, 1, 9, 0))
    agency = site.client(AGENCY)

    everything = agency.get("/dashboard").text
    projects = {r.split(" Coop")[0] for r in rows_of(everything, "retards")}
    assert len(rows_of(everything, "portefeuille")) == 3

    paris_only = agency.get("/dashboard", params={"territory": "Paris"}).text
    assert rows_of(paris_only, "portefeuille")[0].startswith("Coopérative A")
    assert len(rows_of(paris_only, "portefeuille")) == 1
    assert all(" Coopérative A " in r for r in rows_of(paris_only, "retards"))
    assert '<option value="Paris" selected>' in paris_only

    acia = agency.get("/dashboard", params={"programme": "acia"}).text
    assert [r.split(" ")[0:3] for r in rows_of(acia, "portefeuille")] == [
        ["EHPAD", "Les", "Tilleuls"]
    ]
    assert all("EHPAD Les Tilleuls" in r for r in rows_of(acia, "retards"))

    # counts per phase, then the phase filter
    cards = re.findall(r'<a class="card" href="([^"]+)"><strong>(\d+)</strong>([^<]+)', everything)
    by_label = {label.strip(): int(n) for _, n, label in cards}
    assert by_label == {"Cadrage": 1, "Préfiguration": 2}
    site.c.records.meeting_held(site.project_a, occurrence="reunion_lancement")
    for key in ("gouvernance", "orientations_validees"):
        site.c.records.milestone_done(site.project_a, key, by="Pia")
    site.c.engine.advance(site.project_a, "start_diagnostic", actor="Pia")
    diagnostic = agency.get("/dashboard", params={"phase": "diagnostic"}).text
    assert [r.split(" Coop")[0] for r in rows_of(diagnostic, "portefeuille")] == ["Coopérative A"]
    assert rows_of(diagnostic, "retards") == ["Aucun jalon en retard."]  # new phase, new dates
    assert projects  # the unfiltered view had overdue milestones


def test_pilots_may_not_open_the_dashboard(site: Site) -> None:
    for email in (PILOT_A, PILOT_B):
        response = site.client(email).get("/dashboard")
        assert response.status_code == 403
        assert "Jalons en retard" not in response.text
    assert site.client().get("/dashboard", follow_redirects=False).status_code == 303


def test_long_lists_are_paginated_with_their_totals(site: Site) -> None:
    for n in range(25):
        later_project(site, f"Coopérative {n:02d}", "Val-de-Marne", f"p{n}@exemple.fr")
    site.clock.set(paris(2026, 8, 1, 9, 0))
    agency = site.client(AGENCY)
    first = agency.get("/dashboard").text
    assert len(rows_of(first, "retards")) == 50
    assert "1–50 sur 54" in first
    assert 'href="?page=2#retards"' in first
    second = agency.get("/dashboard", params={"page": "2"}).text
    assert len(rows_of(second, "retards")) == 4
    assert "51–54 sur 54" in second
    assert 'href="?page=1#retards"' not in second and 'href="?#retards"' in second
    assert agency.get("/dashboard", params={"page": "oops"}).status_code == 200
    # the portfolio pages on its own parameter, keeping the filters
    filtered = agency.get("/dashboard", params={"territory": "Val-de-Marne"}).text
    assert len(rows_of(filtered, "portefeuille")) == 25


def test_missing_quarterly_reports_are_listed_until_received(site: Site) -> None:
    records = site.c.records
    alpha = records.add_partner(site.project_a, PartnerIn("Association Alpha", ALPHA, "Alice"))
    records.add_partner(site.project_a, PartnerIn("Centre Beta", BETA, "Bruno"))
    to_implementation(site, site.project_a)
    site.c.tick(paris(2026, 6, 30, 9, 0))  # the Q2 request goes out
    site.clock.set(paris(2026, 8, 5, 9, 0))  # due 30/07 (30 days after the quarter)
    agency = site.client(AGENCY)
    rows = rows_of(agency.get("/dashboard").text, "bilans")
    assert rows == [
        "Association Alpha Coopérative A Paris Bilan trimestriel T2 2026 30/07/2026 6 jours",
        "Centre Beta Coopérative A Paris Bilan trimestriel T2 2026 30/07/2026 6 jours",
    ]
    assert tiles_of(agency.get("/dashboard").text)["bilans manquants"] == (2, "/dashboard#bilans")
    records.submit_report(
        site.project_a, alpha, "bilan_trimestriel", "2026-Q2", {"obstacles": "Locaux <fermés>"}
    )
    page = agency.get("/dashboard").text
    assert rows_of(page, "bilans") == [
        "Centre Beta Coopérative A Paris Bilan trimestriel T2 2026 30/07/2026 6 jours"
    ]
    assert rows_of(
        agency.get("/dashboard", params={"territory": "Seine-Saint-Denis"}).text, "bilans"
    ) == ["Aucun bilan manquant."]
    # the agency reads the report received on the project page
    project = agency.get(f"/projects/{site.project_a}").text
    assert rows_of(project, "bilans") == [
        "Association Alpha T2 2026 05/08/2026 09:00 Détails obstacles Locaux <fermés>"
    ]
    assert "Locaux &lt;fermés&gt;" in project


def test_meetings_of_the_coming_four_weeks(site: Site) -> None:
    records = site.c.records
    records.schedule_meeting(
        site.project_a, "copil", paris(2026, 5, 18, 14, 0), location="Mairie du 18e"
    )
    records.schedule_meeting(site.project_b, "copil", paris(2026, 6, 25, 14, 0))  # 7 weeks on
    rows = rows_of(site.client(AGENCY).get("/dashboard").text, "reunions")
    assert rows == [
        "18/05/2026 14:00 Comité de pilotage (COPIL) n°1 Coopérative A Paris Mairie du 18e"
    ]


def test_the_place_column_shows_only_when_a_meeting_shown_has_a_place(site: Site) -> None:
    records = site.c.records
    records.schedule_meeting(site.project_b, "copil", paris(2026, 5, 19, 14, 0))
    agency = site.client(AGENCY)
    page = agency.get("/dashboard").text
    assert rows_of(page, "reunions") == [
        "19/05/2026 14:00 Comité de pilotage (COPIL) n°1 Coopérative B Seine-Saint-Denis"
    ]
    assert ">Lieu</th>" not in page
    records.schedule_meeting(
        site.project_a, "copil", paris(2026, 5, 18, 14, 0), location="Mairie du 18e"
    )
    page = agency.get("/dashboard").text
    assert ">Lieu</th>" in page
    assert rows_of(page, "reunions")[1].endswith("Seine-Saint-Denis —")
    second = agency.get("/dashboard", params={"meetings_page": "2"}).text
    assert rows_of(second, "reunions") == ["Aucune réunion prévue."]


@pytest.fixture
def any_site(db_url: str, smtp_server: SmtpServer, tmp_path: Path) -> Iterator[Site]:
    s = Site(db_url, smtp_server)
    yield s
    s.c.db.dispose()


def test_read_models_on_sqlite_and_postgresql(any_site: Site) -> None:
    site, c = any_site, any_site.c
    alpha = c.records.add_partner(site.project_a, PartnerIn("Association Alpha", ALPHA, "Alice"))
    to_implementation(site, site.project_a)
    c.records.schedule_meeting(site.project_b, "reunion_projet", paris(2026, 5, 12, 10, 0))
    c.tick(paris(2026, 6, 30, 9, 0))
    site.clock.set(paris(2026, 8, 5, 9, 0))
    now, today = c.clock.now(), c.engine.today()

    late = queries.overdue_milestones(c.engine, today)
    assert [(m.project_id, m.key, m.days_late, m.holders) for m in late.rows] == [
        (site.project_a, "tableau_de_bord", 62, ("Structure A",)),
        (site.project_b, "gouvernance", 32, ("Structure B",)),
        (site.project_b, "orientations_validees", 32, ("Structure B",)),
    ]
    assert late.total == 3
    paris_only = queries.overdue_milestones(c.engine, today, Filters(territory="Paris"))
    assert [m.key for m in paris_only.rows] == ["tableau_de_bord"] and paris_only.total == 1
    second = queries.overdue_milestones(c.engine, today, page=2, size=2)
    assert second.total == 3 and [m.key for m in second.rows] == ["orientations_validees"]

    missing = queries.missing_reports(c.engine, now)
    assert [(r.partner_id, r.period, r.due_on) for r in missing.rows] == [
        (alpha, "2026-Q2", date(2026, 7, 30))
    ]
    assert missing.total == 1
    past_the_end = queries.missing_reports(c.engine, now, page=2, size=1)
    assert past_the_end.rows == [] and past_the_end.total == 1  # counted on its own
    c.records.submit_report(site.project_a, alpha, "bilan_trimestriel", "2026-Q2", {})
    assert queries.missing_reports(c.engine, now).total == 0

    ahead = queries.upcoming_meetings(c.engine, paris(2026, 5, 4, 9, 0))
    assert [m.project_id for m in ahead.rows] == [site.project_b]
    assert queries.upcoming_meetings(c.engine, now).total == 0

    lines = queries.portfolio(c.engine, today)
    assert [p.title for p in lines.rows] == ["Coopérative A", "Coopérative B"]
    assert [p.next_deadline for p in lines.rows] == [None, None]  # all past
    earlier = queries.portfolio(c.engine, date(2026, 5, 4))
    assert (earlier.rows[1].next_deadline, earlier.rows[1].next_deadline_label) == (
        date(2026, 7, 4),
        "Mise en place des instances de gouvernance",
    )
    with read(c.db) as conn:
        rows = [c.engine.project_row(conn, p) for p in (site.project_a, site.project_b)]
        counts = queries.overdue_counts(conn, c.engine, rows, today)
    assert [p.overdue for p in lines.rows] == [
        counts.get(site.project_a, 0),
        counts[site.project_b],
    ]
    for pid in (site.project_a, site.project_b):
        assert counts.get(pid, 0) == len(overdue_items(c.engine, today, pid))
    assert {(x.phase, x.count) for x in queries.phase_counts(c.engine)} == {
        ("mise_en_oeuvre", 1),
        ("prefiguration", 1),
    }
    mine = queries.portfolio(c.engine, today, readable={site.project_b})
    assert [p.id for p in mine.rows] == [site.project_b] and mine.total == 1
    assert queries.portfolio(c.engine, today, readable=set()).total == 0


def test_the_overdue_count_says_what_it_counts(site: Site) -> None:
    """The portfolio's « Retards » counts more than the milestones listed above it: the page
    says what, and each count leads to the project's page where every item is shown."""
    site.clock.set(paris(2026, 9, 1, 9, 0))
    page = site.client(AGENCY).get("/dashboard").text
    explained = (
        "jalons en retard, phases au-delà de leur fin prévue, étapes automatiques impossibles"
        " et instances (COPIL...) en retard sur leur rythme"
    )
    assert f'<abbr title="{explained}' in html.unescape(page)
    today = site.c.engine.today()
    late = len(overdue_items(site.c.engine, today, site.project_a))
    assert late > 0
    assert f'<a href="/projects/{site.project_a}#avancement">{late}</a>' in page
    english = site.client(AGENCY).get("/dashboard?lang=en").text
    assert "bodies (COPIL...) behind their cadence" in english


def test_a_failing_project_is_shown_on_the_dashboard_and_its_page(site: Site) -> None:
    """Issue 10, finding 1: the project whose due work raised is flagged where the agency
    and its pilot look, with when and why; the dashboard still answers for the others."""
    with site.c.db.begin() as conn:
        record_failure(
            conn, site.project_b, site.clock.now(), "reminder x", OverflowError("too far")
        )
    agency = site.client(AGENCY)
    page = agency.get("/dashboard")
    assert page.status_code == 200
    found = re.search(r'<section id="echecs".*?</section>', page.text, re.S)
    assert found, "no failing-projects section"
    assert "Coopérative B" in found.group(0) and "Coopérative A" not in found.group(0)
    assert "OverflowError: too far" in found.group(0)
    own = site.client(PILOT_B).get(f"/projects/{site.project_b}")
    failure = re.search(
        r'<div class="fr-alert fr-alert--error" id="echec">.*?</div>', own.text, re.S
    )
    assert failure, "no failure section on the project's page"
    assert "04/05/2026" in failure.group(0) and "OverflowError: too far" in failure.group(0)
    other = site.client(PILOT_A).get(f"/projects/{site.project_a}")
    assert "Travail automatique en échec" not in other.text
    with site.c.db.connect() as conn:
        flagged = conn.execute(
            sa.select(tables.project.c.id).where(tables.project.c.failed_at.is_not(None))
        ).scalars()
        assert list(flagged) == [site.project_b]


def test_a_project_whose_definition_version_is_gone_never_takes_the_lists_down(
    site: Site,
) -> None:
    """Issue 10, finding 1: a definition file bumped in place leaves a project on a version
    no longer loaded; the dashboard, the lists and its own page still answer (shown with the
    latest loaded version's labels), and its due work is flagged, not crashed on."""
    with site.c.db.begin() as conn:
        conn.execute(
            sa.update(tables.project)
            .where(tables.project.c.id == site.project_b)
            .values(definition_version=99, auto_due_on=date(2026, 5, 4))
        )
    agency = site.client(AGENCY)
    for url in (
        "/dashboard",
        "/projects",
        "/api/projects",
        f"/projects/{site.project_b}",
        f"/api/projects/{site.project_b}",
        f"/projects/{site.project_a}",
    ):
        assert agency.get(url).status_code == 200, url
    site.c.tick()
    page = agency.get("/dashboard").text
    found = re.search(r'<section id="echecs".*?</section>', page, re.S)
    assert found and "Coopérative B" in found.group(0) and "version 99" in found.group(0)


# -- summary tiles, sorting (issue 14) -----------------------------------------------------


def tiles_of(page: str) -> dict[str, tuple[int, str]]:
    """Each summary tile: its label -> (figure, link)."""
    found = re.search(r'<nav id="synthese".*?</nav>', page, re.S)
    assert found, "no summary tiles"
    tiles = re.findall(
        r'<a href="([^"]+)"><span class="fr-h3 tile-figure">([\d\u202f]+)</span> ([^<]+)</a>',
        found.group(0),
    )
    return {
        html.unescape(label): (int(n.replace("\u202f", "")), html.unescape(href))
        for href, n, label in tiles
    }


def three_projects(site: Site) -> int:
    """A (Paris) 28 days late, C (Paris, later) 12 days late, B (Seine-Saint-Denis) on time,
    on 01/08/2026; A has a COPIL on 10/08, B one on 20/09 (beyond four weeks)."""
    site.clock.set(paris(2026, 5, 20, 9, 0))
    c_id = later_project(site, "Coopérative C", "Paris", "pilote.c@exemple.fr")
    site.clock.set(paris(2026, 8, 1, 9, 0))
    for key in ("gouvernance", "orientations_validees"):
        site.c.records.milestone_done(site.project_b, key, by="Paul")
    site.c.records.schedule_meeting(site.project_a, "copil", paris(2026, 8, 10, 14, 0))
    site.c.records.schedule_meeting(site.project_b, "copil", paris(2026, 9, 21, 14, 0))
    return c_id


def test_summary_tiles_count_each_list_and_link_to_it_with_the_filters_kept(site: Site) -> None:
    three_projects(site)
    agency = site.client(AGENCY)
    page = agency.get("/dashboard").text
    # the words agree with each figure (French takes the singular for 0 and 1)
    assert tiles_of(page) == {
        "projets": (3, "/dashboard#portefeuille"),
        "projets en retard": (2, "/dashboard?show=late#portefeuille"),
        "jalons en retard": (4, "/dashboard#retards"),
        "bilan manquant": (0, "/dashboard#bilans"),
        "réunion dans les 4 semaines": (1, "/dashboard#reunions"),
    }
    # each figure is the total of the list it links to
    assert re.search(r"Jalons en retard\s*<span class=\"count\">4</span>", page)
    assert len(rows_of(page, "reunions")) == 1

    paris_only = agency.get("/dashboard", params={"territory": "Paris", "page": "1"}).text
    tiles = tiles_of(paris_only)
    assert tiles["projets"] == (2, "/dashboard?territory=Paris#portefeuille")
    assert tiles["projets en retard"] == (
        2,
        "/dashboard?territory=Paris&show=late#portefeuille",
    )
    assert tiles["jalons en retard"] == (4, "/dashboard?territory=Paris#retards")
    assert tiles["réunion dans les 4 semaines"][0] == 1

    late = agency.get("/dashboard", params={"show": "late"}).text
    assert [r.split(" Coop")[0] for r in rows_of(late, "portefeuille")] == [
        "Coopérative A",
        "Coopérative C",
    ]
    assert "projets en retard" in late and 'href="/dashboard#portefeuille">Voir tous' in late
    # the tiles say the same whichever list is shown
    assert tiles_of(late)["projets"][0] == 3 and tiles_of(late)["projets en retard"][0] == 2
    assert tiles_of(late)["projets"][1] == "/dashboard#portefeuille"
    # an unknown "show" shows every project
    assert len(rows_of(agency.get("/dashboard", params={"show": "x"}).text, "portefeuille")) == 3


def headers_of(page: str) -> dict[str, tuple[str | None, str]]:
    """The portfolio's sortable headers: label -> (aria-sort, link)."""
    found = re.search(r'<section id="portefeuille".*?</thead>', page, re.S)
    assert found
    return {
        html.unescape(label): (aria or None, html.unescape(href))
        for aria, href, label in re.findall(
            r'<th scope="col"(?: aria-sort="(\w+)")?><a href="([^"]+)">([^<]+)</a></th>',
            found.group(0),
        )
    }


def test_the_portfolio_is_sorted_by_days_late_and_by_each_column_header(site: Site) -> None:
    three_projects(site)
    site.c.engine.create_project(
        NewProject(
            definition_id="acia",
            variant="axe_1",
            title="EHPAD Les Tilleuls",
            start_date=date(2026, 8, 1),
            territory="Corse-du-Sud",
            pilot=PartnerIn("EHPAD", "pilote@ehpad.example", "Eve", ("pilot", "copil")),
        )
    )
    agency = site.client(AGENCY)

    def order(**params: str) -> list[str]:
        page = agency.get("/dashboard", params={"territory": "", **params}).text
        return [r.split(" Coop")[0].split(" ACIA")[0] for r in rows_of(page, "portefeuille")]

    a, b, c, e = "Coopérative A", "Coopérative B", "Coopérative C", "EHPAD Les Tilleuls"
    default = agency.get("/dashboard").text
    assert [r.split(" Coop")[0] for r in rows_of(default, "portefeuille")][:2] == [a, c]
    assert "28 jours" in rows_of(default, "portefeuille")[0]
    headers = headers_of(default)
    assert headers["Jours de retard"] == ("descending", "/dashboard?sort=late#portefeuille")
    assert headers["Projet"] == (None, "/dashboard?sort=title#portefeuille")
    assert set(headers) == {"Projet", "Programme", "Territoire", "Phase", "Jours de retard"}

    assert order(sort="-late")[:2] == [a, c]
    assert order(sort="late")[-2:] == [c, a]
    assert order(sort="title") == [a, b, c, e]
    assert order(sort="-title") == [e, c, b, a]
    assert order(sort="territory") == [e, a, c, b]  # Corse-du-Sud, Paris, Seine-Saint-Denis
    assert order(sort="-territory") == [b, a, c, e]  # ties by title
    programmes = order(sort="programme")
    assert programmes[0] == e  # « Accompagnement ... (ACIA) » before « Coopérative ... »
    assert order(sort="-programme")[-1] == e
    # phases: by programme, then their place in the lifecycle (the label is what is shown)
    assert order(sort="phase") == [e, a, b, c]
    records = site.c.records
    records.meeting_held(site.project_a, occurrence="reunion_lancement")
    for key in ("gouvernance", "orientations_validees"):
        records.milestone_done(site.project_a, key, by="Pia")
    site.c.engine.advance(site.project_a, "start_diagnostic", actor="Pia")
    assert order(sort="phase") == [e, b, c, a]  # préfiguration before diagnostic
    assert order(sort="-phase") == [a, b, c, e]

    sorted_page = agency.get("/dashboard", params={"sort": "title", "projects_page": "1"}).text
    headers = headers_of(sorted_page)
    assert headers["Projet"] == ("ascending", "/dashboard?sort=-title#portefeuille")
    assert headers["Jours de retard"] == (None, "/dashboard?sort=-late#portefeuille")
    assert headers_of(agency.get("/dashboard", params={"sort": "-title"}).text)["Projet"][0] == (
        "descending"
    )
    # an unknown order is ignored: the default, never an error
    for bad in ("oops", "-", "--late", "title;drop", "overdue"):
        response = agency.get("/dashboard", params={"sort": bad})
        assert response.status_code == 200
        assert headers_of(response.text)["Jours de retard"][0] == "descending"


def test_the_sorted_portfolio_pages_in_sql_keeping_its_order_and_filters(site: Site) -> None:
    for n in range(55):
        later_project(site, f"Coopérative {n:02d}", "Val-de-Marne", f"p{n}@exemple.fr")
    site.clock.set(paris(2026, 8, 1, 9, 0))
    agency = site.client(AGENCY)
    first = agency.get("/dashboard", params={"sort": "-title", "territory": "Val-de-Marne"}).text
    titles = [r.split(" Coop")[0] for r in rows_of(first, "portefeuille")]
    assert len(titles) == 50 and titles[0] == "Coopérative 54" and titles[-1] == "Coopérative 05"
    assert (
        'href="?sort=-title&amp;territory=Val-de-Marne&amp;projects_page=2#portefeuille"' in first
    )
    second = agency.get(
        "/dashboard",
        params={"sort": "-title", "territory": "Val-de-Marne", "projects_page": "2"},
    ).text
    assert [r.split(" Coop")[0] for r in rows_of(second, "portefeuille")] == [
        f"Coopérative {n:02d}" for n in (4, 3, 2, 1, 0)
    ]
    # a header link starts again from page 1
    assert headers_of(second)["Projet"][1] == (
        "/dashboard?sort=title&territory=Val-de-Marne#portefeuille"
    )
    assert "51–55 sur 55" in second


def test_portfolio_order_and_late_counts_on_sqlite_and_postgresql(any_site: Site) -> None:
    site, engine = any_site, any_site.c.engine
    c_id = three_projects(site)
    today = engine.today()
    most_late = queries.Sort("late", descending=True)
    lines = queries.portfolio(engine, today, sort=most_late)
    assert [(p.id, p.days_late) for p in lines.rows] == [
        (site.project_a, 28),
        (c_id, 12),
        (site.project_b, 0),
    ]
    least_late = queries.portfolio(engine, today, sort=queries.Sort("late"))
    assert [p.id for p in least_late.rows] == [site.project_b, c_id, site.project_a]
    late = queries.portfolio(engine, today, sort=most_late, late_only=True)
    assert [p.id for p in late.rows] == [site.project_a, c_id] and late.total == 2
    assert queries.late_projects(engine, today) == 2
    assert queries.late_projects(engine, today, Filters(territory="Seine-Saint-Denis")) == 0
    # the page counts the late projects in its own statement, an empty page too
    assert lines.late_projects == late.late_projects == 2
    beyond = queries.portfolio(engine, today, page=9)
    assert beyond.rows == [] and beyond.late_projects == 2
    paris_only = queries.portfolio(engine, today, Filters(territory="Paris"), sort=most_late)
    assert paris_only.late_projects == 2 and paris_only.total == 2
    assert queries.project_count(engine) == 3
    # the filter's territories: each once, in order, none for a project without one
    assert queries.territories(engine) == ["Paris", "Seine-Saint-Denis"]
    assert queries.project_count(engine, Filters(territory="Paris")) == 2
    second = queries.portfolio(engine, today, page=2, size=2, sort=most_late)
    assert [p.id for p in second.rows] == [site.project_b] and second.total == 3
    # The late projects and the others are read as two parts: pages of one or two rows, in
    # either direction, straddle them and still follow the listing.
    for sort in (most_late, queries.Sort("late")):
        whole = [p.id for p in queries.portfolio(engine, today, sort=sort).rows]
        by_one = [
            p.id
            for n in (1, 2, 3, 4)
            for p in queries.portfolio(engine, today, page=n, size=1, sort=sort).rows
        ]
        assert by_one == whole
        assert [p.id for p in queries.portfolio(engine, today, size=2, sort=sort).rows] == (
            whole[:2]
        )
    # a suspended project has nothing late: last, 0 days, not counted
    overdue = queries.overdue_milestones(engine, today)
    of_a = sum(1 for m in overdue.rows if m.project_id == site.project_a)
    assert of_a and overdue.total == len(overdue.rows)
    now = site.clock.now()
    assert queries.upcoming_meetings(engine, now).total == 1  # A's COPIL on 10/08
    engine.advance(site.project_a, "suspend", actor="ARS", comment="Travaux")
    # nor are its meetings ahead, counted either way (all less the idle projects', filtered)
    assert queries.upcoming_meetings(engine, now).total == 0
    assert queries.upcoming_meetings(engine, now, Filters(territory="Paris")).total == 0
    # the unfiltered total (every one, less the idle projects') agrees with the filtered plan
    # (B, in Seine-Saint-Denis, has nothing late)
    assert queries.overdue_milestones(engine, today).total == overdue.total - of_a
    assert queries.overdue_milestones(engine, today, Filters(territory="Paris")).total == (
        overdue.total - of_a
    )
    lines = queries.portfolio(engine, today, sort=most_late)
    assert [(p.id, p.days_late) for p in lines.rows][0] == (c_id, 12)
    assert queries.late_projects(engine, today) == 1
    # the earliest open milestone follows milestones done and reopened
    overdue_c = [m for m in queries.overdue_milestones(engine, today).rows if m.project_id == c_id]
    for m in overdue_c:
        site.c.records.milestone_done(c_id, m.key, by="Chloé")
    assert queries.late_projects(engine, today) == 0
    assert queries.portfolio(engine, today, sort=most_late).rows[0].days_late == 0
    site.c.records.reopen_milestone(c_id, overdue_c[0].key, by="ARS", comment="Incomplet")
    assert queries.late_projects(engine, today) == 1
    assert [(p.id, p.days_late) for p in queries.portfolio(engine, today, sort=most_late).rows][
        0
    ] == (c_id, 12)
    # the sort parameter: a known key in either direction, anything else the default
    sorts = queries.PORTFOLIO_SORTS
    assert queries.read_sort("-title", sorts, most_late) == queries.Sort("title", True)
    assert queries.read_sort("phase", sorts, most_late) == queries.Sort("phase")
    assert queries.read_sort("nope", sorts, most_late) is most_late
    assert queries.read_sort("", sorts, most_late) is most_late


def test_a_definition_added_while_running_takes_its_place_in_the_orders(site: Site) -> None:
    """The parts of the statements the definitions decide are built once per engine, and
    again when a definition is added."""
    engine = site.c.engine
    today = engine.today()
    by_programme = queries.Sort("programme")
    assert queries.portfolio(engine, today, sort=by_programme).total == 2
    engine.registry.add(load_definition(ROOT / "tests" / "fixtures" / "mini.yaml"))
    mini = engine.create_project(
        NewProject(
            definition_id="mini",
            title="Alpha mini",
            start_date=today,
            pilot=PartnerIn("Structure M", "m@exemple.fr", "Mia", ("pilot",)),
        )
    )
    # « Coopérative d'acteurs... » before « Programme test »; cadrage first in mini's phases
    ordered = queries.portfolio(engine, today, sort=by_programme)
    assert [p.id for p in ordered.rows] == [site.project_a, site.project_b, mini]
    by_phase = queries.portfolio(engine, today, sort=queries.Sort("phase", descending=True))
    assert [p.id for p in by_phase.rows][0] == mini
    assert queries.late_projects(engine, today) == 0
