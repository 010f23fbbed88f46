"""The budget's forms of the plan d'actions page run through ``web/forms.py`` like every form of
a project: a co-funder's share (Unapei's FSE at 49 %) and a budget line, with CSRF, errors
beside the fields and in a summary, one idempotency token per render, a confirmation banner
on the plan page; every change in the history with its author, worded (labels, not keys)."""

from __future__ import annotations

import html
import re

import sqlalchemy as sa
from fastapi.testclient import TestClient

from tests.web.conftest import PILOT_A, PILOT_B, Site, csrf_of
from workflow import tables


def _text(page: str) -> str:
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", page).split())).replace("\u202f", " ")


def _open(client: TestClient, pid: int, name: str, query: str) -> tuple[str, dict[str, str]]:
    page = client.get(f"/projects/{pid}/forms/{name}{query}")
    assert page.status_code == 200, page.text
    token = re.search(r'name="form_token" value="([^"]+)"', page.text)
    assert token
    return page.text, {"csrf_token": csrf_of(page.text), "form_token": token.group(1)}


def _history(site: Site, pid: int) -> list[tuple[str, str, str]]:
    with site.c.db.connect() as conn:
        return [
            (r.trigger, r.actor, r.comment or "")
            for r in conn.execute(
                sa.select(tables.history)
                .where(tables.history.c.project_id == pid, tables.history.c.trigger != "create")
                .order_by(tables.history.c.id)
            )
        ]


def test_a_co_funders_share_is_entered_once_checked_and_written_in_the_history(
    site: Site,
) -> None:
    pid = site.project_a
    pilot = site.client(PILOT_A)
    plan = pilot.get(f"/projects/{pid}/plan?year=2026").text
    assert f"/projects/{pid}/forms/funding_share?year=2026" in plan
    assert "Aucun cofinanceur saisi pour cette année." in plan

    form, tokens = _open(pilot, pid, "funding_share", "?year=2026")
    assert 'value="2026"' in form and "Part du budget de l'année (%)" in html.unescape(form)
    # Out of bounds: said beside the field and in the summary, which takes the focus.
    refused = pilot.post(
        f"/projects/{pid}/forms/funding_share",
        data={**tokens, "year": "2026", "funder": "FSE", "share": "150"},
    )
    assert refused.status_code == 422
    assert 'id="e-share"' in refused.text and 'href="#f-share"' in refused.text
    assert "un pourcentage entre 0 et 100" in refused.text and "autofocus" in refused.text
    assert _history(site, pid) == []

    _, tokens = _open(pilot, pid, "funding_share", "?year=2026")
    sent = {**tokens, "year": "2026", "funder": "FSE", "share": "49"}
    done = pilot.post(f"/projects/{pid}/forms/funding_share", data=sent, follow_redirects=False)
    assert done.status_code == 303
    assert done.headers["location"] == f"/projects/{pid}/plan?year=2026#cofinancement"
    again = pilot.post(f"/projects/{pid}/forms/funding_share", data=sent)  # a double click
    assert "il n'a pas été répété" in html.unescape(again.text)
    shown = _text(pilot.get(f"/projects/{pid}/plan?year=2026").text)
    assert "FSE 49 %" in shown
    english = _text(pilot.get(f"/projects/{pid}/plan?year=2026&lang=en").text)
    assert "Co-financing 2026" in english and "FSE 49%" in english
    pilot.get(f"/projects/{pid}/plan?lang=fr")  # back to French (the language is remembered)

    # The shares of a year stay within 100 %: the rule's refusal beside the field.
    _, tokens = _open(pilot, pid, "funding_share", "?year=2026")
    over = pilot.post(
        f"/projects/{pid}/forms/funding_share",
        data={**tokens, "year": "2026", "funder": "Région", "share": "60"},
    )
    assert over.status_code == 422 and 'id="e-share"' in over.text
    assert "dépasse 100 % pour 2026" in html.unescape(
        over.text
    ) or "dépasse 100 % pour 2026" in html.unescape(over.text)
    bad_year = pilot.post(
        f"/projects/{pid}/forms/funding_share",
        data={**tokens, "year": "1850", "funder": "Région", "share": "10"},
    )
    assert bad_year.status_code == 422 and 'id="e-year"' in bad_year.text

    # Pre-filled to change it; 0 removes the co-funder.
    form, tokens = _open(pilot, pid, "funding_share", "?year=2026&funder=FSE")
    assert 'value="49"' in form
    pilot.post(
        f"/projects/{pid}/forms/funding_share",
        data={**tokens, "year": "2026", "funder": "FSE", "share": "0"},
    )
    assert "Aucun cofinanceur" in pilot.get(f"/projects/{pid}/plan?year=2026").text

    assert _history(site, pid) == [
        ("funding_share_set", "Pia", "FSE (2026) : 49 %"),
        ("funding_share_removed", "Pia", "FSE (2026)"),
    ]
    project = _text(pilot.get(f"/projects/{pid}").text)
    assert "Part de cofinancement enregistrée" in project
    assert "Part de cofinancement retirée" in project and "funding_share" not in project
    assert site.client(PILOT_B).get(f"/projects/{pid}/forms/funding_share").status_code == 403


def test_a_budget_line_is_added_and_corrected_through_its_form(site: Site) -> None:
    pid = site.project_a
    pilot = site.client(PILOT_A)
    _, tokens = _open(pilot, pid, "budget_line", "?year=2026")
    unnamed = pilot.post(  # the rule's refusal (workflow.budget), beside its field
        f"/projects/{pid}/forms/budget_line", data={**tokens, "year": "2026", "planned": "5"}
    )
    assert unnamed.status_code == 422 and 'id="e-label"' in unnamed.text
    assert "ce champ est obligatoire" in html.unescape(unnamed.text)
    added = pilot.post(
        f"/projects/{pid}/forms/budget_line",
        data={**tokens, "year": "2026", "label": "Salaires", "planned": "31 419,35",
              "spent": "12 290,15", "forecast": "15 036,26", "comment": ""},
        follow_redirects=False,
    )  # fmt: skip
    assert added.status_code == 303
    assert added.headers["location"] == f"/projects/{pid}/plan?year=2026#budget"
    with site.c.db.connect() as conn:
        line = conn.execute(
            sa.select(tables.budget_line.c.id).where(tables.budget_line.c.project_id == pid)
        ).scalar_one()
    form, tokens = _open(pilot, pid, "budget_line", f"?year=2026&line={line}")
    assert 'value="31419,35"' in form and 'value="Salaires"' in form
    no_label = pilot.post(
        f"/projects/{pid}/forms/budget_line",
        data={**tokens, "line": str(line), "year": "2026", "label": "", "planned": "-3"},
    )
    assert no_label.status_code == 422 and 'id="e-planned"' in no_label.text
    _, tokens = _open(pilot, pid, "budget_line", f"?year=2026&line={line}")
    fixed = pilot.post(
        f"/projects/{pid}/forms/budget_line",
        data={**tokens, "line": str(line), "year": "2026", "label": "Salaires",
              "planned": "31 419,35", "spent": "13 168,15", "forecast": "15 036,26",
              "comment": "coordinatrices (+878 €)"},
    )  # fmt: skip
    assert fixed.status_code == 200
    shown = _text(fixed.text)
    assert "Ligne de budget modifiée." in shown and "13 168,15 €" in shown
    assert "coordinatrices (+878 €)" in shown
    assert [t for t, _, _ in _history(site, pid)] == ["budget_line_added", "budget_line_changed"]
