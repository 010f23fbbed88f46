"""Partners answer from the personal link in their email: the quarterly report (seed 001's
« tableau de suivi des actions par les acteurs ») and meeting invitations. And the refusals:
an expired, altered or misdirected link opens nothing."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.plan_support import enter_plan
from tests.smtp_support import SmtpServer
from tests.web.conftest import AGENCY, PARIS, PILOT_A, Site, csrf_of
from workflow import tables
from workflow.engine import PartnerIn

ALPHA = "alpha@asso.example"
BETA = "beta@centre.example"
Q2_END = datetime(2026, 6, 30, 9, 0, tzinfo=PARIS)


@pytest.fixture
def any_site(db_url: str, smtp_server: SmtpServer, tmp_path: Path) -> Iterator[Site]:
    """The site on SQLite and on PostgreSQL."""
    s = Site(db_url, smtp_server)
    yield s
    s.c.db.dispose()


def add_partners(site: Site) -> tuple[int, int]:
    records = site.c.records
    alpha = records.add_partner(
        site.project_a, PartnerIn("Association Alpha", ALPHA, "Alice", ("partner", "copil"))
    )
    beta = records.add_partner(site.project_a, PartnerIn("Centre Beta", BETA, "Bruno"))
    return alpha, beta


def to_implementation(site: Site) -> None:
    """Project A reaches « mise en œuvre » (a reporting phase) on its first day."""
    pid, records, engine = site.project_a, site.c.records, site.c.engine
    records.meeting_held(pid, occurrence="reunion_lancement")
    for key in ("gouvernance", "orientations_validees"):
        records.milestone_done(pid, key, by="Pia")
    engine.advance(pid, "start_diagnostic", actor="Pia")
    records.milestone_done(pid, "diagnostic_local_sante", by="Pia")
    records.meeting_held(pid, series="copil")
    engine.advance(pid, "start_action_plan", actor="Pia")
    for key in ("arbre_objectifs", "fiches_actions", "indicateurs", "convention_signee"):
        records.milestone_done(pid, key, by="Pia")
    records.meeting_held(pid, series="copil")
    enter_plan(records, pid)  # issue 13: objectives: required
    engine.advance(pid, "validate_action_plan", actor="Pia")
    records.set_indicator(
        pid,
        "beneficiaires",
        label="Bénéficiaires touchés",
        kind="activity",
        planned=40,
        by="Claire (DD 93)",
    )
    records.set_indicator(
        pid, "ateliers", label="Ateliers tenus", kind="process", planned=6, by="Claire (DD 93)"
    )


def mails_to(site: Site, email: str, kind_text: str = "") -> list[str]:
    """Plain-text bodies received by the SMTP server for ``email`` (containing ``kind_text``)."""
    bodies = []
    for got in site.server.handler.received:
        if email in got.rcpt_tos:
            body = got.message.get_body(("plain",))
            assert body is not None
            text = body.get_content()
            if kind_text in text:
                bodies.append(text)
    return bodies


def link_in(text: str) -> str:
    found = re.search(r"https?://[^\s/]+(/answer/[A-Za-z0-9_.\-]+)", text)
    assert found, f"no answer link in:\n{text}"
    return found.group(1)


def report_link(site: Site, email: str) -> str:
    """Tick at the end of Q2: the request is delivered; the partner's link from that email."""
    site.clock.set(Q2_END)
    site.c.tick(site.clock.now())
    bodies = mails_to(site, email, "/answer/")
    assert len(bodies) == 1, bodies
    assert "Bilan trimestriel" in bodies[0]
    return link_in(bodies[0])


def good_answers(csrf: str, title: str = "Ateliers parentalité") -> dict[str, str]:
    return {
        "csrf_token": csrf,
        "a1_title": title,
        "a1_resources": "yes",
        "a1_targets": "partly",
        "a1_targets_why": "Peu de pères présents aux ateliers",
        "a1_programme": "yes",
        "a1_objectives": "partly",
        "a1_objectives_why": "Objectif atteint à 80 %",
        # seed 001's contribution questions: optional; two answered, two left unanswered
        "a1_cooperation": "yes",
        "a1_cooperation_why": "La PMI et le centre social préparent les ateliers ensemble",
        "a1_ists": "partly",
        "a1_ists_why": "Participation des habitants au choix des thèmes",
        "a1_practices": "",
        "a2_title": "",  # an empty row: ignored
        "ind_beneficiaires": "32",
        "ind_ateliers": "5,5",
        "obstacles": "Locaux indisponibles en mai",
        "levers": "Appui de la mairie",
        "improvements": "Ateliers le samedi",
    }


def reports(site: Site) -> list[sa.Row[Any]]:
    with site.c.db.connect() as conn:
        return list(conn.execute(sa.select(tables.report).order_by(tables.report.c.id)))


# -- the quarterly report ----------------------------------------------------------------


def test_a_partner_submits_the_quarterly_report_from_the_email(any_site: Site) -> None:
    site = any_site
    alpha, beta = add_partners(site)
    to_implementation(site)
    path = report_link(site, ALPHA)

    partner = site.client()  # no account, no sign-in
    page = partner.get(path)
    assert page.status_code == 200
    assert "Coopérative A" in page.text and "Association Alpha" in page.text
    assert "2e trimestre 2026" in page.text
    assert "Coopérative B" not in page.text and "Centre Beta" not in page.text
    for question in (
        "Les ressources ont été mobilisées comme prévu",
        "Les groupes cibles ont été atteints comme prévu",
        "Les actions ont été réalisées et sont conformes à la programmation",
        "Les objectifs cibles ont été atteints",
        "L'action a contribué à améliorer la dynamique de coopération",
        "L'action a contribué à l'amélioration des pratiques",
        "L'action a contribué à activer des leviers permettant d'agir sur les ISTS",
        "L'action a contribué à l'amélioration du parcours de santé des bénéficiaires",
        "Bénéficiaires touchés",
        "Freins identifiés",
        "Leviers identifiés",
        "Pistes d'amélioration",
    ):
        assert question in html.unescape(page.text)
    assert page.headers["referrer-policy"] == "no-referrer"

    sent = partner.post(path, data=good_answers(csrf_of(page.text)), follow_redirects=False)
    assert sent.status_code == 303 and sent.headers["location"] == f"{path}/done"
    done = partner.get(sent.headers["location"])
    assert done.status_code == 200
    assert "Votre bilan a été transmis le 30/06/2026" in done.text
    assert "Peu de pères présents aux ateliers" in done.text
    shown = html.unescape(done.text)
    assert (
        "L'action a contribué à améliorer la dynamique de coopération : <strong>Oui</strong>"
        " — La PMI et le centre social préparent les ateliers ensemble"
    ) in shown
    assert "des pratiques" not in shown  # left unanswered: not listed

    [report] = reports(site)
    assert (report.project_id, report.partner_id) == (site.project_a, alpha)
    assert (report.schedule, report.period) == ("bilan_trimestriel", "2026-Q2")
    content = report.content
    assert content["actions"] == [
        {
            "title": "Ateliers parentalité",
            "resources": {"answer": "yes", "why": ""},
            "targets": {"answer": "partly", "why": "Peu de pères présents aux ateliers"},
            "programme": {"answer": "yes", "why": ""},
            "objectives": {"answer": "partly", "why": "Objectif atteint à 80 %"},
            "cooperation": {
                "answer": "yes",
                "why": "La PMI et le centre social préparent les ateliers ensemble",
            },
            "practices": {"answer": "", "why": ""},
            "ists": {"answer": "partly", "why": "Participation des habitants au choix des thèmes"},
            "pathway": {"answer": "", "why": ""},
        }
    ]
    realised = {i["key"]: (i["planned"], i["realised"]) for i in content["indicators"]}
    assert realised == {"beneficiaires": (40, 32), "ateliers": (6, 5.5)}
    assert (content["obstacles"], content["levers"], content["improvements"]) == (
        "Locaux indisponibles en mai",
        "Appui de la mairie",
        "Ateliers le samedi",
    )

    # The engine counts it: only Beta's report is still missing before the evaluation.
    unmet = site.c.engine.check(site.project_a, "start_evaluation")
    assert "Bilan trimestriel not received from Centre Beta" in [str(u) for u in unmet]

    # A week before the deadline, only the partner who has not answered is reminded.
    site.clock.set(datetime(2026, 7, 23, 9, 0, tzinfo=PARIS))
    site.c.tick(site.clock.now())
    assert mails_to(site, BETA, "Rappel") and len(mails_to(site, BETA, "/answer/")) == 2
    assert len(mails_to(site, ALPHA, "/answer/")) == 1


def test_a_bad_answer_is_named_and_nothing_is_stored(site: Site) -> None:
    add_partners(site)
    to_implementation(site)
    path = report_link(site, ALPHA)
    partner = site.client()
    csrf = csrf_of(partner.get(path).text)

    missing_why = {**good_answers(csrf), "a1_targets_why": ""}
    refused = partner.post(path, data=missing_why)
    assert refused.status_code == 422
    assert 'data-field="a1_targets_why"' in refused.text
    assert "Action 1 — Les groupes cibles ont été atteints comme prévu" in refused.text
    assert "Dites pourquoi" in refused.text
    assert 'value="Ateliers parentalité"' in refused.text  # what was typed is kept

    not_a_number = {**good_answers(csrf), "ind_beneficiaires": "trente"}
    refused = partner.post(path, data=not_a_number)
    assert refused.status_code == 422
    assert 'data-field="ind_beneficiaires"' in refused.text
    assert "Bénéficiaires touchés</a> : Saisissez un nombre" in refused.text

    no_answer = {**good_answers(csrf)}
    del no_answer["a1_programme"]
    refused = partner.post(path, data=no_answer)
    assert refused.status_code == 422 and 'data-field="a1_programme"' in refused.text

    nothing = partner.post(path, data={"csrf_token": csrf, "a1_title": "", "a2_title": ""})
    assert nothing.status_code == 422 and "Décrivez au moins une action" in nothing.text
    assert reports(site) == []

    # English interface: the same error, translated.
    english = partner.post(f"{path}?lang=en", data=missing_why)
    assert english.status_code == 422
    assert "The form has errors: nothing was saved." in english.text
    assert "Action 1 — Target groups were reached as planned</a> : Say why" in english.text


def test_more_action_rows_without_javascript(site: Site) -> None:
    add_partners(site)
    to_implementation(site)
    path = report_link(site, ALPHA)
    partner = site.client()
    csrf = csrf_of(partner.get(path).text)
    rows = {k: v for k, v in good_answers(csrf).items() if k.startswith(("a1_", "csrf"))}
    more = partner.post(path, data={**rows, "add_action": "1"})
    assert more.status_code == 200 and 'name="a2_title"' in more.text
    assert 'value="Ateliers parentalité"' in more.text
    assert reports(site) == []


def test_sending_the_same_quarter_again_replaces_the_report(site: Site) -> None:
    add_partners(site)
    to_implementation(site)
    path = report_link(site, ALPHA)
    partner = site.client()
    csrf = csrf_of(partner.get(path).text)
    partner.post(path, data=good_answers(csrf))

    site.clock.advance(timedelta(days=2))
    again = partner.get(path)
    assert "Vous avez déjà transmis ce bilan le 30/06/2026" in again.text
    assert 'value="Ateliers parentalité"' in again.text  # the form opens with what was sent
    assert "Peu de pères présents aux ateliers</textarea>" in again.text
    partner.post(path, data=good_answers(csrf, title="Ateliers parentalité et petite enfance"))

    [report] = reports(site)
    assert report.content["actions"][0]["title"] == "Ateliers parentalité et petite enfance"
    assert report.submitted_at.astimezone(PARIS).date().isoformat() == "2026-07-02"


def test_the_next_quarter_starts_from_the_actions_already_reported(site: Site) -> None:
    alpha, _ = add_partners(site)
    to_implementation(site)
    site.c.records.submit_report(
        site.project_a,
        alpha,
        "bilan_trimestriel",
        "2026-Q1",
        {"form": "suivi_actions", "actions": [{"title": "Permanence santé"}]},
    )
    page = site.client().get(
        link_path(site, "report", site.project_a, alpha, "bilan_trimestriel:2026-Q2")
    )
    assert 'value="Permanence santé"' in page.text
    assert "Vous avez déjà transmis" not in page.text


def test_a_form_without_its_csrf_token_is_refused(site: Site) -> None:
    add_partners(site)
    to_implementation(site)
    path = report_link(site, ALPHA)
    partner = site.client()
    partner.get(path)
    data = good_answers("")
    del data["csrf_token"]
    assert partner.post(path, data=data).status_code == 403
    assert reports(site) == []


def test_a_partner_never_sees_another_partners_report(site: Site) -> None:
    alpha, beta = add_partners(site)
    to_implementation(site)
    alpha_path = report_link(site, ALPHA)
    beta_path = link_in(mails_to(site, BETA, "/answer/")[0])
    assert alpha_path != beta_path
    alpha_client, beta_client = site.client(), site.client()
    alpha_client.post(alpha_path, data=good_answers(csrf_of(alpha_client.get(alpha_path).text)))

    for page in (beta_client.get(beta_path), beta_client.get(f"{beta_path}/done")):
        assert page.status_code == 200
        assert "Centre Beta" in page.text
        assert "Association Alpha" not in page.text
        assert "Ateliers parentalité" not in page.text and "Peu de pères" not in page.text
    # Beta sends a report: Alpha's is untouched.
    beta_client.post(
        beta_path, data=good_answers(csrf_of(beta_client.get(beta_path).text), "Dépistage")
    )
    by_partner = {r.partner_id: r.content["actions"][0]["title"] for r in reports(site)}
    assert by_partner == {alpha: "Ateliers parentalité", beta: "Dépistage"}


# -- refusals ------------------------------------------------------------------------------


def link_path(site: Site, purpose: str, project: int, partner: int, detail: str) -> str:
    url = site.c.links.make(purpose, project, partner, detail)
    return url.removeprefix(site.settings.base_url)


def test_an_expired_link_is_refused(site: Site) -> None:
    add_partners(site)
    to_implementation(site)
    path = report_link(site, ALPHA)
    partner = site.client()
    page = partner.get(path)
    assert page.status_code == 200
    site.clock.advance(timedelta(days=site.settings.link_max_age_days, hours=1))
    refused = partner.get(path)
    assert refused.status_code == 403 and "expired" in refused.text
    posted = partner.post(path, data=good_answers(csrf_of(page.text)))
    assert posted.status_code == 403
    assert reports(site) == []


def test_an_altered_link_is_refused(site: Site) -> None:
    alpha, _ = add_partners(site)
    to_implementation(site)
    path = report_link(site, ALPHA)
    token = path.removeprefix("/answer/")
    payload, stamp, signature = token.rsplit(".", 2)
    # Another partner's id in the payload, the original signature kept.
    forged_payload = link_path(
        site, "report", site.project_a, alpha + 1, "bilan_trimestriel:2026-Q2"
    )
    forged = forged_payload.removeprefix("/answer/").rsplit(".", 2)[0]
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    client = site.client()
    for bad in (f"{forged}.{stamp}.{signature}", f"{payload}.{stamp}.{flipped}", token[:-5]):
        response = client.get(f"/answer/{bad}")
        assert response.status_code == 403, bad
        assert "altered or truncated" in response.text
        assert "Association Alpha" not in response.text


def test_a_link_whose_partner_has_left_is_refused(site: Site) -> None:
    _, beta = add_partners(site)
    to_implementation(site)
    report_link(site, ALPHA)
    beta_path = link_in(mails_to(site, BETA, "/answer/")[0])
    client = site.client()
    assert client.get(beta_path).status_code == 200
    site.c.records.partner_leaves(site.project_a, beta, on=site.clock.now().date())
    refused = client.get(beta_path)
    assert refused.status_code == 403
    assert "Centre Beta is no longer a partner of this project" in refused.text


def test_links_that_do_not_match_the_records_are_refused(site: Site) -> None:
    alpha, _ = add_partners(site)
    to_implementation(site)
    records, a, b = site.c.records, site.project_a, site.project_b
    meeting_b = records.schedule_meeting(b, "copil", datetime(2026, 7, 9, 14, tzinfo=PARIS))
    with site.c.db.connect() as conn:
        pilot_a = conn.execute(
            sa.text("SELECT id FROM partner WHERE project_id = :p AND email = :e"),
            {"p": a, "e": PILOT_A},
        ).scalar_one()
    refused = {
        # a meeting of project B through a link made for project A
        "meeting of B": ("meeting", a, alpha, str(meeting_b)),
        # project A's partner presented as a partner of project B
        "partner of A in B": ("report", b, alpha, "bilan_trimestriel:2026-Q2"),
        "unknown report": ("report", a, alpha, "bilan_annuel:2026-Q2"),
        "bad period": ("report", a, alpha, "bilan_trimestriel:2026-T2"),
        "the pilot owes no report": ("report", a, pilot_a, "bilan_trimestriel:2026-Q2"),
        "unknown purpose": ("vote", a, alpha, "x"),
        "unknown project": ("report", 999, alpha, "bilan_trimestriel:2026-Q2"),
    }
    client = site.client()
    for case, args in refused.items():
        path = link_path(site, *args)
        response = client.get(path)
        assert response.status_code == 403, case
        assert "Coopérative B" not in response.text and "Coopérative A" not in response.text, case
        assert client.post(path, data={"csrf_token": "x"}).status_code == 403, case
    assert reports(site) == []


# -- meetings ------------------------------------------------------------------------------


def test_a_partner_answers_a_meeting_invitation(any_site: Site) -> None:
    site = any_site
    alpha, _ = add_partners(site)
    to_implementation(site)
    meeting = site.c.records.schedule_meeting(
        site.project_a,
        "copil",
        datetime(2026, 6, 12, 14, 0, tzinfo=PARIS),
        location="Mairie du 18e, salle 2",
    )
    path = link_path(site, "meeting", site.project_a, alpha, str(meeting))
    partner = site.client()
    page = partner.get(path)
    assert page.status_code == 200
    assert "Comité de pilotage (COPIL)" in page.text
    assert "vendredi 12 juin 2026 à 14 h" in page.text and "Mairie du 18e, salle 2" in page.text
    csrf = csrf_of(page.text)

    refused = partner.post(path, data={"csrf_token": csrf, "answer": "peut-être"})
    assert refused.status_code == 422 and 'data-field="answer"' in refused.text

    sent = partner.post(
        path,
        data={"csrf_token": csrf, "answer": "yes", "comment": "Avec une collègue"},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    assert "Oui" in partner.get(sent.headers["location"]).text
    partner.post(path, data={"csrf_token": csrf, "answer": "maybe", "comment": ""})

    with site.c.db.connect() as conn:
        rows = conn.execute(
            sa.select(
                tables.attendance.c.meeting_id,
                tables.attendance.c.partner_id,
                tables.attendance.c.answer,
            )
        ).all()
    assert [tuple(r) for r in rows] == [(meeting, alpha, "maybe")]  # one answer, the latest
    assert "Peut-être" in partner.get(path).text

    site.c.records.cancel_meeting(site.project_a, meeting)
    cancelled = partner.get(path)
    assert cancelled.status_code == 200 and "Cette réunion est annulée." in cancelled.text
    assert 'name="answer"' not in cancelled.text
    late = partner.post(path, data={"csrf_token": csrf, "answer": "no"})
    assert late.status_code == 422


def test_meeting_invitations_carry_each_partners_own_link(site: Site) -> None:
    alpha, beta = add_partners(site)
    to_implementation(site)
    records, pid = site.c.records, site.project_a
    meeting = records.schedule_meeting(
        pid, "copil", datetime(2026, 6, 12, 14, 0, tzinfo=PARIS), location="Mairie"
    )
    # Moved before the invitation went out: one invitation, with the new date.
    records.move_meeting(pid, meeting, datetime(2026, 6, 15, 14, 0, tzinfo=PARIS))
    site.c.tick(site.clock.now())
    client = site.client()
    for email, partner in ((ALPHA, alpha), (BETA, beta)):
        [invitation] = mails_to(site, email, "/answer/")
        assert "Invitation\u202f: Comité de pilotage (COPIL)" in invitation
        assert "avec votre lien personnel ci-dessous" in invitation
        assert "15/06/2026" in invitation or "15 juin 2026" in invitation
        assert "12 juin" not in invitation and "12/06/2026" not in invitation
        target = site.c.links.read(link_in(invitation).removeprefix("/answer/"))
        assert (target.purpose, target.project_id) == ("meeting", pid)
        assert (target.partner_id, target.detail) == (partner, str(meeting))
        page = client.get(link_in(invitation))
        assert page.status_code == 200 and "lundi 15 juin 2026 à 14 h" in page.text
    # Moved once the invitations are out: an update, with the link again.
    records.move_meeting(pid, meeting, datetime(2026, 6, 16, 14, 0, tzinfo=PARIS))
    site.c.tick(site.clock.now())
    for email in (ALPHA, BETA):
        invitation, update = mails_to(site, email, "/answer/")
        assert "Réunion modifiée" in update or "a été modifiée" in update
        assert client.get(link_in(update)).status_code == 200
    # A cancellation cannot be answered: it carries no link.
    records.cancel_meeting(pid, meeting)
    site.c.tick(site.clock.now())
    cancels = [t for t in mails_to(site, ALPHA) if "annul" in t and "/answer/" not in t]
    assert len(cancels) == 1


def test_a_meeting_cancelled_before_its_invitation_went_out_sends_nothing(
    any_site: Site,
) -> None:
    site = any_site
    add_partners(site)
    to_implementation(site)
    site.c.tick(site.clock.now())  # what the steps so far announced goes out first
    before = {email: len(mails_to(site, email)) for email in (ALPHA, BETA, PILOT_A)}
    assert before[ALPHA] > 0
    records, pid = site.c.records, site.project_a
    meeting = records.schedule_meeting(pid, "copil", datetime(2026, 6, 12, 14, 0, tzinfo=PARIS))
    records.cancel_meeting(pid, meeting)
    site.c.tick(site.clock.now())
    assert {email: len(mails_to(site, email)) for email in (ALPHA, BETA, PILOT_A)} == before


def test_a_partner_not_invited_to_a_meeting_cannot_open_it(site: Site) -> None:
    records, pid = site.c.records, site.project_a
    resident = records.add_partner(
        pid, PartnerIn("Conseil citoyen", "habitants@exemple.fr", roles=("habitants",))
    )
    # reunion_projet gathers the pilot and the partners, not the inhabitants' representatives
    meeting = records.schedule_meeting(
        pid, "reunion_projet", datetime(2026, 5, 18, 10, tzinfo=PARIS)
    )
    response = site.client().get(link_path(site, "meeting", pid, resident, str(meeting)))
    assert response.status_code == 403
    assert "Conseil citoyen is not invited to this meeting" in response.text


def test_answer_pages_switch_to_english(site: Site) -> None:
    add_partners(site)
    to_implementation(site)
    path = report_link(site, ALPHA)
    page = site.client().get(f"{path}?lang=en")
    assert "Your actions" in page.text and "Send the report" in page.text
    assert "Q2 2026" in page.text


def test_a_link_of_project_b_shows_only_project_b(site: Site) -> None:
    """A partner of project B with a valid link cannot reach project A's reports."""
    b_partner = site.c.records.add_partner(
        site.project_b, PartnerIn("Association Gamma", "gamma@exemple.fr")
    )
    path = link_path(site, "report", site.project_b, b_partner, "bilan_trimestriel:2026-Q2")
    page = site.client().get(path)
    assert page.status_code == 200
    assert "Coopérative B" in page.text and "Coopérative A" not in page.text


def test_a_contribution_answer_must_be_one_of_the_choices(site: Site) -> None:
    add_partners(site)
    to_implementation(site)
    path = report_link(site, ALPHA)
    partner = site.client()
    csrf = csrf_of(partner.get(path).text)
    refused = partner.post(path, data={**good_answers(csrf), "a1_practices": "beaucoup"})
    assert refused.status_code == 422
    assert 'data-field="a1_practices"' in refused.text
    assert "Action 1 — L'action a contribué à l'amélioration des pratiques" in html.unescape(
        refused.text
    )
    assert reports(site) == []


def test_the_answer_page_speaks_the_partners_language(site: Site) -> None:
    records = site.c.records
    gamma = records.add_partner(
        site.project_a, PartnerIn("Gamma Health", "gamma@health.example", "Gail", lang="en")
    )
    to_implementation(site)
    path = link_path(site, "report", site.project_a, gamma, "bilan_trimestriel:2026-Q2")
    page = site.client().get(path)  # no ?lang=, no cookie: the partner's stored language
    assert "Your actions" in page.text and "Send the report" in page.text
    assert "Vos actions" not in page.text
    french = site.client().get(path + "?lang=fr")
    assert "Vos actions" in french.text  # a choice made on the page still wins


def test_the_project_page_shows_who_answered_an_invitation(site: Site) -> None:
    alpha, beta = add_partners(site)
    to_implementation(site)
    meeting = site.c.records.schedule_meeting(
        site.project_a, "copil", datetime(2026, 7, 10, 14, 0, tzinfo=PARIS)
    )
    partner = site.client()
    path = link_path(site, "meeting", site.project_a, alpha, str(meeting))
    csrf = csrf_of(partner.get(path).text)
    partner.post(path, data={"csrf_token": csrf, "answer": "no", "comment": "En congés"})

    page = site.client(AGENCY).get(f"/projects/{site.project_a}").text
    row = html.unescape(re.sub(r"\s+", " ", page.split("Comité de pilotage (COPIL) n°3", 1)[1]))
    row = row.split("</tr>", 1)[0]
    assert '<div data-answer="no"><strong>Absents (1)</strong> : Association Alpha</div>' in row
    # invited to the COPIL and silent so far: the pilot's structure and Beta
    assert (
        '<div data-answer="none"><strong>Sans réponse (2)</strong> : Structure A, Centre Beta'
        in row
    )
    assert 'data-answer="yes"' not in row
