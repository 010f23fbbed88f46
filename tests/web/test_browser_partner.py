"""Issue 12, partner pages and error pages in Debian's Chromium: the invitation a partner
opens from the email (weekday, pilot, « ajouter à mon agenda »), an error page in French,
and an expired link that sends a fresh one. Screenshot: ``tests/artifacts/invitation.png``."""

from __future__ import annotations

import re
from datetime import date, datetime

from playwright.sync_api import expect

from tests.web import test_browser as base
from tests.web.test_browser import (
    AGENCY,
    ARTIFACTS,
    PARIS,
    PARTNER,
    PASSWORD,
    PILOT,
    LiveService,
)
from workflow.engine import NewProject, PartnerIn

# The served application and Chromium of the dashboard's browser test, shared.
live = base.live
browser = base.browser


def test_a_partner_opens_an_invitation_then_an_expired_link_in_a_real_browser(
    live: LiveService, browser: object
) -> None:
    c = live.c
    c.accounts.create_user(AGENCY, PASSWORD, role="agency", name="ARS Île-de-France")
    pid = c.engine.create_project(
        NewProject(
            definition_id="cooperative",
            title="Coopérative Paris 18e",
            start_date=date(2026, 5, 4),
            territory="Paris",
            pilot=PartnerIn("DD 75", PILOT, "Pia Pilote", ("pilot", "copil")),
        )
    )
    c.records.add_partner(pid, PartnerIn("ARS Île-de-France", AGENCY, "Agnès", ("agency",)))
    c.records.add_partner(
        pid, PartnerIn("Association Alpha", PARTNER, "Alice", ("partner", "copil"))
    )
    c.records.schedule_meeting(
        pid, "copil", datetime(2026, 9, 10, 14, 30, tzinfo=PARIS), location="Mairie du 18e"
    )
    live.tick(datetime(2026, 5, 4, 10, 0, tzinfo=PARIS))
    [invitation] = [t for t in live.mails_to(PARTNER) if "/answer/" in t]
    found = re.search(r"(http://\S+/answer/\S+)", invitation)
    assert found is not None
    link = found.group(1)

    context = browser.new_context(accept_downloads=True)  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto(link)
    facts = page.locator(".facts").inner_text()
    assert "jeudi 10 septembre 2026 à 14 h 30" in facts
    assert "Pia Pilote" in facts and PILOT in facts and "ARS Île-de-France" in facts
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "invitation.png"), full_page=True)
    with page.expect_download() as download:
        page.click("text=Ajouter à mon agenda")
    saved = download.value.path()
    assert saved is not None and b"BEGIN:VEVENT" in saved.read_bytes()
    page.check("input[name=answer][value=yes]")
    page.fill("#comment", "Nous viendrons à deux")
    page.click("button:has-text('Envoyer ma réponse')")
    page.wait_for_url(re.compile(r".*/done$"))
    expect(page.locator("[role=status]")).to_contain_text("Oui")

    # An address that does not exist: a French page, not JSON.
    page.goto(f"{live.url}/nowhere")
    expect(page.locator("h1")).to_have_text("Page introuvable")
    assert "detail" not in page.content()

    # Two weeks after the meeting the link is over; a new one can be asked for.
    live.clock.set(datetime(2026, 10, 1, 9, 0, tzinfo=PARIS))
    page.goto(link)
    expect(page.locator("h1")).to_have_text("Lien expiré")
    assert PILOT in page.locator("section").inner_text()
    page.click("button:has-text('Recevoir un nouveau lien')")
    expect(page.locator("[role=status]")).to_contain_text("Un nouveau lien vient d'être envoyé")
    live.tick(datetime(2026, 10, 1, 9, 1, tzinfo=PARIS))
    fresh = [t for t in live.mails_to(PARTNER) if "nouveau lien" in t]
    assert len(fresh) == 1
    again = re.search(r"(http://\S+/answer/\S+)", fresh[0])
    assert again is not None
    page.goto(again.group(1))
    expect(page.locator("h1")).to_contain_text("Invitation")
    context.close()
