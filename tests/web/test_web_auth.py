"""Sign-in, sessions, tokens and the refusals: who may see and do what."""

from __future__ import annotations

from tests.web.conftest import AGENCY, PASSWORD, PILOT_A, Site, csrf_of


def test_pages_need_a_sign_in_and_a_wrong_password_is_refused(site: Site) -> None:
    anonymous = site.client()
    response = anonymous.get("/", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    page = anonymous.get("/login")
    refused = anonymous.post(
        "/login",
        data={"email": AGENCY, "password": "wrong", "csrf_token": csrf_of(page.text)},
    )
    assert refused.status_code == 401
    assert "Adresse e-mail ou mot de passe incorrect." in refused.text
    assert anonymous.get("/api/projects").status_code == 401


def test_a_form_without_its_csrf_token_is_refused(site: Site) -> None:
    anonymous = site.client()
    anonymous.get("/login")
    response = anonymous.post("/login", data={"email": AGENCY, "password": PASSWORD})
    assert response.status_code == 403
    assert "CSRF" in response.text


def test_sign_in_then_home_leads_to_the_right_place(site: Site) -> None:
    agency = site.client(AGENCY)
    assert agency.get("/", follow_redirects=False).headers["location"] == "/dashboard"
    pilot = site.client(PILOT_A)
    assert pilot.get("/", follow_redirects=False).headers["location"] == "/projects"


def test_passwords_are_stored_hashed_with_argon2(site: Site) -> None:
    import sqlalchemy as sa

    from workflow.models import UserAccount

    with site.c.db.connect() as conn:
        stored = conn.execute(sa.select(UserAccount.password_hash)).scalars().all()  # type: ignore[call-overload]
    assert stored and all(h.startswith("$argon2") and PASSWORD not in h for h in stored)


def test_rights_follow_the_pilot_partner_rows(site: Site) -> None:
    acc = site.c.accounts
    assert acc.piloted(site.pilot_a) == {site.project_a}
    assert acc.piloted(site.pilot_b) == {site.project_b}
    assert acc.readable(site.agency) is None  # everything
    assert acc.piloted(site.agency) == set()  # the agency acts on no project it does not pilot
