"""The preferences page a person opens from the signed link of every message (no account),
and the one-click unsubscribe of RFC 8058 that mail clients POST to the same address."""

from __future__ import annotations

import html
import re
from datetime import date

import sqlalchemy as sa

from tests.web.conftest import PILOT_A, Site
from workflow import tables
from workflow.database import read
from workflow.engine import PartnerIn
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
    # each kind the pilot receives, by its label, never its key
    assert "Demandes de compte rendu après une réunion" in text
    assert "Arrivées de partenaires" in text
    assert "meeting_minutes_request" not in re.sub(r"<[^>]+>", "", text)  # what one reads
    done = client.post(
        path,
        data={
            "kind_meeting_minutes_request": "digest",
            "kind_partner_joined": "digest",
            "lang": "en",
        },
        follow_redirects=False,
    )
    assert done.status_code == 303
    with read(site.c.db) as conn:
        chosen = load(conn, PILOT_A)
    assert (chosen.lang, chosen.digest) == (
        "en",
        frozenset({"meeting_minutes_request", "partner_joined"}),
    )
    again = client.get(done.headers["location"])
    assert "Your preferences are saved." in again.text  # in the language chosen
    assert "Requests for minutes after a meeting" in again.text  # the kinds in English too
    assert 'value="digest" checked' in again.text


def test_a_partner_is_offered_the_kinds_it_receives_and_no_other(site: Site) -> None:
    """A partner's page lists what reaches a partner (report requests, movable to the digest
    but said to be always sent); not the pilot's minutes requests nor the escalations."""
    partner = "asso@exemple.fr"
    site.c.records.add_partner(
        site.project_a, PartnerIn("Asso", partner, "Alix", ("partner",)), date(2026, 5, 4)
    )
    site.c.tick(site.clock.now())  # their welcome is queued: a kind they were sent
    path = site.c.links.preferences(partner).removeprefix("http://127.0.0.1:8000")
    text = html.unescape(site.client().get(path).text)
    assert "Demandes de bilan trimestriel" in text
    assert "Arrivées de partenaires" in text  # not a partner's by routing, but received
    assert "Toujours envoyé, au plus tard dans le récapitulatif" in text
    assert "Demandes de compte rendu après une réunion" not in text
    assert "Livrables toujours en retard malgré les relances" not in text
    # someone Copilote never wrote to (an old link): every kind is offered
    unknown = site.c.links.preferences("nobody@exemple.fr").removeprefix("http://127.0.0.1:8000")
    assert "Demandes de compte rendu après une réunion" in html.unescape(
        site.client().get(unknown).text
    )


def test_a_bad_choice_or_link_changes_nothing(site: Site) -> None:
    path = site.c.links.preferences(PILOT_A).removeprefix("http://127.0.0.1:8000")
    client = site.client()
    refused = client.post(path, data={"kind_report_request": "never", "lang": "fr"})
    assert refused.status_code == 422
    assert "kind_report_request" in refused.text
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
