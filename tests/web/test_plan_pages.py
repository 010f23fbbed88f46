"""The plan d'actions page: objectives, fiches-actions, indicators, meetings' notes and the budget
of a year entered through the forms it links to (CSRF, the pilot only); a refused input names
its field and changes nothing."""

from __future__ import annotations

import html
import re
from datetime import datetime

from fastapi.testclient import TestClient

from tests.web.conftest import AGENCY, PARIS, PILOT_A, PILOT_B, Site, csrf_of


def submit(client: TestClient, pid: int, name: str, query: str = "", **data: str) -> int:
    """Open a form of the project (fresh tokens) and send it; the response's status."""
    page = client.get(f"/projects/{pid}/forms/{name}{query}")
    assert page.status_code == 200, page.text
    token = re.search(r'name="form_token" value="([^"]+)"', page.text)
    assert token
    response = client.post(
        f"/projects/{pid}/forms/{name}",
        data={"csrf_token": csrf_of(page.text), "form_token": token.group(1), **data},
        follow_redirects=False,
    )
    return response.status_code


def test_the_pilot_enters_the_plan_and_the_budget_through_the_forms(site: Site) -> None:
    pid = site.project_a
    pilot = site.client(PILOT_A)
    page = pilot.get(f"/projects/{pid}")
    assert f"/projects/{pid}/plan" in page.text  # the project page links to it
    plan = pilot.get(f"/projects/{pid}/plan").text
    assert f"/projects/{pid}/forms/objective" in plan  # "Ajouter un objectif"

    assert submit(pilot, pid, "objective", level="general", label="Accès aux soins") == 303
    assert (
        submit(pilot, pid, "objective", level="specific", parent="acces_aux_soins",
               label="Prévenir")
        == 303
    )  # fmt: skip
    assert submit(pilot, pid, "action", objective="prevenir", label="Ateliers", etp="0,5",
                  budget="12 500,00", starts_on="2026-09-01", ends_on="2027-06-30") == 303  # fmt: skip
    page = pilot.get(f"/projects/{pid}/forms/action?action=ateliers")
    tokens = {
        "csrf_token": csrf_of(page.text),
        "form_token": re.findall(r'name="form_token" value="([^"]+)"', page.text)[0],
    }
    refused = pilot.post(
        f"/projects/{pid}/forms/action",
        data={**tokens, "action": "ateliers", "label": "Ateliers", "ends_on": "2026-08-01"},
    )
    assert refused.status_code == 422 and 'id="e-ends_on"' in refused.text
    assert submit(pilot, pid, "budget_line", year="2026", label="Salaires",
                  objective="acces_aux_soins", planned="31 419,35", spent="12 290,15",
                  forecast="15 036,26") == 303  # fmt: skip
    shown = pilot.get(f"/projects/{pid}/plan?year=2026").text.replace("\u202f", " ")
    assert "Accès aux soins" in shown and "Ateliers" in shown
    assert "01/09/2026 – 30/06/2027" in shown  # the refused end changed nothing
    assert "31 419,35\xa0€" in shown and "4 092,94\xa0€" in shown
    english = pilot.get(f"/projects/{pid}/plan?year=2026&lang=en").text
    assert "Action plan" in english and "€31,419.35" in english
    pilot.get(f"/projects/{pid}/plan?lang=fr")
    # a gap and a corrective measure on an indicator and on a (cancelled) meeting
    assert submit(pilot, pid, "plan_indicator", label="Familles", kind="activity",
                  action="ateliers", year="2026", planned="30", realised="21",
                  gap_explanation="Locaux fermés en mai", corrective_measure="Ateliers en juin") == 303  # fmt: skip
    meeting = site.c.records.schedule_meeting(
        pid, "copil", datetime(2026, 6, 2, 14, 0, tzinfo=PARIS)
    )
    site.c.records.cancel_meeting(pid, meeting)
    assert submit(pilot, pid, "meeting_note", meeting_id=str(meeting), action="ateliers",
                  cancel_reason="Grève des transports", corrective_measure="Reporté en juillet") == 303  # fmt: skip
    assert submit(pilot, pid, "meeting_note", meeting_id="") == 422
    report = html.unescape(site.client(AGENCY).get(f"/projects/{pid}/report/annual?year=2026").text)
    assert "Accès aux soins" in report and "• Prévenir" in report
    assert "Familles : Locaux fermés en mai" in report and "Familles : Ateliers en juin" in report
    assert "annulée : Grève des transports" in report and "Reporté en juillet" in report
    assert site.client(PILOT_B).get(f"/projects/{pid}/plan").status_code == 403
    other = site.client(PILOT_B)
    forbidden = other.post(
        f"/projects/{pid}/forms/objective",
        data={"csrf_token": csrf_of(other.get("/projects").text), "level": "general",
              "label": "X"},
    )  # fmt: skip
    assert forbidden.status_code == 403
