"""Wording that depends on the reader and on the dates (issue 11, item 6): greetings, the
pilot never told to write to the pilot, partners not asked to convene the annual review,
the tense of a partner leaving, merged partner news, and the one French spacing rule."""

from __future__ import annotations

from datetime import date

import pytest

from notifications import Renderer
from notifications.render import NARROW_NBSP, french_spacing
from tests.notifications.notification_samples import sample

RENDERER = Renderer()


def fr(text: str) -> str:
    return french_spacing(text)


def test_greeting_by_contact_name_else_a_plain_hello() -> None:
    named = RENDERER.render("fr", "Jeanne Dupont", [sample("milestone_reminder")])
    assert named.text.startswith("Bonjour Jeanne Dupont,\n\n")
    nameless = RENDERER.render("fr", "", [sample("milestone_reminder")])
    assert nameless.text.startswith("Bonjour,\n\n") and "<p>Bonjour,</p>" in nameless.html
    assert RENDERER.render("en", "", [sample("milestone_reminder")]).text.startswith("Hello,\n\n")


@pytest.mark.parametrize("kind", ["milestone_reminder", "milestone_overdue", "meeting_reminder"])
def test_the_pilot_is_never_told_to_contact_the_pilot(kind: str) -> None:
    item = sample(kind, reader="pilot", project_url="https://copilote.example/projects/7")
    for lang, words in (("fr", "pilote de projet"), ("en", "project pilot")):
        out = RENDERER.render(lang, "Claire Martin", [item])
        for body in (out.text, out.html):
            assert words not in body, (lang, body)
        assert "https://copilote.example/projects/7" in out.text  # where the pilot acts
    partner = RENDERER.render("fr", "Jeanne", [sample(kind, reader="partner")])
    assert "pilote de projet" in partner.text


def test_the_annual_review_asks_only_the_pilot_to_convene_the_partners() -> None:
    pilot = RENDERER.render("fr", "Claire", [sample("annual_review", reader="pilot")]).text
    partner = RENDERER.render("fr", "Jeanne", [sample("annual_review", reader="partner")]).text
    assert "y convier les partenaires" in pilot
    assert "convier les partenaires" not in partner
    assert "Votre pilote de projet vous y conviera" in partner


def test_a_partner_leaving_later_will_leave() -> None:
    later = sample(
        "partner_left", at=date(2027, 7, 6), today=date(2026, 11, 30), partners=["Souffle 93"]
    )
    text = RENDERER.render("fr", "Jeanne", [later]).text
    assert "La structure Souffle 93 quittera le projet le mardi 6 juillet 2027" in text
    assert "a quitté" not in text
    english = RENDERER.render("en", "Jane", [later]).text
    assert "Souffle 93 will leave the project on Tuesday 6 July 2027" in english
    gone = sample("partner_left", at=date(2026, 11, 2), today=date(2026, 11, 30))
    assert "a quitté le projet le lundi 2 novembre 2026" in RENDERER.render("fr", "J", [gone]).text


def test_partners_joining_the_same_day_are_one_piece_of_news() -> None:
    item = sample("partner_joined", partners=["Asso A", "Centre B", "Mairie C"])
    out = RENDERER.render("fr", "Claire", [item])
    assert out.subject.startswith(fr("Copilote : 3 partenaires rejoignent le projet"))
    assert "Les structures Asso A, Centre B, Mairie C ont rejoint le projet" in out.text
    welcome = sample("partner_joined", welcome=True, partners=["Centre B", "Mairie C"])
    text = RENDERER.render("fr", "Jeanne", [welcome]).text
    assert "Bienvenue dans le projet" in text and "aux côtés de" in text
    assert "Centre B, Mairie C" in text


def test_one_french_spacing_rule() -> None:
    assert french_spacing("Projet : « Bilan » ; vraiment ! Oui ?") == (
        f"Projet{NARROW_NBSP}: «{NARROW_NBSP}Bilan{NARROW_NBSP}»{NARROW_NBSP}; "
        f"vraiment{NARROW_NBSP}! Oui{NARROW_NBSP}?"
    )
    # times, links and query strings keep their marks as they are
    kept = "à 9 h, https://copilote.example/answer/x?lang=fr"
    assert french_spacing(kept) == kept
    out = RENDERER.render("fr", "Jeanne", [sample("milestone_overdue")])
    for body in (out.subject, out.text, out.html):
        assert " :" not in body and "« " not in body and " »" not in body
    assert f"Copilote{NARROW_NBSP}:" in out.subject
    assert (
        "1er"
        in RENDERER.render("fr", "J", [sample("milestone_reminder", due=date(2026, 10, 1))]).text
    )
    english = RENDERER.render("en", "Jane", [sample("milestone_overdue")])
    assert NARROW_NBSP not in english.text  # English typography is left alone


def test_a_partner_joining_later_will_join() -> None:
    later = sample("partner_joined", at=date(2027, 1, 4), today=date(2026, 11, 30))
    assert "rejoindra le projet le lundi 4 janvier 2027" in RENDERER.render("fr", "J", [later]).text
    assert (
        "will join the project on Monday 4 January 2027" in RENDERER.render("en", "J", [later]).text
    )
    welcome = {**later, "welcome": True, "partners": []}
    text = RENDERER.render("fr", "J", [welcome]).text
    assert "participe au projet à partir du lundi 4 janvier 2027" in text


def test_the_agency_reads_an_escalation_about_the_pilot_s_own_deliverable() -> None:
    own = sample("milestone_escalation", reader="agency", late_is_pilot=True)
    text = RENDERER.render("fr", "ARS", [own]).text
    assert "Merci de faire le point avec le pilote de projet" in text
    about_partner = sample("milestone_escalation", reader="agency", late_is_pilot=False)
    text = RENDERER.render("fr", "ARS", [about_partner]).text
    assert "Le pilote de projet est chargé d'en convenir avec Karim Benali" in text
    to_pilot = RENDERER.render("fr", "Claire", [sample("milestone_escalation", reader="pilot")])
    assert "Merci de prendre contact avec Karim Benali" in to_pilot.text
