"""Accessibility (issue 14, RGAA): every page of the demo, in a real Chromium, as the agency,
as a pilot and through a partner's links (the crawl of ``test_crawl_labels.py``, so the list
of pages is what the demo links to, not a list kept by hand):

- axe-core (bundled by axe-playwright-python) at WCAG 2.0/2.1 A and AA: no violation;
- no horizontal scroll at 320 and 390 px;
- every radio group in a fieldset with a legend; every data table with a caption and
  every header cell with a scope;
- after a refused form, the focus is on the error summary;
- keyboard only (Tab, Shift+Tab, Enter, Space, typing): a partner sends a quarterly report
  from its link, a pilot records a meeting as held.

One browser, one demo database and one server for the module. A failure lists every page
and every problem at once (rule id and target), not the first one.
"""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx2 as httpx
import pytest
import sqlalchemy as sa
import uvicorn
from axe_playwright_python.sync_playwright import Axe
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright

from notifications import RecordingMailer
from service import Copilote, Settings
from tests.conftest import ROOT, paris
from tests.web.conftest import sign_in
from tests.web.test_browser import ARTIFACTS, CHROMIUM, _Server, require_chromium
from tests.web.test_crawl_labels import AGENCY, PASSWORD, PILOT, crawl, demo_site
from web.pages.legal import AXE_CORE_VERSION
from workflow import tables
from workflow.clock import FixedClock

__all__ = ["demo_site"]  # the demo of test_crawl_labels.py, one per module

BASE = "http://127.0.0.1:8000"  # the demo's base_url, which the crawl keeps to
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": WCAG}, "resultTypes": ["violations"]}
PHONES = (320, 390)
DESKTOP = 1280
LEGAL = ["/accessibilite", "/mentions-legales", "/donnees-personnelles"]

# Run in the page: what axe does not check the way the RGAA asks.
STRUCTURE = """() => {
  const problems = [];
  const where = (el) => el.id ? `#${el.id}` : el.tagName.toLowerCase() +
      (el.getAttribute('name') ? `[name=${el.getAttribute('name')}]` : '');
  const names = new Set([...document.querySelectorAll('input[type=radio]')].map(r => r.name));
  for (const name of names) {
    const radios = [...document.querySelectorAll('input[type=radio]')].filter(r => r.name === name);
    const sets = new Set(radios.map(r => r.closest('fieldset')));
    const set = radios[0].closest('fieldset');
    if (sets.size !== 1 || !set) { problems.push(`radio group ${name} outside one fieldset`); continue; }
    const legend = set.querySelector(':scope > legend');
    if (!legend || !legend.textContent.trim()) problems.push(`radio group ${name}: fieldset without legend`);
  }
  for (const table of document.querySelectorAll('table')) {
    if (table.getAttribute('role') === 'presentation') continue;
    const cap = table.querySelector(':scope > caption');
    if (!cap || !cap.textContent.trim()) problems.push(`table ${where(table.closest('[id]') || table)} without caption`);
    for (const th of table.querySelectorAll('th')) {
      if (!['col', 'row', 'colgroup', 'rowgroup'].includes(th.getAttribute('scope'))) {
        problems.push(`th without scope: ${th.textContent.trim().slice(0, 40)}`);
      }
    }
  }
  return problems;
}"""


@dataclass
class Findings:
    """Per page (role, path): what is wrong; empty lists for a page with nothing wrong."""

    axe: dict[str, list[str]] = field(default_factory=dict)
    scroll: dict[str, list[str]] = field(default_factory=dict)
    structure: dict[str, list[str]] = field(default_factory=dict)
    pages: list[str] = field(default_factory=list)


class Served:
    """The demo served by uvicorn on a free loopback port (links keep the demo's base_url)."""

    def __init__(self, c: Copilote) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        config = uvicorn.Config(c.app(), log_level="warning", lifespan="on", access_log=False)
        self.server = _Server(config)
        self.thread = threading.Thread(target=self._run, name="uvicorn-a11y", daemon=True)
        self.thread.start()
        if not self.server.ready.wait(timeout=60) or not self.server.started:
            raise RuntimeError("the service did not start (see the uvicorn log above)")

    def _run(self) -> None:
        try:
            self.server.run(sockets=[self.sock])
        finally:
            self.server.ready.set()

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
        self.sock.close()


def shape(path: str) -> str:
    """One page per kind: ``/projects/3/forms/x?meeting=12`` and ``/projects/4/forms/x?
    meeting=9`` are the same template; so are two answer links."""
    path = re.sub(r"/answer/[^/?]+", "/answer/T", path)
    path = re.sub(r"=[^&]*", "=", path)
    return re.sub(r"\d+", "N", path)


def reachable(client: TestClient, start: list[str]) -> list[str]:
    """The HTML pages the crawl of test_crawl_labels.py reaches from ``start``, one per kind."""
    seen: list[str] = []

    def record(response: httpx.Response) -> None:
        if response.status_code == 200 and "text/html" in response.headers.get("content-type", ""):
            url = response.request.url
            seen.append(url.raw_path.decode("ascii"))

    client.event_hooks["response"].append(record)
    crawl(client, start, {"no_such_key"})
    kinds: dict[str, str] = {}
    for path in seen:
        kinds.setdefault(shape(path), path)
    return sorted(kinds.values())


def partner_links(c: Copilote) -> dict[str, str]:
    """A partner's invitation to a planned meeting and request for a quarterly report."""
    with c.db.connect() as conn:
        meeting = conn.execute(
            sa.select(tables.meeting.c.id, tables.meeting.c.project_id)
            .where(tables.meeting.c.status == "planned")
            .order_by(tables.meeting.c.id)
        ).first()
        assert meeting is not None
        invited = conn.execute(
            sa.select(tables.partner.c.id).where(
                tables.partner.c.project_id == meeting.project_id,
                ~tables.partner.c.roles.cast(sa.String).contains("pilot"),
            )
        ).scalar()
        owing = conn.execute(
            sa.select(tables.partner.c.id, tables.partner.c.project_id)
            .join(tables.project, tables.project.c.id == tables.partner.c.project_id)
            .where(
                tables.project.c.phase == "mise_en_oeuvre",
                ~tables.partner.c.id.in_(
                    sa.select(tables.report.c.partner_id).where(tables.report.c.period == "2026-Q3")
                ),
                tables.partner.c.roles.cast(sa.String).contains('"partner"'),
            )
            .order_by(tables.partner.c.id)
        ).first()
    assert invited is not None and owing is not None
    invitation = c.links.make("meeting", meeting.project_id, invited, str(meeting.id))
    report = c.links.make("report", owing.project_id, owing.id, "bilan_trimestriel:2026-Q3")
    return {"invitation": urlsplit(invitation).path, "report": urlsplit(report).path}


@pytest.fixture(scope="module")
def served(demo_site: Copilote) -> Iterator[Served]:
    require_chromium()
    server = Served(demo_site)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser(served: Served) -> Iterator[Browser]:
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM))
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def cookies(demo_site: Copilote) -> dict[str, list[dict[str, Any]]]:
    """The session cookies of the agency and of the pilot (signed in once, through the form)."""
    found: dict[str, list[dict[str, Any]]] = {}
    for role, email in (("agency", AGENCY), ("pilot", PILOT)):
        client = TestClient(demo_site.app(), base_url=BASE)
        sign_in(client, email, PASSWORD)
        found[role] = [
            {"name": name, "value": value, "domain": "127.0.0.1", "path": "/"}
            for name, value in client.cookies.items()
        ]
    found["partner"] = []
    return found


def open_as(browser: Browser, cookies: list[dict[str, Any]], width: int = DESKTOP) -> Page:
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.add_cookies(cookies)  # type: ignore[arg-type]
    return context.new_page()


def scroll_problems(page: Page) -> list[str]:
    problems = []
    for width in PHONES:
        page.set_viewport_size({"width": width, "height": 800})
        wide = int(page.evaluate("document.documentElement.scrollWidth"))
        if wide > width:
            problems.append(f"{wide} px wide at {width} px")
    page.set_viewport_size({"width": DESKTOP, "height": 900})
    return problems


@pytest.fixture(scope="module")
def findings(
    demo_site: Copilote,
    served: Served,
    browser: Browser,
    cookies: dict[str, list[dict[str, Any]]],
) -> Findings:
    """Every reachable page of the demo, per role, checked once for all the tests below."""
    c = demo_site
    links = partner_links(c)
    starts = {
        "agency": ["/", "/projects", *LEGAL],
        "pilot": ["/", "/projects"],
        "partner": [links["invitation"], links["report"], "/login", *LEGAL],
    }
    axe = Axe()
    found = Findings()
    for role, start in starts.items():
        client = TestClient(c.app(), base_url=BASE)
        if role != "partner":
            sign_in(client, AGENCY if role == "agency" else PILOT, PASSWORD)
        paths = reachable(client, start)
        page = open_as(browser, cookies[role])
        for path in paths:
            key = f"{role} {path}"
            found.pages.append(key)
            page.goto(served.url + path)
            result = axe.run(page, options=AXE_OPTIONS)
            found.axe[key] = [
                f"{v['id']} {node['target']}"
                for v in result.response["violations"]
                for node in v["nodes"]
            ]
            found.structure[key] = list(page.evaluate(STRUCTURE))
            found.scroll[key] = scroll_problems(page)
        page.context.close()
    # the whole picture for whoever fixes a page, beside the screenshots
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    report = {"axe": failing(found.axe), "scroll": failing(found.scroll)}
    report["structure"] = failing(found.structure)
    (ARTIFACTS / "a11y-findings.json").write_text(
        json.dumps({"pages": found.pages, **report}, indent=1, ensure_ascii=False)
    )
    return found


def failing(table: dict[str, list[str]]) -> dict[str, list[str]]:
    return {page: problems for page, problems in table.items() if problems}


def test_the_crawl_reaches_every_kind_of_page(findings: Findings) -> None:
    pages = " ".join(findings.pages)
    for expected in (
        "agency /dashboard",
        "agency /users",
        "pilot /projects/",
        "/forms/meeting_held",
        "partner /answer/",
        "partner /accessibilite",
        "partner /login",
    ):
        assert expected in pages, expected
    assert len(findings.pages) >= 20


def test_no_page_has_an_axe_violation_at_wcag_21_aa(findings: Findings) -> None:
    assert failing(findings.axe) == {}


def test_no_page_scrolls_sideways_on_a_phone(findings: Findings) -> None:
    assert failing(findings.scroll) == {}


def test_radio_groups_have_a_legend_and_tables_a_caption_and_scopes(findings: Findings) -> None:
    assert failing(findings.structure) == {}


def test_the_checks_can_fail(browser: Browser) -> None:
    """The structure check sees a bare radio group, a table without caption, a th without
    scope; axe sees an input without a label; the scroll check sees a 500 px wide page."""
    page = browser.new_page(viewport={"width": DESKTOP, "height": 900})
    page.set_content(
        '<html lang="fr"><head><title>t</title></head><body style="margin:0"><main>'
        '<input type="radio" name="r" value="1"><input type="radio" name="r" value="2">'
        "<table><tr><th>a</th></tr><tr><td>1</td></tr></table>"
        '<input type="text"><div style="width:500px">large</div></main></body></html>'
    )
    problems = page.evaluate(STRUCTURE)
    assert "radio group r outside one fieldset" in problems
    assert any(p.startswith("table") and "without caption" in p for p in problems)
    assert "th without scope: a" in problems
    result = Axe().run(page, options=AXE_OPTIONS)
    assert "label" in {v["id"] for v in result.response["violations"]}
    assert scroll_problems(page) == ["500 px wide at 320 px", "500 px wide at 390 px"]
    page.context.close()


def test_the_statement_names_the_axe_core_that_checked() -> None:
    """The accessibility statement says which axe-core version tested the pages: the one
    axe-playwright-python bundles."""
    import axe_playwright_python

    bundled = Path(axe_playwright_python.__file__).parent / "axe.min.js"
    header = bundled.read_text(encoding="utf-8")[:200]
    assert f"axe v{AXE_CORE_VERSION}" in header, header


def tab_to(page: Page, selector: str, limit: int = 400) -> None:
    """Tab (only Tab) until ``selector`` has the focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} never got the focus in {limit} tabs")


def violations(page: Page) -> list[str]:
    """axe-core's violations on the page as it stands, one line per rule and target."""
    result = Axe().run(page, options=AXE_OPTIONS)
    return [f"{v['id']} {n['target']}" for v in result.response["violations"] for n in v["nodes"]]


def open_modal_with_the_keyboard(page: Page, link: Locator) -> Locator:
    """Enter on a link that opens a confirmation modal (``_confirm.html``): the modal, open,
    with the focus inside it, its fade-in over (axe reads final colours)."""
    expect(link).to_have_attribute("data-fr-js-modal-button", "true")  # the DSFR took it
    dialog = page.locator(f"dialog#{link.get_attribute('aria-controls')}")
    link.focus()
    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    page.wait_for_function(
        "(d) => d.contains(document.activeElement) && getComputedStyle(d).opacity === '1'",
        arg=dialog.element_handle(),
    )
    return dialog


def test_the_agency_confirms_disabling_a_user_in_a_modal_or_on_a_page(
    served: Served, browser: Browser, cookies: dict[str, list[dict[str, Any]]]
) -> None:
    """With JavaScript, « Désactiver » opens its confirmation in a modal from the keyboard,
    which axe finds nothing wrong with, and Escape gives the focus back to the link; without
    JavaScript the same link is the confirmation page. Neither disables anyone (no POST)."""
    page = open_as(browser, cookies["agency"])
    page.goto(served.url + "/users")
    link = page.locator("a[href$='/disable']").first
    dialog = open_modal_with_the_keyboard(page, link)
    expect(dialog.locator(".fr-modal__title")).to_contain_text("Désactiver le compte de")
    assert page.url == served.url + "/users"  # the link was not followed
    assert violations(page) == []
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(link).to_be_focused()
    page.context.close()
    context = browser.new_context(java_script_enabled=False)
    context.add_cookies(cookies["agency"])  # type: ignore[arg-type]
    page = context.new_page()
    page.goto(served.url + "/users")
    page.locator("a[href$='/disable']").first.click()
    page.wait_for_url(re.compile(r".*/users/\d+/disable$"))
    expect(page.locator("h1")).to_contain_text("Désactiver le compte de")
    expect(page.locator("form.cp-confirm input[name=confirm]")).to_have_value("yes")
    context.close()


def test_a_partner_sends_a_quarterly_report_with_the_keyboard_alone(
    demo_site: Copilote, served: Served, browser: Browser
) -> None:
    links = partner_links(demo_site)
    page = open_as(browser, [])
    page.goto(served.url + links["report"])
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "a11y-report-form-1280.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(ARTIFACTS / "a11y-report-form-390.png"), full_page=True)
    page.set_viewport_size({"width": DESKTOP, "height": 900})
    # The first Tab reaches the skip links; "Contenu" goes straight to the form.
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("Contenu")
    # Refused first (nothing filled): the focus is on the error summary, whose links lead to
    # the inputs.
    tab_to(page, "button[type=submit]:not([name]):not(.default-submit)")
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    summary = page.locator("#errors")
    expect(summary).to_be_focused()
    targets = summary.locator("a").evaluate_all("as => as.map(a => a.hash.slice(1))")
    assert targets
    for target in targets:
        assert page.locator(f"[id='{target}']").evaluate(
            "e => e.matches('input, textarea, select')"
        ), target
    # Then the whole report: the title typed, "Oui" (the first choice) for every required
    # question, Space on a radio button choosing it.
    tab_to(page, "#a1_title")
    page.keyboard.type("Permanence d'accès aux droits")
    required = page.locator("fieldset.action legend", has_text="*").evaluate_all(
        "ls => ls.map(l => l.id.replace(/-legend$/, ''))"
    )
    assert required
    for name in required:
        tab_to(page, f"input[name='{name}']")
        page.keyboard.press("Space")
        expect(page.locator(f"input[name='{name}'][value=yes]")).to_be_checked()
    tab_to(page, "button[type=submit]:not([name]):not(.default-submit)")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/done$"))
    expect(page.locator("[role=status]")).to_contain_text("Votre bilan a été transmis")
    page.context.close()


def test_a_partner_answers_an_invitation_refused_then_with_the_keyboard(
    demo_site: Copilote, served: Served, browser: Browser
) -> None:
    links = partner_links(demo_site)
    page = open_as(browser, [])
    page.goto(served.url + links["invitation"])
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "a11y-invitation-1280.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(ARTIFACTS / "a11y-invitation-390.png"), full_page=True)
    page.set_viewport_size({"width": DESKTOP, "height": 900})
    tab_to(page, ".cp-answer form button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    expect(page.locator("#errors")).to_be_focused()
    expect(page.locator("#errors a")).to_have_attribute("href", "#answer")
    tab_to(page, "input[name=answer]")
    page.keyboard.press("Space")
    tab_to(page, ".cp-answer form button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/done$"))
    expect(page.locator("[role=status]")).to_contain_text("Oui")
    page.context.close()


def test_without_javascript_the_header_and_a_partner_form_work(
    demo_site: Copilote, served: Served, browser: Browser
) -> None:
    """The DSFR's JavaScript is an extra: without it, the skip links, the menu and the
    partner's answer still work (here the second choice of the invitation)."""
    links = partner_links(demo_site)
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(served.url + links["invitation"])
    expect(page.locator(".fr-skiplinks a[href='#contenu']")).to_have_count(1)
    expect(page.locator("footer a[href='/accessibilite']")).to_be_visible()
    page.locator("input[name=answer][value=no]").check()
    page.locator(".cp-answer form button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/done$"))
    expect(page.locator("[role=status]")).to_contain_text("Non")
    context.close()


def test_a_pilot_records_a_meeting_as_held_with_the_keyboard_alone(
    demo_site: Copilote,
    findings: Findings,
    served: Served,
    browser: Browser,
    cookies: dict[str, list[dict[str, Any]]],
) -> None:
    c = demo_site
    forms = [
        p.removeprefix("pilot ")
        for p in findings.pages
        if p.startswith("pilot ") and "/forms/meeting_held?meeting=" in p
    ]
    assert forms, "the pilot sees no meeting to record as held"
    project = re.match(r"/projects/(\d+)/", forms[0])
    meeting = forms[0].rsplit("=", 1)[1]
    assert project is not None
    page = open_as(browser, cookies["pilot"])
    page.goto(f"{served.url}/projects/{project.group(1)}")
    # The meetings sit in their own section, closed: Enter on its heading opens it.
    tab_to(page, "#plus-reunions > summary", limit=1500)
    page.keyboard.press("Enter")
    tab_to(page, f"a[href$='/forms/meeting_held?meeting={meeting}']", limit=1500)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/forms/meeting_held\?meeting=\d+$"))
    # A present partner ticked with Space, then back to it with Shift+Tab once past it.
    tab_to(page, "input[name=attendees]")
    ticked = page.evaluate("document.activeElement.checked")
    page.keyboard.press("Space")
    assert page.evaluate("document.activeElement.checked") is (not ticked)
    page.keyboard.press("Tab")
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.name") == "attendees"
    tab_to(page, "form.form-page button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/projects/\d+(#.*)?$"))
    expect(page.locator(".flash[role=status]")).to_have_text("Réunion enregistrée comme tenue.")
    with c.db.connect() as conn:
        status = conn.execute(
            sa.select(tables.meeting.c.status).where(tables.meeting.c.id == int(meeting))
        ).scalar_one()
    assert status == "held"
    page.context.close()


def test_sign_out_stays_on_a_phone_screen(
    served: Served, browser: Browser, cookies: dict[str, list[dict[str, Any]]]
) -> None:
    """At 390 px (and 320), the signed-in header keeps the navigation and the sign-out
    button on screen, without JavaScript's burger menu."""
    page = open_as(browser, cookies["pilot"], width=390)
    page.goto(served.url + "/projects")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "a11y-projects-390.png"))
    for width in PHONES:
        page.set_viewport_size({"width": width, "height": 800})
        for selector in ("button.cp-logout", "#navigation a[href='/projects']"):
            box = page.locator(selector).bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, (
                selector,
                width,
                box,
            )
    expect(page.locator("#navigation")).to_have_attribute("aria-label", "Menu principal")
    page.context.close()


def test_the_legal_pages_answer_without_signing_in_in_french_and_english(
    demo_site: Copilote,
) -> None:
    client = TestClient(demo_site.app(), base_url=BASE)
    home = client.get("/login").text
    for path in LEGAL:
        assert f'href="{path}"' in home
    statement = client.get("/accessibilite").text
    for heading in (
        "État de conformité",
        "partiellement conforme",
        "Contenus non accessibles",
        "Établissement de cette déclaration",
        "Environnement de test",
        f"axe-core {AXE_CORE_VERSION}",
        "Retour d'information et contact",
        "Voies de recours",
        "Défenseur des droits",
        "Agence régionale de santé Île-de-France",
    ):
        assert heading in statement, heading
    english = client.get("/accessibilite?lang=en").text
    assert "Compliance status" in english and "partially compliant" in english
    assert '<html lang="en"' in english and 'hreflang="fr" lang="fr">Français' in english
    data = client.get("/donnees-personnelles?lang=fr").text
    assert "aucun cookie de suivi" in data and "Gestion des cookies" not in data
    assert "Personal data" in client.get("/donnees-personnelles?lang=en").text
    notice = client.get("/mentions-legales?lang=fr").text
    assert "Mentions légales" in notice and "Etalab 2.0" in notice
    assert "Legal notice" in client.get("/mentions-legales?lang=en").text


def test_the_neutral_brand_drops_the_state_block(tmp_path: Path) -> None:
    """``COPILOTE_BRAND=neutral``: no Marianne block, no "République Française"; the agency's
    name (``COPILOTE_AGENCY_NAME``) in the header either way."""
    pages = {}
    for brand in ("state", "neutral"):
        settings = Settings(
            database_url=f"sqlite:///{tmp_path / brand}.db",
            definitions_dir=ROOT / "definitions",
            scheduler=False,
            secret_key="brand-secret",
            agency_name="Mairie de Pantin",
            brand=brand,
        )
        c = Copilote(settings, FixedClock(paris(2026, 11, 23, 9, 0)), RecordingMailer())
        pages[brand] = TestClient(c.app()).get("/login").text
        c.db.dispose()
    assert "République<br>Française" in pages["state"]
    assert "République" not in pages["neutral"] and "fr-logo" not in pages["neutral"]
    for page in pages.values():
        assert '<p class="fr-header__service-tagline">Mairie de Pantin</p>' in page
