"""The dashboard's charts in a real browser (Chromium), scripts off, on a 390 px wide screen:
each chart fits the width, its data table opens from « Voir les données » without any
script, and « Exporter (CSV) » downloads the filtered portfolio. A screenshot is kept in
``tests/artifacts/dashboard_charts_390.png``, the whole page in ``dashboard_390.png``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.smtp_support import SmtpServer
from tests.web.test_browser import ARTIFACTS, CHROMIUM, PASSWORD, LiveService, at, require_chromium
from workflow.budget import Budget
from workflow.engine import NewProject, PartnerIn

AGENCY = "agence@ars.example"


@pytest.fixture
def site(tmp_path: Path, smtp_server: SmtpServer) -> Iterator[LiveService]:
    require_chromium()
    service = LiveService(f"sqlite:///{tmp_path / 'copilote.db'}", smtp_server)
    service.start()
    yield service
    service.stop()


def test_the_charts_fit_a_phone_and_work_without_scripts(site: LiveService) -> None:
    c = site.c
    c.accounts.create_user(AGENCY, PASSWORD, role="agency", name="ARS")
    for n, territory in enumerate(("Paris", "Essonne")):
        pid = c.engine.create_project(
            NewProject(
                definition_id="cooperative",
                title=f"Coopérative {territory}",
                start_date=date(2026, 5, 4),
                territory=territory,
                pilot=PartnerIn(f"DD {n}", f"p{n}@dd.example", "Pia", ("pilot", "copil")),
            )
        )
        c.records.meeting_held(pid, series="copil")
        Budget(c.engine).set_budget_line(
            pid,
            None,
            year=2026,
            label="Animation",
            planned_cents=7_692_337,
            spent_cents=10_000,
            by="Pia",
        )
    site.tick(at(date(2026, 7, 6)))  # the due work counts what is late that day
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM))
        context = chromium.new_context(
            viewport={"width": 390, "height": 844}, java_script_enabled=False, accept_downloads=True
        )
        page: Any = context.new_page()
        page.goto(f"{site.url}/login")
        page.fill("input[name=email]", AGENCY)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{site.url}/dashboard")
        charts = page.locator("svg.chart")
        expect(charts).to_have_count(4)
        for n in range(4):
            box = charts.nth(n).bounding_box()
            assert box is not None and 300 < box["width"] <= 390
        budget = page.locator("#graphique-budget")
        assert "153\u202f846,74" in budget.text_content()  # 2 x 76 923,37 €
        table = page.locator("figure", has=budget).locator("table")
        expect(table).to_be_hidden()
        page.locator("figure", has=budget).locator("summary").click()
        expect(table).to_be_visible()
        expect(table.locator("caption")).to_contain_text("Budget 2026")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.locator("#graphiques").screenshot(path=str(ARTIFACTS / "dashboard_charts_390.png"))
        page.screenshot(path=str(ARTIFACTS / "dashboard_390.png"), full_page=True)

        page.goto(f"{site.url}/dashboard?territory=Paris")
        with page.expect_download() as download:
            page.click("text=Exporter (CSV)")
        saved = Path(download.value.path())
        lines = saved.read_bytes().decode("utf-8-sig").splitlines()
        assert len(lines) == 2 and ";Coopérative Paris;" in lines[1]
        context.close()
        chromium.close()
