"""The agency's users page: the same actions as `copilote user` (disable, enable, password,
token revocation), agency only, each ending the sessions it should."""

from __future__ import annotations

import html
import re

from tests.web.conftest import AGENCY, PASSWORD, PILOT_A, PILOT_B, Site, csrf_of


def test_only_the_agency_sees_the_users_page(site: Site) -> None:
    page = site.client(AGENCY).get("/users")
    assert page.status_code == 200
    for email in (AGENCY, PILOT_A, PILOT_B):
        assert email in page.text
    assert 'href="/users"' in page.text
    pilot = site.client(PILOT_A)
    assert pilot.get("/users").status_code == 403
    assert 'href="/users"' not in pilot.get("/projects").text
    csrf = csrf_of(pilot.get("/projects").text)
    refused = pilot.post(f"/users/{site.pilot_b.id}/disable", data={"csrf_token": csrf})
    assert refused.status_code == 403
    assert site.c.accounts.authenticate(PILOT_B, PASSWORD) is not None


def test_the_agency_disables_enables_and_sets_a_password(site: Site) -> None:
    agency = site.client(AGENCY)
    pilot = site.client(PILOT_A)
    uid = site.pilot_a.id

    def post(path: str, **data: str) -> int:
        csrf = csrf_of(agency.get("/users").text)
        response = agency.post(path, data={"csrf_token": csrf, **data}, follow_redirects=False)
        return response.status_code

    assert post(f"/users/{uid}/disable", confirm="yes") == 303
    assert pilot.get("/api/me").status_code == 401
    assert "désactivé" in agency.get("/users").text
    assert site.c.accounts.authenticate(PILOT_A, PASSWORD) is None
    assert post(f"/users/{uid}/enable") == 303
    assert site.c.accounts.authenticate(PILOT_A, PASSWORD) is not None

    assert post(f"/users/{uid}/password", new_password="short") == 422
    assert post(f"/users/{uid}/password", new_password="a fresh long password") == 303
    assert site.c.accounts.authenticate(PILOT_A, "a fresh long password") is not None
    assert post(f"/users/{site.agency.id}/disable", confirm="yes") == 422  # not one's own
    assert post("/users/999999/disable", confirm="yes") == 404
    # Without the form's token, nothing happens.
    assert agency.post(f"/users/{uid}/disable", data={}).status_code == 403


def test_the_agency_revokes_a_token(site: Site) -> None:
    token = site.c.accounts.create_token(site.pilot_b.id, "tableur")
    agency = site.client(AGENCY)
    page = agency.get("/users?lang=en")
    assert "tableur" in page.text and "expires on 2027-05-04" in page.text
    (info,) = site.c.accounts.tokens(site.pilot_b.id)
    response = agency.post(
        f"/users/{site.pilot_b.id}/tokens/{info.id}/revoke",
        data={"csrf_token": csrf_of(page.text), "confirm": "yes"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert (
        site.client().get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code
        == 401
    )
    assert "revoked" in agency.get("/users?lang=en").text
    # A token id of another user is not found under this one.
    wrong = agency.post(
        f"/users/{site.pilot_a.id}/tokens/{info.id}/revoke",
        data={"csrf_token": csrf_of(page.text), "confirm": "yes"},
    )
    assert wrong.status_code == 404


def test_disabling_and_revoking_are_confirmed_first_and_refused_without_it(site: Site) -> None:
    """A confirmation page says what will happen (the users page opens the same in a modal);
    a POST without the confirmation's field is refused and changes nothing."""
    token = site.c.accounts.create_token(site.pilot_b.id, "tableur du suivi")
    (info,) = site.c.accounts.tokens(site.pilot_b.id)
    agency = site.client(AGENCY)
    uid = site.pilot_b.id
    listing = agency.get("/users").text
    disable_link = (
        f'href="/users/{uid}/disable" aria-controls="desactiver-{uid}" data-fr-opened="false"'
    )
    revoke_link = f'href="/users/{uid}/tokens/{info.id}/revoke" aria-controls="revoquer-{info.id}"'
    assert disable_link in listing and revoke_link in listing
    modal = re.search(rf'<dialog id="desactiver-{uid}".*?</dialog>', listing, re.S)
    assert modal is not None
    assert f'action="/users/{uid}/disable"' in modal.group(0)
    assert 'name="confirm" value="yes"' in modal.group(0)
    assert f"{site.pilot_b.name} ({PILOT_B}) ne pourra plus se connecter" in modal.group(0)

    page = agency.get(f"/users/{uid}/disable")
    assert page.status_code == 200
    assert f"Désactiver le compte de {site.pilot_b.name} ?" in page.text
    assert f"{site.pilot_b.name} ({PILOT_B}) ne pourra plus se connecter" in page.text
    assert agency.get(f"/users/{site.agency.id}/disable").status_code == 422  # oneself
    assert agency.get(f"/users/{uid}/tokens/999999/revoke").status_code == 404
    assert agency.get("/users/999999/disable").status_code == 404
    assert site.client(PILOT_A).get(f"/users/{uid}/disable").status_code == 403

    # The old one-click POST (no confirmation): refused, in words, and nothing changed.
    csrf = csrf_of(page.text)
    for path in (f"/users/{uid}/disable", f"/users/{uid}/tokens/{info.id}/revoke"):
        refused = agency.post(path, data={"csrf_token": csrf}, follow_redirects=False)
        assert refused.status_code == 422, path
        assert "rien n'a été modifié" in html.unescape(refused.text), path
    assert site.c.accounts.authenticate(PILOT_B, PASSWORD) is not None
    assert site.c.accounts.user_for_token(token) is not None

    english = agency.get(f"/users/{uid}/tokens/{info.id}/revoke?lang=en").text
    assert "Revoke the API token “tableur du suivi”?" in english
    assert "will be refused from now on" in english and "Révoquer" not in english

    # Confirmed, from the confirmation page's own form.
    done = agency.post(
        f"/users/{uid}/disable", data={"csrf_token": csrf, "confirm": "yes"}, follow_redirects=False
    )
    assert done.status_code == 303
    assert site.c.accounts.authenticate(PILOT_B, PASSWORD) is None
