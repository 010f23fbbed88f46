"""Every form of the project page in Debian's Chromium (issue 12): each one refused once
(the sentence beside the field, the summary focused, nothing recorded) and then recorded (a
confirmation banner on the project page); two submissions 30 ms apart make one meeting; a
refused step links to the forms that meet it. One served application and one browser are
shared by the whole module. Screenshots: ``tests/artifacts/project_forms.png`` (the project
page) and ``tests/artifacts/refusal_links.png`` (a refusal with its links); the project page
at 1280 px and 390 px wide (``project_desktop.png``, ``project_390.png``), which never
scrolls sideways at 390 px or 320 px."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect, sync_playwright

from tests.smtp_support import start_server
from tests.web.test_accessibility import open_modal_with_the_keyboard, violations
from tests.web.test_browser import ARTIFACTS, CHROMIUM, PASSWORD, LiveService, require_chromium
from workflow import tables
from workflow.engine import NewProject, PartnerIn

PILOT = "pilote@dd75.example"


@dataclass
class Served:
    live: LiveService
    page: Any
    pid: int

    def row(self, table: sa.Table, *where: Any) -> Any:
        with self.live.c.db.connect() as conn:
            return conn.execute(sa.select(table).where(*where)).one_or_none()

    def count(self, table: sa.Table) -> int:
        with self.live.c.db.connect() as conn:
            return int(
                conn.execute(
                    sa.select(sa.func.count())
                    .select_from(table)
                    .where(table.c.project_id == self.pid)
                ).scalar_one()
            )


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    require_chromium()
    smtp = start_server()
    live = LiveService(f"sqlite:///{tmp_path_factory.mktemp('forms') / 'copilote.db'}", smtp)
    live.start()
    c = live.c
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
    c.records.add_partner(pid, PartnerIn("Association Alpha", "alpha@asso.example", "Alice"))
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM))
            page = browser.new_context().new_page()
            page.goto(f"{live.url}/login")
            page.fill("input[name=email]", PILOT)
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_load_state()
            yield Served(live, page, pid)
            browser.close()
    finally:
        live.stop()
        if smtp.running:
            smtp.stop()


def fill(page: Any, values: dict[str, str | list[str]]) -> None:
    """Fill the form page's fields by name, whatever their kind."""
    form = page.locator("form.form-page")
    for name, value in values.items():
        target = form.locator(f"[name={name}]")
        if isinstance(value, list):
            for box in target.all():
                if box.get_attribute("value") in value:
                    box.check()
                else:
                    box.uncheck()
        elif target.first.evaluate("e => e.tagName") == "SELECT":
            options = target.locator("option").all()
            wanted = next(
                (o.get_attribute("value") for o in options if value in o.inner_text()), value
            )
            target.select_option(wanted)
        else:
            target.fill(value)


@dataclass
class Case:
    form: str
    refused: dict[str, str | list[str]]
    where: str  # the field the refusal names
    message: str  # beside it
    recorded: dict[str, str | list[str]]
    check: Callable[[Served], bool]
    banner: str
    query: Callable[[Served], str] = lambda s: ""


def _meeting(s: Served, status: str) -> int:
    with s.live.c.db.connect() as conn:
        return int(
            conn.execute(
                sa.select(tables.meeting.c.id)
                .where(tables.meeting.c.project_id == s.pid, tables.meeting.c.status == status)
                .order_by(tables.meeting.c.id)
            )
            .scalars()
            .first()
            or 0
        )


CASES = [
    Case(
        "decision",
        {"key": ""},
        "key",
        "à remplir",
        {"key": "Décision de lancer l'évaluation finale", "text": "Décidé en COPIL"},
        lambda s: (
            s.row(tables.decision, tables.decision.c.project_id == s.pid).text == "Décidé en COPIL"
        ),
        "Décision enregistrée.",
    ),
    Case(
        "partner_add",
        {"organisation": "Centre Gamma", "email": "pas-une-adresse"},
        "email",
        "une adresse e-mail contient @",
        {"organisation": "Centre Gamma", "email": "gamma@centre.example", "contact_name": "Gus"},
        lambda s: (
            s.row(tables.partner, tables.partner.c.organisation == "Centre Gamma") is not None
        ),
        "Partenaire ajouté.",
    ),
    Case(
        "partner_leave",
        {"partner": "Centre Gamma", "on": "2026-01-02"},
        "on",
        "la date ne peut pas être passée",
        {"partner": "Centre Gamma", "on": ""},
        lambda s: (
            s.row(tables.partner, tables.partner.c.organisation == "Centre Gamma").left_on
            is not None
        ),
        "Départ du partenaire enregistré.",
    ),
    Case(
        "indicator",
        {"label": "", "kind": "activité"},
        "label",
        "à remplir pour un nouvel indicateur",
        {
            "label": "Participants aux ateliers",
            "kind": "activité",
            "unit": "personnes",
            "period": "2026",
            "planned": "120",
            "realised": "97,5",
        },
        lambda s: s.row(tables.indicator, tables.indicator.c.project_id == s.pid).realised == 97.5,
        "Indicateur enregistré.",
    ),
    Case(
        "budget_add",
        {"label": "Animation", "planned": ""},
        "planned",
        "à remplir",
        {"label": "Animation", "planned": "12 000,50"},
        lambda s: (
            s.row(tables.budget_line, tables.budget_line.c.project_id == s.pid).planned_cents
            == 1_200_050
        ),
        "Ligne de budget ajoutée.",
    ),
    Case(
        "budget_edit",
        {"planned": "-5"},
        "planned",
        "un montant entre 0 et 21 474 836,47 €",
        {"planned": "12 000,50", "spent": "3 000"},
        lambda s: (
            s.row(tables.budget_line, tables.budget_line.c.project_id == s.pid).spent_cents
            == 300_000
        ),
        "Ligne de budget modifiée.",
        query=lambda s: (
            f"?line={s.row(tables.budget_line, tables.budget_line.c.project_id == s.pid).id}"
        ),
    ),
    Case(
        "meeting_schedule",
        {"series": "Comité de pilotage (COPIL)", "starts_at": ""},
        "starts_at",
        "à remplir",
        {
            "series": "Comité de pilotage (COPIL)",
            "starts_at": "2026-06-12T14:00",
            "location": "Mairie",
        },
        lambda s: _meeting(s, "planned") > 0,
        "Réunion planifiée : les invitations partent.",
    ),
    Case(
        "meeting_move",
        {"starts_at": ""},
        "starts_at",
        "à remplir",
        {"starts_at": "2026-06-19T14:00"},
        lambda s: (
            s.row(tables.meeting, tables.meeting.c.id == _meeting(s, "planned")).starts_at
            == datetime(2026, 6, 19, 12, tzinfo=UTC)
        ),
        "Réunion déplacée : les invités sont prévenus.",
        query=lambda s: f"?meeting={_meeting(s, 'planned')}",
    ),
    Case(
        "meeting_held",
        {"held_on": "2026-06-01"},
        "held_on",
        "la date ne peut pas être dans le futur",
        {"held_on": "2026-05-04", "attendees": ["1", "2"], "minutes_ref": "CR-1"},
        lambda s: _meeting(s, "held") > 0,
        "Réunion enregistrée comme tenue.",
        query=lambda s: f"?meeting={_meeting(s, 'planned')}",
    ),
    Case(
        "milestone_done",
        {"milestone": "Mise en place des instances de gouvernance", "on": "2026-12-01"},
        "on",
        "la date ne peut pas être dans le futur",
        {"milestone": "Mise en place des instances de gouvernance", "on": ""},
        lambda s: (
            s.row(tables.milestone, tables.milestone.c.key == "gouvernance").done_on is not None
        ),
        "Jalon enregistré comme fait.",
    ),
    Case(
        "milestone_reopen",
        {"comment": ""},
        "comment",
        "à remplir",
        {"comment": "Le document n'était pas validé"},
        lambda s: s.row(tables.milestone, tables.milestone.c.key == "gouvernance").done_on is None,
        "Jalon rouvert.",
        query=lambda s: "?milestone=gouvernance",
    ),
]


def test_every_form_is_refused_beside_its_field_then_recorded(served: Served) -> None:
    page, url = served.page, served.live.url
    for case in CASES:
        page.goto(f"{url}/projects/{served.pid}/forms/{case.form}{case.query(served)}")
        fill(page, case.refused)
        page.locator("form.form-page button[type=submit]").click()
        summary = page.locator(".error-summary")
        expect(summary).to_be_focused()
        expect(page.locator(f"#e-{case.where}")).to_have_text(case.message)
        assert case.message in summary.inner_text(), case.form
        fill(page, case.recorded)
        page.locator("form.form-page button[type=submit]").click()
        page.wait_for_load_state()
        assert re.search(rf"/projects/{served.pid}(#.*)?$", page.url), (
            case.form,
            page.locator("main").inner_text()[:500],
        )
        expect(page.locator(".flash[role=status]")).to_have_text(case.banner)
        assert case.check(served), case.form


def test_cancelling_a_meeting_needs_a_reason(served: Served) -> None:
    page, url, c = served.page, served.live.url, served.live.c
    meeting = c.records.schedule_meeting(
        served.pid, "copil", datetime(2026, 7, 1, 12, tzinfo=UTC), location="Mairie"
    )
    page.goto(f"{url}/projects/{served.pid}")
    page.locator("#plus-reunions > summary").click()  # the meetings are behind an accordion
    page.locator("#reunions a", has_text="annuler").first.click()
    assert page.url.endswith(f"/forms/meeting_cancel?meeting={meeting}")
    expect(page.locator("form.form-page.danger")).to_have_count(1)
    page.locator("form.form-page button.danger").click()
    expect(page.locator("#e-reason")).to_have_text("à remplir")
    fill(page, {"reason": "Salle indisponible"})
    page.locator("form.form-page button.danger").click()
    expect(page.locator(".flash")).to_have_text("Réunion annulée : les invités sont prévenus.")
    cancelled = served.row(tables.meeting, tables.meeting.c.id == meeting)
    assert (cancelled.status, cancelled.cancel_reason) == ("cancelled", "Salle indisponible")


def test_two_submissions_30_ms_apart_make_one_meeting(served: Served) -> None:
    page, url = served.page, served.live.url
    before = served.count(tables.meeting)
    page.goto(f"{url}/projects/{served.pid}/forms/meeting_schedule")
    fill(page, {"series": "Comité de pilotage (COPIL)", "starts_at": "2026-09-10T10:00"})
    statuses = page.evaluate(
        """async () => {
            const form = document.querySelector('form.form-page');
            const send = () => fetch(form.action, {method: 'POST', redirect: 'manual',
                body: new URLSearchParams(new FormData(form))});
            const first = send();
            await new Promise(done => setTimeout(done, 30));
            const second = send();
            return (await Promise.all([first, second])).map(r => r.type);
        }"""
    )
    assert statuses == ["opaqueredirect", "opaqueredirect"]
    assert served.count(tables.meeting) == before + 1


def test_a_refused_step_links_to_its_forms_and_dangerous_steps_come_last(served: Served) -> None:
    page, url = served.page, served.live.url
    page.goto(f"{url}/projects/{served.pid}")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "project_forms.png"), full_page=True)
    buttons = page.locator(
        "#avancement button:not(dialog button), #avancement a.danger"
    ).all_inner_texts()
    assert buttons[0] == "Lancer le diagnostic local de santé"
    assert buttons[-2:] == ["Suspendre le projet", "Abandonner le projet"]
    page.click("button:has-text('Lancer le diagnostic local de santé')")
    fixes = page.locator(".fixes a.fix-link")
    expect(fixes.first).to_be_visible()
    page.locator("#avancement").screenshot(path=str(ARTIFACTS / "refusal_links.png"))
    texts = fixes.all_inner_texts()
    assert any("Mise en place des instances de gouvernance" in t for t in texts), texts
    fixes.filter(has_text="Mise en place des instances de gouvernance").click()
    chosen = page.locator("select[name=milestone] option:checked").inner_text()
    assert chosen == "Mise en place des instances de gouvernance"

    # Suspend: its link opens the confirmation in a DSFR modal, from the keyboard (Enter);
    # the focus moves into it; Escape closes it and gives the focus back to the link.
    page.goto(f"{url}/projects/{served.pid}")
    link = page.locator("a.danger:has-text('Suspendre le projet')")
    dialog = open_modal_with_the_keyboard(page, link)
    assert dialog.get_attribute("id") == "confirmer-suspend"
    assert page.url.endswith(f"/projects/{served.pid}")  # the link was not followed
    page.screenshot(path=str(ARTIFACTS / "step_modal.png"))
    assert violations(page) == []
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(link).to_be_focused()
    # Its form is the confirmation page's: sent empty, the same refusals come back there.
    page.keyboard.press("Enter")
    dialog.locator("button[type=submit]").click()
    expect(page.locator("#e-comment")).to_have_text("à remplir")
    expect(page.locator("#e-confirm")).to_have_text("cochez au moins une case")
    assert served.row(tables.project, tables.project.c.id == served.pid).phase != "suspendu"
    # Filled in the modal: the project is suspended, the history keeps the comment.
    page.goto(f"{url}/projects/{served.pid}")
    link.click()
    dialog.locator("textarea[name=comment]").fill("Attente du financement")
    dialog.locator("input[name=confirm]").check()
    dialog.locator("button[type=submit]").click()
    expect(page.locator(".flash")).to_have_text("Étape enregistrée.")
    assert served.row(tables.project, tables.project.c.id == served.pid).phase == "suspendu"
    entry = served.row(
        tables.history,
        tables.history.c.project_id == served.pid,
        tables.history.c.trigger == "suspend",
    )
    assert entry.comment == "Attente du financement" and entry.to_phase == "suspendu"
    # Without JavaScript the same link is the confirmation page (tests/web/test_forms.py).


def test_the_project_page_reads_on_a_phone_without_sideways_scrolling(served: Served) -> None:
    page, url = served.page, served.live.url
    c = served.live.c
    meeting = c.records.schedule_meeting(
        served.pid, "copil", datetime(2026, 9, 14, 12, tzinfo=UTC), location="Mairie du 18e"
    )
    c.records.cancel_meeting(served.pid, meeting, reason="Salle indisponible ce jour-là")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{url}/projects/{served.pid}")
    region = page.locator(".gantt-region")
    region.focus()
    expect(region).to_be_focused()  # the Gantt's scroll region takes the keyboard
    expect(page.locator("table.gantt th.month.now")).to_have_count(1)
    expect(page.locator("table.gantt td.cell.planned").first).to_be_visible()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "project_desktop.png"), full_page=True)
    # what is not urgent waits behind accordions: the page stays short
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < 3000, height
    page.locator("#plus-reunions > summary").click()
    expect(page.locator("#reunions .cancel-reason").last).to_have_text(
        "Motif\u202f: Salle indisponible ce jour-là"
    )
    for width in (390, 320):
        page.set_viewport_size({"width": width, "height": 800})
        page.goto(f"{url}/projects/{served.pid}")
        scroll = page.evaluate("document.documentElement.scrollWidth")
        assert scroll <= width, (width, scroll)
        # the Gantt is a list per phase with its dates: no month grid
        expect(page.locator("table.gantt td.cell").first).to_be_hidden()
        dates = page.locator("table.gantt tr.step", has_text="Diagnostic local de santé")
        expect(dates).to_be_visible()
        assert "04/07/2026" in dates.inner_text()
        if width == 390:
            page.screenshot(path=str(ARTIFACTS / "project_390.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 720})
