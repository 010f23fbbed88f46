"""Who may do what through the API, route by route: reading needs the right to see the project,
acting needs to be its pilot; no sign-in is a 401; a session needs its CSRF token to change
anything, a bearer token does not."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import AGENCY, PILOT_A, PILOT_B, Site

# A valid body for every API route that takes one: the refusals below must come from the
# rights, not from a validation error.
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/projects/{project_id}/advance"): {"trigger": "suspend", "comment": "test"},
    ("POST", "/api/projects/{project_id}/partners"): {"organisation": "X", "email": "x@y.fr"},
    ("POST", "/api/projects/{project_id}/partners/{partner_id}/leave"): {},
    ("POST", "/api/projects/{project_id}/milestones/{key}/done"): {},
    ("POST", "/api/projects/{project_id}/meetings"): {
        "series": "copil",
        "starts_at": "2026-06-01T10:00:00+02:00",
    },
    ("POST", "/api/projects/{project_id}/meetings/held"): {"series": "copil"},
    ("POST", "/api/projects/{project_id}/meetings/{meeting_id}/move"): {
        "starts_at": "2026-06-01T10:00:00+02:00"
    },
    ("POST", "/api/projects/{project_id}/meetings/{meeting_id}/cancel"): {},
    ("POST", "/api/projects/{project_id}/meetings/{meeting_id}/held"): {},
    ("POST", "/api/projects/{project_id}/reports"): {
        "partner_id": 1,
        "schedule": "bilan_trimestriel",
        "period": "2026-Q2",
    },
    ("PUT", "/api/projects/{project_id}/indicators/{key}"): {"planned": 1},
    ("POST", "/api/projects/{project_id}/decisions"): {"key": "go"},
    ("POST", "/api/projects/{project_id}/budget"): {"label": "X", "planned_cents": 1},
    ("POST", "/api/projects/{project_id}/conventions"): {"parties": [{"partner_id": 1}]},
    ("POST", "/api/projects/{project_id}/conventions/{convention_id}/sign"): {
        "partner_id": 1,
        "on": "2026-05-04",
    },
    ("POST", "/api/projects/{project_id}/conventions/{convention_id}/renew"): {},
    ("POST", "/api/projects/{project_id}/conventions/{convention_id}/avenants"): {
        "on": "2026-05-04",
        "object": "Avenant",
    },
    ("POST", "/api/projects/{project_id}/conventions/{convention_id}/notice"): {
        "partner_id": 1,
        "received_on": "2026-05-04",
    },
    # issue 13: the plan d'actions
    ("PUT", "/api/projects/{project_id}/objectives/{key}"): {"label": "X", "level": "general"},
    ("PUT", "/api/projects/{project_id}/actions/{key}"): {"label": "X"},
    ("POST", "/api/projects/{project_id}/meetings/{meeting_id}/note"): {"gap_explanation": "X"},
    ("PUT", "/api/projects/{project_id}/budget/lines/{line_id}"): {"comment": "X"},
    ("POST", "/api/projects/{project_id}/funding"): {
        "year": 2026,
        "funder": "FSE",
        "share_basis_points": 4900,
    },
    ("POST", "/api/projects"): {
        "definition_id": "cooperative",
        "title": "T",
        "start_date": "2026-05-04",
        "pilot": {"organisation": "X", "email": PILOT_A},
    },
}


def api_routes(site: Site) -> list[tuple[str, str]]:
    found = [
        (method.upper(), path)
        for path, operations in site.app.openapi()["paths"].items()
        if path.startswith("/api/")
        for method in operations
    ]
    assert len(found) >= 30
    return found


def call(client: TestClient, method: str, path: str, project_id: int) -> Any:
    concrete = path.replace("{project_id}", str(project_id))
    concrete = re.sub(
        r"\{(meeting_id|partner_id|convention_id|document_id|number|line_id)\}", "1", concrete
    )
    concrete = concrete.replace("{year}", "2026")
    concrete = concrete.replace("{key}", "gouvernance").replace("{definition_id}", "cooperative")
    body = BODIES.get((method, path))
    if method == "GET":
        return client.get(
            concrete, params={"trigger": "suspend"} if path.endswith("/check") else None
        )
    return client.request(method, concrete, json=body)


def test_every_route_needs_a_sign_in(site: Site) -> None:
    anonymous = site.client()
    for method, path in api_routes(site):
        response = call(anonymous, method, path, site.project_a)
        assert response.status_code == 401, (method, path, response.text)
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["error"] == "NotSignedIn"
    wrong = site.client()
    wrong.headers["Authorization"] = "Bearer cpl_not-a-token"
    assert wrong.get("/api/projects").status_code == 401


def test_a_pilot_can_neither_read_nor_touch_another_pilots_project(site: Site) -> None:
    pilot_b = site.client(PILOT_B)
    project_routes = [(m, p) for m, p in api_routes(site) if "{project_id}" in p]
    assert len(project_routes) >= 24
    for method, path in project_routes:
        response = call(pilot_b, method, path, site.project_a)
        assert response.status_code == 403, (method, path, response.text)
        assert response.json()["error"] == "Forbidden"
    # ...nor one that does not exist (no way to probe which ids exist).
    assert pilot_b.get("/api/projects/999").status_code == 403
    assert [p["id"] for p in pilot_b.get("/api/projects").json()] == [site.project_b]
    history = pilot_b.get(f"/api/projects/{site.project_a}/history")
    assert "Coopérative A" not in history.text
    # Nothing happened to A.
    assert (
        site.client(AGENCY).get(f"/api/projects/{site.project_a}/history").json()[-1]["trigger"]
        == "create"
    )


def test_the_agency_reads_every_project_but_acts_on_none_it_does_not_pilot(site: Site) -> None:
    # A document 1 in B, so that reading it is a 200 (not a 404).
    site.c.documents.attach(site.project_b, io.BytesIO(b"%PDF-1.4\n"), "a.pdf", by="Paul")
    agency = site.client(AGENCY)
    assert [p["id"] for p in agency.get("/api/projects").json()] == [
        site.project_a,
        site.project_b,
    ]
    for method, path in api_routes(site):
        if "{project_id}" not in path:
            continue
        response = call(agency, method, path, site.project_b)
        expected = 200 if method == "GET" else 403
        if path.endswith("/conventions/{convention_id}/renew"):
            # The agency signs conventions and renews them (seed 001): it gets past the
            # rights, and project B has no convention 1.
            expected = 404
        assert response.status_code == expected, (method, path, response.text)
    b = agency.get(f"/api/projects/{site.project_b}").json()
    assert b["title"] == "Coopérative B" and b["phase"] == "prefiguration"


def test_a_bearer_token_needs_no_csrf_token_a_session_does(site: Site) -> None:
    a = f"/api/projects/{site.project_a}"
    step = {"trigger": "suspend", "comment": "en attente"}

    session = site.client(PILOT_A)
    assert session.get(a).status_code == 200  # reading needs no CSRF token
    token = session.headers.pop("X-CSRF-Token")
    refused = session.post(f"{a}/advance", json=step)
    assert refused.status_code == 403 and refused.json()["error"] == "CsrfRefused"
    session.headers["X-CSRF-Token"] = "forged"
    assert session.post(f"{a}/advance", json=step).status_code == 403
    assert session.get(a).json()["phase"] == "prefiguration"  # nothing happened
    session.headers["X-CSRF-Token"] = token
    assert session.post(f"{a}/advance", json=step).json()["to_phase"] == "suspendu"

    script = site.client()
    script.headers["Authorization"] = f"Bearer {site.c.accounts.create_token(site.pilot_a.id)}"
    assert "X-CSRF-Token" not in script.headers and not script.cookies
    resumed = script.post(f"{a}/advance", json={"trigger": "resume"})
    assert resumed.status_code == 200 and resumed.json()["to_phase"] == "prefiguration"
    assert script.get(f"/api/projects/{site.project_b}").status_code == 403
    history = script.get(f"{a}/history").json()
    assert [(h["trigger"], h["actor"]) for h in history][-2:] == [
        ("suspend", "Pia"),
        ("resume", "Pia"),
    ]


@pytest.mark.parametrize("who", [AGENCY, PILOT_A])
def test_definitions_are_for_every_signed_in_user(site: Site, who: str) -> None:
    assert site.client(who).get("/api/definitions/acia/diagram").status_code == 200


def test_a_pilot_who_announced_leaving_acts_until_that_day(site: Site) -> None:
    api = site.client(PILOT_A)
    a = f"/api/projects/{site.project_a}"
    pilot_row = api.get(f"{a}/partners").json()[0]
    assert pilot_row["email"] == PILOT_A
    leaves = api.post(f"{a}/partners/{pilot_row['id']}/leave", json={"on": "2026-09-01"})
    assert leaves.json()["left_on"] == "2026-09-01"
    decision = {"key": "passation", "text": "nouveau pilote en septembre"}
    assert api.post(f"{a}/decisions", json=decision).status_code == 201
    site.clock.set(site.clock.now().replace(month=9, day=1))
    assert api.post(f"{a}/decisions", json=decision).status_code == 403
    assert api.get(a).status_code == 403
    assert [p["id"] for p in api.get("/api/projects").json()] == []
