"""Fixtures for the HTTP side: the whole system with a fixed clock, a file SQLite database
(or PostgreSQL through ``db_url``) and a real loopback SMTP server, its app, and clients
signed in as the agency, a pilot, or nobody."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from service import Copilote, Settings
from tests.smtp_support import SmtpServer
from workflow.clock import FixedClock
from workflow.engine import NewProject, PartnerIn

ROOT = Path(__file__).resolve().parents[2]
PARIS = ZoneInfo("Europe/Paris")
PASSWORD = "correct horse battery"
AGENCY = "agence@ars.example"
PILOT_A = "pilote.a@exemple.fr"
PILOT_B = "pilote.b@exemple.fr"
LIGHT_ARGON2 = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
"""argon2id through the same code, with one pass over 1 MiB: the production hasher (64 MiB,
3 passes) costs ~0.4 s a password on a busy machine, and each site creates three users and
each client signs in. Tests of the hashing's cost itself pass ``hasher=None``."""


class Site:
    """The running system and two projects: A piloted by PILOT_A, B by PILOT_B."""

    def __init__(
        self,
        database_url: str,
        server: SmtpServer,
        *,
        hasher: PasswordHasher | None = LIGHT_ARGON2,
        **settings: Any,
    ) -> None:
        self.clock = FixedClock(datetime(2026, 5, 4, 9, 0, tzinfo=PARIS))
        defaults: dict[str, Any] = {
            "database_url": database_url,
            "definitions_dir": ROOT / "definitions",
            "smtp_host": "127.0.0.1",
            "smtp_port": server.port,
            "smtp_timeout": 5.0,
            "scheduler": False,
            "secret_key": "test-secret",
        }
        self.settings = Settings(**{**defaults, **settings})
        self.c = Copilote(self.settings, self.clock, password_hasher=hasher)
        self.server = server
        self.app = self.c.app()
        acc = self.c.accounts
        self.agency = acc.create_user(AGENCY, PASSWORD, role="agency", name="ARS")
        self.pilot_a = acc.create_user(PILOT_A, PASSWORD, role="pilot", name="Pia")
        self.pilot_b = acc.create_user(PILOT_B, PASSWORD, role="pilot", name="Paul")
        self.project_a = self.c.engine.create_project(
            NewProject(
                definition_id="cooperative",
                title="Coopérative A",
                start_date=date(2026, 5, 4),
                territory="Paris",
                pilot=PartnerIn("Structure A", PILOT_A, "Pia", ("pilot", "copil")),
            )
        )
        self.project_b = self.c.engine.create_project(
            NewProject(
                definition_id="cooperative",
                title="Coopérative B",
                start_date=date(2026, 5, 4),
                territory="Seine-Saint-Denis",
                pilot=PartnerIn("Structure B", PILOT_B, "Paul", ("pilot", "copil")),
            )
        )

    def client(self, email: str | None = None) -> TestClient:
        client = TestClient(self.app, base_url="http://127.0.0.1:8000")
        if email is not None:
            sign_in(client, email, PASSWORD)
        return client


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


def sign_in(client: TestClient, email: str, password: str) -> None:
    page = client.get("/login")
    response = client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": csrf_of(page.text), "next": "/"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    client.headers["X-CSRF-Token"] = csrf_of(client.get("/login").text)


@pytest.fixture
def site(sqlite_url: str, smtp_server: SmtpServer, tmp_path: Path) -> Iterator[Site]:
    s = Site(sqlite_url, smtp_server)
    yield s
    s.c.db.dispose()
