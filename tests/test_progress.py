"""One home for "in progress", "overdue" and the cadence (workflow/progress.py): the same rule
for one project row and in SQL, what is late as data, and its words in both languages."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from notifications.wording import PHRASES, say
from tests.conftest import paris
from tests.test_engine import new_mini, ready_to_deploy
from web.refusals import overdue_words
from workflow import tables
from workflow.clock import FixedClock
from workflow.conditions import AutomaticFlag
from workflow.database import read
from workflow.engine import Engine, NewProject, PartnerIn
from workflow.errors import InvalidInput
from workflow.progress import (
    OVERDUE_KINDS,
    OverdueItem,
    cadence_interval,
    closed,
    in_progress,
    in_progress_clause,
    overdue_by_project,
    overdue_items,
)
from workflow.records import Records

PILOT = PartnerIn("CLS Bobigny", "pilote@cls.example", "Paul", ("pilot", "copil"))


def cooperative(engine: Engine, title: str = "Coopérative de Bobigny") -> int:
    return engine.create_project(
        NewProject(
            definition_id="cooperative", title=title, start_date=date(2026, 5, 4), pilot=PILOT
        )
    )


def rows(engine: Engine) -> dict[int, sa.Row[tuple[object, ...]]]:
    with read(engine.db) as conn:
        return {r.id: r for r in conn.execute(sa.select(tables.project))}


def test_cadence_interval_is_weeks_or_thirty_days_a_month() -> None:
    assert cadence_interval(2, "weeks") == timedelta(days=14)
    assert cadence_interval(1, "months") == timedelta(days=30)
    assert cadence_interval(3, "months") == timedelta(days=90)


def test_in_progress_is_one_rule_for_a_row_and_in_sql(engine: Engine, records: Records) -> None:
    going, suspended, abandoned, ended = (cooperative(engine, f"P{i}") for i in range(4))
    engine.advance(suspended, "suspend", actor="Anne", comment="travaux")
    engine.advance(abandoned, "abandon", actor="Anne", comment="fin du financement")
    with engine.db.begin() as conn:  # a terminal phase, as if the project had been closed
        conn.execute(
            sa.update(tables.project).where(tables.project.c.id == ended).values(phase="cloture")
        )
    found = rows(engine)
    assert {pid for pid, r in found.items() if in_progress(engine, r)} == {going}
    with read(engine.db) as conn:
        in_sql = set(
            conn.execute(sa.select(tables.project.c.id).where(in_progress_clause(engine))).scalars()
        )
    assert in_sql == {going}
    # closed: abandoned or terminal; a suspended project is not in progress but still open
    assert {pid for pid, r in found.items() if closed(engine, r)} == {abandoned, ended}
    records.record_decision(suspended, "choix", by="COPIL", label="Choix")
    for pid in (abandoned, ended):
        with pytest.raises(InvalidInput, match="closed"):
            records.record_decision(pid, "choix", by="COPIL", label="Choix")


def test_overdue_items_are_data_worded_in_each_language(engine: Engine) -> None:
    pid = cooperative(engine)
    today = date(2026, 8, 1)
    items = overdue_items(engine, today, pid)
    by_kind = {i.kind: i for i in items}
    assert set(by_kind) == {"milestone", "phase", "meeting_series"}
    assert items == sorted(items, key=lambda i: i.since)
    phase = by_kind["phase"]
    # prefiguration ends 2 months after it was entered (4 May): late from 5 July
    assert (phase.subject, phase.label, phase.since) == (
        "prefiguration",
        "Préfiguration",
        date(2026, 7, 5),
    )
    assert phase.responsible_role == "pilot" and phase.every is None
    series = by_kind["meeting_series"]
    assert (series.subject, series.every, series.unit, series.since) == (
        "reunion_projet",
        2,
        "weeks",
        date(2026, 5, 18),
    )
    assert say(phase.phrase_key, "fr", **phase.phrase_params) == (
        "phase « Préfiguration » : fin prévue dépassée"
    )
    assert say(phase.phrase_key, "en", **phase.phrase_params) == (
        "phase Préfiguration past its planned end"
    )
    assert say(series.phrase_key, "fr", **series.phrase_params).endswith(
        " : aucune réunion tenue ou prévue depuis 2 semaines"
    )
    assert say(series.phrase_key, "en", **series.phrase_params).endswith(
        ": none held or planned every 2 weeks"
    )
    milestone = by_kind["milestone"]
    assert milestone.subject in {"gouvernance", "orientations_validees"}
    assert say(milestone.phrase_key, "fr", **milestone.phrase_params) == (
        f"{milestone.label} : jalon en retard"
    )


def test_every_overdue_item_has_words_in_both_languages() -> None:
    samples = [
        OverdueItem(1, "milestone", "m", "Fiche", date(2026, 1, 1), "pilot", "Pilote"),
        OverdueItem(1, "phase", "p", "Cadrage", date(2026, 1, 1), "pilot", "Pilote"),
        OverdueItem(1, "automatic_step", "p", "", date(2026, 1, 1), "pilot", "Pilote"),
        OverdueItem(1, "automatic_step", "p", "why", date(2026, 1, 1), "pilot", "Pilote"),
        OverdueItem(1, "meeting_series", "s", "COPIL", date(2026, 1, 1), "pilot", "P", 2, "weeks"),
        OverdueItem(1, "meeting_series", "s", "COPIL", date(2026, 1, 1), "pilot", "P", 3, "months"),
    ]
    assert {i.kind for i in samples} == set(OVERDUE_KINDS)
    for item in samples:
        for lang in ("fr", "en"):
            assert item.phrase_key in PHRASES[lang]
            text = say(item.phrase_key, lang, **item.phrase_params)
            assert "{" not in text and "overdue." not in text
    assert say(samples[5].phrase_key, "fr", **samples[5].phrase_params) == (
        "COPIL : aucune réunion tenue ou prévue depuis 3 mois"
    )
    assert say(samples[5].phrase_key, "en", **samples[5].phrase_params) == (
        "COPIL: none held or planned every 3 months"
    )


def test_the_batch_gives_what_each_project_gives_alone(engine: Engine) -> None:
    a, b = cooperative(engine, "A"), cooperative(engine, "B")
    engine.advance(b, "suspend", actor="Anne", comment="travaux")
    today = date(2026, 8, 1)
    with read(engine.db) as conn:
        batch = overdue_by_project(conn, engine, rows(engine).values(), today)
        without = overdue_by_project(conn, engine, rows(engine).values(), today, milestones=False)
    assert set(batch) == {a}  # nothing is late in a suspended project
    assert batch[a] == overdue_items(engine, today, a)
    assert without[a] == [i for i in batch[a] if i.kind != "milestone"]
    assert overdue_items(engine, today, b) == []
    assert overdue_items(engine, today) == batch[a]


def test_an_automatic_step_that_could_not_be_taken_names_its_conditions_in_words(
    engine: Engine, records: Records, clock: FixedClock
) -> None:
    """The flag is stored as data, not as an English sentence: the French page says the
    missing decision in French, the English one in English (it used to show the engine's
    English sentence on the French dashboard)."""
    pid = new_mini(engine)
    ready_to_deploy(records, pid)
    engine.advance(pid, "start_deployment", actor="Anne")
    clock.set(paris(2026, 11, 30, 9))
    engine.run_timed_transitions()
    with read(engine.db) as conn:
        stored = conn.execute(
            sa.select(tables.project.c.flag_reason).where(tables.project.c.id == pid)
        ).scalar_one()
    flag = AutomaticFlag.parse(stored)
    assert flag is not None and flag.legacy is None
    assert [(u.kind, u.subject, u.fix) for u in flag.unmet] == [
        ("decision_not_recorded", "go_bilan", "record_decision")
    ]
    (item,) = [i for i in overdue_items(engine, date(2026, 12, 1), pid) if i.conditions]
    french, english = overdue_words(item, "fr"), overdue_words(item, "en")
    assert french.startswith(f"étape automatique « {flag.step} » impossible : ")
    assert "décision" in french and "not recorded" not in french
    assert english.startswith("automatic step “Move to the assessment” not possible: ")
    assert "decision" in english and "décision" not in english
    assert "go_bilan" in item.label  # the developer's sentence, as the engine's log says it


def test_a_flag_stored_as_a_sentence_before_flags_were_data_is_still_shown() -> None:
    flag = AutomaticFlag.parse("Passage au bilan: decision 'go_bilan' not recorded")
    assert flag is not None and flag.unmet == () and str(flag).endswith("not recorded")
    assert AutomaticFlag.parse(None) is None and AutomaticFlag.parse("") is None
