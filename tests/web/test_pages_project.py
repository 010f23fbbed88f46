"""The project list and the project page (issue 4, § 4): the tableau de bord of seed 001, the
forms a pilot uses, the refused advance with its reasons, rights, escaping, English."""

from __future__ import annotations

import html
import re
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

from tests.web.conftest import AGENCY, PARIS, PILOT_A, PILOT_B, Site, csrf_of
from web import i18n
from workflow import tables
from workflow.engine import NewProject, PartnerIn

TEMPLATES = Path(__file__).resolve().parents[2] / "web" / "templates"


def text(page: str) -> str:
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", page).split()))


def section(page: str, name: str) -> str:
    found = re.search(rf'<section id="{name}".*?</section>', page, re.S)
    assert found, f"no section {name}"
    return text(found.group(0))


def phase_of(site: Site, pid: int) -> str:
    with site.c.db.connect() as conn:
        return str(
            conn.execute(
                sa.select(tables.project.c.phase).where(tables.project.c.id == pid)
            ).scalar_one()
        )


def test_the_project_page_is_the_tableau_de_bord_of_seed_001(site: Site) -> None:
    site.c.records.add_partner(
        site.project_a, PartnerIn("Association Alpha", "alpha@asso.example", "Alice")
    )
    page = site.client(AGENCY).get(f"/projects/{site.project_a}")
    assert page.status_code == 200
    board = section(page.text, "tableau")
    # columns of seed 001's table, then one per month from the project's start
    assert board.startswith(
        "Tableau de bord du projet Étapes Qui ? Responsable Date début Date fin Livrables "
        "mai 2026 juin juil. août sept. oct. Préfiguration"
    )
    assert "Préfiguration en cours 04/05/2026 04/07/2026 ▶" in board
    assert (
        "Mise en place des instances de gouvernance Coordinateur·rice de la coopérative "
        "(DD de l'ARS) Structure A 04/05/2026 04/07/2026 Écrit rendant lisible l'organisation"
    ) in board
    for later in ("Diagnostic local de santé", "Élaboration du plan d'actions", "Évaluation"):
        assert later in board
    partners = section(page.text, "partenaires")
    assert "Association Alpha Alice <alpha@asso.example> Structure partenaire" in partners
    assert "Structure A Pia <pilote.a@exemple.fr> Coordinateur·rice" in partners
    assert "Première réunion collective (lancement de la coopérative) attendue" in section(
        page.text, "reunions"
    )
    history = section(page.text, "historique")
    assert "Préfiguration (Création du projet)" in history  # the step's label, never its key
    assert "create" not in history
    # the agency reads, but does not pilot: no forms
    assert "Seuls les pilotes du projet peuvent le faire avancer." in page.text
    assert f'action="/projects/{site.project_a}/advance"' not in page.text
    assert "Marquer fait" not in page.text


def test_refused_advance_shows_what_is_missing_then_the_pilot_completes_and_advances(
    site: Site,
) -> None:
    pilot = site.client(PILOT_A)
    pid = site.project_a
    page = pilot.get(f"/projects/{pid}")
    assert page.status_code == 200 and 'name="trigger" value="start_diagnostic"' in page.text
    token = csrf_of(page.text)
    for key in ("gouvernance", "orientations_validees"):
        done = pilot.post(
            f"/projects/{pid}/milestones/{key}/done",
            data={"csrf_token": token, "deliverable_ref": f"{key}.pdf"},
            follow_redirects=False,
        )
        assert done.status_code == 303 and done.headers["location"] == f"/projects/{pid}#tableau"

    refused = pilot.post(
        f"/projects/{pid}/advance",
        data={
            "csrf_token": token,
            "trigger": "start_diagnostic",
            "expected_phase": "prefiguration",
        },
    )
    assert refused.status_code == 409
    unmet = re.search(r'<div class="refused" role="alert">(.*?)</div>', refused.text, re.S)
    assert unmet
    assert text(unmet.group(1)) == (
        "Étape refusée — Il manque : "
        "Première réunion collective (lancement de la coopérative) : réunion non tenue"
    )
    assert "<h1>Coopérative A</h1>" in refused.text  # the project page, not an error page
    assert phase_of(site, pid) == "prefiguration"

    with site.c.db.connect() as conn:
        launch = conn.execute(
            sa.select(tables.meeting.c.id).where(
                tables.meeting.c.project_id == pid,
                tables.meeting.c.occurrence == "reunion_lancement",
            )
        ).scalar_one()
    assert f'<option value="{launch}">' in refused.text
    held = pilot.post(
        f"/projects/{pid}/meetings/held",
        data={"csrf_token": token, "meeting": str(launch), "held_on": "2026-05-04"},
        follow_redirects=False,
    )
    assert held.status_code == 303
    moved = pilot.post(
        f"/projects/{pid}/advance",
        data={
            "csrf_token": token,
            "trigger": "start_diagnostic",
            "expected_phase": "prefiguration",
        },
        follow_redirects=False,
    )
    assert moved.status_code == 303 and moved.headers["location"] == f"/projects/{pid}#avancement"
    assert phase_of(site, pid) == "diagnostic"
    after = pilot.get(f"/projects/{pid}").text
    assert "Diagnostic local de santé partagé" in section(after, "tableau")
    assert "Pia Préfiguration → Diagnostic" in section(after, "historique")
    # a second submit of the same form (stale page) is a conflict, not a second step
    again = pilot.post(
        f"/projects/{pid}/advance",
        data={
            "csrf_token": token,
            "trigger": "start_diagnostic",
            "expected_phase": "prefiguration",
        },
    )
    assert again.status_code == 409 and phase_of(site, pid) == "diagnostic"


def test_a_comment_is_required_to_suspend(site: Site) -> None:
    pilot = site.client(PILOT_A)
    token = csrf_of(pilot.get(f"/projects/{site.project_a}").text)
    refused = pilot.post(
        f"/projects/{site.project_a}/advance", data={"csrf_token": token, "trigger": "suspend"}
    )
    assert refused.status_code == 409
    assert "un commentaire expliquant pourquoi est obligatoire pour cette étape" in refused.text
    done = pilot.post(
        f"/projects/{site.project_a}/advance",
        data={"csrf_token": token, "trigger": "suspend", "comment": "Départ du coordinateur"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and phase_of(site, site.project_a) == "suspendu"


def test_scheduling_a_meeting_queues_the_invitations_shown_in_the_outbox(site: Site) -> None:
    pilot = site.client(PILOT_A)
    pid = site.project_a
    token = csrf_of(pilot.get(f"/projects/{pid}").text)
    response = pilot.post(
        f"/projects/{pid}/meetings",
        data={
            "csrf_token": token,
            "series": "reunion_projet",
            "occurrence": "reunion_lancement",
            "starts_at": "2026-05-12T14:00",
            "location": "Mairie du 18e",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    with site.c.db.connect() as conn:
        starts = conn.execute(
            sa.select(tables.meeting.c.starts_at).where(
                tables.meeting.c.occurrence == "reunion_lancement",
                tables.meeting.c.project_id == pid,
            )
        ).scalar_one()
        queued = (
            conn.execute(
                sa.select(tables.outbox.c.recipient_email).where(tables.outbox.c.project_id == pid)
            )
            .scalars()
            .all()
        )
    assert starts == datetime(2026, 5, 12, 14, 0, tzinfo=PARIS)
    assert PILOT_A in queued
    page = pilot.get(f"/projects/{pid}").text
    assert (
        "Première réunion collective (lancement de la coopérative) prévue 12/05/2026 14:00 Mairie du 18e"
        in section(page, "reunions")
    )
    outbox = section(page, "messages")
    assert f"Pia <{PILOT_A}>" in outbox and "en attente" in outbox
    site.c.tick(site.clock.now())
    assert "envoyé" in section(pilot.get(f"/projects/{pid}").text, "messages")
    bad = pilot.post(
        f"/projects/{pid}/meetings",
        data={"csrf_token": token, "series": "reunion_projet", "starts_at": "demain"},
    )
    assert bad.status_code == 422


def test_pilots_see_and_act_only_on_their_projects(site: Site) -> None:
    pilot_b = site.client(PILOT_B)
    a = site.project_a
    assert pilot_b.get(f"/projects/{a}").status_code == 403
    token = csrf_of(pilot_b.get(f"/projects/{site.project_b}").text)
    for path, data in (
        (f"/projects/{a}/advance", {"trigger": "start_diagnostic"}),
        (f"/projects/{a}/milestones/gouvernance/done", {}),
        (f"/projects/{a}/meetings", {"series": "copil", "starts_at": "2026-06-01T10:00"}),
        (f"/projects/{a}/meetings/held", {"meeting": "series:copil"}),
    ):
        response = pilot_b.post(path, data={"csrf_token": token, **data})
        assert response.status_code == 403, path
    assert phase_of(site, a) == "prefiguration"
    # the agency reads A but may not act on it
    agency = site.client(AGENCY)
    token = csrf_of(agency.get(f"/projects/{a}").text)
    assert (
        agency.post(
            f"/projects/{a}/advance",
            data={"csrf_token": token, "trigger": "suspend", "comment": "x"},
        ).status_code
        == 403
    )
    # lists: each pilot sees their own
    listed = text(pilot_b.get("/projects").text)
    assert "Coopérative B" in listed and "Coopérative A" not in listed
    everything = text(agency.get("/projects").text)
    assert "Coopérative A" in everything and "Coopérative B" in everything
    assert "Coopérative B" not in text(agency.get("/projects", params={"territory": "Paris"}).text)


def test_forms_need_their_csrf_token(site: Site) -> None:
    pilot = site.client(PILOT_A)
    del pilot.headers["X-CSRF-Token"]
    response = pilot.post(
        f"/projects/{site.project_a}/advance", data={"trigger": "suspend", "comment": "x"}
    )
    assert response.status_code == 403 and phase_of(site, site.project_a) == "prefiguration"


def test_names_are_escaped_everywhere(site: Site) -> None:
    evil = "<script>alert(1)</script>"
    pid = site.c.engine.create_project(
        NewProject(
            definition_id="cooperative",
            title=evil,
            start_date=site.c.engine.today(),
            territory='"><img src=x onerror=alert(2)>',
            pilot=PartnerIn("<b>Structure</b>", PILOT_A, "<i>Pia</i>", ("pilot", "copil")),
        )
    )
    site.clock.set(datetime(2026, 8, 1, 9, 0, tzinfo=PARIS))
    for client, path in (
        (site.client(AGENCY), "/dashboard"),
        (site.client(AGENCY), "/projects"),
        (site.client(PILOT_A), f"/projects/{pid}"),
    ):
        page = client.get(path)
        assert page.status_code == 200, path
        assert evil not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text, path
        assert "<img src=x" not in page.text and "<b>Structure</b>" not in page.text, path


def test_english_on_request_and_every_interface_string_translated(site: Site) -> None:
    agency = site.client(AGENCY)
    page = agency.get("/dashboard", params={"lang": "en"}).text
    assert "Agency dashboard" in page and "Overdue milestones" in page
    assert "Jalons en retard" not in page
    assert (
        "Project dashboard" in site.client(PILOT_A).get(f"/projects/{site.project_a}?lang=en").text
    )
    registered = i18n._EN  # the registry itself: "Date" is "Date" in both languages
    missing = []
    for name in ("dashboard.html", "projects.html", "project.html", "_lists.html"):
        source = (TEMPLATES / name).read_text()
        for french in re.findall(r'_\(\s*"([^"]+)"\s*\)', source) + re.findall(
            r"_\(\s*'([^']+)'\s*\)", source
        ):
            if french not in registered:
                missing.append(f"{name}: {french}")
    assert missing == []


def test_the_alerts_word_what_is_late_in_the_reader_s_language(site: Site) -> None:
    site.clock.set(datetime(2026, 8, 1, 9, 0, tzinfo=PARIS))
    url = f"/projects/{site.project_a}"
    french = text(site.client(AGENCY).get(url).text)
    assert "phase « Préfiguration » : fin prévue dépassée — depuis le" in french
    assert (
        "Réunion de préfiguration / d'élaboration du projet : aucune réunion tenue ou prévue"
        " depuis 2 semaines" in french
    )
    english = text(site.client(AGENCY).get(url + "?lang=en").text)
    assert "phase Preparation past its planned end" in english
    assert "none held or planned every 2 weeks" in english
    assert "fin prévue dépassée" not in english


def test_the_project_page_shows_who_receives_what(site: Site) -> None:
    page = site.client(AGENCY).get(f"/projects/{site.project_a}")
    assert page.status_code == 200
    routing = section(page.text, "routage")
    assert routing.startswith("Qui reçoit quoi Message Destinataires")
    assert (
        "Escalade d'un bilan manquant Coordinateur·rice de la coopérative (DD de l'ARS), "
        "ARS Île-de-France (siège – DPSRI) (jamais la partie en retard ni ses pairs ; "
        "l'agence quand le pilote est en retard) "
        "– choix du programme"
    ) in routing
    assert "Rappel d'échéance d'un jalon le responsable de l'élément" in routing
    assert "milestone_reminder" not in routing  # labels, never keys
    english = section(
        site.client(AGENCY).get(f"/projects/{site.project_a}?lang=en").text, "routage"
    )
    assert english.startswith("Who receives what Message Recipients")
    assert "Missing report escalated" in english and "Escalade" not in english
