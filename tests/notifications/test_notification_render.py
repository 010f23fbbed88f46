from __future__ import annotations

from datetime import date

import pytest

from notifications import Renderer, RenderError, UnknownTemplate
from notifications.render import french_spacing
from tests.notifications.notification_samples import EXPECTED_FR, SAMPLES, sample

RENDERER = Renderer()


@pytest.mark.parametrize("kind", sorted(RENDERER.kinds()))
def test_every_kind_renders_in_french(kind: str) -> None:
    assert kind in SAMPLES, (
        f"add a sample item for the new kind {kind!r} in notification_samples.py"
    )
    out = RENDERER.render("fr", "Jeanne Dupont", [sample(kind)])

    assert out.subject.startswith("Copilote\u202f: ")  # French spacing
    assert "\n" not in out.subject
    for body in (out.text, out.html):
        assert "Jeanne Dupont" in body  # to whom
        assert "lundi 2 mars 2026" in body  # by when, as a French long date
        assert "Monday" not in body and "March" not in body
        assert "Claire Martin" in body and "claire.martin@ars.sante.fr" in body  # how to answer
        assert "message automatique" in body and "Copilote" in body
    assert "Coopérative d'acteurs du Lensois" in out.text
    assert (
        french_spacing("Pour répondre, écrivez à votre pilote de projet, Claire Martin") in out.text
    )
    for expected in EXPECTED_FR[kind]:
        assert french_spacing(expected) in out.text, (
            f"{kind}: {expected!r} missing from\n{out.text}"
        )


def test_every_sample_is_a_known_kind() -> None:
    assert set(SAMPLES) == set(RENDERER.kinds()) == set(EXPECTED_FR)


@pytest.mark.parametrize("kind", sorted(RENDERER.kinds()))
def test_every_kind_renders_in_english(kind: str) -> None:
    out = RENDERER.render("en", "Jane Doe", [sample(kind)])
    assert out.subject.startswith("Copilote: ")
    assert "Hello Jane Doe" in out.text
    assert "Monday 2 March 2026" in out.text
    assert "automatic message from Copilote" in out.text
    assert "lundi" not in out.text


def test_french_dates_and_answer_link() -> None:
    out = RENDERER.render(
        "fr",
        "Jeanne",
        [sample("meeting_invitation", answer_url="https://copilote.example/r/abc")],
    )
    assert out.subject == "Copilote\u202f: invitation – COPIL 2, lundi 2 mars 2026 à 9 h"
    assert french_spacing("Pour répondre : https://copilote.example/r/abc") in out.text
    assert 'href="https://copilote.example/r/abc"' in out.html


def test_deadline_moved_from_a_public_holiday_is_explained() -> None:
    item = sample(
        "report_request",
        due=date(2026, 4, 7),
        moved_from=date(2026, 4, 6),
        due_is_non_working=False,
        non_working_day={"kind": "public_holiday", "day": date(2026, 4, 6), "country": "FR"},
    )
    text = RENDERER.render("fr", "Jeanne", [item]).text
    assert "l'échéance initiale du lundi 6 avril 2026 tombait un jour non ouvré" in text
    assert french_spacing("(lundi de Pâques) ; elle est reportée au mardi 7 avril 2026") in text


def test_missing_field_raises() -> None:
    item = sample("milestone_reminder")
    del item["deliverable"]
    with pytest.raises(RenderError, match="deliverable"):
        RENDERER.render("fr", "Jeanne", [item])


def test_unknown_kind_names_the_known_ones() -> None:
    with pytest.raises(UnknownTemplate, match="milestone_reminder") as info:
        RENDERER.check("milestone_remindr")
    assert "milestone_remindr" in str(info.value)
    with pytest.raises(UnknownTemplate):
        RENDERER.render("fr", "Jeanne", [{**sample("milestone_reminder"), "kind": "nope"}])


def test_digest_of_three_items() -> None:
    items = [
        sample("milestone_reminder"),
        sample("report_reminder"),
        sample("meeting_reminder"),
    ]
    fr = RENDERER.render("fr", "Jeanne", items)
    assert fr.subject == "Copilote\u202f: 3 points à traiter"
    assert "Voici les 3 points" in fr.text
    for expected in ("Diagnostic local de santé", "Bilan trimestriel", "COPIL 2"):
        expected = french_spacing(expected)
        assert expected in fr.text and expected in fr.html
    en = RENDERER.render("en", "Jane", items)
    assert en.subject == "Copilote: 3 items need your attention"


def test_html_escapes_project_title_but_text_keeps_it() -> None:
    item = sample("partner_joined", project_title="<script>alert(1)</script>")
    out = RENDERER.render("fr", "Jeanne <b>", [item])
    assert "<script>" not in out.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out.html
    assert "Jeanne &lt;b&gt;" in out.html
    assert "<script>alert(1)</script>" in out.text  # plain text is not HTML


def test_custom_templates_dir_lists_only_complete_kinds(tmp_path: object) -> None:
    from pathlib import Path

    root = Path(str(tmp_path))
    for lang in ("fr", "en"):
        (root / lang / "items").mkdir(parents=True)
        for suffix in (".subject.txt", ".txt", ".html"):
            (root / lang / "items" / f"ping{suffix}").write_text("x")
    (root / "fr" / "items" / "half.txt").write_text("x")
    assert Renderer(root).kinds() == frozenset({"ping"})
