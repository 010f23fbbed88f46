"""Periods, cadences and non-working days: items carry them as data, the templates word them in
the recipient's language (filters ``quarter``, ``cadence``, ``non_working``, ``date_long``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from notifications import Renderer
from notifications.days import cadence, holiday_name, non_working_day, quarter
from notifications.render import french_spacing
from tests.notifications.notification_samples import sample
from workflow.calendar import NonWorkingDay, non_working_reason

RENDERER = Renderer()
PARIS = ZoneInfo("Europe/Paris")


def render(lang: str, source: str, **context: Any) -> str:
    """``source`` rendered with the Renderer's filters, as a text template of language ``lang``."""
    text = "{% autoescape false %}" + source + "{% endautoescape %}"
    return RENDERER.env.from_string(text).render(lang=lang, **context)


@pytest.mark.parametrize(
    ("period", "fr", "en"),
    [
        ("2026-Q1", "1er trimestre 2026", "first quarter of 2026"),
        ("2026-Q2", "2e trimestre 2026", "second quarter of 2026"),
        ("2027-Q3", "3e trimestre 2027", "third quarter of 2027"),
        ({"year": 2026, "quarter": 4}, "4e trimestre 2026", "fourth quarter of 2026"),
    ],
)
def test_quarter_long(period: Any, fr: str, en: str) -> None:
    assert render("fr", "{{ p|quarter }}", p=period) == fr == quarter(period, "fr")
    assert render("en", "{{ p|quarter }}", p=period) == en == quarter(period, "en")


def test_quarter_short() -> None:
    assert render("fr", "{{ p|quarter(short=True) }}", p="2026-Q1") == "T1 2026"
    assert render("en", "{{ p|quarter(short=True) }}", p="2026-Q1") == "Q1 2026"
    assert quarter("2031-Q4", "en", short=True) == "Q4 2031"  # no digit grouping in years
    with pytest.raises(ValueError, match="2026-Q5"):
        quarter("2026-Q5", "fr")


@pytest.mark.parametrize(
    ("every", "unit", "fr", "en"),
    [
        (2, "months", "tous les 2 mois", "every 2 months"),
        (1, "months", "tous les mois", "every month"),
        (2, "weeks", "toutes les 2 semaines", "every 2 weeks"),
        (1, "weeks", "toutes les semaines", "every week"),
    ],
)
def test_cadence(every: int, unit: str, fr: str, en: str) -> None:
    value = {"every": every, "unit": unit}
    assert render("fr", "{{ c|cadence }}", c=value) == fr == cadence(value, "fr")
    assert render("en", "{{ c|cadence }}", c=value) == en == cadence(value, "en")


def test_non_working_reason_is_data() -> None:
    assert non_working_reason(date(2026, 4, 4)) == NonWorkingDay("saturday", date(2026, 4, 4))
    assert non_working_reason(date(2026, 4, 5)) == NonWorkingDay("sunday", date(2026, 4, 5))
    easter_monday = non_working_reason(date(2026, 4, 6))
    assert easter_monday == NonWorkingDay("public_holiday", date(2026, 4, 6), "FR")
    assert non_working_reason(date(2026, 4, 7)) is None
    # a holiday on a Sunday is the holiday (Armistice 2029 is a Sunday)
    assert non_working_reason(date(2029, 11, 11)) == NonWorkingDay(
        "public_holiday", date(2029, 11, 11)
    )
    assert easter_monday is not None
    assert easter_monday.as_item() == {
        "kind": "public_holiday",
        "day": date(2026, 4, 6),
        "country": "FR",
    }


@pytest.mark.parametrize(
    ("day", "fr", "en"),
    [
        (date(2026, 4, 4), "samedi", "Saturday"),
        (date(2026, 4, 5), "dimanche", "Sunday"),
        (date(2026, 4, 6), "lundi de Pâques", "Easter Monday"),
        (date(2026, 5, 1), "fête du Travail", "Labor Day"),
        (date(2026, 5, 25), "lundi de Pentecôte", "Pentecost Monday"),
        (date(2026, 11, 1), "Toussaint", "All Saints' Day"),
        (date(2026, 12, 25), "Noël", "Christmas Day"),
    ],
)
def test_non_working_day_in_each_language(day: date, fr: str, en: str) -> None:
    reason = non_working_reason(day)
    assert reason is not None
    item = reason.as_item()
    assert render("fr", "{{ d|non_working }}", d=item) == fr == non_working_day(reason, "fr")
    assert render("en", "{{ d|non_working }}", d=item) == en == non_working_day(reason, "en")


def test_holiday_name_of_a_working_day_is_none() -> None:
    assert holiday_name(date(2026, 4, 7), "fr") is None
    assert holiday_name(date(2026, 7, 14), "en") == "National Day"


def test_first_of_the_month_is_an_ordinal_in_french_only() -> None:
    first = date(2026, 4, 1)
    assert render("fr", "{{ d|date_long }}", d=first) == "mercredi 1er avril 2026"
    assert render("en", "{{ d|date_long }}", d=first) == "Wednesday 1 April 2026"
    assert render("fr", "{{ d|date_long }}", d=date(2026, 4, 11)) == "samedi 11 avril 2026"
    at = datetime(2027, 1, 1, 14, 30, tzinfo=PARIS)
    assert render("fr", "{{ d|datetime_long }}", d=at) == "vendredi 1er janvier 2027 à 14 h 30"
    assert render("en", "{{ d|datetime_long }}", d=at) == "Friday 1 January 2027 at 14:30"


def test_report_items_word_their_quarter_in_each_language() -> None:
    item = sample("report_request", period="2026-Q3")
    fr = RENDERER.render("fr", "Jeanne", [item])
    en = RENDERER.render("en", "Jane", [item])
    assert "(3e trimestre 2026)" in fr.subject and "3e trimestre 2026" in fr.html
    assert "(third quarter of 2026)" in en.subject and "Period: third quarter of 2026" in en.text
    assert "trimestre" not in en.text + en.html


def test_series_behind_words_its_cadence_in_each_language() -> None:
    item = sample("series_behind", cadence={"every": 3, "unit": "weeks"})
    fr = RENDERER.render("fr", "Jeanne", [item]).text
    en = RENDERER.render("en", "Jane", [item]).text
    assert french_spacing("doit se réunir toutes les 3 semaines ;") in fr
    assert "is expected to meet every 3 weeks;" in en and "Expected frequency: every 3 weeks" in en
    # each fact on its own line (the line after an ``{% endif %}`` is not glued to it)
    assert "- Last meeting: Thursday 4 December 2025\n- To meet before: Monday 2 March 2026" in en
    assert (
        french_spacing(
            "- Dernière réunion : jeudi 4 décembre 2025\n- À réunir avant le : lundi 2 mars"
        )
        in fr
    )


def test_a_deadline_on_a_holiday_is_explained_in_english() -> None:
    item = sample(
        "milestone_reminder",
        due=date(2026, 5, 26),
        moved_from=date(2026, 5, 25),
        non_working_day={"kind": "public_holiday", "day": date(2026, 5, 25), "country": "FR"},
    )
    en = RENDERER.render("en", "Jane", [item]).text
    assert (
        "the original deadline of Monday 25 May 2026 fell on a non-working day"
        " (Pentecost Monday); it has been moved to Tuesday 26 May 2026." in en
    )
    fr = RENDERER.render("fr", "Jeanne", [item]).text
    assert (
        french_spacing(
            "tombait un jour non ouvré (lundi de Pentecôte) ; elle est reportée au mardi 26 mai"
        )
        in fr
    )
    saturday = sample(
        "report_reminder",
        due=date(2026, 4, 4),
        days_left=3,
        due_is_non_working=True,
        non_working_day={"kind": "saturday", "day": date(2026, 4, 4), "country": "FR"},
    )
    assert "falls on a non-working day (Saturday); plan ahead" in (
        RENDERER.render("en", "Jane", [saturday]).text
    )
    assert french_spacing(
        "cette échéance tombe un jour non ouvré (samedi) ; pensez à anticiper"
    ) in (RENDERER.render("fr", "Jeanne", [saturday]).text)
    # once it is past, "plan ahead" makes no sense: an overdue notice does not say it
    overdue = sample(
        "report_overdue",
        due=date(2026, 4, 4),
        days_left=-5,
        due_is_non_working=True,
        non_working_day={"kind": "saturday", "day": date(2026, 4, 4), "country": "FR"},
    )
    assert "plan ahead" not in RENDERER.render("en", "Jane", [overdue]).text
    assert "anticiper" not in RENDERER.render("fr", "Jeanne", [overdue]).text


def test_an_automatic_phase_change_is_said_in_each_language() -> None:
    item = sample("phase_changed", actor="Copilote (automatique)", automatic=True, comment=None)
    en = RENDERER.render("en", "Jane", [item])
    assert 'Copilote automatically moved the project from the "Diagnostic" phase' in en.text
    assert "- By: Copilote (automatic step)\n- Date: Monday 2 March 2026 at 14:30" in en.text
    assert "automatique" not in en.text + en.html
    fr = RENDERER.render("fr", "Jeanne", [item]).text
    assert (
        french_spacing(
            "Copilote a fait passer automatiquement le projet de la phase « Diagnostic »"
        )
        in fr
    )
    assert (
        french_spacing("- Par : Copilote (étape automatique)\n- Date : lundi 2 mars 2026 à 14 h 30")
        in fr
    )
    by_hand = RENDERER.render("en", "Jane", [sample("phase_changed", automatic=False)]).text
    assert "Claire Martin moved the project" in by_hand and "- By: Claire Martin" in by_hand


def test_items_queued_before_the_upgrade_still_render() -> None:
    """An outbox row written by the previous version (French words in its item) renders."""
    old_series = {**sample("series_behind"), "interval_label": "tous les 3 semaines"}
    del old_series["cadence"]
    assert "every 3 weeks" in RENDERER.render("en", "Jane", [old_series]).text
    old_report = {**sample("report_request"), "non_working_reason": "samedi"}
    del old_report["non_working_day"]
    assert "first quarter of 2026" in RENDERER.render("en", "Jane", [old_report]).text
    old_change = sample("phase_changed")  # no ``automatic`` flag then
    assert "Claire Martin moved the project" in RENDERER.render("en", "J", [old_change]).text
