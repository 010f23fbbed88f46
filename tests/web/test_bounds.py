"""One set of bounds for the pages and the API (issue 10, findings 11, 16, 18, 19, 21): what the
database or the date arithmetic could not take is a 404 or 422 naming it, never a 500."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from tests.web.conftest import AGENCY, PARIS, PILOT_A, Site, csrf_of
from tests.web.test_answer import (
    add_partners,
    any_site,
    good_answers,
    link_path,
    report_link,
    reports,
    to_implementation,
)
from web.pages.exports import feed_url
from workflow import tables

__all__ = ["any_site"]  # the SQLite and PostgreSQL site, shared with the answer pages' tests

HUGE = "9" * 20


def pilot_with_csrf(site: Site) -> tuple[TestClient, str]:
    pilot = site.client(PILOT_A)
    return pilot, csrf_of(pilot.get(f"/projects/{site.project_a}").text)


def test_page_ids_and_numbers_beyond_the_bounds_are_404_or_422_pages(site: Site) -> None:
    agency = site.client(AGENCY)
    pid = site.project_a
    for path in (
        f"/projects/{HUGE}",
        f"/projects/{HUGE}/export/annual.csv",
        f"/projects/{HUGE}/export/annual.xlsx",
        f"/projects/{HUGE}/calendar.ics",
    ):
        page = agency.get(path)
        assert page.status_code == 404, path
        assert page.headers["content-type"].startswith("text/html")
        assert "Cette page n&#39;existe pas." in page.text
    for path in (f"/projects?page={HUGE}9999", f"/dashboard?projects_page={'7' * 5000}"):
        assert agency.get(path).status_code == 200, path  # page 1, leniently
    year = agency.get(f"/projects/{pid}/export/annual.csv?year={'2' * 5000}")
    assert year.status_code == 422 and "year" in year.text
    assert agency.get(f"/projects/{pid}/export/annual.csv?year=2026").status_code == 200


def test_form_dates_ids_and_control_characters_beyond_the_bounds_are_refused(site: Site) -> None:
    pilot, csrf = pilot_with_csrf(site)
    pid = site.project_a

    def post(tail: str, **data: str) -> int:
        return pilot.post(f"/projects/{pid}/{tail}", data={"csrf_token": csrf, **data}).status_code

    for day in ("0001-01-01", "9999-12-31", "1999-12-31"):
        assert post("meetings/held", meeting="series:copil", held_on=day) == 422, day
    for when in ("9999-12-31T23:59", "0001-01-01T00:00"):
        assert post("meetings", series="copil", starts_at=when) == 422, when
    assert post("meetings/held", meeting="1" * 30) == 404
    assert post("meetings", series="copil", starts_at="2026-06-12T14:00", location="a\x00b") == 422
    assert post("meetings", series="copil", starts_at="2026-06-12T14:00", location="a\r\nb") == 422
    assert post("meetings/held", meeting="series:copil", minutes_ref="PV\x00") == 422
    assert post("milestones/gouvernance/done", deliverable_ref="réf\nBcc: x") == 422
    assert post("advance", trigger="suspend", comment="pause\x00") == 422
    assert site.client(AGENCY).get("/projects?territory=Paris%00").status_code == 422
    with site.c.db.connect() as conn:
        meetings = conn.execute(
            sa.select(tables.meeting.c.held_on, tables.meeting.c.location).where(
                tables.meeting.c.project_id == pid, tables.meeting.c.status != "expected"
            )
        ).all()
    assert meetings == []  # nothing was recorded
    # within the bounds the same forms work
    good = pilot.post(
        f"/projects/{pid}/meetings/held",
        data={"csrf_token": csrf, "meeting": "series:copil", "held_on": "2026-05-04"},
        follow_redirects=False,
    )
    assert good.status_code == 303, good.text


def test_the_calendar_feed_survives_a_date_stored_before_the_bounds(site: Site) -> None:
    """A meeting recorded as held on 0001-01-01 (as the form once allowed) made the feed 500."""
    pid = site.project_a
    site.c.records.meeting_held(pid, series="copil", held_on=date(1, 1, 1))
    site.c.records.meeting_held(pid, series="copil", held_on=date(2026, 5, 4))
    with site.c.db.begin() as conn:
        conn.execute(
            sa.update(tables.milestone)
            .where(tables.milestone.c.project_id == pid, tables.milestone.c.key == "gouvernance")
            .values(due_on=date.max)
        )
    agency = site.client(AGENCY)
    feed = agency.get(f"/projects/{pid}/calendar.ics")
    assert feed.status_code == 200
    assert "DTSTART;VALUE=DATE:00010101" in feed.text
    url = feed_url(site.c, pid, site.pilot_a).removeprefix(site.c.settings.base_url.rstrip("/"))
    assert site.client().get(url).status_code == 200


@pytest.mark.parametrize("comment", ["Avec\x00une collègue", "rouge\x1b[31m"])
def test_an_answer_comment_the_database_cannot_store_is_refused(
    any_site: Site, comment: str
) -> None:
    """On PostgreSQL a NUL in the comment was a 500 anyone holding a link could cause."""
    site = any_site
    alpha, _ = add_partners(site)
    to_implementation(site)
    meeting = site.c.records.schedule_meeting(
        site.project_a, "copil", datetime(2026, 6, 12, 14, 0, tzinfo=PARIS)
    )
    path = link_path(site, "meeting", site.project_a, alpha, str(meeting))
    partner = site.client()
    csrf = csrf_of(partner.get(path).text)
    refused = partner.post(path, data={"csrf_token": csrf, "answer": "yes", "comment": comment})
    assert refused.status_code == 422
    assert 'data-field="comment_characters"' in refused.text
    with site.c.db.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(tables.attendance)).scalar() == 0
    english = partner.post(
        f"{path}?lang=en", data={"csrf_token": csrf, "answer": "yes", "comment": comment}
    )
    assert "Characters not allowed (control characters)." in english.text


def test_a_report_form_field_with_a_nul_is_named_not_stored(any_site: Site) -> None:
    site = any_site
    add_partners(site)
    to_implementation(site)
    path = report_link(site, "alpha@asso.example")
    partner = site.client()
    data = good_answers(csrf_of(partner.get(path).text), title="Ateliers\x00parentalité")
    refused = partner.post(path, data=data)
    assert refused.status_code == 422
    assert "Caractères non autorisés (caractères de contrôle)." in refused.text
    assert reports(site) == []


def raw_post(api: TestClient, path: str, body: str) -> int:
    headers = {"Content-Type": "application/json"}
    return api.post(path, content=body.encode(), headers=headers).status_code


def test_a_lone_surrogate_or_nan_in_a_refused_body_is_a_422(site: Site) -> None:
    """Finding 16: the 422 echoes the input; a lone surrogate or NaN in it made a 500."""
    api = site.client(PILOT_A)
    base = f"/api/projects/{site.project_a}"
    lone = '{"label": "Frais", "planned_cents": "\\ud800"}'
    assert raw_post(api, f"{base}/budget", lone) == 422
    nan = '{"label": "Frais", "planned_cents": NaN}'
    response = api.post(
        f"{base}/budget", content=nan.encode(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert json.loads(response.text)["detail"][0]["loc"] == ["body", "planned_cents"]
    infinite = api.put(
        f"{base}/indicators/x",
        content=b'{"planned": Infinity}',
        headers={"Content-Type": "application/json"},
    )
    assert infinite.status_code == 422
    assert raw_post(api, f"{base}/decisions", '{"key": "k", "text": "\\udfff"}') == 422


def test_amounts_are_strict_integers_and_dates_bounded_in_the_schema(site: Site) -> None:
    """Finding 21: ``false`` is not 0 euro cents; the date bounds are declared for clients."""
    api = site.client(PILOT_A)
    base = f"/api/projects/{site.project_a}"
    for value in (False, True, "12", 1.5):
        body = {"label": "Frais", "planned_cents": value}
        assert api.post(f"{base}/budget", json=body).status_code == 422, value
    assert (
        api.post(f"{base}/budget", json={"label": "Frais", "planned_cents": 12}).status_code == 201
    )
    schema = site.client().get("/openapi.json").json()
    found = json.dumps(schema)
    assert '"formatMinimum": "2000-01-01"' in found and '"formatMaximum": "2100-12-31"' in found
    allowed = site.client(PILOT_A).options(f"{base}/budget")
    assert allowed.status_code == 405 and "POST" in allowed.headers["allow"]


def test_negative_amounts_stay_numbers_in_the_csv(site: Site) -> None:
    """Finding 18: formula neutralisation turned ``-200,00`` into the text ``'-200,00``."""
    site.c.records.add_budget_line(
        site.project_a,
        "Frais",
        planned_cents=100_00,
        spent_cents=250_00,
        forecast_cents=50_00,
        by="Claire (DD 93)",
    )
    csv_text = site.client(AGENCY).get(f"/projects/{site.project_a}/export/annual.csv")
    rows = list(csv.reader(io.StringIO(csv_text.content.decode("utf-8-sig")), delimiter=";"))
    frais = next(r for r in rows if len(r) > 1 and r[1] == "Frais")
    assert frais[2:6] == ["100,00", "250,00", "50,00", "-200,00"]


@pytest.mark.parametrize("address", ["é@ex.org", "a\u2028b@ex.org", "a@b.c@ex.org"])
def test_undeliverable_addresses_are_refused_by_the_one_rule(site: Site, address: str) -> None:
    """Finding 19, at the API (the engine and accounts use the same rule)."""
    api = site.client(PILOT_A)
    joined = api.post(
        f"/api/projects/{site.project_a}/partners",
        json={"organisation": "Association", "email": address},
    )
    assert joined.status_code == 422
    assert joined.json()["field"] == "partner.email"
