"""Plurals and labels in the reader's language, through their one home each: counts
(``notifications.wording.count``: "1 séminaire" / "2 séminaires", "1 person" / "12 people")
and what a message item names in both languages (``notifications.render.in_language``)."""

from __future__ import annotations

from typing import Any

import pytest
from markupsafe import Markup

from notifications import Renderer
from notifications.render import in_language
from notifications.wording import COUNTED, UnknownUnit, count, say
from tests.notifications.notification_samples import sample
from web.templating import templates


@pytest.mark.parametrize(
    ("n", "unit", "lang", "expected"),
    [
        (1, "seminar", "fr", "1 séminaire"),
        (2, "seminar", "fr", "2 séminaires"),
        (0, "seminar", "fr", "0 séminaire"),  # French counts 0 in the singular
        (1, "person", "fr", "1 personne"),
        (12, "person", "fr", "12 personnes"),
        (1, "day", "fr", "1 jour"),
        (3, "day", "fr", "3 jours"),
        (2, "month", "fr", "2 mois"),
        (1234, "day", "fr", "1\u202f234 jours"),
        (1, "seminar", "en", "1 seminar"),
        (2, "seminar", "en", "2 seminars"),
        (0, "day", "en", "0 days"),  # English does not
        (1, "person", "en", "1 person"),
        (12, "person", "en", "12 people"),
        (3, "day_late", "en", "3 days late"),
        (1, "meeting_cancelled", "fr", "1 réunion annulée"),
        (2, "meeting_cancelled", "fr", "2 réunions annulées"),
        (2, "meeting_planned_not_held", "fr", "2 réunions prévues non tenues"),
        (1234, "day", "en", "1,234 days"),
    ],
)
def test_count_says_the_plural_of_its_language(n: int, unit: str, lang: str, expected: str) -> None:
    assert count(n, unit, lang) == expected


def test_every_counted_unit_exists_in_both_languages() -> None:
    assert set(COUNTED["fr"]) == set(COUNTED["en"])
    with pytest.raises(UnknownUnit, match="add its singular and plural to COUNTED"):
        count(2, "seminars")


def test_phrases_count_with_a_unit() -> None:
    assert say("overdue.days_late", "fr", days=1) == "1 jour de retard"
    assert say("overdue.days_late", "fr", days=30) == "30 jours de retard"
    assert say("overdue.days_late", "en", days=1) == "1 day late"
    assert say("refusal.too_few_partners", "fr", active=1, needed=2) == (
        "1 partenaire actif, il en faut au moins 2"
    )
    assert say("refusal.too_few_partners", "fr", active=3, needed=5) == (
        "3 partenaires actifs, il en faut au moins 5"
    )
    assert say("refusal.too_few_partners", "en", active=0, needed=2) == (
        "0 active partners, at least 2 needed"
    )


@pytest.mark.parametrize(
    ("lang", "days", "expected"),
    [
        ("fr", 1, "1 jour de retard"),
        ("fr", 9, "9 jours de retard"),
        ("en", 1, "1 day late"),
        ("en", 9, "9 days late"),
    ],
)
def test_emails_count_days_late(lang: str, days: int, expected: str) -> None:
    out = Renderer().render(lang, "Jeanne", [sample("milestone_overdue", days_late=days)])
    assert expected in out.text and expected in out.html


def test_pages_count_in_the_readers_language() -> None:
    page = templates.env.from_string('{{ n|count("person") }} / {{ names|join(", ") }}')
    assert page.render(lang="fr", n=12, names=["a", "<b>"]) == "12 personnes / a, &lt;b&gt;"
    assert page.render(lang="en", n=1, names=[Markup("<i>x</i>")]) == "1 person / <i>x</i>"
    by_name = templates.env.from_string('{{ rows|join(" | ", attribute="name") }}')
    assert by_name.render(rows=[{"name": "A"}, {"name": "B"}]) == "A | B"


def test_an_item_speaks_the_readers_language() -> None:
    item: dict[str, Any] = {
        "kind": "overdue_digest",
        "milestone_label": "Fiche de cadrage",
        "milestone_label_en": "Framing sheet",
        "deliverable": None,
        "overdue": [{"label": "Diagnostic", "label_en": "Diagnosis", "days_late": 3}],
        "tags": ["a", "b"],
    }
    english = in_language(item, "en")
    assert english["milestone_label"] == "Framing sheet"
    assert english["overdue"][0]["label"] == "Diagnosis"
    assert english["tags"] == ["a", "b"] and english["deliverable"] is None
    assert in_language(item, "fr") is item
    # an item queued before it carried English keeps its French
    old = {"kind": "milestone_reminder", "milestone_label": "Fiche de cadrage"}
    assert in_language(old, "en") is old
