"""A refused step and an already-recorded milestone over HTTP: the 409 bodies carry the data
and its words in the request's language; the project page says how to meet each condition and
shows every record of a milestone (issue 9, deliverables 2 and 11)."""

from __future__ import annotations

import html
import re

from tests.web.conftest import PILOT_A, Site, csrf_of

LAUNCH = "Première réunion collective (lancement de la coopérative)"
LAUNCH_EN = "First collective meeting (launch of the cooperative)"


def test_a_refused_advance_carries_the_conditions_as_data_and_words(site: Site) -> None:
    api = site.client(PILOT_A)
    url = f"/api/projects/{site.project_a}/advance"
    refused = api.post(url, json={"trigger": "start_diagnostic"})
    assert refused.status_code == 409
    body = refused.json()
    assert body["error"] == "TransitionRefused"
    assert [(c["kind"], c["subject"], c["fix"]) for c in body["conditions"]] == [
        ("occurrence_not_held", "reunion_lancement", "record_meeting"),
        ("deliverable_not_delivered", "gouvernance", "record_milestone"),
        ("deliverable_not_delivered", "orientations_validees", "record_milestone"),
    ]
    first = body["conditions"][0]
    assert first["params"]["label"] == LAUNCH
    assert first["text"] == f"{LAUNCH} : réunion non tenue"  # French unless asked otherwise
    assert first["fix_text"] == f"tenir la réunion « {LAUNCH} » puis l'enregistrer comme tenue"
    assert body["unmet"][0] == f"{LAUNCH} not held"  # the engine's sentences, as before

    for english in (
        api.post(url + "?lang=en", json={"trigger": "start_diagnostic"}),
        api.post(url, json={"trigger": "start_diagnostic"}, headers={"Accept-Language": "en-GB"}),
    ):
        conditions = english.json()["conditions"]
        assert conditions[0]["text"] == f"{LAUNCH_EN}: meeting not held"
        assert conditions[1]["fix_text"] == "record “Setting up the governance bodies” as done"
        assert english.json()["conditions"][0]["params"] == first["params"]

    comment = api.post(url, json={"trigger": "suspend"}).json()["conditions"]
    assert comment == [
        {
            "kind": "comment_required",
            "subject": "suspend",
            "params": {"step": "suspend"},
            "fix": "give_comment",
            "text": "un commentaire expliquant pourquoi est obligatoire pour cette étape",
            "fix_text": "indiquer pourquoi dans le commentaire de l'étape",
        }
    ]


def test_the_page_says_how_to_meet_each_condition_in_its_language(site: Site) -> None:
    pilot = site.client(PILOT_A)
    pid = site.project_a
    token = csrf_of(pilot.get(f"/projects/{pid}").text)
    for lang, missing, fix in (
        ("fr", f"{LAUNCH} : réunion non tenue", f"tenir la réunion « {LAUNCH} »"),
        ("en", f"{LAUNCH_EN}: meeting not held", f"hold the meeting “{LAUNCH_EN}”, then record it"),
    ):
        page = html.unescape(pilot.get(f"/projects/{pid}?lang={lang}").text)
        assert missing in page and fix in page, lang  # under the step's button
        refused = pilot.post(
            f"/projects/{pid}/advance?lang={lang}",
            data={"csrf_token": token, "trigger": "start_diagnostic"},
        )
        assert refused.status_code == 409
        fixes = re.search(r'<div class="fixes">(.*?)</div>', html.unescape(refused.text), re.S)
        assert fixes and fix in fixes.group(1), lang
    assert "not held" not in html.unescape(pilot.get(f"/projects/{pid}?lang=fr").text)


def test_recording_a_done_milestone_again_is_a_409_naming_who_and_when(site: Site) -> None:
    api = site.client(PILOT_A)
    url = f"/api/projects/{site.project_a}/milestones/gouvernance/done"
    assert api.post(url, json={"on": "2026-04-01", "deliverable_ref": "CR 1"}).status_code == 200
    again = api.post(url, json={"on": "2026-04-20"})
    assert again.status_code == 409
    assert again.json()["error"] == "AlreadyRecorded"
    assert again.json()["recorded"] == {
        "milestone": "gouvernance",
        "done_on": "2026-04-01",
        "done_by": "Pia",
    }
    assert "2026-04-01 by Pia" in again.json()["detail"]
    no_reason = api.post(url, json={"on": "2026-04-20", "correct": True})
    assert no_reason.status_code == 422 and no_reason.json()["field"] == "comment"

    corrected = api.post(url, json={"on": "2026-04-20", "correct": True, "comment": "CR signé"})
    assert corrected.status_code == 200, corrected.text
    milestone = corrected.json()
    assert (milestone["done_on"], milestone["done_by"], milestone["deliverable_ref"]) == (
        "2026-04-20",
        "Pia",
        "CR 1",
    )
    assert [(c["done_on"], c["comment"]) for c in milestone["completions"]] == [
        ("2026-04-01", None),
        ("2026-04-20", "CR signé"),
    ]
    read = api.get(f"/api/projects/{site.project_a}").json()["milestones"]
    assert [m["completions"] for m in read if m["key"] == "gouvernance"] == [
        milestone["completions"]
    ]

    page = html.unescape(site.client(PILOT_A).get(f"/projects/{site.project_a}").text)
    records = re.search(r'<ul class="completions muted">(.*?)</ul>', page, re.S)
    assert records
    lines = [
        " ".join(re.sub(r"<[^>]+>", " ", li).split()) for li in records.group(1).split("</li>")
    ]
    assert lines[:2] == [
        "01/04/2026 — enregistré par Pia",
        "20/04/2026 — enregistré par Pia — correction : CR signé",
    ]
