"""The service in a real browser: Playwright driving Debian's Chromium against the real
application served by uvicorn on a loopback port, with a fixed clock and a real SMTP server.

Scenario (issue 4, § 6): the agency signs in and sees an overdue milestone that appeared
after the clock advanced; the pilot opens the project, tries to advance (refused, the
reasons shown), records the missing meeting, advances; a partner opens the link from the
email received by the SMTP server and submits a quarterly report, which the agency then
sees. A screenshot of the dashboard is kept in ``tests/artifacts/dashboard.png``.
"""

from __future__ import annotations

import os
import re
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import uvicorn
from playwright.sync_api import expect, sync_playwright

from service import Copilote, Settings
from tests.plan_support import enter_plan
from tests.smtp_support import SmtpServer
from workflow.clock import FixedClock
from workflow.engine import NewProject, PartnerIn

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
PARIS = ZoneInfo("Europe/Paris")
PASSWORD = "correct horse battery"
AGENCY = "agence@ars.example"
PILOT = "pilote@dd75.example"
PARTNER = "contact@asso-alpha.example"


def require_chromium() -> None:
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)"
    if os.environ.get("CI") == "true":
        pytest.fail(reason + "; under CI=true this is a failure, not a skip")
    pytest.skip(reason)


class _Server(uvicorn.Server):
    """uvicorn, telling the test thread the moment its startup is over (or has failed)."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = threading.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().startup(sockets=sockets)
        finally:
            self.ready.set()


class LiveService:
    """The whole system served on a free loopback port; the clock stands still until moved."""

    def __init__(self, database_url: str, smtp: SmtpServer) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.clock = FixedClock(datetime(2026, 5, 4, 9, 0, tzinfo=PARIS))
        self.smtp = smtp
        self.c = Copilote(
            Settings(
                database_url=database_url,
                definitions_dir=ROOT / "definitions",
                base_url=self.url,
                smtp_host="127.0.0.1",
                smtp_port=smtp.port,
                smtp_timeout=5.0,
                scheduler=False,
                secret_key="browser-test-secret",
            ),
            self.clock,
        )
        self.server = _Server(
            uvicorn.Config(self.c.app(), log_level="warning", lifespan="on", access_log=False)
        )
        self.thread = threading.Thread(target=self._run, name="uvicorn", daemon=True)

    def _run(self) -> None:
        try:
            self.server.run(sockets=[self.sock])
        finally:
            self.server.ready.set()  # a server that died before startup must not be waited for

    def start(self) -> None:
        self.thread.start()
        # Bounded wait on the event uvicorn's startup sets (not on elapsed time).
        if not self.server.ready.wait(timeout=60) or not self.server.started:
            raise RuntimeError("the service did not start (see the uvicorn log above)")

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.sock.close()
        self.c.db.dispose()

    def tick(self, at: datetime) -> None:
        """The due work as of ``at``, in a thread of its own: delivery runs its own event
        loop, and Playwright's sync API keeps one running in the test's thread."""
        self.clock.set(at)
        with ThreadPoolExecutor(max_workers=1) as worker:
            worker.submit(self.c.tick, at).result()

    def mails_to(self, email: str) -> list[str]:
        texts = []
        for got in self.smtp.handler.received:
            if email in got.rcpt_tos:
                body = got.message.get_body(("plain",))
                assert body is not None
                texts.append(body.get_content())
        return texts


@pytest.fixture
def live(tmp_path: Path, smtp_server: SmtpServer) -> Iterator[LiveService]:
    require_chromium()
    service = LiveService(f"sqlite:///{tmp_path / 'copilote.db'}", smtp_server)
    service.start()
    yield service
    service.stop()


@pytest.fixture
def browser(live: LiveService) -> Iterator[Any]:
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM))
        yield chromium
        chromium.close()


def sign_in(page: Any, live: LiveService, email: str) -> None:
    page.goto(f"{live.url}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=PARIS)


def to_implementation(live: LiveService, pid: int) -> None:
    """The rest of the way to « mise en œuvre » (a reporting phase), recorded directly."""
    records, engine = live.c.records, live.c.engine
    records.milestone_done(pid, "diagnostic_local_sante", by="Pia Pilote")
    records.meeting_held(pid, series="copil")
    engine.advance(pid, "start_action_plan", actor="Pia Pilote")
    for key in ("arbre_objectifs", "fiches_actions", "indicateurs", "convention_signee"):
        records.milestone_done(pid, key, by="Pia Pilote")
    records.meeting_held(pid, series="copil")
    enter_plan(records, pid)  # issue 13: objectives: required
    engine.advance(pid, "validate_action_plan", actor="Pia Pilote")


def test_agency_pilot_and_partner_in_a_real_browser(live: LiveService, browser: Any) -> None:
    c = live.c
    c.accounts.create_user(AGENCY, PASSWORD, role="agency", name="ARS Île-de-France")
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

    # -- the agency: nothing late on the first day; two milestones late two days after their
    # deadline (the governance milestones are due two months after the start, 4 July).
    agency = browser.new_context().new_page()
    sign_in(agency, live, AGENCY)
    assert agency.url == f"{live.url}/dashboard"
    overdue = agency.locator("#retards")
    assert "Aucun jalon en retard." in overdue.inner_text()
    live.clock.set(at(date(2026, 7, 6)))
    agency.reload()
    late = overdue.locator("tbody tr", has_text="Mise en place des instances de gouvernance")
    expect(late).to_have_count(1)
    row = late.inner_text()
    assert "2 jours" in row and "Coopérative Paris 18e" in row and "04/07/2026" in row
    assert "DD 75" in row  # who holds the responsible role
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    agency.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)

    # -- the pilot opens the project, delivers the two milestones, tries to advance
    pilot = browser.new_context().new_page()
    sign_in(pilot, live, PILOT)
    pilot.click("a:has-text('Coopérative Paris 18e')")
    pilot.wait_for_url(f"{live.url}/projects/{pid}*")
    for label in ("Mise en place des instances de gouvernance", "Validation des orientations"):
        task = pilot.locator("tr.task", has_text=label)
        task.locator("a:has-text('Marquer fait')").click()  # its form page, milestone chosen
        pilot.locator("form.form-page button[type=submit]").click()
        expect(pilot.locator("tr.task", has_text=label)).to_contain_text("fait le 06/07/2026")
    advance = "button:has-text('Lancer le diagnostic local de santé')"
    pilot.click(advance)
    refused = pilot.locator(".refused[role=alert]")
    expect(refused).to_contain_text("Étape refusée")
    reasons = refused.locator("li").all_inner_texts()
    assert reasons == [
        "Première réunion collective (lancement de la coopérative) : réunion non tenue"
    ]
    assert "Préfiguration" in pilot.locator("dl.facts").inner_text()

    # ... records the launch meeting as held today from the refusal's link, and advances.
    pilot.locator(".fixes a.fix-link", has_text="Première réunion collective").click()
    pilot.locator("form.form-page button[type=submit]").click()
    launch = pilot.locator("#reunions tbody tr", has_text="Première réunion collective")
    expect(launch).to_contain_text("tenue")
    pilot.click(advance)
    pilot.wait_for_url(f"{live.url}/projects/{pid}#avancement")
    expect(pilot.locator(".refused")).to_have_count(0)
    assert "Diagnostic local de santé" in pilot.locator("dl.facts").inner_text()
    agency.reload()
    assert "Aucun jalon en retard." in overdue.inner_text()

    # -- the end of the third quarter: the partner's request arrives by email, with a link.
    to_implementation(live, pid)
    live.tick(at(date(2026, 9, 30)))
    requests = [t for t in live.mails_to(PARTNER) if "/answer/" in t]
    assert len(requests) == 1 and "3e trimestre 2026" in requests[0]
    link = re.search(r"(http://\S+/answer/\S+)", requests[0])
    assert link is not None and link.group(1).startswith(live.url)
    live.clock.set(at(date(2026, 10, 5), 11))
    partner_submits_the_quarterly_report(browser, live, link.group(1))

    # -- the agency sees it on the project's page.
    agency.goto(f"{live.url}/projects/{pid}")
    agency.locator("#plus-bilans > summary").click()  # the reports are behind an accordion
    received = agency.locator("#bilans tbody tr", has_text="Association Alpha")
    expect(received).to_have_count(1)
    assert "T3 2026" in received.inner_text() and "05/10/2026" in received.inner_text()
    received.locator("summary").click()
    details = received.locator("details").inner_text()
    assert "Ateliers parentalité" in details and "Peu de pères présents" in details
    assert (
        "L'action a contribué à améliorer la dynamique de coopération : Oui"
        " — La PMI et le centre social préparent ensemble"
    ) in details


def partner_submits_the_quarterly_report(browser: Any, live: LiveService, link: str) -> None:
    """The partner opens the link from the email in a browser of their own (no account)."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(link)
    assert page.locator("h1").inner_text() == "Bilan trimestriel · 3e trimestre 2026"
    assert "Association Alpha" in page.locator(".facts").inner_text()
    page.fill("#a1_title", "Ateliers parentalité")
    page.check("input[name=a1_resources][value=yes]")
    page.check("input[name=a1_targets][value=partly]")
    page.check("input[name=a1_programme][value=yes]")
    page.check("input[name=a1_objectives][value=partly]")
    page.click("button:has-text('Transmettre le bilan')")
    # Refused: the « why » of a partial answer is missing; nothing is stored.
    expect(page.locator("#errors")).to_contain_text("Dites pourquoi")
    page.fill("#a1_targets_why", "Peu de pères présents")
    page.fill("#a1_objectives_why", "Objectif atteint à 80 %")
    page.fill("#obstacles", "Locaux indisponibles en mai")
    page.check("input[name=a1_cooperation][value=yes]")
    page.fill("#a1_cooperation_why", "La PMI et le centre social préparent ensemble")
    # Enter in a text field sends the report (not « Ajouter une action », the first button
    # a reader sees): the form's default button is the report's.
    page.press("#a1_title", "Enter")
    page.wait_for_url(re.compile(r".*/done$"))
    confirmation = page.locator("[role=status]").inner_text()
    assert "Votre bilan a été transmis le 05/10/2026" in confirmation
    context.close()
