"""In Chromium: a partner attaches a PDF to their quarterly report from the link in their
email (no account), and the pilot opens it from the project's page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.smtp_support import SmtpServer
from tests.web.test_browser import (
    CHROMIUM,
    PASSWORD,
    PILOT,
    LiveService,
    at,
    require_chromium,
    sign_in,
    to_implementation,
)
from workflow.engine import NewProject, PartnerIn

PARTNER = "contact@asso-alpha.example"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def service(tmp_path: Path, smtp_server: SmtpServer) -> Iterator[LiveService]:
    require_chromium()
    live = LiveService(f"sqlite:///{tmp_path / 'copilote.db'}", smtp_server)
    live.start()
    yield live
    live.stop()


@pytest.fixture
def chromium(service: LiveService) -> Iterator[Any]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM))
        yield browser
        browser.close()


def test_a_partner_attaches_a_pdf_from_the_email_and_the_pilot_opens_it(
    service: LiveService, chromium: Any
) -> None:
    c = service.c
    c.accounts.create_user(PILOT, PASSWORD, role="pilot", name="Pia Pilote")
    pid = c.engine.create_project(
        NewProject(
            definition_id="cooperative",
            title="Coopérative Paris 18e",
            start_date=date(2026, 5, 4),
            territory="Paris",
            pilot=PartnerIn("DD 75", PILOT, "Pia Pilote", ("pilot", "copil")),
        )
    )
    c.records.add_partner(pid, PartnerIn("Association Alpha", PARTNER, "Alice", ("partner",)))
    c.records.meeting_held(pid, occurrence="reunion_lancement")
    for key in ("gouvernance", "orientations_validees"):
        c.records.milestone_done(pid, key, by="Pia Pilote")
    c.engine.advance(pid, "start_diagnostic", actor="Pia Pilote")
    to_implementation(service, pid)
    service.tick(at(date(2026, 6, 30)))
    requests = [t for t in service.mails_to(PARTNER) if "/answer/" in t]
    assert len(requests) == 1
    link = re.search(r"(http://\S+/answer/\S+)", requests[0])
    assert link is not None

    partner = chromium.new_context().new_page()
    partner.goto(link.group(1))
    partner.click("a:has-text('Joindre des documents au bilan')")
    expect(partner.locator("h1")).to_contain_text("Pièces jointes au bilan")
    partner.set_input_files(
        "form.upload-form input[type=file]",
        {"name": "Bilan T2 annexe.pdf", "mimeType": "application/pdf", "buffer": PDF},
    )
    partner.click("form.upload-form button:has-text('Joindre')")
    expect(partner.locator("ul.documents")).to_contain_text("Bilan T2 annexe.pdf")
    expect(partner.locator("ul.documents")).to_contain_text("Association Alpha")

    pilot = chromium.new_context(accept_downloads=True).new_page()
    sign_in(pilot, service, PILOT)
    pilot.goto(f"{service.url}/projects/{pid}")
    filed = pilot.locator("#documents li", has_text="Pièce jointe de bilan")
    expect(filed).to_contain_text("Association Alpha")
    with pilot.expect_download() as opened:
        filed.locator("a").first.click()
    download = opened.value
    assert download.suggested_filename == "Bilan T2 annexe.pdf"
    assert Path(download.path()).read_bytes() == PDF
