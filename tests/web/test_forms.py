"""The forms of the pages (issue 12): one mechanism (CSRF, checked fields, a summary that takes
the focus, one idempotency token per render, a confirmation banner), the bounds declared once
for the forms and the API, refusals that link to the form fulfilling them, dangerous steps
behind a confirmation. The browser drives every form in ``test_forms_browser.py``."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from tests.smtp_support import SmtpServer
from tests.web.conftest import PILOT_A, PILOT_B, Site, csrf_of
from web.bounds import MAX_LENGTH
from workflow import tables
from workflow.engine import PartnerIn
from workflow.errors import DefinitionError
from workflow.loader import load_definition

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def any_site(db_url: str, smtp_server: SmtpServer) -> Iterator[Site]:
    """The site on SQLite and on PostgreSQL."""
    s = Site(db_url, smtp_server)
    yield s
    s.c.db.dispose()


def text(page: str) -> str:
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", page).split()))


def token_of(page: str) -> str:
    found = re.search(r'name="form_token" value="([^"]+)"', page)
    assert found, "no form token on the page"
    return found.group(1)


def open_form(client: TestClient, pid: int, name: str, query: str = "") -> dict[str, str]:
    page = client.get(f"/projects/{pid}/forms/{name}{query}")
    assert page.status_code == 200, page.text
    return {"csrf_token": csrf_of(page.text), "form_token": token_of(page.text)}


def count(site: Site, table: sa.Table, pid: int) -> int:
    with site.c.db.connect() as conn:
        return int(
            conn.execute(
                sa.select(sa.func.count()).select_from(table).where(table.c.project_id == pid)
            ).scalar_one()
        )


def field_errors(page: str) -> dict[str, str]:
    return {
        name: html.unescape(message)
        for name, message in re.findall(
            r'<p class="fr-error-text field-error" id="e-([a-z_]+)">([^<]*)</p>', page
        )
    }


def test_a_form_sent_twice_acts_once_and_shows_the_first_outcome(any_site: Site) -> None:
    site, pid = any_site, any_site.project_a
    site.c.records.add_partner(pid, PartnerIn("Association Alpha", "alpha@asso.example"))
    pilot = site.client(PILOT_A)
    sent = {
        **open_form(pilot, pid, "meeting_schedule"),
        "series": "copil",
        "starts_at": "2026-06-12T14:00",
        "location": "Mairie du 18e",
    }
    invitations_before = count(site, tables.outbox, pid)
    first = pilot.post(f"/projects/{pid}/forms/meeting_schedule", data=sent, follow_redirects=False)
    again = pilot.post(f"/projects/{pid}/forms/meeting_schedule", data=sent, follow_redirects=False)
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"] == f"/projects/{pid}#reunions"
    page = pilot.get(again.headers["location"]).text
    banner = text(re.search(r'<div class="fr-alert[^"]* flash".*?</div>', page, re.S).group(0))  # type: ignore[union-attr]
    assert banner == (
        "Réunion planifiée : les invitations partent. (déjà enregistré : ce formulaire a été "
        "envoyé deux fois, il n'a pas été répété)"
    )
    with site.c.db.connect() as conn:
        copils = conn.execute(
            sa.select(tables.meeting.c.label).where(
                tables.meeting.c.project_id == pid, tables.meeting.c.status == "planned"
            )
        ).all()
    assert len(copils) == 1
    invitations = count(site, tables.outbox, pid) - invitations_before
    # the banner is shown once: the next page has none
    assert not re.search(r'class="[^"]*\bflash\b', pilot.get(f"/projects/{pid}").text)

    # Two clicks 30 ms apart: the two POSTs of one token race; one meeting, one invitation each.
    sent = {**open_form(pilot, pid, "meeting_schedule"), **sent}
    sent["form_token"] = token_of(pilot.get(f"/projects/{pid}/forms/meeting_schedule").text)
    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(
            pool.map(
                lambda _: (
                    pilot.post(
                        f"/projects/{pid}/forms/meeting_schedule", data=sent, follow_redirects=False
                    ).status_code
                ),
                range(2),
            )
        )
    assert answers == [303, 303]
    with site.c.db.connect() as conn:
        planned = conn.execute(
            sa.select(sa.func.count()).where(
                tables.meeting.c.project_id == pid, tables.meeting.c.status == "planned"
            )
        ).scalar_one()
    assert planned == 2
    assert count(site, tables.outbox, pid) - invitations_before == 2 * invitations


def test_an_empty_required_field_is_named_in_french_beside_it_and_in_a_focused_summary(
    site: Site,
) -> None:
    pid = site.project_a
    pilot = site.client(PILOT_A)
    sent = {**open_form(pilot, pid, "budget_add"), "label": "", "planned": "douze"}
    refused = pilot.post(f"/projects/{pid}/forms/budget_add", data=sent)
    assert refused.status_code == 422
    assert field_errors(refused.text) == {
        "label": "à remplir",
        "planned": "« douze » n'est pas un nombre",
    }
    summary = re.search(
        r'<div class="fr-alert fr-alert--error fr-mb-3w error-summary"[^>]*>', refused.text
    )
    assert summary is not None and "autofocus" in summary.group(0)
    assert 'role="alert"' in summary.group(0)
    assert '<a href="#f-label">Ligne : à remplir</a>' in refused.text
    assert 'id="f-planned" name="planned"' in refused.text and 'value="douze"' in refused.text
    assert count(site, tables.budget_line, pid) == 0
    # The same in English.
    english = pilot.post(f"/projects/{pid}/forms/budget_add?lang=en", data=sent)
    assert field_errors(english.text)["label"] == "required"
    # Corrected with a fresh token: recorded, and the amount is read the French way.
    fixed = {
        **open_form(pilot, pid, "budget_add"),
        "label": "Animation",
        "planned": "1 234,50",
        "spent": "",
        "forecast": "",
    }
    done = pilot.post(f"/projects/{pid}/forms/budget_add", data=fixed, follow_redirects=False)
    assert done.status_code == 303
    with site.c.db.connect() as conn:
        line = conn.execute(sa.select(tables.budget_line)).one()
    assert (line.label, line.planned_cents, line.spent_cents) == ("Animation", 123450, 0)


LONG_FIELDS = [
    ("meeting_schedule", "location", {"series": "copil", "starts_at": "2026-06-12T14:00"}),
    ("meeting_held", "minutes_ref", {"meeting": "series:copil", "held_on": "2026-05-04"}),
    ("milestone_reopen", "comment", {"milestone": "gouvernance"}),
    ("meeting_cancel", "reason", {}),
]


def test_a_10000_character_field_is_refused_naming_the_field(site: Site) -> None:
    pid = site.project_a
    pilot = site.client(PILOT_A)
    meetings = count(site, tables.meeting, pid)
    for form, field, values in LONG_FIELDS:
        sent = {**open_form(pilot, pid, form), **values, field: "x" * 10_000}
        refused = pilot.post(f"/projects/{pid}/forms/{form}", data=sent)
        assert refused.status_code == 422, form
        limit = MAX_LENGTH[field]
        assert field_errors(refused.text)[field] == (
            f"{limit} caractères au plus (vous en avez saisi 10000)"
        ), form
        assert f'maxlength="{limit}"' in refused.text
    assert count(site, tables.meeting, pid) == meetings


def test_the_api_applies_the_same_lengths(site: Site) -> None:
    api = site.client(PILOT_A)
    base = f"/api/projects/{site.project_a}"
    cases = [
        ("meetings", {"series": "copil", "starts_at": "2026-06-12T14:00:00+02:00"}, "location"),
        ("meetings/held", {"series": "copil"}, "minutes_ref"),
        ("milestones/gouvernance/done", {}, "comment"),
        ("advance", {"trigger": "suspend"}, "comment"),
    ]
    for path, body, field in cases:
        refused = api.post(f"{base}/{path}", json={**body, field: "x" * 10_000})
        assert refused.status_code == 422, (path, refused.text)
        assert field in str(refused.json()), (path, refused.json())
        fits = api.post(f"{base}/{path}", json={**body, field: "x" * MAX_LENGTH[field]})
        assert fits.status_code != 422 or field not in str(fits.json()), (path, fits.json())


def test_a_refused_step_links_each_unmet_condition_to_the_form_that_meets_it(site: Site) -> None:
    pid = site.project_a
    pilot = site.client(PILOT_A)
    page = pilot.get(f"/projects/{pid}").text
    refused = pilot.post(
        f"/projects/{pid}/advance",
        data={
            "csrf_token": csrf_of(page),
            "form_token": token_of(page),
            "trigger": "start_diagnostic",
        },
    )
    assert refused.status_code == 409
    fixes = re.search(r'<div class="fixes">.*?</div>', refused.text, re.S)
    assert fixes is not None
    links = re.findall(r'<a href="([^"]+)" class="fix-link">([^<]+)</a>', fixes.group(0))
    assert [(url, html.unescape(words)) for url, words in links] == [
        (
            f"/projects/{pid}/forms/meeting_held?occurrence=reunion_lancement",
            "tenir la réunion « Première réunion collective (lancement de la coopérative) » "
            "puis l'enregistrer comme tenue",
        ),
        (
            f"/projects/{pid}/forms/milestone_done?milestone=gouvernance",
            "enregistrer « Mise en place des instances de gouvernance » comme fait",
        ),
        (
            f"/projects/{pid}/forms/milestone_done?milestone=orientations_validees",
            "enregistrer « Validation des orientations – communication » comme fait",
        ),
    ]
    # Each link opens its form with the condition's subject chosen.
    milestone = pilot.get(links[1][0]).text
    assert '<option value="gouvernance" selected>' in milestone
    held = pilot.get(links[0][0]).text
    chosen = re.search(r'<option value="(\d+)" selected>([^<]+)</option>', held)
    assert chosen is not None and chosen.group(2).startswith("Première réunion collective")


def test_the_decision_a_step_waits_for_is_recorded_by_its_label(site: Site) -> None:
    from tests.web.test_browser import to_implementation

    pid = site.project_a
    site.c.records.add_partner(pid, PartnerIn("Association Alpha", "alpha@asso.example"))
    site.c.records.milestone_done(pid, "gouvernance", by="Pia")
    site.c.records.milestone_done(pid, "orientations_validees", by="Pia")
    site.c.records.meeting_held(pid, occurrence="reunion_lancement")
    site.c.engine.advance(pid, "start_diagnostic", actor="Pia")
    to_implementation(site, pid)  # type: ignore[arg-type]
    pilot = site.client(PILOT_A)
    page = pilot.get(f"/projects/{pid}").text
    link = f"/projects/{pid}/forms/decision?key=evaluation_finale_decidee"
    assert f'href="{link}"' in page
    assert "evaluation_finale_decidee</" not in page and "« evaluation_finale_decidee »" not in page
    form = pilot.get(link).text
    assert (
        '<option value="evaluation_finale_decidee" selected>'
        "Décision de lancer l&#39;évaluation finale</option>"
    ) in form
    sent = {
        "csrf_token": csrf_of(form),
        "form_token": token_of(form),
        "key": "evaluation_finale_decidee",
        "text": "Décidé en COPIL",
        "on": "",
    }
    assert pilot.post(link, data=sent, follow_redirects=False).status_code == 303
    with site.c.db.connect() as conn:
        decision = conn.execute(sa.select(tables.decision)).one()
    assert decision.label == "Décision de lancer l'évaluation finale"
    assert decision.decided_by == "Pia"
    # A date in the future is refused beside the field.
    form = pilot.get(link).text
    future = {**sent, "form_token": token_of(form), "on": "2027-01-01"}
    refused = pilot.post(link, data=future)
    assert field_errors(refused.text) == {"on": "la date ne peut pas être dans le futur"}


def test_abandon_suspend_and_steps_back_come_last_behind_a_confirmation(site: Site) -> None:
    pid = site.project_a
    pilot = site.client(PILOT_A)
    page = pilot.get(f"/projects/{pid}").text
    steps = re.search(r'<section id="avancement".*?</section>', page, re.S).group(0)  # type: ignore[union-attr]
    forward = steps.index("Lancer le diagnostic local de santé")
    risky = re.search(r'<div class="dangerous-steps">.*?</ul>', steps, re.S)
    assert risky is not None and risky.start() > forward
    # Each link keeps its confirmation page (without JavaScript) and opens its modal (with it).
    link = r'<a class="danger" href="([^"]+)" aria-controls="([^"]+)" data-fr-opened="false">'
    assert re.findall(link + r"([^<]+)</a>", risky.group(0)) == [
        (f"/projects/{pid}/forms/step?trigger=suspend", "confirmer-suspend", "Suspendre le projet"),
        (
            f"/projects/{pid}/forms/step?trigger=abandon",
            "confirmer-abandon",
            "Abandonner le projet",
        ),
    ]
    # The modal holds the confirmation page's form: the same POST, its trigger preselected.
    modal = re.search(r'<dialog id="confirmer-abandon".*?</dialog>', steps, re.S)
    assert modal is not None and 'aria-labelledby="confirmer-abandon-titre"' in modal.group(0)
    assert f'action="/projects/{pid}/forms/step"' in modal.group(0)
    for field in ('name="trigger" value="abandon"', 'name="comment"', 'name="confirm"'):
        assert field in modal.group(0), field
    assert "Confirmer l'étape : Abandonner le projet" in html.unescape(modal.group(0))
    # no one-click button for it: outside its modal (which asks the comment and the tick), the
    # page never sends "abandon"
    outside = re.sub(r"<dialog .*?</dialog>", "", steps, flags=re.S)
    assert 'value="abandon"' not in outside
    english = site.client(PILOT_A).get(f"/projects/{pid}?lang=en").text
    assert ">Start the local health diagnosis</button>" in english
    url = f"/projects/{pid}/forms/step?trigger=abandon"
    form = pilot.get(url).text
    assert 'class="box form-page danger"' in form
    sent = {"csrf_token": csrf_of(form), "form_token": token_of(form), "trigger": "abandon"}
    refused = pilot.post(url, data={**sent, "comment": ""})
    assert field_errors(refused.text) == {
        "comment": "à remplir",
        "confirm": "cochez au moins une case",
    }
    with site.c.db.connect() as conn:
        assert (
            conn.execute(
                sa.select(tables.project.c.phase).where(tables.project.c.id == pid)
            ).scalar_one()
            == "prefiguration"
        )
    done = pilot.post(
        url,
        data={**sent, "comment": "Fin du financement", "confirm": "yes"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    with site.c.db.connect() as conn:
        assert (
            conn.execute(
                sa.select(tables.project.c.phase).where(tables.project.c.id == pid)
            ).scalar_one()
            == "abandonne"
        )


def test_attendance_is_pre_filled_from_the_invitation_answers(site: Site) -> None:
    pid = site.project_a
    records = site.c.records
    alpha = records.add_partner(pid, PartnerIn("Association Alpha", "a@asso.example", "Alice"))
    beta = records.add_partner(pid, PartnerIn("Centre Beta", "b@asso.example", "Bruno"))
    meeting = records.schedule_meeting(pid, "copil", datetime(2026, 5, 20, 12, tzinfo=UTC))
    with site.c.db.begin() as conn:
        for partner, answer in ((alpha, "yes"), (beta, "no")):
            conn.execute(
                sa.insert(tables.attendance).values(
                    meeting_id=meeting,
                    partner_id=partner,
                    answer=answer,
                    answered_at=site.clock.now(),
                )
            )
    pilot = site.client(PILOT_A)
    page = pilot.get(f"/projects/{pid}").text
    link = f"/projects/{pid}/forms/meeting_held?meeting={meeting}"
    assert f'href="{link}"' in page
    form = pilot.get(link).text
    checked = re.findall(
        r'value="(\d+)" checked>\s*<label class="fr-label check" for="[^"]+">([^<]+)</label>', form
    )
    assert checked == [(str(alpha), "Association Alpha (Alice)")]
    sent = {
        "csrf_token": csrf_of(form),
        "form_token": token_of(form),
        "meeting": str(meeting),
        "held_on": "2026-05-04",
        "attendees": [str(alpha), str(beta)],
        "minutes_ref": "CR-2026-05",
    }
    assert pilot.post(link, data=sent, follow_redirects=False).status_code == 303
    with site.c.db.connect() as conn:
        held = conn.execute(sa.select(tables.meeting).where(tables.meeting.c.id == meeting)).one()
    assert held.status == "held" and held.minutes_ref == "CR-2026-05"
    assert held.attendees == ["Association Alpha (Alice)", "Centre Beta (Bruno)"]


def test_forms_need_the_project_s_pilot_and_a_csrf_token(site: Site) -> None:
    pid = site.project_a
    other = site.client(PILOT_B)
    assert other.get(f"/projects/{pid}/forms/decision").status_code == 403
    pilot = site.client(PILOT_A)
    sent = {**open_form(pilot, pid, "budget_add"), "label": "x", "planned": "1"}
    assert other.post(f"/projects/{pid}/forms/budget_add", data=sent).status_code == 403
    no_csrf = {k: v for k, v in sent.items() if k != "csrf_token"}
    assert pilot.post(f"/projects/{pid}/forms/budget_add", data=no_csrf).status_code == 403
    assert pilot.get(f"/projects/{pid}/forms/nope").status_code == 404
    assert count(site, tables.budget_line, pid) == 0


def test_an_undeclared_decision_is_refused_with_file_line_and_field(tmp_path: Path) -> None:
    source = (ROOT / "definitions" / "cooperative.yaml").read_text(encoding="utf-8")
    broken = tmp_path / "cooperative.yaml"
    broken.write_text(
        source.replace("- decision: evaluation_finale_decidee", "- decision: evaluation_decidee"),
        encoding="utf-8",
    )
    with pytest.raises(DefinitionError) as caught:
        load_definition(broken)
    assert re.search(
        r"cooperative\.yaml:\d+: transitions\[start_evaluation\]\.conditions\[0\]\.decision: "
        r"undeclared decision "
        r"'evaluation_decidee'",
        str(caught.value),
    ), str(caught.value)


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        (
            '    label_en: "Start the local health diagnosis"\n',
            "",
            r"transitions\[start_diagnostic\]\.label_en",
        ),
        (
            '    label_en: "Quarterly report"\n',
            "",
            r"reports\[bilan_trimestriel\]\.label_en",
        ),
    ],
)
def test_a_definition_without_an_english_label_is_refused(
    tmp_path: Path, old: str, new: str, field: str
) -> None:
    source = (ROOT / "definitions" / "cooperative.yaml").read_text(encoding="utf-8")
    assert old in source
    broken = tmp_path / "cooperative.yaml"
    broken.write_text(source.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(DefinitionError) as caught:
        load_definition(broken)
    assert re.search(rf"cooperative\.yaml:\d+: {field}: Field required", str(caught.value)), str(
        caught.value
    )


def test_the_api_cancels_a_meeting_with_its_reason_bounded_like_the_form(site: Site) -> None:
    pid = site.project_a
    meeting = site.c.records.schedule_meeting(pid, "copil", datetime(2026, 6, 2, 12, tzinfo=UTC))
    api = site.client(PILOT_A)
    url = f"/api/projects/{pid}/meetings/{meeting}/cancel"
    too_long = api.post(url, json={"reason": "x" * 10_000})
    assert too_long.status_code == 422 and "reason" in str(too_long.json())
    assert api.post(url, json={"reason": "Salle indisponible"}).status_code == 200
    with site.c.db.connect() as conn:
        row = conn.execute(sa.select(tables.meeting).where(tables.meeting.c.id == meeting)).one()
    assert (row.status, row.cancel_reason) == ("cancelled", "Salle indisponible")
