"""The JSON API's records: partners, milestones, meetings, reports, indicators, decisions and
budget lines, as the pilot of project A records them."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import AGENCY, PILOT_A, Site
from workflow.engine import PartnerIn


@pytest.fixture
def api(site: Site) -> TestClient:
    return site.client(PILOT_A)


def url(site: Site, tail: str) -> str:
    return f"/api/projects/{site.project_a}/{tail}"


def locs(response: Any) -> list[list[str | int]]:
    assert response.status_code == 422, response.text
    return [e["loc"] for e in response.json()["detail"]]


def test_partners_join_and_leave(site: Site, api: TestClient) -> None:
    joined = api.post(
        url(site, "partners"),
        json={
            "organisation": "Association Bien Vivre",
            "email": "contact@bienvivre.fr",
            "contact_name": "Ana",
            "roles": ["partner", "copil"],
        },
    )
    assert joined.status_code == 201, joined.text
    partner = joined.json()
    assert partner["roles"] == ["partner", "copil"] and partner["joined_on"] == "2026-05-04"
    assert partner["left_on"] is None and partner["lang"] == "fr"
    listed = api.get(url(site, "partners")).json()
    assert [p["organisation"] for p in listed] == ["Structure A", "Association Bien Vivre"]
    # The newcomer is told by email: planned in the same transaction, queued by the next pass
    # of due work with the day's other changes (one message each), welcomed, not told news.
    outbox = api.get(url(site, "outbox")).json()
    assert not [o for o in outbox if o["recipient_email"] == "contact@bienvivre.fr"]
    site.c.sweeper.run(site.clock.now())
    outbox = api.get(url(site, "outbox")).json()
    assert [o["kind"] for o in outbox if o["recipient_email"] == "contact@bienvivre.fr"] == [
        "partner_joined"
    ]

    unknown_role = api.post(
        url(site, "partners"),
        json={"organisation": "X", "email": "x@exemple.fr", "roles": ["sponsor"]},
    )
    assert unknown_role.status_code == 422 and unknown_role.json()["field"] == "roles"
    bad_email = api.post(url(site, "partners"), json={"organisation": "X", "email": "x@y"})
    assert bad_email.status_code == 422 and bad_email.json()["field"] == "partner.email"
    assert locs(api.post(url(site, "partners"), json={"organisation": "", "email": "x@y.fr"})) == [
        ["body", "organisation"]
    ]
    assert locs(
        api.post(url(site, "partners"), json={"organisation": "X", "email": "x@y.fr", "roles": []})
    ) == [["body", "roles"]]

    leaves = api.post(url(site, f"partners/{partner['id']}/leave"), json={"on": "2026-09-01"})
    assert leaves.status_code == 200
    assert leaves.json() == {"partner_id": partner["id"], "left_on": "2026-09-01"}
    again = api.post(url(site, f"partners/{partner['id']}/leave"))
    assert again.status_code == 422 and again.json()["field"] == "partner"
    past = api.post(url(site, f"partners/{listed[0]['id']}/leave"), json={"on": "2026-01-01"})
    assert past.status_code == 422 and past.json()["field"] == "on"
    assert api.post(url(site, "partners/999/leave")).status_code == 404
    # A partner of project B cannot be reached through project A.
    b_partner = site.c.records.add_partner(
        site.project_b, PartnerIn("Asso B", "b@exemple.fr", "", ("partner",))
    )
    assert api.post(url(site, f"partners/{b_partner}/leave")).status_code == 404


def test_milestones_are_marked_done(site: Site, api: TestClient) -> None:
    done = api.post(
        url(site, "milestones/gouvernance/done"),
        json={"deliverable_ref": "CR COPIL n°1", "on": "2026-05-03"},
    )
    assert done.status_code == 200, done.text
    assert done.json()["state"] == "done" and done.json()["done_on"] == "2026-05-03"
    assert done.json()["done_by"] == "Pia" and done.json()["deliverable_ref"] == "CR COPIL n°1"
    without_body = api.post(url(site, "milestones/orientations_validees/done"))
    assert without_body.status_code == 200 and without_body.json()["done_on"] == "2026-05-04"
    states = {m["key"]: m["state"] for m in api.get(url(site, "milestones")).json()}
    assert states == {"gouvernance": "done", "orientations_validees": "done"}
    unknown = api.post(url(site, "milestones/convention_signee/done"))
    assert unknown.status_code == 422 and unknown.json()["field"] == "milestone"
    assert api.post(url(site, "milestones/Not-A-Key/done")).status_code == 422


def test_meetings_are_scheduled_moved_cancelled_and_held(site: Site, api: TestClient) -> None:
    # an attendee to invite: the pilot organises the meeting and is not invited to it
    site.c.records.add_partner(
        site.project_a, PartnerIn("Asso", "asso@exemple.fr", "Alix", ("partner",))
    )
    planned = api.post(
        url(site, "meetings"),
        json={
            "series": "reunion_projet",
            "occurrence": "reunion_lancement",
            "starts_at": "2026-05-12T14:00:00+02:00",
            "location": "Mairie, salle 2",
        },
    )
    assert planned.status_code == 201, planned.text
    meeting = planned.json()
    assert meeting["status"] == "planned" and meeting["occurrence"] == "reunion_lancement"
    assert meeting["starts_at"] == "2026-05-12T14:00:00+02:00"
    assert meeting["ends_at"] == "2026-05-12T16:00:00+02:00"  # the series lasts 2 hours
    invitations = [
        o for o in api.get(url(site, "outbox")).json() if o["kind"] == "meeting_invitation"
    ]
    assert [o["recipient_email"] for o in invitations] == ["asso@exemple.fr"]

    moved = api.post(
        url(site, f"meetings/{meeting['id']}/move"), json={"starts_at": "2026-05-13T08:30:00Z"}
    )
    assert moved.status_code == 200
    assert moved.json()["starts_at"] == "2026-05-13T10:30:00+02:00"
    assert moved.json()["location"] == "Mairie, salle 2"

    cancelled = api.post(url(site, f"meetings/{meeting['id']}/cancel"))
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    again = api.post(url(site, f"meetings/{meeting['id']}/cancel"))
    assert again.status_code == 422 and again.json()["field"] == "meeting"
    not_planned = api.post(
        url(site, f"meetings/{meeting['id']}/move"), json={"starts_at": "2026-05-20T10:00:00+02:00"}
    )
    assert not_planned.status_code == 422

    held = api.post(
        url(site, f"meetings/{meeting['id']}/held"),
        json={"held_on": "2026-05-04", "attendees": ["Pia", "Ana"], "minutes_ref": "CR-1"},
    )
    assert held.status_code == 200 and held.json()["status"] == "held"
    assert held.json()["attendees"] == ["Pia", "Ana"] and held.json()["minutes_ref"] == "CR-1"
    new = api.post(url(site, "meetings/held"), json={"series": "reunion_projet"})
    assert (
        new.status_code == 201
        and new.json()["label"] == "Réunion de préfiguration / d'élaboration du projet n°2"
    )
    listed = api.get(url(site, "meetings")).json()
    assert [(m["id"], m["status"]) for m in listed] == [
        (meeting["id"], "held"),
        (new.json()["id"], "held"),
    ]

    assert locs(
        api.post(
            url(site, "meetings"), json={"series": "copil", "starts_at": "2026-06-01T10:00:00"}
        )
    ) == [["body", "starts_at"]]
    assert locs(
        api.post(url(site, "meetings"), json={"series": "copil", "starts_at": "3026-06-01T10:00Z"})
    ) == [["body", "starts_at"]]
    unknown = api.post(
        url(site, "meetings"), json={"series": "cotech", "starts_at": "2026-06-01T10:00:00Z"}
    )
    assert unknown.status_code == 422 and unknown.json()["field"] == "series"
    future = api.post(url(site, "meetings/held"), json={"series": "copil", "held_on": "2026-06-01"})
    assert future.status_code == 422 and future.json()["field"] == "held_on"
    neither = api.post(url(site, "meetings/held"), json={})
    assert neither.status_code == 422 and neither.json()["field"] == "series"
    assert api.post(url(site, "meetings/999/cancel")).status_code == 404


def test_the_pilot_submits_a_report_for_a_partner(site: Site, api: TestClient) -> None:
    partner = site.c.records.add_partner(
        site.project_a, PartnerIn("Asso", "asso@exemple.fr", "Ana", ("partner",))
    )
    content = {
        "actions": [{"action": "Ateliers", "objectives_reached": "partly", "why": "météo"}],
        "obstacles": "locaux",
    }
    body = {"partner_id": partner, "schedule": "bilan_trimestriel", "period": "2026-Q2"}
    sent = api.post(url(site, "reports"), json={**body, "content": content})
    assert sent.status_code == 201, sent.text
    report = sent.json()
    assert report["organisation"] == "Asso" and report["content"] == content
    assert report["submitted_at"] == "2026-05-04T09:00:00+02:00"
    replaced = api.post(url(site, "reports"), json={**body, "content": {"obstacles": "aucun"}})
    assert replaced.status_code == 201 and replaced.json()["id"] == report["id"]
    listed = site.client(AGENCY).get(url(site, "reports")).json()
    assert [(r["partner_id"], r["period"], r["content"]) for r in listed] == [
        (partner, "2026-Q2", {"obstacles": "aucun"})
    ]

    unknown = api.post(url(site, "reports"), json={**body, "schedule": "bilan_annuel"})
    assert unknown.status_code == 422 and unknown.json()["field"] == "schedule"
    assert locs(api.post(url(site, "reports"), json={**body, "period": "2026-Q5"})) == [
        ["body", "period"]
    ]
    huge = {"obstacles": "x" * 60_000}
    assert locs(api.post(url(site, "reports"), json={**body, "content": huge})) == [
        ["body", "content"]
    ]
    stranger = site.c.records.add_partner(
        site.project_b, PartnerIn("Asso B", "b@exemple.fr", "", ("partner",))
    )
    assert api.post(url(site, "reports"), json={**body, "partner_id": stranger}).status_code == 404


def test_indicators_decisions_and_budget(site: Site, api: TestClient) -> None:
    incomplete = api.put(url(site, "indicators/participants"), json={"planned": 120})
    assert incomplete.status_code == 422 and incomplete.json()["field"] == "indicator"
    created = api.put(
        url(site, "indicators/participants"),
        json={
            "label": "Participants aux ateliers",
            "kind": "activity",
            "planned": 120,
            "unit": "pers.",
        },
    )
    assert created.status_code == 200, created.text
    updated = api.put(
        url(site, "indicators/participants"),
        json={"realised": 97.5, "period": "2026", "gap_explanation": "deux ateliers annulés"},
    )
    assert updated.json() == {
        "key": "participants",
        "label": "Participants aux ateliers",
        "kind": "activity",
        "planned": 120.0,
        "realised": 97.5,
        "unit": "pers.",
        "period": "2026",
        "gap_explanation": "deux ateliers annulés",
        "corrective_measure": None,
    }
    assert locs(api.put(url(site, "indicators/participants"), json={"kind": "output"})) == [
        ["body", "kind"]
    ]
    assert locs(api.put(url(site, "indicators/participants"), json={"planned": 1e13})) == [
        ["body", "planned"]
    ]

    decided = api.post(
        url(site, "decisions"),
        json={"key": "evaluation_finale_decidee", "text": "Décidé en COPIL", "on": "2026-05-02"},
    )
    assert decided.status_code == 201
    assert (
        decided.json()["decided_by"] == "Pia"
        and decided.json()["label"] == "Décision de lancer l'évaluation finale"
    )
    assert [d["key"] for d in api.get(url(site, "decisions")).json()] == [
        "evaluation_finale_decidee"
    ]

    line = api.post(
        url(site, "budget"),
        json={"label": "Animation", "planned_cents": 1_200_000, "spent_cents": 400_000},
    )
    assert line.status_code == 201
    assert line.json()["forecast_cents"] == 0 and line.json()["planned_cents"] == 1_200_000
    assert locs(api.post(url(site, "budget"), json={"label": "X", "planned_cents": -5})) == [
        ["body", "planned_cents"]
    ]
    shown = api.get(f"/api/projects/{site.project_a}").json()
    assert [i["key"] for i in shown["indicators"]] == ["participants"]
    assert [d["key"] for d in shown["decisions"]] == ["evaluation_finale_decidee"]
    assert [b["label"] for b in shown["budget"]] == ["Animation"]


def test_nothing_is_recorded_on_a_closed_project(site: Site, api: TestClient) -> None:
    site.c.engine.advance(site.project_a, "abandon", actor="Pia", comment="fin du financement")
    refused = api.post(url(site, "decisions"), json={"key": "relance"})
    assert refused.status_code == 422 and refused.json()["field"] == "project"
    assert api.get(url(site, "decisions")).json() == []


def test_a_partner_cannot_leave_before_it_joins(site: Site, api: TestClient) -> None:
    """Joining in 200 days and leaving in 180 is refused, naming both dates (it was a 200)."""
    joined = api.post(
        url(site, "partners"),
        json={"organisation": "Asso Tardive", "email": "t@tardive.fr", "joined_on": "2026-11-20"},
    )
    assert joined.status_code == 201, joined.text
    leaves = api.post(url(site, f"partners/{joined.json()['id']}/leave"), json={"on": "2026-10-31"})
    assert leaves.status_code == 422, leaves.text
    assert leaves.json()["field"] == "on"
    assert "2026-10-31" in leaves.text and "2026-11-20" in leaves.text
    assert api.get(url(site, "partners")).json()[-1]["left_on"] is None
