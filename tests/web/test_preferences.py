"""The preferences page a person opens from the signed link of every message (no account),
and the one-click unsubscribe of RFC 8058 that mail clients POST to the same address."""

from __future__ import annotations

import html

import sqlalchemy as sa

from tests.web.conftest import PILOT_A, Site
from workflow import tables
from workflow.database import read
from workflow.preferences import KINDS, load


def test_a_person_moves_kinds_to_the_digest_and_chooses_english(site: Site) -> None:
    url = site.c.links.preferences(PILOT_A)
    path = url.removeprefix("http://127.0.0.1:8000")
    client = site.client()  # nobody signed in: the link is the key
    page = client.get(path)
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    text = html.unescape(page.text)
    assert PILOT_A in text
    assert "Réunions : convocations, changements, rappels, comptes rendus" in text
    assert "meeting_invitation" not in text  # labels, never keys
    done = client.post(
        path,
        data={"kind_meetings": "digest", "kind_news": "digest", "lang": "en"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    with read(site.c.db) as conn:
        chosen = load(conn, PILOT_A)
    assert (chosen.lang, chosen.digest) == ("en", frozenset({"meetings", "news"}))
    again = client.get(done.headers["location"])
    assert "Your preferences are saved." in again.text  # in the language chosen
    assert 'value="digest" checked' in again.text


def test_a_bad_choice_or_link_changes_nothing(site: Site) -> None:
    path = site.c.links.preferences(PILOT_A).removeprefix("http://127.0.0.1:8000")
    client = site.client()
    refused = client.post(path, data={"kind_reports": "never", "lang": "fr"})
    assert refused.status_code == 422
    assert "kind_reports" in refused.text
    assert client.post(path, data={"lang": "de"}).status_code == 422
    assert client.get(path[:-3] + "xyz").status_code == 403
    with read(site.c.db) as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(tables.preference)).scalar() == 0


def test_one_click_unsubscribe_moves_everything_to_the_weekly_digest(site: Site) -> None:
    path = site.c.links.preferences(PILOT_A).removeprefix("http://127.0.0.1:8000")
    client = site.client()
    client.post(path, data={"lang": "en"}, follow_redirects=False)
    # what a mail client sends: no cookie, no CSRF token, the RFC 8058 body
    response = client.post(
        path,
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200
    with read(site.c.db) as conn:
        chosen = load(conn, PILOT_A)
    assert chosen.digest == set(KINDS) and chosen.lang == "en"  # nothing switched off
