"""Server-side sign-out and revocation: sessions, disabled users, passwords, API tokens."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from typer.testing import CliRunner

from cli import app as cli
from service import Settings
from tests.web.conftest import AGENCY, PASSWORD, PILOT_A, Site, csrf_of, sign_in


def _replay(site: Site, client: TestClient) -> TestClient:
    """Another client carrying a copy of ``client``'s session cookie (an attacker's)."""
    copy = site.client()
    copy.cookies.set("copilote_session", client.cookies["copilote_session"])
    return copy


def test_a_session_cookie_replayed_after_logout_is_refused(site: Site) -> None:
    agency = site.client(AGENCY)
    stolen = _replay(site, agency)
    assert stolen.get("/api/me").status_code == 200
    page = agency.get("/dashboard")
    out = agency.post("/logout", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert out.status_code == 303
    assert stolen.get("/api/me").status_code == 401
    assert stolen.get("/dashboard", follow_redirects=False).status_code == 303
    # Signing in again gives a session that works.
    again = site.client(AGENCY)
    assert again.get("/api/me").json()["email"] == AGENCY


def test_a_new_password_ends_the_sessions_and_the_old_password(site: Site) -> None:
    pilot = site.client(PILOT_A)
    site.c.accounts.set_password(site.pilot_a.id, "a new long password")
    assert pilot.get("/api/me").status_code == 401
    assert site.c.accounts.authenticate(PILOT_A, PASSWORD) is None
    assert site.c.accounts.authenticate(PILOT_A, "a new long password") is not None


def test_a_disabled_user_has_no_session_token_nor_sign_in(site: Site) -> None:
    acc = site.c.accounts
    pilot = site.client(PILOT_A)
    token = acc.create_token(site.pilot_a.id, "script")
    bearer = {"Authorization": f"Bearer {token}"}
    assert site.client().get("/api/me", headers=bearer).status_code == 200
    acc.set_disabled(site.pilot_a.id, True)
    assert pilot.get("/api/me").status_code == 401
    assert site.client().get("/api/me", headers=bearer).status_code == 401
    assert acc.authenticate(PILOT_A, PASSWORD) is None
    acc.set_disabled(site.pilot_a.id, False)
    assert pilot.get("/api/me").status_code == 401  # the old session stays ended
    assert site.client().get("/api/me", headers=bearer).status_code == 200
    assert site.client(PILOT_A).get("/api/me").status_code == 200


def test_tokens_expire_and_can_be_revoked(site: Site) -> None:
    acc = site.c.accounts
    first = acc.create_token(site.agency.id, "one")
    second = acc.create_token(site.agency.id, "two")
    client = site.client()

    def status(token: str) -> int:
        return client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code

    ids = [t.id for t in acc.tokens(site.agency.id)]
    acc.revoke_token(site.agency.id, ids[0])
    assert (status(first), status(second)) == (401, 200)
    assert [t.state(site.clock.now()) for t in acc.tokens(site.agency.id)] == [
        "revoked",
        "active",
    ]
    site.clock.advance(timedelta(days=364))
    assert status(second) == 200
    site.clock.advance(timedelta(days=2))
    assert status(second) == 401
    assert acc.tokens(site.agency.id)[1].state(site.clock.now()) == "expired"


def test_another_users_token_cannot_be_revoked(site: Site) -> None:
    from workflow.errors import NotFound

    site.c.accounts.create_token(site.agency.id, "mine")
    (token,) = site.c.accounts.tokens(site.agency.id)
    with pytest.raises(NotFound, match="API token"):
        site.c.accounts.revoke_token(site.pilot_a.id, token.id)


def test_token_lifetime_is_a_bounded_setting() -> None:
    assert Settings().token_max_age_days == 365
    for bad in (0, 100_000):
        with pytest.raises(ValidationError, match="token_max_age_days"):
            Settings(token_max_age_days=bad)


def test_user_commands_disable_enable_password_and_tokens(
    site: Site, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COPILOTE_MAIL_DIR", str(tmp_path / "mail"))
    run = CliRunner().invoke
    db = ["--db", sqlite_url]
    acc = site.c.accounts
    pilot = site.client(PILOT_A)

    result = run(cli, ["user", "disable", PILOT_A, *db])
    assert result.exit_code == 0, result.output
    assert pilot.get("/api/me").status_code == 401
    assert acc.authenticate(PILOT_A, PASSWORD) is None
    assert run(cli, ["user", "enable", PILOT_A, *db]).exit_code == 0
    assert acc.authenticate(PILOT_A, PASSWORD) is not None

    result = run(cli, ["user", "password", PILOT_A, *db], input="another password\n" * 2)
    assert result.exit_code == 0, result.output
    assert acc.authenticate(PILOT_A, "another password") is not None

    result = run(cli, ["user", "token", "create", AGENCY, "--name", "export", *db])
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    assert token.startswith("cpl_")
    listed = run(cli, ["user", "token", "list", AGENCY, *db])
    assert "\texport\tactive\t" in listed.output and token not in listed.output
    token_id = listed.output.split("\t")[0]
    assert run(cli, ["user", "token", "revoke", AGENCY, token_id, *db]).exit_code == 0
    assert "\texport\trevoked\t" in run(cli, ["user", "token", "list", AGENCY, *db]).output
    assert acc.user_for_token(token) is None

    unknown = run(cli, ["user", "disable", "nobody@ars.example", *db])
    assert unknown.exit_code == 2 and "No user 'nobody@ars.example'" in unknown.output


def test_sign_in_after_logout_on_another_device_still_works(site: Site) -> None:
    """Signing out ends every session of the user, the other devices' included."""
    laptop = site.client(AGENCY)
    phone = TestClient(site.app, base_url="http://127.0.0.1:8000")
    sign_in(phone, AGENCY, PASSWORD)
    page = laptop.get("/dashboard")
    laptop.post("/logout", data={"csrf_token": csrf_of(page.text)})
    assert phone.get("/api/me").status_code == 401
    sign_in(phone, AGENCY, PASSWORD)
    assert phone.get("/api/me").status_code == 200


def test_a_tokens_last_use_is_kept_to_the_hour(site: Site) -> None:
    acc = site.c.accounts
    token = acc.create_token(site.agency.id, "nightly")
    assert acc.tokens(site.agency.id)[0].last_used_at is None
    first = site.clock.now()
    assert acc.user_for_token(token) is not None
    assert acc.tokens(site.agency.id)[0].last_used_at == first
    site.clock.advance(timedelta(minutes=59))
    acc.user_for_token(token)
    assert acc.tokens(site.agency.id)[0].last_used_at == first  # no write on every call
    site.clock.advance(timedelta(minutes=1))
    acc.user_for_token(token)
    assert acc.tokens(site.agency.id)[0].last_used_at == site.clock.now()
