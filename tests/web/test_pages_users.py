"""The agency's users page: the same actions as `copilote user` (disable, enable, password,
token revocation), agency only, each ending the sessions it should."""

from __future__ import annotations

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

    assert post(f"/users/{uid}/disable") == 303
    assert pilot.get("/api/me").status_code == 401
    assert "désactivé" in agency.get("/users").text
    assert site.c.accounts.authenticate(PILOT_A, PASSWORD) is None
    assert post(f"/users/{uid}/enable") == 303
    assert site.c.accounts.authenticate(PILOT_A, PASSWORD) is not None

    assert post(f"/users/{uid}/password", new_password="short") == 422
    assert post(f"/users/{uid}/password", new_password="a fresh long password") == 303
    assert site.c.accounts.authenticate(PILOT_A, "a fresh long password") is not None
    assert post(f"/users/{site.agency.id}/disable") == 422  # not one's own account
    assert post("/users/999999/disable") == 404
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
        data={"csrf_token": csrf_of(page.text)},
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
        data={"csrf_token": csrf_of(page.text)},
    )
    assert wrong.status_code == 404
