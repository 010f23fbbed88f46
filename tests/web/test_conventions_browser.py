"""The conventions page in a real Chromium: the pilot records a convention with two parties
either side of 23,000 EUR, both sign, and the page shows it in force with each party's
instrument; a wrong amount comes back with its French error. Leaves a screenshot in
tests/artifacts/conventions.png."""

from __future__ import annotations

from datetime import date
from typing import Any

from playwright.sync_api import expect

from tests.web.test_browser import (  # noqa: F401  (fixtures)
    ARTIFACTS,
    PASSWORD,
    LiveService,
    browser,
    live,
    sign_in,
)
from workflow.engine import NewProject, PartnerIn

PILOT = "pilote@dd93.example"


def test_a_pilot_records_and_signs_a_convention_in_a_real_browser(
    live: LiveService,  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    c = live.c
    c.accounts.create_user(PILOT, PASSWORD, role="pilot", name="Pia Pilote")
    pid = c.engine.create_project(
        NewProject(
            definition_id="cooperative",
            title="Coopérative Bondy",
            start_date=date(2026, 5, 4),
            pilot=PartnerIn("DD 93", PILOT, "Pia Pilote", ("pilot", "copil")),
        )
    )
    asso = c.records.add_partner(pid, PartnerIn("Asso Santé", "asso@asso.fr", "Ana"))
    cms = c.records.add_partner(pid, PartnerIn("CMS Bondy", "cms@bondy.fr", "Célia"))

    page = browser.new_context().new_page()
    sign_in(page, live, PILOT)
    page.goto(f"{live.url}/projects/{pid}")
    page.click("#conventions a")
    page.wait_for_url(f"{live.url}/projects/{pid}/conventions")
    create = page.locator("form[action$='/conventions']")
    create.locator(f"input[name=party][value='{asso}']").check()
    create.locator(f"input[name=amount_{asso}]").fill("-3")
    create.locator("button[type=submit]").click()
    expect(page.locator("[role=alert]").first).to_contain_text("positif ou nul")
    create = page.locator("form[action$='/conventions']")
    create.locator(f"input[name=party][value='{asso}']").check()
    create.locator(f"input[name=party][value='{cms}']").check()
    create.locator(f"input[name=amount_{asso}]").fill("22 999")
    create.locator(f"input[name=amount_{cms}]").fill("23 000,00")
    create.locator("button[type=submit]").click()
    expect(page.locator("[role=status]")).to_contain_text("Convention enregistrée")
    for _ in (asso, cms):
        page.locator("form[action$='/conventions/sign'] button[type=submit]").click()
        expect(page.locator("[role=status]")).to_contain_text("Signature enregistrée")
    article = page.locator("article.convention")
    expect(article).to_contain_text("en vigueur")
    rows = article.locator("tbody tr").all_inner_texts()
    assert (
        "Asso Santé" in rows[0]
        and "décision attributive" in rows[0]
        and "22\u202f999,00\xa0€" in rows[0]
    )
    assert "CMS Bondy" in rows[1] and "convention" in rows[1] and "23\u202f000,00\xa0€" in rows[1]
    assert "04/05/2026" in article.inner_text() and "04/05/2027" in article.inner_text()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "conventions.png"), full_page=True)
