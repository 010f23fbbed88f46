"""``copilote demo``: an empty database filled with the seeds' projects, looking current on any
day of the year, with some projects late and some on time; never twice."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from cli import app
from demo import ACESO_SEED_TODAY, load_demo
from notifications import RecordingMailer
from service import Copilote, Settings
from tests.conftest import ROOT, fresh_postgres, paris, require_postgres
from workflow import tables
from workflow.clock import FixedClock
from workflow.database import read
from workflow.progress import overdue_items

SEED_001_COOPERATIVES = [  # seed 001, préambule: the six active coopératives d'acteurs
    "Alliance d'acteurs en direction des publics invisibles",
    "Prise en charge des personnes en errance",
    "personnes diabétiques",
    "santé respiratoire et habitat",
    "Sport nutrition au Bois l'Abbé",
    "troubles du langage",
]


def system(url: str, now: datetime) -> Copilote:
    settings = Settings(database_url=url, definitions_dir=ROOT / "definitions", scheduler=False)
    return Copilote(settings, FixedClock(now), RecordingMailer())


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def demo(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Copilote]:
    """The demo loaded once per database, as of 22 November 2026."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}"
    else:
        url = require_postgres()
        fresh_postgres(url)
    c = system(url, paris(2026, 11, 22, 9, 0))
    load_demo(c)
    yield c
    c.db.dispose()


def projects(c: Copilote) -> list[Any]:
    with read(c.db) as conn:
        return list(conn.execute(sa.select(tables.project).order_by(tables.project.c.id)))


def rows(c: Copilote, table: sa.Table, project_id: int) -> list[Any]:
    with read(c.db) as conn:
        return list(conn.execute(sa.select(table).where(table.c.project_id == project_id)))


def counts(c: Copilote) -> tuple[int, ...]:
    counted = (
        tables.project,
        tables.partner,
        tables.meeting,
        tables.milestone,
        tables.indicator,
        tables.budget_line,
        tables.reminder,
        tables.outbox,
    )
    with read(c.db) as conn:
        return tuple(
            conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one() for t in counted
        )


def test_the_demo_holds_the_seeds_projects(demo: Copilote) -> None:
    c = demo
    all_projects = projects(c)
    by_programme = Counter(p.definition_id for p in all_projects)
    assert by_programme == {"cooperative": 6, "acia": 4, "aceso": 1, "unapei": 1}

    coops = [p for p in all_projects if p.definition_id == "cooperative"]
    for expected in SEED_001_COOPERATIVES:
        assert [p for p in coops if expected in p.title], f"no coopérative « {expected} »"
    assert all(p.territory for p in all_projects)

    # One pilot per project, each with a distinct email, to match pilot accounts later.
    pilots = {}
    for p in all_projects:
        people = rows(c, tables.partner, p.id)
        pilot_rows = [r for r in people if "pilot" in r.roles]
        assert len(pilot_rows) == 1, p.title
        pilots[p.title] = pilot_rows[0].email
        assert all(r.email.endswith((".example", "@example.org")) for r in people)
        if p.definition_id == "cooperative":
            assert len([r for r in people if "partner" in r.roles]) >= 3, p.title
    assert len(set(pilots.values())) == len(all_projects)
    assert all(
        e.startswith("pilote.") for e in pilots.values() if e != "pilote@cooperative-paris.example"
    )
    assert (
        pilots["Alliance d'acteurs en direction des publics invisibles"]
        == "pilote@cooperative-paris.example"
    )

    # ACIA: one project per establishment, two on each axis, each with the ARACT.
    acia = [p for p in all_projects if p.definition_id == "acia"]
    assert Counter(p.variant for p in acia) == {"axe_1": 2, "axe_2": 2}
    assert all(any("aract" in r.roles for r in rows(c, tables.partner, p.id)) for p in acia)

    # Unapei: an experiment in three regions.
    (unapei,) = [p for p in all_projects if p.definition_id == "unapei"]
    assert unapei.phase == "experimentations"
    regions = [r.organisation for r in rows(c, tables.partner, unapei.id) if "partner" in r.roles]
    assert sorted(regions) == [
        "Unapei Auvergne-Rhône-Alpes",
        "Unapei Bretagne",
        "Unapei Pays de la Loire",
    ]

    # The backfill's messages are about the past: none waits to be sent; reminders do.
    with read(c.db) as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(tables.outbox)).scalar_one() == 0
        assert (
            conn.execute(
                sa.select(sa.func.count())
                .select_from(tables.reminder)
                .where(tables.reminder.c.status == "pending")
            ).scalar_one()
            > 0
        )


def test_aceso_carries_its_2018_cpom_figures(demo: Copilote) -> None:
    c = demo
    (aceso,) = [p for p in projects(c) if p.definition_id == "aceso"]
    assert aceso.phase == "analyse_pratiques" and aceso.funding_cents == 15_384_675
    indicators = {i.key: i for i in rows(c, tables.indicator, aceso.id)}
    assert (indicators["copil"].planned, indicators["copil"].realised) == (3, 2)
    assert (indicators["visites"].planned, indicators["visites"].realised) == (7, 7)
    assert indicators["guide_routard"].corrective_measure
    # The COPIL of the report's year: two held, the third planned (10 October in the seed).
    year_start = c.engine.today() + (date(2018, 1, 1) - ACESO_SEED_TODAY)  # moved like ACESO
    copils = [m for m in rows(c, tables.meeting, aceso.id) if m.series == "copil"]
    this_year = Counter(m.status for m in copils if (m.held_on or m.starts_at.date()) >= year_start)
    assert this_year == {"held": 2, "planned": 1}
    budget = rows(c, tables.budget_line, aceso.id)
    assert len(budget) == 5
    assert sum(b.planned_cents for b in budget) == 15_384_675  # 153 846,75 EUR
    assert sum(b.spent_cents for b in budget) == 6_459_308
    assert sum(b.forecast_cents for b in budget) == 7_572_571


def late_and_on_time(c: Copilote) -> None:
    late = Counter(item.project_id for item in overdue_items(c.engine, c.engine.today()))
    ids = [p.id for p in projects(c)]
    assert [pid for pid in ids if late[pid]], "no project is late"
    assert [pid for pid in ids if not late[pid]], "every project is late"


def test_some_projects_are_late_and_some_on_time(demo: Copilote) -> None:
    late_and_on_time(demo)
    titles = {p.id: p.title for p in projects(demo)}
    late = {titles[i.project_id] for i in overdue_items(demo.engine, demo.engine.today())}
    assert "Prise en charge des personnes en errance" in late  # no COPIL for three months
    assert "Alliance d'acteurs en direction des publics invisibles" not in late


def test_the_replay_fills_the_overdue_trend_of_every_week(demo: Copilote) -> None:
    """The replay ran the due work at least once a week: the dashboard's 26-week trend has
    a figure for every week and programme, and it is the count of those days."""
    from workflow.read_models.charts import overdue_trend
    from workflow.read_models.portfolio import Filters

    trend = overdue_trend(demo.engine, demo.engine.today(), Filters())
    assert {line.programme_id for line in trend.lines} == {"aceso", "acia", "cooperative", "unapei"}
    for line in trend.lines:
        assert None not in line.weeks, line.programme_id
    coop = next(line for line in trend.lines if line.programme_id == "cooperative")
    assert max(v for v in coop.items if v is not None) > 0  # the late coopérative shows
    with read(demo.db) as conn:
        today = conn.execute(
            sa.select(tables.overdue_daily).where(
                tables.overdue_daily.c.day == demo.engine.today(),
                tables.overdue_daily.c.programme == "cooperative",
            )
        ).one()
    assert today.projects == 6


@pytest.mark.parametrize(
    ("today", "cohort"),
    [
        (date(2026, 5, 4), "cloture"),  # last year's cohort: closed, but for the late one
        (date(2026, 6, 10), "cadrage"),
        (date(2026, 7, 15), "deploiement"),
        (date(2026, 12, 15), "bilan"),
    ],
)
def test_the_demo_looks_current_on_any_day(sqlite_url: str, today: date, cohort: str) -> None:
    c = system(sqlite_url, paris(today.year, today.month, today.day, 9, 0))
    try:
        load_demo(c)
        late_and_on_time(c)
        # ACIA follows seed 002's calendar windows, except the late establishment.
        acia = {p.title.split(" (")[0]: p for p in projects(c) if p.definition_id == "acia"}
        late_one = acia.pop("IME Les Oliviers")
        assert {p.phase for p in acia.values()} == {cohort}
        if today.month == 7:  # its fiche de cadrage missed the end of June: flagged, still framing
            assert late_one.phase == "cadrage" and late_one.flagged_overdue_at is not None
        if today.month == 5:  # its assessment missed the end of February
            assert late_one.phase == "bilan" and late_one.flagged_overdue_at is not None
    finally:
        c.db.dispose()


def test_a_second_run_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COPILOTE_MAIL_DIR", str(tmp_path / "mail"))
    db = f"sqlite:///{tmp_path / 'demo.db'}"
    runner = CliRunner()
    first = runner.invoke(app, ["demo", "--db", db, "--now", "2026-11-22T09:00+01:00"])
    assert first.exit_code == 0, first.output
    assert "12 demo projects created" in first.output
    assert "Alliance d'acteurs en direction des publics invisibles" in first.output
    assert "overdue item(s)" in first.output
    c = system(db, paris(2026, 11, 22, 9, 5))
    try:
        before = counts(c)
        assert load_demo(c) == []
        second = runner.invoke(app, ["demo", "--db", db, "--now", "2026-11-22T09:10+01:00"])
        assert second.exit_code == 0, second.output
        assert "already holds 12 project(s)" in second.output
        assert "no project was added" in second.output
        assert counts(c) == before
        # The demo sign-ins exist after the first run and still work.
        assert c.accounts.authenticate("agence@ars-idf.example", "copilote-demo") is not None
        pilot = c.accounts.authenticate("pilote@cooperative-paris.example", "copilote-demo")
        assert pilot is not None and len(c.accounts.piloted(pilot)) == 1
    finally:
        c.db.dispose()
