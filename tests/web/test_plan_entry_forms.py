"""The plan d'actions' own forms (objective, fiche-action, indicator, meeting note) run through
``web/forms.py`` like every form of a project: CSRF, the rule's refusal beside its field and in
the summary that takes the focus, nothing changed by a refusal, one idempotency token per
render (a second POST shows the first outcome), a confirmation banner on the plan page, every
change in the history with its author; choices shown by their labels, never keys."""

from __future__ import annotations

import html
import re
from datetime import datetime

import sqlalchemy as sa
from fastapi.testclient import TestClient

from tests.web.conftest import PARIS, PILOT_A, PILOT_B, Site, csrf_of
from workflow import tables
from workflow.plan import ActionIn


def _text(page: str) -> str:
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", page).split())).replace("\u202f", " ")


def _open(client: TestClient, pid: int, name: str, query: str = "") -> tuple[str, dict[str, str]]:
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


def _refused(response: object, name: str) -> str:
    """A refusal: 422, the message beside ``name``, the summary linking to it with the focus."""
    page = getattr(response, "text", "")
    assert getattr(response, "status_code", 0) == 422, page
    assert f'id="e-{name}"' in page and f'href="#f-{name}"' in page
    assert 'id="erreurs"' in page and "autofocus" in page
    return _text(page)


def _done(
    client: TestClient, pid: int, name: str, data: dict[str, str], back: str, banner: str
) -> None:
    """Sent once (303 to ``back``, the banner there), then again with the same token: the
    first outcome shown again, not repeated."""
    first = client.post(f"/projects/{pid}/forms/{name}", data=data, follow_redirects=False)
    assert first.status_code == 303, first.text
    assert first.headers["location"] == back
    assert banner in _text(client.get(back).text)
    again = _text(client.post(f"/projects/{pid}/forms/{name}", data=data).text)
    assert banner in again and "ce formulaire a été envoyé deux fois" in again


def test_an_objective_is_added_refused_and_edited_through_its_form(site: Site) -> None:
    pid = site.project_a
    pilot = site.client(PILOT_A)
    plan = pilot.get(f"/projects/{pid}/plan").text
    assert "Ajouter un objectif" in plan and f"/projects/{pid}/forms/objective" in plan
    form, tokens = _open(pilot, pid, "objective")
    assert "Niveau" in form and ">spécifique<" in form
    assert f'href="/projects/{pid}/plan#objectifs">Retour au plan d' in html.unescape(form)
    # The rule (workflow.plan): a specific objective sits under a general one.
    shown = _refused(
        pilot.post(
            f"/projects/{pid}/forms/objective",
            data={**tokens, "level": "specific", "label": "Prévenir"},
        ),
        "parent",
    )
    assert "se range sous un objectif général" in shown
    assert _history(site, pid) == []
    back = f"/projects/{pid}/plan#objectifs"
    sent = {**tokens, "level": "general", "label": "Accès aux soins"}
    _done(pilot, pid, "objective", sent, back, "Objectif ajouté.")
    page = _text(pilot.get(f"/projects/{pid}/plan").text)
    assert "général : Accès aux soins" in page and "acces_aux_soins" not in page

    form, tokens = _open(pilot, pid, "objective", "?objective=acces_aux_soins")
    assert 'value="Accès aux soins"' in html.unescape(form)
    edited = pilot.post(
        f"/projects/{pid}/forms/objective",
        data={**tokens, "objective": "acces_aux_soins", "level": "general",
              "label": "Accès aux soins de premier recours"},
    )  # fmt: skip
    assert "Objectif modifié." in _text(edited.text)
    assert _history(site, pid) == [
        ("objective_created", "Pia", "Accès aux soins"),
        ("objective_changed", "Pia", "Accès aux soins de premier recours"),
    ]
    english = _text(pilot.get(f"/projects/{pid}/forms/objective?lang=en").text)
    assert "Objective of the action plan" in english and "Level" in english
    assert "general" in english and "Niveau" not in english
    pilot.get(f"/projects/{pid}/plan?lang=fr")
    assert site.client(PILOT_B).get(f"/projects/{pid}/forms/objective").status_code == 403


def test_a_fiche_action_names_its_objective_and_partner_by_their_labels(site: Site) -> None:
    pid = site.project_a
    pilot = site.client(PILOT_A)
    site.c.records.plan.set_objective(pid, "acces", label="Accès", level="general", by="Pia")
    form, tokens = _open(pilot, pid, "action")
    assert '<select class="fr-select" id="f-partner_id" name="partner_id"' in form
    assert ">Structure A<" in form and ">Accès<" in form
    before = _history(site, pid)
    with site.c.db.connect() as conn:
        pilot_partner = conn.execute(
            sa.select(tables.partner.c.id).where(tables.partner.c.project_id == pid)
        ).scalar_one()
    data = {**tokens, "label": "Ateliers", "objective": "acces", "partner_id": str(pilot_partner),
            "starts_on": "2026-09-01", "ends_on": "2027-06-30", "etp": "5000",
            "budget": "12 500"}  # fmt: skip
    shown = _refused(pilot.post(f"/projects/{pid}/forms/action", data=data), "etp")
    assert "ETP n'est pas entre 0 et" in shown
    assert "is not between" not in shown  # the engine's English sentence stays out of the page
    pilot.cookies.set("lang", "en")
    form_en, tokens_en = _open(pilot, pid, "action")
    english = _refused(
        pilot.post(f"/projects/{pid}/forms/action", data={**data, **tokens_en}), "etp"
    )
    assert "FTE is not between 0 and" in english and "n'est pas" not in english
    pilot.cookies.set("lang", "fr")
    assert _history(site, pid) == before
    _done(
        pilot, pid, "action", {**data, "etp": "0,5"}, f"/projects/{pid}/plan#fiches",
        "Fiche-action ajoutée.",
    )  # fmt: skip
    page = _text(pilot.get(f"/projects/{pid}/plan").text)
    assert "Ateliers Accès Structure A 01/09/2026 – 30/06/2027" in page
    assert "(ateliers)" not in page and "acces" not in page
    assert _history(site, pid)[len(before) :] == [("action_created", "Pia", "Ateliers")]
    form, _ = _open(pilot, pid, "action", "?action=ateliers")
    assert 'value="12500,00"' in form and 'value="0,5"' in form and 'value="2026-09-01"' in form
    english = _text(pilot.get(f"/projects/{pid}/forms/action?action=ateliers&lang=en").text)
    assert "Action sheet" in english and "Responsible partner" in english
    assert "Target public" in english and "Partenaire responsable" not in english
    assert site.client(PILOT_B).get(f"/projects/{pid}/forms/action").status_code == 403


def test_an_indicator_of_a_fiche_action_and_a_year(site: Site) -> None:
    pid = site.project_a
    pilot = site.client(PILOT_A)
    plan = site.c.records.plan
    plan.set_objective(pid, "acces", label="Accès", level="general", by="Pia")
    plan.set_action(pid, "ateliers", ActionIn(objective="acces", label="Ateliers"), by="Pia")
    page = pilot.get(f"/projects/{pid}/plan?year=2026").text
    assert f"/projects/{pid}/forms/plan_indicator?action=ateliers&amp;year=2026" in page
    form, tokens = _open(pilot, pid, "plan_indicator", "?action=ateliers&year=2026")
    assert 'value="2026"' in form and ">Ateliers<" in form
    before = _history(site, pid)
    data = {**tokens, "action": "ateliers", "label": "Familles", "kind": "activity",
            "year": "1850", "planned": "30", "realised": "21"}  # fmt: skip
    shown = _refused(pilot.post(f"/projects/{pid}/forms/plan_indicator", data=data), "year")
    assert "une année entre 2000 et 2100" in shown
    assert _history(site, pid) == before
    _done(
        pilot, pid, "plan_indicator", {**data, "year": "2026"}, f"/projects/{pid}/plan#fiches",
        "Indicateur enregistré.",
    )  # fmt: skip
    page = _text(pilot.get(f"/projects/{pid}/plan").text)
    assert "Familles (2026)" in page
    assert _history(site, pid)[len(before) :] == [("indicator_created", "Pia", "Familles")]
    form, _ = _open(pilot, pid, "plan_indicator", "?indicator=familles")
    assert 'value="30"' in form and 'value="21"' in form
    english = _text(pilot.get(f"/projects/{pid}/forms/plan_indicator?lang=en").text)
    assert "Indicator of an action sheet" in english and "Target" in english
    assert site.client(PILOT_B).get(f"/projects/{pid}/forms/plan_indicator").status_code == 403


def test_a_meeting_is_annotated_by_its_label_for_the_cpom_report(site: Site) -> None:
    pid = site.project_a
    pilot = site.client(PILOT_A)
    plan = site.c.records.plan
    plan.set_objective(pid, "acces", label="Accès", level="general", by="Pia")
    plan.set_action(pid, "ateliers", ActionIn(objective="acces", label="Ateliers"), by="Pia")
    meeting = site.c.records.schedule_meeting(
        pid, "copil", datetime(2026, 6, 2, 14, 0, tzinfo=PARIS)
    )
    page = _text(pilot.get(f"/projects/{pid}/plan").text)
    assert (
        "Comité de pilotage (COPIL) n°1 (02/06/2026 14:00, prévue) annoter" in page
        and "planned" not in page
    )
    form, tokens = _open(pilot, pid, "meeting_note", f"?meeting={meeting}")
    assert "(02/06/2026, prévue)" in html.unescape(form) and ">Ateliers<" in form
    before = _history(site, pid)
    # The rule: only a cancelled meeting has a cancellation reason.
    data = {**tokens, "meeting_id": str(meeting), "cancel_reason": "Grève"}
    shown = _refused(pilot.post(f"/projects/{pid}/forms/meeting_note", data=data), "cancel_reason")
    assert "seule une réunion annulée a un motif d'annulation" in shown
    empty = pilot.post(
        f"/projects/{pid}/forms/meeting_note", data={**tokens, "meeting_id": str(meeting)}
    )
    assert empty.status_code == 422
    assert "rien à enregistrer : remplissez au moins un champ" in _text(empty.text)
    assert _history(site, pid) == before
    data = {**tokens, "meeting_id": str(meeting), "action": "ateliers",
            "gap_explanation": "Salle trop petite"}  # fmt: skip
    _done(
        pilot, pid, "meeting_note", data, f"/projects/{pid}/plan#reunions-notes",
        "Réunion annotée.",
    )  # fmt: skip
    assert [(t, a) for t, a, _ in _history(site, pid)[len(before) :]] == [("meeting_noted", "Pia")]
    english = _text(pilot.get(f"/projects/{pid}/forms/meeting_note?lang=en").text)
    assert "(02/06/2026, planned)" in english and "Annotate a meeting" in english
    assert "prévue" not in english
    plan_en = _text(pilot.get(f"/projects/{pid}/plan?lang=en").text)
    assert "(COPIL) no. 1 (02/06/2026 14:00, planned) annotate" in plan_en
    assert site.client(PILOT_B).get(f"/projects/{pid}/forms/meeting_note").status_code == 403
