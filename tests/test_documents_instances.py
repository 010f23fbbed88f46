"""Two ``copilote serve`` processes on one PostgreSQL: a file uploaded through one is served
by the other (the bytes live in the database, not on either host)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import httpx2 as httpx
import pytest

from service import Copilote, Settings
from tests.conftest import ROOT, require_postgres
from tests.instances_support import instance_env, reset_schema, running, spawn
from tests.smtp_support import SmtpServer, free_port
from workflow.engine import NewProject, PartnerIn

PILOT = "pilote@dd93.example"
PASSWORD = "correct horse battery"
PDF = b"%PDF-1.4\n" + bytes(range(256)) * 2_000 + b"\n%%EOF\n"  # ~0.5 MB: two chunks and more


@pytest.fixture
def pg_url() -> str:
    url = require_postgres()
    reset_schema(url)
    return url


def signed_in(base: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=30)
    page = client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf is not None
    answer = client.post(
        "/login",
        data={"email": PILOT, "password": PASSWORD, "csrf_token": csrf.group(1), "next": "/"},
    )
    assert answer.status_code in (200, 303), answer.text
    return client


@pytest.mark.postgres
@pytest.mark.slow  # two service processes to start: ~25 s
def test_a_file_uploaded_through_one_instance_is_served_by_the_other(
    pg_url: str, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    instances = [
        spawn(
            name,
            instance_env(pg_url, smtp_server.port, free_port(), name, scheduler="false"),
            tmp_path,
        )
        for name in ("copilote-1", "copilote-2")
    ]
    with running(instances):
        for instance in instances:
            instance.wait_ready(120)
        c = Copilote(
            Settings(
                database_url=pg_url,
                definitions_dir=ROOT / "definitions",
                scheduler=False,
                secret_key="instances-test-secret",
            ),
            migrate_schema=False,
        )
        try:
            c.accounts.create_user(PILOT, PASSWORD, role="pilot", name="Pia")
            pid = c.engine.create_project(
                NewProject(
                    definition_id="cooperative",
                    title="Coopérative 93",
                    start_date=date(2026, 5, 4),
                    pilot=PartnerIn("DD 93", PILOT, "Pia", ("pilot", "copil")),
                )
            )
        finally:
            c.db.dispose()
        one, two = (signed_in(i.url("")) for i in instances)
        try:
            page = one.get(f"/projects/{pid}/documents")
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
            assert csrf is not None
            sent = one.post(
                f"/projects/{pid}/documents",
                data={"csrf_token": csrf.group(1)},
                files={"file": ("cadrage.pdf", PDF, "application/pdf")},
            )
            assert sent.status_code == 303, sent.text
            listing = two.get(f"/projects/{pid}/documents")
            assert "cadrage.pdf" in listing.text
            got = two.get(f"/projects/{pid}/documents/1/1")
            assert got.status_code == 200 and got.content == PDF
            assert got.headers["content-disposition"].startswith("attachment;")
        finally:
            one.close()
            two.close()
