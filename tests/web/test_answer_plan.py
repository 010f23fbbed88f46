"""Issue 13, on SQLite and PostgreSQL: with fiches-actions, a partner's quarterly report lists
that partner's own actions and the indicators of those actions for the year, pre-filled with the previous quarter's
answers; the values are recorded per action and indicator and added up in the CPOM report."""

from __future__ import annotations

import html
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from tests.smtp_support import SmtpServer
from tests.web.conftest import Site, csrf_of
from tests.web.test_answer import add_partners, good_answers, link_path, to_implementation
from workflow.plan import ActionIn
from workflow.read_models.annual import annual_report


@pytest.fixture
def any_site(db_url: str, smtp_server: SmtpServer, tmp_path: Path) -> Iterator[Site]:
    s = Site(db_url, smtp_server)
    yield s
    s.c.db.dispose()


def test_a_partner_reports_on_their_own_actions_and_indicators(any_site: Site) -> None:
    site = any_site
    alpha, beta = add_partners(site)
    to_implementation(site)
    pid, records = site.project_a, site.c.records
    records.plan.set_action(pid, "parentalite", ActionIn(objective="acces_sante",
                            label="Ateliers parentalité", partner_id=alpha), by="Claire (DD 93)")  # fmt: skip
    records.plan.set_action(pid, "permanence", ActionIn(objective="acces_sante",
                            label="Permanence santé", partner_id=beta), by="Claire (DD 93)")  # fmt: skip
    records.set_indicator(pid, "familles", label="Familles accueillies", kind="activity",
                          action="parentalite", year=2026, planned=30, by="Claire (DD 93)")  # fmt: skip
    records.set_indicator(pid, "familles_2025", label="Familles 2025", kind="activity",
                          action="parentalite", year=2025, planned=10, by="Claire (DD 93)")  # fmt: skip
    records.set_indicator(pid, "passages", label="Passages", kind="activity",
                          action="permanence", year=2026, planned=100, by="Claire (DD 93)")  # fmt: skip
    partner = site.client()
    q1 = link_path(site, "report", pid, alpha, "bilan_trimestriel:2026-Q1")
    page = html.unescape(partner.get(q1).text)
    assert 'value="Ateliers parentalité" maxlength="300" aria-required="true" readonly' in page
    assert 'name="a1_key" value="parentalite"' in page
    assert "Familles accueillies" in page
    assert "Permanence santé" not in page and "Passages" not in page  # Beta's
    assert "Familles 2025" not in page  # another year's
    answers = good_answers(csrf_of(page), title="Ateliers parentalité")
    answers.update({"a1_key": "parentalite", "ind_familles": "12"})
    del answers["ind_beneficiaires"], answers["ind_ateliers"]
    assert partner.post(q1, data=answers, follow_redirects=False).status_code == 303

    q2 = link_path(site, "report", pid, alpha, "bilan_trimestriel:2026-Q2")
    again = html.unescape(partner.get(q2).text)  # pre-filled with Q1's answers
    assert "Peu de pères présents aux ateliers</textarea>" in again
    assert 'name="ind_familles" value="12"' in again
    answers["ind_familles"] = "9"
    assert partner.post(q2, data=answers, follow_redirects=False).status_code == 303

    # Consolidated per period: the quarters of the year are added up, as of the date.
    report = annual_report(site.c.engine, pid, 2026, date(2026, 6, 30))
    (section,) = report.objectives
    action = next(a for a in section.actions if a.key == "parentalite")
    (familles,) = action.indicators
    assert (familles.planned, familles.realised) == (30, 21)
    assert (
        annual_report(site.c.engine, pid, 2026, date(2026, 3, 31))
        .objectives[0]
        .actions[1]
        .indicators[0]
        .realised
        == 12
    )
