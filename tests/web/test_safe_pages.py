"""Issue 12, safe pages: no crash on a report recorded through the API nor on a meeting
stored on 31 December 9999; error pages in the reader's language (JSON stays JSON on the
API); an expired session leads through sign-in back to the page; meetings are scheduled
from today to three years ahead; answer links last as long as their purpose, and an
expired one offers a new link (at most 3 an hour, to the address on record only)."""

from __future__ import annotations

import html
import logging
import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from tests.web.conftest import AGENCY, PARIS, PILOT_A, Site, csrf_of
from tests.web.test_answer import ALPHA, add_partners, link_in, mails_to, to_implementation
from workflow import tables
from workflow.engine import PartnerIn
from workflow.errors import InvalidInput

ENGLISH = "eve@partner.example"


def token_path(site: Site, purpose: str, partner: int, detail: str) -> str:
    return "/answer/" + site.c.links.token(purpose, site.project_a, partner, detail)


# -- crashes ---------------------------------------------------------------------------------
def test_a_report_recorded_through_the_api_opens_for_its_partner_to_correct(site: Site) -> None:
    alpha, _ = add_partners(site)
    to_implementation(site)
    site.clock.set(datetime(2026, 7, 2, 9, 0, tzinfo=PARIS))
    pilot = site.client(PILOT_A)
    shapes = {
        "2026-Q2": {
            "actions": "Ateliers parentalité\nPermanence santé",
            "summary": "Bon trimestre",
        },
        "2026-Q1": {"actions": ["Forum santé", {"label": "Café des aidants"}, 3]},
    }
    for period, content in shapes.items():
        created = pilot.post(
            f"/api/projects/{site.project_a}/reports",
            json={"partner_id": alpha, "schedule": "bilan_trimestriel", "period": period,
                  "content": content},
        )  # fmt: skip
        assert created.status_code == 201, created.text
    client = site.client()
    page = client.get(token_path(site, "report", alpha, "bilan_trimestriel:2026-Q2"))
    assert page.status_code == 200, page.text
    assert 'value="Ateliers parentalité"' in page.text
    assert 'value="Permanence santé"' in page.text
    assert "summary : Bon trimestre" in page.text  # kept in sight, not lost on correction
    # one empty row to add an action, no more
    assert 'name="a3_title" value=""' in page.text and 'name="a4_title"' not in page.text
    q1 = client.get(token_path(site, "report", alpha, "bilan_trimestriel:2026-Q1"))
    assert q1.status_code == 200
    for title in ("Forum santé", "Café des aidants", "3"):
        assert f'value="{title}"' in q1.text
    # the next quarter starts from the titles recorded through the API
    q3 = client.get(token_path(site, "report", alpha, "bilan_trimestriel:2026-Q3"))
    assert q3.status_code == 200 and 'value="Ateliers parentalité"' in q3.text


def test_a_meeting_stored_on_the_last_day_python_holds_crashes_nothing(site: Site) -> None:
    alpha, _ = add_partners(site)
    last = datetime(9999, 12, 31, 23, 30, tzinfo=UTC)
    with site.c.db.begin() as conn:
        meeting = conn.execute(
            sa.insert(tables.meeting)
            .values(project_id=site.project_a, series="copil", label="COPIL sans fin",
                    status="planned", starts_at=last, ends_at=last, attendees=[])
            .returning(tables.meeting.c.id)
        ).scalar_one()  # fmt: skip
    pid, pilot = site.project_a, site.client(PILOT_A)
    for path in (
        f"/projects/{pid}",
        f"/projects/{pid}/export/annual.csv?year=2026",
        f"/api/projects/{pid}",
        f"/api/projects/{pid}/meetings",
    ):
        assert pilot.get(path).status_code == 200, path
    page = site.client().get(token_path(site, "meeting", alpha, str(meeting)))
    assert page.status_code == 200 and "31 décembre 9999" in page.text
    # and such a date can no longer be scheduled, nor moved to
    with pytest.raises(InvalidInput, match="more than 3 years ahead"):
        site.c.records.schedule_meeting(pid, "copil", last)


def test_meetings_are_scheduled_from_today_to_three_years_ahead(site: Site) -> None:
    pid, pilot = site.project_a, site.client(PILOT_A)
    api = pilot.post(
        f"/api/projects/{pid}/meetings",
        json={"series": "copil", "starts_at": "2020-01-01T14:00:00+01:00"},
    )
    assert api.status_code == 422 and api.json()["field"] == "starts_at"
    csrf = csrf_of(pilot.get(f"/projects/{pid}").text)
    page = pilot.post(
        f"/projects/{pid}/meetings",
        data={"csrf_token": csrf, "series": "copil", "starts_at": "2020-01-01T14:00"},
    )
    assert page.status_code == 422
    assert "date et heure de début" in page.text and "1er janvier 2020 est passé" in page.text
    far = pilot.post(
        f"/projects/{pid}/meetings",
        data={"csrf_token": csrf, "series": "copil", "starts_at": "2029-05-05T14:00"},
    )
    assert far.status_code == 422 and "plus de 3 ans" in far.text
    ok = pilot.post(
        f"/projects/{pid}/meetings",
        data={"csrf_token": csrf, "series": "copil", "starts_at": "2029-05-04T14:00"},
        follow_redirects=False,
    )
    assert ok.status_code == 303, ok.text
    # a meeting held in the past is still recorded as held
    held = pilot.post(
        f"/projects/{pid}/meetings/held",
        data={"csrf_token": csrf, "meeting": "series:copil", "held_on": "2026-04-20"},
        follow_redirects=False,
    )
    assert held.status_code == 303, held.text
    with site.c.db.connect() as conn:
        assert (
            conn.execute(
                sa.select(sa.func.count())
                .select_from(tables.meeting)
                .where(tables.meeting.c.project_id == pid, tables.meeting.c.status == "planned")
            ).scalar_one()
            == 1
        )


# -- error pages -----------------------------------------------------------------------------
def test_page_errors_are_pages_in_the_readers_language_and_the_api_keeps_json(
    site: Site,
) -> None:
    pilot, pid = site.client(PILOT_A), site.project_a
    agency = site.client(AGENCY)
    for path in ("/projects/abc", "/nowhere", "/projects/9999"):
        page = agency.get(path)
        assert page.status_code == 404, path
        assert page.headers["content-type"].startswith("text/html"), path
        assert "introuvable" in page.text and '"detail"' not in page.text, path
        assert (
            "history.back" not in page.text and "No project" not in page.text.split("<details")[0]
        )
    moved = pilot.get(f"/projects/{pid}/advance")
    assert moved.status_code == 405 and moved.headers["allow"] == "POST"
    assert "ne s'ouvre pas ainsi" in html.unescape(moved.text)
    assert "This address" in site.client(PILOT_A).get(f"/projects/{pid}/advance?lang=en").text
    csrf = csrf_of(pilot.get(f"/projects/{pid}").text)
    missing = pilot.post(f"/projects/{pid}/meetings", data={"csrf_token": csrf})
    assert missing.status_code == 422 and "text/html" in missing.headers["content-type"]
    assert "Le champ « instance » est obligatoire." in missing.text
    assert "date et heure de début" in missing.text
    bad_date = pilot.post(
        f"/projects/{pid}/meetings",
        data={"csrf_token": csrf, "series": "copil", "starts_at": "demain 14h"},
    )
    assert bad_date.status_code == 422
    assert "« demain 14h » n'est pas une date avec une heure" in html.unescape(bad_date.text)
    nope = pilot.post(f"/projects/{pid}/advance", data={"csrf_token": csrf, "trigger": "nope"})
    assert nope.status_code == 409 and "Cette étape n'existe pas" in html.unescape(nope.text)
    # the API: JSON, as before
    assert agency.get("/api/projects/9999").json()["error"] == "NotFound"
    assert pilot.get("/api/nowhere").headers["content-type"] == "application/json"
    assert agency.get("/users/abc").status_code == 404
    other = pilot.get(f"/projects/{site.project_b}")  # another pilot's project
    assert other.status_code == 403 and "Vous n'avez pas accès" in html.unescape(other.text)
    assert "Projet n° 9999 introuvable" in agency.get("/projects/9999").text


def test_an_unforeseen_error_is_a_page_with_an_incident_number_that_is_logged(
    site: Site, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("web.pages.project.project_board", broken)
    client = site.client(PILOT_A)
    client_no_raise = type(client)(site.app, base_url=str(client.base_url),
                                   raise_server_exceptions=False)  # fmt: skip
    client_no_raise.cookies = client.cookies
    with caplog.at_level(logging.ERROR, logger="copilote.web"):
        page = client_no_raise.get(f"/projects/{site.project_a}")
    assert page.status_code == 500
    found = re.search(r'class="incident">([0-9A-F]{8})<', page.text)
    assert found, page.text
    assert "Une erreur inattendue" in page.text and "disk on fire" not in page.text
    assert any(found.group(1) in r.getMessage() and r.exc_info for r in caplog.records)
    api = client_no_raise.get(f"/api/projects/{site.project_a}/meetings")
    assert api.status_code == 200  # only the page's read model was broken


def test_an_expired_session_signs_in_again_and_comes_back(site: Site) -> None:
    from tests.web.conftest import PASSWORD

    pilot = site.client(PILOT_A)
    page = f"/projects/{site.project_a}"
    assert pilot.get(page).status_code == 200
    site.c.accounts.end_sessions(site.pilot_a.id)  # e.g. signed out elsewhere, or timed out
    back = pilot.get(page, follow_redirects=False)
    assert back.status_code == 303
    assert back.headers["location"] == f"/login?next={page}&expired=1"
    login = pilot.get(back.headers["location"])
    assert "Votre session a expiré" in login.text
    signed = pilot.post(
        "/login",
        data={"email": PILOT_A, "password": PASSWORD, "csrf_token": csrf_of(login.text),
              "next": page},
        follow_redirects=False,
    )  # fmt: skip
    assert signed.headers["location"] == page
    # a sign-in page left open: its CSRF token is stale, sign-in is offered again
    stale = pilot.post(
        "/login",
        data={"email": PILOT_A, "password": PASSWORD, "csrf_token": "stale", "next": page},
        headers={"referer": f"http://127.0.0.1:8000/login?next={page}"},
        follow_redirects=False,
    )
    assert stale.status_code == 303
    assert stale.headers["location"] == f"/login?next={page.replace('/', '%2F')}&expired=1" or (
        stale.headers["location"] == f"/login?next={page}&expired=1"
    )
    assert "This form has expired" not in pilot.get(stale.headers["location"]).text


# -- answer links ----------------------------------------------------------------------------
def test_a_link_lasts_until_its_meeting_and_an_expired_one_offers_a_new_link(site: Site) -> None:
    records, pid = site.c.records, site.project_a
    eve = records.add_partner(
        pid, PartnerIn("Partner Eve", ENGLISH, "Eve", ("partner", "copil"), lang="en")
    )
    add_partners(site)
    # invited four months ahead: more than the 60 days a link used to last
    meeting = records.schedule_meeting(
        pid, "copil", datetime(2026, 9, 10, 14, 0, tzinfo=PARIS), location="Mairie"
    )
    site.c.tick(site.clock.now())
    path = link_in(mails_to(site, ALPHA, "/answer/")[0])
    client = site.client()
    site.clock.set(datetime(2026, 9, 9, 9, 0, tzinfo=PARIS))  # 128 days later
    page = client.get(path)
    assert page.status_code == 200 and "jeudi 10 septembre 2026 à 14 h" in page.text
    assert "Pia" in page.text and PILOT_A in page.text  # the pilot, to contact
    ics = client.get(f"{path}/meeting.ics")
    assert ics.status_code == 200 and ics.headers["content-type"].startswith("text/calendar")
    assert b"DTSTART;TZID=Europe/Paris:20260910T140000" in ics.content
    assert f"meeting-{meeting}@".encode() in ics.content
    # two weeks after the meeting the link is over: a page in the partner's language
    site.clock.set(datetime(2026, 9, 26, 9, 0, tzinfo=PARIS))
    eve_path = token_path(site, "meeting", eve, str(meeting))
    site.clock.set(datetime(2026, 5, 4, 9, 0, tzinfo=PARIS))
    eve_path = token_path(site, "meeting", eve, str(meeting))  # made on the first day
    site.clock.set(datetime(2026, 9, 26, 9, 0, tzinfo=PARIS))
    refused = client.get(eve_path)
    assert refused.status_code == 403
    assert refused.headers["cache-control"] == "no-store"
    assert "Expired link" in refused.text and "Receive a new link" in refused.text
    assert PILOT_A in refused.text and "history.back" not in refused.text
    csrf = csrf_of(refused.text)
    statuses = [
        client.post(f"{eve_path}/renew", data={"csrf_token": csrf}).status_code for _ in range(4)
    ]
    assert statuses == [200, 200, 200, 429]
    last = client.post(f"{eve_path}/renew", data={"csrf_token": csrf})
    assert "already asked for 3 new links" in last.text
    site.c.tick(site.clock.now())
    renewed = mails_to(site, ENGLISH, "new personal link")
    assert len(renewed) == 3
    assert all(got.rcpt_tos == [ENGLISH] for got in site.server.handler.received
               if "new personal link" in str(got.message["Subject"]))  # fmt: skip
    fresh = link_in(renewed[0])
    assert client.get(fresh).status_code == 200  # a new link: open again for 60 days
    # an hour later, a new one may be asked for again
    site.clock.advance(timedelta(hours=1, minutes=1))
    assert client.post(f"{eve_path}/renew", data={"csrf_token": csrf}).status_code == 200
    # an altered link sends nothing
    assert client.post(f"{eve_path}x/renew", data={"csrf_token": csrf}).status_code == 403


def test_an_expired_report_link_says_so_in_french_with_the_pilots_address(site: Site) -> None:
    alpha, _ = add_partners(site)
    to_implementation(site)
    site.clock.set(datetime(2026, 6, 30, 9, 0, tzinfo=PARIS))
    path = token_path(site, "report", alpha, "bilan_trimestriel:2026-Q2")
    page = site.client().get(path)
    assert "à rendre le <strong>jeudi 30 juillet 2026</strong>" in page.text
    assert "obligatoire" in page.text
    site.clock.set(datetime(2026, 8, 10, 9, 0, tzinfo=PARIS))
    late = site.client().get(path)
    assert "en retard de 11 jours" in late.text
    site.clock.set(datetime(2026, 9, 1, 9, 0, tzinfo=PARIS))  # due + 14 days, 60 days: over
    refused = site.client().get(path)
    assert refused.status_code == 403 and "Lien expiré" in refused.text
    assert "Recevoir un nouveau lien" in refused.text and PILOT_A in refused.text
    assert "history.back" not in refused.text


def test_meetings_are_listed_in_date_order_and_numbered_in_that_order(site: Site) -> None:
    records, pid = site.c.records, site.project_a
    later = records.schedule_meeting(pid, "copil", datetime(2026, 7, 10, 14, tzinfo=PARIS))
    sooner = records.schedule_meeting(pid, "copil", datetime(2026, 6, 20, 14, tzinfo=PARIS))
    listed = site.client(PILOT_A).get(f"/api/projects/{pid}/meetings").json()
    copils = [(m["id"], m["label"]) for m in listed if m["series"] == "copil"]
    dated = [m for m in listed if m["starts_at"] or m["held_on"]]
    assert dated == sorted(dated, key=lambda m: m["held_on"] or m["starts_at"][:10])
    numbered = [(i, label) for i, label in copils if "n°" in label]
    assert [i for i, _ in numbered] == [sooner, later]
    assert [label[-3:] for _, label in numbered] == ["n°1", "n°2"]


def test_partners_answers_and_comments_stay_in_sight_after_the_meeting(site: Site) -> None:
    records, pid = site.c.records, site.project_a
    alpha, _ = add_partners(site)
    meeting = records.schedule_meeting(pid, "copil", datetime(2026, 5, 20, 14, tzinfo=PARIS))
    client = site.client()
    path = token_path(site, "meeting", alpha, str(meeting))
    page = client.get(path)
    answered = client.post(
        path,
        data={"csrf_token": csrf_of(page.text), "answer": "yes", "comment": "Avec deux bénévoles"},
        follow_redirects=False,
    )
    assert answered.status_code == 303
    pilot = site.client(PILOT_A)

    def answers_cell() -> str:
        text = pilot.get(f"/projects/{pid}").text
        row = re.search(r"<tr>\s*<td>[^<]*n°1</td>(.*?)</tr>", text, re.S)
        assert row, text
        return html.unescape(row.group(1))

    before = answers_cell()
    assert "Association Alpha" in before and "« Avec deux bénévoles »" in before
    site.clock.set(datetime(2026, 5, 21, 9, 0, tzinfo=PARIS))
    records.meeting_held(pid, meeting_id=meeting)
    after = answers_cell()
    assert "tenue" in after or "Présents (1)" in after
    assert "Présents (1)" in after and "« Avec deux bénévoles »" in after


def test_a_report_draft_is_saved_on_the_server_until_the_report_is_sent(site: Site) -> None:
    from tests.web.test_answer import good_answers, reports

    alpha, _ = add_partners(site)
    to_implementation(site)
    site.clock.set(datetime(2026, 7, 2, 9, 0, tzinfo=PARIS))
    path = token_path(site, "report", alpha, "bilan_trimestriel:2026-Q2")
    client = site.client()
    page = client.get(path)
    csrf = csrf_of(page.text)
    # half done: a title, one answer, no « why » yet: a draft may be unfinished
    saved = client.post(
        path,
        data={"csrf_token": csrf, "a1_title": "Ateliers du samedi", "a1_targets": "partly",
              "obstacles": "Salle prêtée\x00", "save_draft": "1"},
    )  # fmt: skip
    assert saved.status_code == 422  # a NUL cannot be stored, even in a draft
    saved = client.post(
        path,
        data={"csrf_token": csrf, "a1_title": "Ateliers du samedi", "a1_targets": "partly",
              "obstacles": "Salle prêtée", "save_draft": "1"},
        follow_redirects=False,
    )  # fmt: skip
    assert saved.status_code == 303 and reports(site) == []
    # another browser, the next day: the draft is there
    site.clock.set(datetime(2026, 7, 3, 9, 0, tzinfo=PARIS))
    again = site.client().get(path)
    assert "Brouillon enregistré le jeudi 2 juillet 2026" in again.text
    assert 'value="Ateliers du samedi"' in again.text and "Salle prêtée</textarea>" in again.text
    assert 'name="a1_targets" value="partly" checked' in again.text
    sent = client.post(path, data=good_answers(csrf), follow_redirects=False)
    assert sent.status_code == 303 and len(reports(site)) == 1
    with site.c.db.connect() as conn:
        assert conn.execute(sa.select(tables.report_draft)).all() == []


def test_an_invitation_carries_its_agenda_to_the_email_and_the_page(site: Site) -> None:
    add_partners(site)
    pilot = site.client(PILOT_A)
    agenda = "1. Validation du diagnostic\n2. Choix des actions prioritaires"
    planned = pilot.post(
        f"/api/projects/{site.project_a}/meetings",
        json={"series": "copil", "starts_at": "2026-06-12T14:00:00+02:00", "agenda": agenda},
    )
    assert planned.status_code == 201, planned.text
    too_long = pilot.post(
        f"/api/projects/{site.project_a}/meetings",
        json={"series": "copil", "starts_at": "2026-06-12T14:00:00+02:00", "agenda": "x" * 5001},
    )
    assert too_long.status_code == 422
    site.c.tick(site.clock.now())
    [invitation] = mails_to(site, ALPHA, "/answer/")
    assert "2. Choix des actions prioritaires" in invitation
    page = site.client().get(link_in(invitation))
    assert "Ordre du jour" in page.text and "1. Validation du diagnostic" in page.text
