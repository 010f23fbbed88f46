"""The JSON API's definitions and projects: create, list, show, check, advance (refused with
the unmet conditions, conflicts on a stale version), history and outbox."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.smtp_support import SmtpServer
from tests.web.conftest import AGENCY, PILOT_A, PILOT_B, Site


@pytest.fixture
def any_site(db_url: str, smtp_server: SmtpServer) -> Iterator[Site]:
    """The web fixtures' system on SQLite and on PostgreSQL."""
    s = Site(db_url, smtp_server)
    yield s
    s.c.db.dispose()


def bearer(site: Site, user_id: int) -> TestClient:
    client = site.client()
    client.headers["Authorization"] = f"Bearer {site.c.accounts.create_token(user_id, 'test')}"
    return client


def new_project(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "definition_id": "cooperative",
        "title": "Coopérative de Bobigny",
        "start_date": "2026-05-04",
        "territory": "Seine-Saint-Denis",
        "funding_cents": 30_000_00,
        "convention_start": "2026-06-01",
        "pilot": {"organisation": "CLS Bobigny", "email": PILOT_B, "contact_name": "Paul"},
        "agency": {"organisation": "ARS DD93", "email": "dd93@ars.example"},
    }
    body.update(changes)
    return body


# -- definitions -------------------------------------------------------------------------------
def test_definitions_list_show_and_mermaid_diagram(site: Site) -> None:
    api = site.client(PILOT_A)
    listed = api.get("/api/definitions").json()
    assert {(d["id"], d["version"]) for d in listed} >= {
        ("acia", 1),
        ("aceso", 1),
        ("cooperative", 1),
        ("unapei", 1),
    }

    shown = api.get("/api/definitions/cooperative").json()
    assert shown["initial"] == "prefiguration" and shown["terminal"] == ["cloture"]
    assert [p["key"] for p in shown["phases"]][:2] == ["prefiguration", "diagnostic"]
    assert shown["phases"][0]["initial"] and shown["phases"][0]["planned_end"] == (
        "2 months after entering the phase"
    )
    start = next(t for t in shown["transitions"] if t["trigger"] == "start_diagnostic")
    assert start["source"] == ["prefiguration"] and start["dest"] == "diagnostic"
    assert start["conditions"] == [
        "meeting reunion_lancement",
        "milestone gouvernance",
        "milestone orientations_validees",
    ]
    reopen = next(t for t in shown["transitions"] if t["trigger"] == "reopen_diagnostic")
    assert reopen["comment_required"] is True
    fiches = next(m for m in shown["milestones"] if m["key"] == "fiches_actions")
    assert fiches["responsible"] == "partner" and fiches["phase"] == "plan_actions"
    assert fiches["responsible_label"].startswith("Structure partenaire")
    assert [s["key"] for s in shown["meetings"]] == ["reunion_projet", "copil"]
    assert shown["reports"][0]["key"] == "bilan_trimestriel"
    assert shown["builtin_triggers"] == ["suspend", "resume", "abandon"]

    diagram = api.get("/api/definitions/cooperative/diagram")
    assert diagram.status_code == 200
    assert diagram.headers["content-type"].startswith("text/plain")
    lines = diagram.text.splitlines()
    assert lines[:2] == ["stateDiagram-v2", "    [*] --> prefiguration"]
    assert (
        "    prefiguration --> diagnostic : Lancer le diagnostic local de santé "
        "[meeting reunion_lancement, milestone gouvernance, milestone orientations_validees]"
    ) in lines
    assert lines[-1] == "    cloture --> [*]"

    missing = api.get("/api/definitions/nope")
    assert missing.status_code == 404 and missing.json()["error"] == "NotFound"
    assert api.get("/api/definitions/cooperative?version=99").status_code == 404
    assert api.get("/api/definitions/cooperative?version=0").status_code == 422


# -- create ------------------------------------------------------------------------------------
def test_the_agency_creates_a_project_for_any_pilot(site: Site) -> None:
    agency = site.client(AGENCY)
    response = agency.post("/api/projects", json=new_project())
    assert response.status_code == 201, response.text
    project = response.json()
    assert response.headers["location"] == f"/api/projects/{project['id']}"
    assert project["phase"] == "prefiguration" and project["version"] == 1
    assert project["funding_instrument"] == "convention"
    assert project["convention_end"] == "2027-06-01"
    assert [(p["email"], p["roles"]) for p in project["partners"]] == [
        (PILOT_B, ["pilot", "copil"]),
        ("dd93@ars.example", ["agency"]),
    ]
    assert {m["key"] for m in project["milestones"]} == {"gouvernance", "orientations_validees"}
    assert all(m["state"] == "open" and m["due_on"] == "2026-07-04" for m in project["milestones"])
    assert [(m["occurrence"], m["status"]) for m in project["meetings"]] == [
        ("reunion_lancement", "expected")
    ]
    assert project["next_steps"] == ["start_diagnostic", "suspend", "abandon"]
    history = agency.get(f"/api/projects/{project['id']}/history").json()
    assert [(h["trigger"], h["to_phase"], h["actor"]) for h in history] == [
        ("create", "prefiguration", "ARS")
    ]
    # The pilot named in it now sees it and acts on it; the agency does not act on it.
    assert site.c.accounts.piloted(site.pilot_b) == {site.project_b, project["id"]}
    refused = agency.post(
        f"/api/projects/{project['id']}/advance", json={"trigger": "suspend", "comment": "x"}
    )
    assert refused.status_code == 403


def test_a_pilot_creates_only_projects_they_pilot(site: Site) -> None:
    pilot = site.client(PILOT_A)
    before = pilot.get("/api/projects").json()
    other = pilot.post("/api/projects", json=new_project())  # pilot.email is PILOT_B
    assert other.status_code == 403 and other.json()["error"] == "Forbidden"
    assert PILOT_B in other.json()["detail"]
    assert len(site.client(AGENCY).get("/api/projects").json()) == 2  # nothing created

    mine = new_project(pilot={"organisation": "Structure A", "email": PILOT_A.upper()})
    created = pilot.post("/api/projects", json=mine)
    assert created.status_code == 201, created.text
    after = pilot.get("/api/projects").json()
    assert [p["id"] for p in after] == [p["id"] for p in before] + [created.json()["id"]]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": ""}, ["body", "title"]),
        ({"title": "x" * 301}, ["body", "title"]),
        ({"title": "two\nlines"}, ["body", "title"]),
        ({"start_date": "1871-03-18"}, ["body", "start_date"]),
        ({"start_date": "2026-02-30"}, ["body", "start_date"]),
        ({"funding_cents": -1}, ["body", "funding_cents"]),
        ({"funding_cents": 2**31}, ["body", "funding_cents"]),
        ({"definition_id": "Not A Key"}, ["body", "definition_id"]),
        ({"pilot": {"organisation": "X"}}, ["body", "pilot", "email"]),
        ({"lang": "de"}, ["body", "lang"]),
        ({"colour": "blue"}, ["body", "colour"]),
    ],
)
def test_bad_input_is_a_422_naming_the_field(
    site: Site, changes: dict[str, Any], field: list[str]
) -> None:
    response = site.client(AGENCY).post("/api/projects", json=new_project(**changes))
    assert response.status_code == 422, response.text
    assert [e["loc"] for e in response.json()["detail"]] == [field]


def test_engine_refusals_name_the_field_too(site: Site) -> None:
    agency = site.client(AGENCY)
    variant = agency.post("/api/projects", json=new_project(variant="axe_1"))
    assert variant.status_code == 422
    assert variant.json()["field"] == "variant" and variant.json()["error"] == "InvalidInput"
    email = agency.post(
        "/api/projects", json=new_project(pilot={"organisation": "X", "email": "nobody"})
    )
    assert email.status_code == 422 and email.json()["field"] == "pilot.email"
    unknown = agency.post("/api/projects", json=new_project(definition_id="nope"))
    assert unknown.status_code == 404


# -- list and show -----------------------------------------------------------------------------
def test_the_list_filters_by_programme_territory_and_phase(site: Site) -> None:
    agency = site.client(AGENCY)
    acia = new_project(definition_id="acia", variant="axe_1", territory="Corse-du-Sud")
    acia_id = agency.post("/api/projects", json=acia).json()["id"]
    site.c.engine.advance(site.project_b, "suspend", actor="Paul", comment="congés")

    def ids(query: str = "") -> list[int]:
        response = agency.get(f"/api/projects{query}")
        assert response.status_code == 200, response.text
        return [p["id"] for p in response.json()]

    a, b = site.project_a, site.project_b
    assert ids() == [a, b, acia_id]
    assert ids("?programme=acia") == [acia_id]
    assert ids("?programme=cooperative&territory=Paris") == [a]
    assert ids("?phase=suspendu") == [b]
    assert ids("?phase=prefiguration&programme=cooperative") == [a]
    assert ids("?limit=1&offset=1") == [b]
    assert ids("?programme=unapei") == []
    listed = agency.get("/api/projects?phase=suspendu").json()[0]
    assert listed["phase_label"] == "Suspendu" and listed["version"] == 2
    assert agency.get("/api/projects?limit=0").status_code == 422
    assert agency.get("/api/projects?phase=Bad%20Phase").status_code == 422


def test_show_gives_the_whole_project_and_what_is_late(site: Site) -> None:
    site.clock.set(site.clock.now() + timedelta(days=70))  # past the two milestones' due day
    shown = site.client(PILOT_A).get(f"/api/projects/{site.project_a}")
    assert shown.status_code == 200
    project = shown.json()
    assert project["title"] == "Coopérative A" and project["territory"] == "Paris"
    assert project["definition_title"] == "Coopérative d'acteurs en promotion de la santé"
    assert [m["state"] for m in project["milestones"]] == ["late", "late"]
    assert project["milestones"][0]["due_on"] == "2026-07-04"  # 70 days on: 13 July
    assert project["milestones"][0]["non_working_day"] == "samedi"
    late = {(o["kind"], o["label"], o["days_late"]) for o in project["overdue"]}
    assert ("milestone", "Mise en place des instances de gouvernance", 8) in late
    assert project["phase_entered_at"] == "2026-05-04T09:00:00+02:00"
    assert project["indicators"] == [] and project["decisions"] == [] and project["budget"] == []
    assert site.client(AGENCY).get("/api/projects/999").status_code == 404


# -- check and advance -------------------------------------------------------------------------
UNMET = [
    "Première réunion collective (lancement de la coopérative) not held",
    "Mise en place des instances de gouvernance not delivered",
    "Validation des orientations – communication not delivered",
]


def test_a_refused_step_lists_what_is_missing_then_goes_through(
    site: Site, smtp_server: SmtpServer
) -> None:
    a = site.project_a
    api = bearer(site, site.pilot_a.id)
    checked = api.get(f"/api/projects/{a}/check", params={"trigger": "start_diagnostic"})
    assert checked.json() == {
        "trigger": "start_diagnostic",
        "phase": "prefiguration",
        "ready": False,
        "unmet": UNMET,
        "comment_required": False,
    }
    refused = api.post(f"/api/projects/{a}/advance", json={"trigger": "start_diagnostic"})
    assert refused.status_code == 409
    assert refused.json()["error"] == "TransitionRefused" and refused.json()["unmet"] == UNMET

    held = api.post(
        f"/api/projects/{a}/meetings/held",
        json={"occurrence": "reunion_lancement", "attendees": ["Pia", "Ana"]},
    )
    assert held.status_code == 201 and held.json()["status"] == "held"
    for key in ("gouvernance", "orientations_validees"):
        done = api.post(f"/api/projects/{a}/milestones/{key}/done", json={"deliverable_ref": "CR"})
        assert done.status_code == 200 and done.json()["state"] == "done"
    assert api.get(f"/api/projects/{a}/check", params={"trigger": "start_diagnostic"}).json()[
        "ready"
    ]

    moved = api.post(
        f"/api/projects/{a}/advance",
        json={
            "trigger": "start_diagnostic",
            "comment": "gouvernance en place",
            "expected_version": 1,
        },
    )
    assert moved.status_code == 200, moved.text
    assert moved.json() == {
        "project_id": a,
        "trigger": "start_diagnostic",
        "from_phase": "prefiguration",
        "to_phase": "diagnostic",
        "version": 2,
    }
    history = api.get(f"/api/projects/{a}/history").json()
    assert [
        (h["trigger"], h["from_phase"], h["to_phase"], h["actor"], h["comment"]) for h in history
    ][-1] == ("start_diagnostic", "prefiguration", "diagnostic", "Pia", "gouvernance en place")

    # The phase change is announced to the pilot (copil): queued, then sent by the next tick.
    def outbox() -> list[tuple[str, str, str, int]]:
        rows = api.get(f"/api/projects/{a}/outbox").json()
        return [(o["kind"], o["recipient_email"], o["status"], o["attempts"]) for o in rows]

    assert ("phase_changed", PILOT_A, "pending", 0) in outbox()
    site.c.tick(site.clock.now())
    assert ("phase_changed", PILOT_A, "sent", 1) in outbox()
    sent = api.get(f"/api/projects/{a}/outbox", params={"status": "sent"}).json()
    assert sent and all(o["sent_at"] and o["last_error"] is None for o in sent)
    assert any(PILOT_A in r.rcpt_tos for r in smtp_server.handler.received)
    assert (
        site.client(AGENCY).get(f"/api/projects/{a}/outbox").json()
        == api.get(f"/api/projects/{a}/outbox").json()
    )


def test_two_advances_from_the_same_version_one_wins_one_conflicts(any_site: Site) -> None:
    site = any_site
    api = site.client(PILOT_A)
    step = {"trigger": "suspend", "comment": "attente du financement", "expected_version": 1}
    first = api.post(f"/api/projects/{site.project_a}/advance", json=step)
    second = api.post(f"/api/projects/{site.project_a}/advance", json=step)
    assert first.status_code == 200 and first.json()["to_phase"] == "suspendu"
    assert second.status_code == 409
    assert second.json()["error"] == "ConflictError"
    assert second.json()["current_phase"] == "suspendu"
    stale_phase = api.post(
        f"/api/projects/{site.project_a}/advance",
        json={"trigger": "resume", "expected_phase": "prefiguration"},
    )
    assert stale_phase.status_code == 409 and stale_phase.json()["current_phase"] == "suspendu"
    resumed = api.post(
        f"/api/projects/{site.project_a}/advance", json={"trigger": "resume", "expected_version": 2}
    )
    assert resumed.status_code == 200 and resumed.json()["to_phase"] == "prefiguration"
    # The conflicting calls left no trace.
    history = api.get(f"/api/projects/{site.project_a}/history").json()
    assert [h["trigger"] for h in history] == ["create", "suspend", "resume"]


def test_unknown_or_unavailable_steps_and_missing_comments(site: Site) -> None:
    api = site.client(PILOT_A)
    a = site.project_a
    unknown = api.post(f"/api/projects/{a}/advance", json={"trigger": "fly"})
    assert unknown.status_code == 409 and unknown.json()["error"] == "UnknownTrigger"
    assert unknown.json()["allowed"] == ["start_diagnostic", "suspend", "abandon"]
    later = api.post(f"/api/projects/{a}/advance", json={"trigger": "close_project"})
    assert later.status_code == 409 and later.json()["current_phase"] == "prefiguration"
    check_later = api.get(f"/api/projects/{a}/check", params={"trigger": "close_project"})
    assert check_later.status_code == 409 and check_later.json()["current_phase"] == "prefiguration"
    check_unknown = api.get(f"/api/projects/{a}/check", params={"trigger": "fly"})
    assert (
        check_unknown.status_code == 409 and "start_diagnostic" in check_unknown.json()["allowed"]
    )
    suspend = api.get(f"/api/projects/{a}/check", params={"trigger": "suspend"}).json()
    assert suspend["ready"] and suspend["comment_required"]
    no_reason = api.post(f"/api/projects/{a}/advance", json={"trigger": "suspend"})
    assert no_reason.status_code == 409
    assert no_reason.json()["unmet"] == ["a comment saying why is required to suspend a project"]
    bad = api.post(f"/api/projects/{a}/advance", json={"trigger": "suspend", "expected_version": 0})
    assert bad.status_code == 422
    assert [e["loc"] for e in bad.json()["detail"]] == [["body", "expected_version"]]
    assert api.post("/api/projects/0/advance", json={"trigger": "suspend"}).status_code == 422


def test_overdue_across_projects_follows_what_the_user_may_see(site: Site) -> None:
    # A planned project meeting keeps A's series on cadence; B has none and falls behind.
    site.c.records.schedule_meeting(
        site.project_a, "reunion_projet", site.clock.now().replace(day=12, hour=14)
    )
    site.clock.set(site.clock.now().replace(day=20))
    agency = site.client(AGENCY).get("/api/overdue").json()
    behind = {o["project_id"] for o in agency if o["kind"] == "meeting_series"}
    assert behind == {site.project_b}
    assert all(
        o["days_late"] == (date(2026, 5, 20) - date.fromisoformat(o["since"])).days for o in agency
    )
    pilot_a = site.client(PILOT_A).get("/api/overdue").json()
    assert {o["project_id"] for o in pilot_a} <= {site.project_a}
    me = site.client(PILOT_B).get("/api/me").json()
    assert me == {
        "id": site.pilot_b.id,
        "email": PILOT_B,
        "name": "Paul",
        "role": "pilot",
        "piloted": [site.project_b],
    }


def test_overdue_items_are_data_keys_labels_and_cadence(site: Site) -> None:
    site.clock.set(site.clock.now() + timedelta(days=89))  # 1 August 2026
    shown = site.client(PILOT_A).get(f"/api/projects/{site.project_a}").json()["overdue"]
    by_kind = {o["kind"]: o for o in shown}
    assert by_kind["phase"] == {
        "project_id": site.project_a,
        "kind": "phase",
        "subject": "prefiguration",
        "label": "Préfiguration",
        "since": "2026-07-05",
        "days_late": 27,
        "responsible_role": "pilot",
        "responsible": "Coordinateur·rice de la coopérative (DD de l'ARS)",
        "every": None,
        "unit": None,
    }
    series = by_kind["meeting_series"]
    assert (series["subject"], series["every"], series["unit"]) == ("reunion_projet", 2, "weeks")
    assert series["label"] == "Réunion de préfiguration / d'élaboration du projet"
    across = site.client(AGENCY).get("/api/overdue").json()
    assert [o for o in across if o["project_id"] == site.project_a] == shown
