"""Conventions through the JSON API and the project's conventions page: create, sign, renew
(the agency too), avenant, notice; rights, CSRF, French field errors, confirmations."""

from __future__ import annotations

from datetime import date, datetime

from tests.web.conftest import AGENCY, PARIS, PILOT_A, PILOT_B, Site, csrf_of
from workflow.database import read
from workflow.engine import PartnerIn
from workflow.read_models.conventions import project_conventions


def partners(site: Site) -> tuple[int, int]:
    r = site.c.records
    asso = r.add_partner(site.project_a, PartnerIn("Asso Santé", "asso@asso.fr", "Ana"))
    cms = r.add_partner(site.project_a, PartnerIn("CMS Bondy", "cms@bondy.fr", "Célia"))
    return asso, cms


def test_the_api_records_a_convention_from_signature_to_notice(site: Site) -> None:
    asso, cms = partners(site)
    pilot = site.client(PILOT_A)
    base = f"/api/projects/{site.project_a}/conventions"
    created = pilot.post(
        base,
        json={
            "parties": [
                {"partner_id": asso, "amount_cents": 22_999_00},
                {"partner_id": cms, "amount_cents": 23_000_00},
            ]
        },
    )
    assert created.status_code == 201, created.text
    (cv,) = created.json()["conventions"]
    assert cv["status"] == "awaiting_signatures"
    assert [p["instrument"] for p in cv["parties"]] == ["decision", "convention"]
    cid = cv["id"]
    # A party that is not a partner of this project, and a negative amount, name their field.
    other = site.c.records.add_partner(site.project_b, PartnerIn("Ailleurs", "a@ailleurs.fr"))
    stranger = pilot.post(base, json={"parties": [{"partner_id": other}]})
    assert stranger.status_code == 422 and stranger.json()["field"] == "parties[0].partner_id"
    negative = pilot.post(base, json={"parties": [{"partner_id": asso, "amount_cents": -1}]})
    assert negative.status_code == 422
    assert negative.json()["detail"][0]["loc"] == ["body", "parties", 0, "amount_cents"]

    for pid in (asso, cms):
        signed = pilot.post(f"{base}/{cid}/sign", json={"partner_id": pid, "on": "2026-05-04"})
        assert signed.status_code == 200, signed.text
    cv = signed.json()["conventions"][0]
    assert (cv["status"], cv["effective_on"], cv["ends_on"]) == (
        "in_force",
        "2026-05-04",
        "2027-05-04",
    )
    # Another pilot may neither read nor record; the agency records the renewal.
    assert site.client(PILOT_B).get(base).status_code == 403
    agency = site.client(AGENCY)
    renewed = agency.post(
        f"{base}/{cid}/renew", json={"amounts": [{"partner_id": cms, "amount_cents": 30_000_00}]}
    )
    assert renewed.status_code == 200, renewed.text
    assert renewed.json()["conventions"][0]["ends_on"] == "2028-05-04"
    early = pilot.post(
        f"{base}/{cid}/avenants",
        json={"on": "2026-05-03", "object": "Extension", "amounts": []},
    )
    assert early.status_code == 422 and early.json()["field"] == "on"
    amended = pilot.post(
        f"{base}/{cid}/avenants",
        json={"on": "2026-05-04", "object": "Extension", "amounts": [{"partner_id": asso}]},
    )
    assert amended.status_code == 201, amended.text
    notice = pilot.post(
        f"{base}/{cid}/notice", json={"partner_id": asso, "received_on": "2026-05-04"}
    )
    assert notice.json() == {"partner_id": asso, "leaves_on": "2026-06-04"}
    later = pilot.get(base, params={"on": "2027-06-01"}).json()["conventions"][0]
    assert [(p["amount_cents"], p["leaves_on"]) for p in later["parties"]] == [
        (None, "2026-06-04"),
        (30_000_00, None),
    ]
    assert [c["kind"] for c in later["changes"]] == ["avenant", "renewal"]
    # A convention of another project is not reachable through this one.
    assert pilot.post(f"/api/projects/{site.project_b}/conventions/{cid}/renew").status_code == 403
    assert agency.post(f"/api/projects/{site.project_b}/conventions/{cid}/renew").status_code == 404


def test_the_conventions_page_records_with_csrf_french_errors_and_confirmations(
    site: Site,
) -> None:
    asso, cms = partners(site)
    pilot = site.client(PILOT_A)
    page_url = f"/projects/{site.project_a}/conventions"
    project = pilot.get(f"/projects/{site.project_a}")
    assert f'href="{page_url}"' in project.text  # the one include on the project page
    empty = pilot.get(page_url)
    assert "Aucune convention." in empty.text
    # Without the CSRF token: refused, nothing recorded.
    no_token = pilot.post(page_url, data={"party": str(asso)}, follow_redirects=False)
    assert no_token.status_code == 403
    # A negative amount: the form comes back (422) with the field named, in French.
    token = csrf_of(empty.text)
    refused = pilot.post(
        page_url,
        data={"csrf_token": token, "party": str(asso), f"amount_{asso}": "-12"},
        follow_redirects=False,
    )
    assert refused.status_code == 422
    assert "Montant" in refused.text and "positif ou nul" in refused.text
    assert "Aucune convention." in refused.text
    made = pilot.post(
        page_url,
        data={
            "csrf_token": token,
            "party": [str(asso), str(cms)],
            f"amount_{asso}": "22 999,00",
            f"amount_{cms}": "23 000",
        },
        follow_redirects=False,
    )
    assert made.status_code == 303, made.text
    shown = pilot.get(made.headers["location"])
    assert "Convention enregistrée" in shown.text
    assert "22\u202f999,00\xa0€" in shown.text and "décision attributive" in shown.text
    assert "23\u202f000,00\xa0€" in shown.text
    assert "en attente de signatures" in shown.text
    with read(site.c.db) as conn:
        (cv,) = project_conventions(site.c.engine, conn, site.project_a).conventions
    token = csrf_of(shown.text)
    future = pilot.post(
        f"{page_url}/sign",
        data={
            "csrf_token": token,
            "convention": str(cv.id),
            "party": str(asso),
            "on": "2026-06-01",
        },
        follow_redirects=False,
    )
    assert future.status_code == 422 and "ne peut pas être dans le futur" in future.text
    for pid in (asso, cms):
        signed = pilot.post(
            f"{page_url}/sign",
            data={
                "csrf_token": token,
                "convention": str(cv.id),
                "party": str(pid),
                "on": "2026-05-04",
            },
            follow_redirects=False,
        )
        assert signed.status_code == 303
    shown = pilot.get(signed.headers["location"])
    assert "Signature enregistrée." in shown.text and "en vigueur" in shown.text
    # Renewal needs the confirmation box.
    unconfirmed = pilot.post(
        f"{page_url}/renew",
        data={"csrf_token": token, "convention": str(cv.id)},
        follow_redirects=False,
    )
    assert unconfirmed.status_code == 422 and "confirmez en cochant la case" in unconfirmed.text
    agency = site.client(AGENCY)
    agency_page = agency.get(page_url)
    renewed = agency.post(
        f"{page_url}/renew",
        data={
            "csrf_token": csrf_of(agency_page.text),
            "convention": str(cv.id),
            "confirm": "yes",
            f"renew_{asso}": "25000",
        },
        follow_redirects=False,
    )
    assert renewed.status_code == 303
    site.clock.set(datetime(2027, 5, 4, 9, tzinfo=PARIS))
    target = renewed.headers["location"].split("#")[0]
    assert "Express renewal recorded." in agency.get(target + "?lang=en").text
    shown = agency.get(page_url + "?lang=en")
    assert "Express renewal recorded." not in shown.text  # the confirmation is for the redirect
    assert "express renewal" in shown.text and "€25,000.00" in shown.text
    assert "grant decision" not in shown.text  # 25,000 EUR is a convention
    assert site.c.engine.today() == date(2027, 5, 4)


def test_a_convention_form_sent_twice_records_one_convention(site: Site) -> None:
    """The page's forms carry an idempotency token (web/forms.py): a double click records
    one convention; a refusal frees the token, so the corrected form goes through."""
    asso, _ = partners(site)
    pilot = site.client(PILOT_A)
    page_url = f"/projects/{site.project_a}/conventions"
    page = pilot.get(page_url).text
    token = page.split('name="form_token" value="')[1].split('"')[0]
    form = {"csrf_token": csrf_of(page), "form_token": token, "party": str(asso)}
    refused = pilot.post(page_url, data={**form, f"amount_{asso}": "-5"})
    assert refused.status_code == 422
    first = pilot.post(page_url, data={**form, f"amount_{asso}": "5 000"}, follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"].endswith("#nouvelle-titre")
    again = pilot.post(page_url, data={**form, f"amount_{asso}": "5 000"})
    assert "il n&#39;a pas été répété" in again.text or "il n'a pas été répété" in again.text
    with read(site.c.db) as conn:
        view = project_conventions(site.c.engine, conn, site.project_a)
    assert len(view.conventions) == 1
    assert [p.amount_cents for p in view.conventions[0].parties] == [5_000_00]
