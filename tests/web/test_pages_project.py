"""The project list and the project page (issue 4, § 4): the tableau de bord of seed 001, the
forms a pilot uses, the refused advance with its reasons, rights, escaping, English."""

from __future__ import annotations

import html
import re
from datetime import date, datetime
from pathlib import Path

import sqlalchemy as sa

from tests.web.conftest import AGENCY, PARIS, PILOT_A, PILOT_B, Site, csrf_of
from web import i18n
from workflow import tables
from workflow.engine import NewProject, PartnerIn
from workflow.plan import ActionIn

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
    assert (
        "Étapes Qui ? Responsable Date début Date fin Livrables "
        "mai 2026 (aujourd'hui) juin juil. août sept. oct. nov. déc. Préfiguration"
    ) in board
    assert "Préfiguration en cours 04/05/2026 04/07/2026 ▶ début de la phase" in board
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
    # the refusal links to the form that records the launch meeting (no inline form)
    assert f'href="/projects/{pid}/forms/meeting_held?occurrence=reunion_lancement"' in refused.text
    assert f"/projects/{pid}/meetings/held" not in refused.text
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
    # an attendee to invite: the pilot organises the meeting and is not invited to it
    site.c.records.add_partner(pid, PartnerIn("Asso", "asso@exemple.fr", "Alix", ("partner",)))
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
    assert "asso@exemple.fr" in queued and PILOT_A not in queued
    page = pilot.get(f"/projects/{pid}").text
    assert (
        "Première réunion collective (lancement de la coopérative) prévue 12/05/2026 14:00 Mairie du 18e"
        in section(page, "reunions")
    )
    outbox = section(page, "messages")
    assert "Alix <asso@exemple.fr>" in outbox and "en attente" in outbox
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
    for name in (
        "dashboard.html",
        "projects.html",
        "project.html",
        "_lists.html",
        "_confirm.html",
        "forms/_dangerous_steps.html",
        "users.html",
        "users_confirm.html",
        "users/_confirmations.html",
    ):
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


def test_the_gantt_has_a_legend_in_words_today_s_line_and_the_planned_phases(site: Site) -> None:
    site.clock.set(datetime(2026, 8, 3, 9, 0, tzinfo=PARIS))  # préfiguration is late
    page = site.client(PILOT_A).get(f"/projects/{site.project_a}").text
    board = section(page, "tableau")
    for words in (
        "▶ début de la phase",
        "phase en cours ou réalisée",
        "phase prévue (dates calculées avec les durées du programme, marquées *)",
        "X échéance du jalon",
        "✓ jalon fait",
        "! jalon en retard",
        "Aujourd'hui : lundi 3 août 2026 (trait vertical)",
    ):
        assert words in board, words
    # today's line: the column of August, at today's place in the month (day 3 of 31: 8 %)
    assert 'style="--today: 8%"' in page
    assert re.search(r'<th scope="col" class="month now">août<span class="fr-sr-only">', page)
    # the late phase is said in words; the next ones are planned from today
    assert "Préfiguration en retard 04/05/2026 04/07/2026" in board
    assert "Diagnostic local de santé prévue 03/08/2026 03/10/2026 phase prévue" in board
    assert "Élaboration du plan d'actions prévue 03/10/2026 03/01/2027" in board
    assert "Mise en œuvre et suivi-évaluation des actions prévue 03/01/2027" in board
    # a focusable, named scroll region with a caption and header cells scoped
    assert (
        '<div class="fr-table gantt-region" tabindex="0" role="region" '
        'aria-label="Tableau de bord du projet, défilable">'
    ) in page
    assert "<caption" in page.split('id="tableau"')[1].split("</table>")[0]
    # the late milestones come first, each with the form that records it
    late = section(page, "alertes")
    assert late.startswith("En retard : à traiter d'abord En retard Mise en place")
    assert "30 jours de retard (échéance le 04/07/2026 ; Coordinateur·rice" in late
    assert f'href="/projects/{site.project_a}/forms/milestone_done?milestone=gouvernance"' in page
    # the stepper: where the project is and what comes next
    stepper = text(page.split('id="etapes">')[1].split("</p>")[0])
    assert "Préfiguration Étape 1 sur 5" in stepper
    assert "Étape suivante : Diagnostic local de santé — prévue à partir du 03/08/2026" in stepper
    english = site.client(PILOT_A).get(f"/projects/{site.project_a}?lang=en").text
    assert "Today: Monday 3 August 2026 (vertical line)" in section(english, "tableau")
    assert "hui\u202f: lundi" in page  # the narrow no-break space before a colon
    assert "planned phase" in english and "phase prévue" not in english


def test_every_table_of_the_page_has_a_caption_and_scoped_headers(site: Site) -> None:
    site.c.records.add_partner(
        site.project_a, PartnerIn("Association Alpha", "alpha@asso.example", "Alice")
    )
    page = site.client(PILOT_A).get(f"/projects/{site.project_a}").text
    tables_ = re.findall(r"<table.*?</table>", page, re.S)
    assert len(tables_) >= 8
    for table in tables_:
        assert "<caption" in table, table[:200]
        assert "<th>" not in table, table[:200]  # every header cell says what it heads
    # the old inline forms are gone: each action has its form page
    for gone in ("/meetings/held", '/meetings"', "/done"):
        assert f'action="/projects/{site.project_a}{gone}' not in page
    for form in ("meeting_schedule", "meeting_held", "partner_add", "indicator", "budget_add"):
        assert f'href="/projects/{site.project_a}/forms/{form}"' in page, form


def test_a_cancelled_meeting_shows_why_and_answers_stay_after_it_is_held(site: Site) -> None:
    c, pid = site.c, site.project_a
    alpha = c.records.add_partner(
        pid, PartnerIn("Association Alpha", "alpha@asso.example", "Alice", ("copil",))
    )
    beta = c.records.add_partner(
        pid, PartnerIn("Association Bêta", "beta@asso.example", "Bob", ("copil",))
    )
    copil = c.records.schedule_meeting(
        pid, "copil", datetime(2026, 5, 12, 14, 0, tzinfo=PARIS), location="Mairie"
    )
    other = c.records.schedule_meeting(
        pid, "copil", datetime(2026, 5, 19, 14, 0, tzinfo=PARIS), location="Mairie"
    )
    c.records.cancel_meeting(pid, other, reason="Salle indisponible")
    with c.db.begin() as conn:
        for partner, answer, comment in (
            (alpha, "yes", "Avec une collègue"),
            (beta, "no", "En congés"),
        ):
            conn.execute(
                sa.insert(tables.attendance).values(
                    meeting_id=copil,
                    partner_id=partner,
                    answer=answer,
                    comment=comment,
                    answered_at=site.clock.now(),
                )
            )
    site.clock.set(datetime(2026, 5, 13, 9, 0, tzinfo=PARIS))
    c.records.meeting_held(pid, meeting_id=copil, held_on=date(2026, 5, 12))
    # Bêta leaves after the meeting: its answer and comment stay with the meeting
    c.records.partner_leaves(pid, beta, on=date(2026, 5, 13))
    site.clock.set(datetime(2026, 5, 14, 9, 0, tzinfo=PARIS))
    page = site.client(PILOT_A).get(f"/projects/{pid}").text
    meetings = section(page, "reunions")
    assert "annulée Motif : Salle indisponible" in meetings
    assert "tenue 12/05/2026 Mairie Présents (2) : Structure A, Association Alpha" not in meetings
    assert "Présents (1) : Association Alpha" in meetings
    assert "Absents (1) : Association Bêta" in meetings
    assert "Association Alpha : « Avec une collègue »" in meetings
    assert "Association Bêta : « En congés »" in meetings
    english = section(site.client(PILOT_A).get(f"/projects/{pid}?lang=en").text, "reunions")
    assert "Reason: Salle indisponible" in english


def test_the_year_of_a_multi_year_programme_and_the_plan_s_indicators(site: Site) -> None:
    c = site.c
    pid = c.engine.create_project(
        NewProject(
            definition_id="aceso",
            title="ACESO Île-de-France",
            start_date=date(2025, 9, 1),
            territory="Paris",
            pilot=PartnerIn("Structure A", PILOT_A, "Pia", ("pilot",)),
        )
    )
    c.records.plan.set_objective(pid, "acces", level="general", label="Améliorer l'accès", by="Pia")
    c.records.plan.set_action(
        pid, "ateliers", ActionIn(objective="acces", label="Ateliers"), by="Pia"
    )
    c.records.plan.set_action(
        pid, "visites", ActionIn(objective="acces", label="Visites"), by="Pia"
    )
    for key, action, year, planned, realised in (
        ("participants", "ateliers", 2026, 120, 90),
        ("seances", "ateliers", 2026, 10, 12),
        ("visites_faites", "visites", 2026, 6, None),
        ("participants_2025", "ateliers", 2025, 100, 100),
    ):
        c.records.set_indicator(
            pid,
            key,
            label=key.replace("_", " ").capitalize(),
            kind="activity",
            planned=planned,
            realised=realised,
            action=action,
            year=year,
            by="Pia",
        )
    page = site.client(PILOT_A).get(f"/projects/{pid}").text
    assert "Financement pluriannuel année 2 sur 5" in text(page)
    plan = section(page, "suivi-plan")
    assert plan.startswith("Plan d'actions : prévu et réalisé 2026")
    assert "Améliorer l'accès Ateliers Participants 120 90 en deçà du prévu" in plan
    assert "Améliorer l'accès Ateliers Seances 10 12 atteint" in plan
    assert "Améliorer l'accès Visites Visites faites 6 — à renseigner" in plan
    assert "Participants 2025" not in plan  # another year
    assert f'href="/projects/{pid}/plan#fiches"' in page
    english = site.client(PILOT_A).get(f"/projects/{pid}?lang=en").text
    assert "year 2 of 5" in text(english) and "below plan" in english
    # a programme funded for one year at a time says nothing of years
    assert (
        "Financement pluriannuel"
        not in site.client(PILOT_A).get(f"/projects/{site.project_a}").text
    )


def test_a_suspended_project_s_stepper_names_its_phase_and_says_it_is_suspended(
    site: Site,
) -> None:
    site.c.engine.advance(site.project_a, "suspend", actor="Pia", comment="Attente")
    page = site.client(PILOT_A).get(f"/projects/{site.project_a}").text
    stepper = text(page.split('id="etapes">')[1].split("</p>")[0])
    assert stepper.startswith("Préfiguration Suspendu Étape 1 sur 5")
    assert "Préfiguration en cours 04/05/2026 04/07/2026" in section(page, "tableau")


def test_a_reopened_milestone_says_so_in_words(site: Site) -> None:
    """The reopening kept beside the milestone reads « rouvert : <why> », never the stored
    marker."""
    site.c.records.milestone_done(site.project_a, "gouvernance", by="Pia", on=date(2026, 5, 6))
    site.c.records.reopen_milestone(
        site.project_a, "gouvernance", by="Pia", comment="Le document n'était pas validé"
    )
    page = html.unescape(site.client(PILOT_A).get(f"/projects/{site.project_a}").text)
    assert "rouvert : Le document n'était pas validé" in page
    assert "reopened:" not in page
