"""Conventions as records (issue 13): signature, express renewal, lapse, avenant, notice, the
23,000 EUR rule, the yearly cycle (annual review in years 2 and 3), and refusals that name
their field and change nothing. Real SMTP, SQLite and PostgreSQL, a fixed clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.e2e_support import System, at, definitions_dir, person
from tests.smtp_support import SmtpServer
from workflow import tables
from workflow.conventions import Conventions, PartyIn, amounts_in_force
from workflow.database import read
from workflow.engine import NewProject
from workflow.errors import DefinitionError, InvalidInput
from workflow.models import instrument_of
from workflow.read_models.conventions import project_conventions

PILOT = "pilote@dd93.example"
AGENCY = "ars@ars.example"
ASSO = "asso@asso.example"
CMS = "cms@ville.example"
START = date(2026, 1, 5)


@pytest.fixture
def system(db_url: str, tmp_path: Path, smtp_server: SmtpServer) -> Iterator[System]:
    s = System(db_url, definitions_dir(tmp_path), smtp_server, at(START, 8))
    yield s
    s.dispose()


def cooperative(s: System) -> tuple[int, int, int]:
    """A coopérative with two partners; (project, asso, cms)."""
    pid = s.engine.create_project(
        NewProject(
            definition_id="cooperative",
            title="Coopérative Seine-Saint-Denis",
            start_date=START,
            pilot=person("DD 93", PILOT, "pilot", "copil"),
            agency=person("ARS", AGENCY, "agency"),
        )
    )
    asso = s.records.add_partner(pid, person("Asso Santé", ASSO, "partner", "copil"), START)
    cms = s.records.add_partner(pid, person("CMS Bondy", CMS, "partner", "copil"), START)
    return pid, asso, cms


def said(s: System, instant: datetime) -> set[tuple[str, str]]:
    """(recipient, item kind) of every message queued by the tick at ``instant``."""
    s.tick(instant)
    return queued(s, instant)


def queued(s: System, instant: datetime) -> set[tuple[str, str]]:
    """(recipient, item kind) of every message queued at ``instant``."""
    with read(s.c.db) as conn:
        rows = conn.execute(
            sa.select(tables.outbox.c.recipient_email, tables.outbox.c["items"]).where(
                tables.outbox.c.created_at == instant
            )
        ).all()
    return {(email, item["kind"]) for email, items in rows for item in items}


def about(found: set[tuple[str, str]], kind: str) -> set[str]:
    return {email for email, k in found if k == kind}


def pending(s: System, pid: int, kind: str) -> list[tuple[str, datetime]]:
    with read(s.c.db) as conn:
        return [
            (o, due)
            for o, due in conn.execute(
                sa.select(tables.reminder.c.occasion, tables.reminder.c.due_at)
                .where(
                    tables.reminder.c.project_id == pid,
                    tables.reminder.c.kind == kind,
                    tables.reminder.c.status == "pending",
                )
                .order_by(tables.reminder.c.due_at)
            )
        ]


def history(s: System, pid: int) -> list[tuple[str, str]]:
    with read(s.c.db) as conn:
        return [
            (t, a)
            for t, a in conn.execute(
                sa.select(tables.history.c.trigger, tables.history.c.actor)
                .where(tables.history.c.project_id == pid, tables.history.c.trigger.like("conv%"))
                .order_by(tables.history.c.id)
            )
        ]


def test_the_23000_euro_rule_at_its_edge() -> None:
    assert instrument_of(22_999_00) == "decision"
    assert instrument_of(22_999_99) == "decision"
    assert instrument_of(23_000_00) == "convention"
    assert instrument_of(None) is None


@pytest.mark.slow
def test_signature_renewal_lapse_and_three_annual_reviews(system: System) -> None:
    s = system
    conventions: Conventions = s.c.conventions
    pid, asso, cms = cooperative(s)
    cid = conventions.create(
        pid, [PartyIn(asso, 22_999_00), PartyIn(cms, 23_000_00)], by="Claire (DD 93)"
    )
    # Per party, the 23,000 EUR rule: a grant decision just below, a convention at it.
    with read(s.c.db) as conn:
        view = project_conventions(s.engine, conn, pid).conventions[0]
    assert [(p.organisation, p.instrument) for p in view.parties] == [
        ("Asso Santé", "decision"),
        ("CMS Bondy", "convention"),
    ]
    assert view.status == "awaiting_signatures"

    # It takes effect when the last party signs, not when it is recorded.
    s.set(at(date(2026, 3, 10), 10))
    assert conventions.sign(cid, asso, on=date(2026, 3, 2), by="Claire (DD 93)") is None
    assert pending(s, pid, "convention_end") == []
    assert conventions.sign(cid, cms, on=date(2026, 3, 9), by="Claire (DD 93)") == date(2026, 3, 9)
    with read(s.c.db) as conn:
        view = project_conventions(s.engine, conn, pid).conventions[0]
    assert (view.status, view.effective_on, view.ends_on) == (
        "in_force",
        date(2026, 3, 9),
        date(2027, 3, 9),
    )
    assert [o for o, _ in pending(s, pid, "convention_end")] == [
        f"convention:{cid}:2027-03-09:before:3m",
        f"convention:{cid}:2027-03-09:before:1m",
    ]
    # Reminders 3 months and 1 month before the end, to the pilot, the agency and the parties.
    found = said(s, at(date(2026, 12, 9)))
    assert about(found, "convention_end") == {PILOT, AGENCY, ASSO, CMS}
    # The annual review, two months before the anniversary (asked a month ahead): year 1.
    found = said(s, at(date(2026, 12, 10)))
    assert about(found, "annual_review") == {PILOT, AGENCY, ASSO, CMS}

    # Express renewal by the agency, with a new amount for one party.
    s.set(at(date(2027, 1, 20), 11))
    assert conventions.renew(cid, by="ARS (M. Dupont)", amounts={asso: 25_000_00}) == date(
        2028, 3, 9
    )
    # The old end's 1-month reminder is not sent; the new period's are planned.
    assert about(said(s, at(date(2027, 2, 9))), "convention_end") == set()
    assert [o for o, _ in pending(s, pid, "convention_end")] == [
        f"convention:{cid}:2028-03-09:before:3m",
        f"convention:{cid}:2028-03-09:before:1m",
    ]
    with read(s.c.db) as conn:
        before = project_conventions(s.engine, conn, pid, on=date(2027, 3, 8)).conventions[0]
        after = project_conventions(s.engine, conn, pid, on=date(2027, 3, 9)).conventions[0]
    assert [p.amount_cents for p in before.parties] == [22_999_00, 23_000_00]
    assert [(p.amount_cents, p.instrument) for p in after.parties] == [
        (25_000_00, "convention"),
        (23_000_00, "convention"),
    ]
    assert [(c.kind, c.effective_on, c.ends_on) for c in after.changes] == [
        ("renewal", date(2027, 3, 9), date(2028, 3, 9))
    ]

    # Year 2 and year 3: each brings its annual review, renewed or not.
    assert about(said(s, at(date(2027, 12, 10))), "annual_review") == {PILOT, AGENCY, ASSO, CMS}
    assert about(said(s, at(date(2028, 2, 9))), "convention_end") == {PILOT, AGENCY, ASSO, CMS}
    # Not renewed: shown as lapsed the day after its end.
    with read(s.c.db) as conn:
        on_end = project_conventions(s.engine, conn, pid, on=date(2028, 3, 9)).conventions[0]
        lapsed = project_conventions(s.engine, conn, pid, on=date(2028, 3, 10)).conventions[0]
    assert (on_end.status, lapsed.status) == ("in_force", "lapsed")
    s.set(at(date(2028, 3, 10), 10))
    with pytest.raises(InvalidInput) as refused:
        conventions.renew(cid, by="ARS (M. Dupont)")
    assert refused.value.field == "on"
    # (10 December 2028 is a Sunday: the review leaves on Monday's working morning)
    assert about(said(s, at(date(2028, 12, 11))), "annual_review") == {PILOT, AGENCY, ASSO, CMS}
    assert [o for o, _ in pending(s, pid, "annual_review")] == [f"annual_review:{pid}:2030"]
    # Every change in the history, with its author.
    assert history(s, pid) == [
        ("convention_created", "Claire (DD 93)"),
        ("convention_signed", "Claire (DD 93)"),
        ("convention_signed", "Claire (DD 93)"),
        ("convention_effective", "Claire (DD 93)"),
        ("convention_renewed", "ARS (M. Dupont)"),
    ]


def test_an_avenant_changes_an_amount_from_its_date(system: System) -> None:
    s = system
    conventions: Conventions = s.c.conventions
    pid, asso, cms = cooperative(s)
    cid = conventions.create(pid, [PartyIn(asso, 22_999_00), PartyIn(cms, 10_000_00)], by="DD")
    s.set(at(date(2026, 2, 2), 10))
    conventions.sign(cid, asso, on=date(2026, 2, 2), by="DD")
    conventions.sign(cid, cms, on=date(2026, 2, 2), by="DD")
    with pytest.raises(InvalidInput) as refused:  # an avenant before the convention
        conventions.amend(cid, on=date(2026, 2, 1), object="x", amounts={asso: 1}, by="DD")
    assert refused.value.field == "on"
    assert "2026-02-02" in str(refused.value)
    s.set(at(date(2026, 6, 1), 10))
    conventions.amend(
        cid,
        on=date(2026, 6, 1),
        object="Extension de l'action aux collèges",
        amounts={asso: 23_000_00},
        by="ARS (M. Dupont)",
    )
    with read(s.c.db) as conn:
        assert amounts_in_force(conn, cid, date(2026, 5, 31)) == {asso: 22_999_00, cms: 10_000_00}
        assert amounts_in_force(conn, cid, date(2026, 6, 1)) == {asso: 23_000_00, cms: 10_000_00}
        view = project_conventions(s.engine, conn, pid).conventions[0]
    assert view.parties[0].instrument == "convention"
    (change,) = view.changes
    assert (change.kind, change.object, change.recorded_by) == (
        "avenant",
        "Extension de l'action aux collèges",
        "ARS (M. Dupont)",
    )
    assert [(a.organisation, a.before_cents, a.after_cents) for a in change.amounts] == [
        ("Asso Santé", 22_999_00, 23_000_00)
    ]
    assert view.total_cents == 33_000_00
    assert history(s, pid)[-1] == ("convention_amended", "ARS (M. Dupont)")


def test_notice_leaves_one_month_after_receipt_and_stops_reminders_that_day(
    system: System,
) -> None:
    s = system
    conventions: Conventions = s.c.conventions
    pid, asso, cms = cooperative(s)
    cid = conventions.create(pid, [PartyIn(asso, 5_000_00), PartyIn(cms, 30_000_00)], by="DD")
    s.set(at(date(2026, 3, 2), 10))
    conventions.sign(cid, asso, on=date(2026, 3, 2), by="DD")
    conventions.sign(cid, cms, on=date(2026, 3, 2), by="DD")
    s.tick(at(date(2026, 3, 2), 11))
    # The CMS's registered letter was received on 15 October: it leaves on 15 November.
    s.set(at(date(2026, 10, 20), 10))
    leaves = conventions.terminate(cid, cms, received_on=date(2026, 10, 15), by="DD 93")
    assert leaves == date(2026, 11, 15)
    # The pilot and the agency are told (the COPIL too, but not the CMS: its own leaving is
    # not news to it), by the next sweep: partner news is told once per person and day.
    told = said(s, at(date(2026, 10, 20), 10))
    assert about(told, "partner_left") == {PILOT, AGENCY, ASSO}
    with read(s.c.db) as conn:
        party = project_conventions(s.engine, conn, pid).conventions[0].parties[1]
        left_on = conn.execute(
            sa.select(tables.partner.c.left_on).where(tables.partner.c.id == cms)
        ).scalar_one()
    assert (party.notice_received_on, party.leaves_on, left_on) == (
        date(2026, 10, 15),
        date(2026, 11, 15),
        date(2026, 11, 15),
    )
    # Still a party the day before it leaves, no longer written to from that day.
    from workflow.planner import recipients

    with read(s.c.db) as conn:
        assert CMS in {p.email for p in recipients(conn, pid, ["partner"], date(2026, 11, 14))}
        assert CMS not in {p.email for p in recipients(conn, pid, ["partner"], date(2026, 11, 15))}
    assert about(said(s, at(date(2026, 12, 2))), "convention_end") == {PILOT, AGENCY, ASSO}
    with pytest.raises(InvalidInput) as twice:
        conventions.terminate(cid, cms, received_on=date(2026, 10, 16), by="DD 93")
    assert twice.value.field == "partner_id"
    assert history(s, pid)[-1] == ("convention_notice", "DD 93")


def test_bad_input_names_its_field_and_changes_nothing(system: System) -> None:
    s = system
    conventions: Conventions = s.c.conventions
    pid, asso, _cms = cooperative(s)
    other = s.engine.create_project(
        NewProject(
            definition_id="cooperative",
            title="Autre",
            start_date=START,
            pilot=person("DD 94", "p@dd94.example", "pilot", "copil"),
        )
    )
    stranger = s.records.add_partner(other, person("Ailleurs", "a@b.example"), START)

    def refused(call: object, field: str) -> None:
        assert callable(call)
        with pytest.raises(InvalidInput) as error:
            call()
        assert error.value.field == field, error.value

    refused(lambda: conventions.create(pid, [PartyIn(asso, -1)], by="DD"), "parties[0].amount")
    refused(
        lambda: conventions.create(pid, [PartyIn(stranger, 1)], by="DD"), "parties[0].partner_id"
    )
    refused(
        lambda: conventions.create(pid, [PartyIn(asso, 1), PartyIn(asso, 2)], by="DD"),
        "parties[1].partner_id",
    )
    refused(lambda: conventions.create(pid, [], by="DD"), "parties")
    refused(lambda: conventions.create(pid, [PartyIn(asso, 1)], by=" "), "by")
    with read(s.c.db) as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(tables.convention)).scalar() == 0
    cid = conventions.create(pid, [PartyIn(asso, 1_000_00)], by="DD")
    refused(lambda: conventions.sign(cid, asso, on=date(2026, 1, 6), by="DD"), "on")  # future
    refused(lambda: conventions.sign(cid, stranger, on=START, by="DD"), "partner_id")
    refused(lambda: conventions.renew(cid, by="DD"), "convention")  # not signed yet
    conventions.sign(cid, asso, on=START, by="DD")
    refused(lambda: conventions.renew(cid, by="DD", amounts={asso: -5}), f"amounts.{asso}")
    refused(
        lambda: conventions.amend(cid, on=START, object="x", amounts={stranger: 1}, by="DD"),
        f"amounts.{stranger}",
    )
    refused(lambda: conventions.amend(cid, on=START, object=" ", amounts={}, by="DD"), "object")
    with read(s.c.db) as conn:
        assert (
            conn.execute(sa.select(sa.func.count()).select_from(tables.convention_change)).scalar()
            == 0
        )
        row = conn.execute(sa.select(tables.convention)).one()
    assert (row.effective_on, row.ends_on) == (START, date(2027, 1, 5))


@pytest.mark.parametrize("definition", ["acia", "aceso", "unapei"])
def test_programmes_without_a_convention_get_no_convention_reminders(
    system: System, definition: str
) -> None:
    s = system
    pid = s.engine.create_project(
        NewProject(
            definition_id=definition,
            title=f"Projet {definition}",
            start_date=date(2026, 5, 4),
            variant="axe_1" if definition == "acia" else None,
            pilot=person("Pilote", PILOT, "pilot", "copil"),
            agency=person("ARS", AGENCY, "agency"),
            convention_start=date(2026, 5, 4),
        )
    )
    assert pending(s, pid, "convention_end") == []
    with read(s.c.db) as conn:
        view = project_conventions(s.engine, conn, pid, on=date(2027, 6, 1))
    assert not view.declared
    # The record is kept (it is the project's data), in force for its dates.
    assert [c.ends_on for c in view.conventions] == [date(2027, 5, 4)]
    if definition == "aceso":
        assert view.funding_year == (2, 5)  # ACESO 2026-2030 as dated here: année 2 sur 5
    if definition == "unapei":
        assert view.funding_year == (2, 3)


def test_migration_0009_turns_the_two_dates_into_a_convention_with_its_parties(
    db: sa.Engine,
) -> None:
    from datetime import UTC

    from tests.test_migrations import _alembic

    created = datetime(2026, 5, 4, tzinfo=UTC)

    def project(conn: sa.Connection, start: date | None, end: date | None, cents: int) -> int:
        return int(
            conn.execute(
                sa.insert(tables.project)
                .values(
                    definition_id="cooperative",
                    definition_version=1,
                    title="Coopérative",
                    start_date=date(2026, 5, 4),
                    convention_start=start,
                    convention_end=end,
                    funding_cents=cents,
                    phase="mise_en_oeuvre",
                    phase_entered_at=created,
                    created_at=created,
                )
                .returning(tables.project.c.id)
            ).scalar_one()
        )

    def partner(conn: sa.Connection, pid: int, name: str, roles: list[str], joined: date) -> int:
        return int(
            conn.execute(
                sa.insert(tables.partner)
                .values(
                    project_id=pid,
                    organisation=name,
                    email=f"{name.lower()}@x.example",
                    roles=roles,
                    joined_on=joined,
                )
                .returning(tables.partner.c.id)
            ).scalar_one()
        )

    _alembic(db, "downgrade", "0005")
    with db.begin() as conn:
        two = project(conn, date(2026, 6, 1), date(2027, 6, 1), 40_000_00)
        partner(conn, two, "Pilote", ["pilot", "copil"], date(2026, 5, 4))
        a = partner(conn, two, "Asso", ["partner", "copil"], date(2026, 5, 4))
        b = partner(conn, two, "CMS", ["partner"], date(2026, 5, 20))
        partner(conn, two, "Tard", ["partner"], date(2026, 9, 1))  # joined after signature
        one = project(conn, date(2026, 6, 1), date(2027, 6, 1), 12_000_00)
        c = partner(conn, one, "Seule", ["partner"], date(2026, 5, 4))
        none = project(conn, None, None, 0)
    _alembic(db, "upgrade", "head")
    with db.connect() as conn:
        conventions = {row.project_id: row for row in conn.execute(sa.select(tables.convention))}
        parties = conn.execute(
            sa.select(
                tables.convention_party.c.convention_id,
                tables.convention_party.c.partner_id,
                tables.convention_party.c.amount_cents,
                tables.convention_party.c.signed_on,
            ).order_by(tables.convention_party.c.id)
        ).all()
        triggers = conn.execute(
            sa.select(tables.history.c.project_id, tables.history.c.trigger)
        ).all()
    assert set(conventions) == {two, one}  # a project without dates gets none
    assert none not in conventions
    first = conventions[two]
    assert (first.effective_on, first.ends_on, first.duration_months) == (
        date(2026, 6, 1),
        date(2027, 6, 1),
        12,
    )
    signed = date(2026, 6, 1)
    assert [tuple(p) for p in parties] == [
        (first.id, a, None, signed),  # two parties: the project's one figure is not theirs
        (first.id, b, None, signed),
        (conventions[one].id, c, 12_000_00, signed),  # one party: the project's funding
    ]
    assert sorted(triggers) == sorted([(two, "convention_signed"), (one, "convention_signed")])


@pytest.mark.parametrize(
    ("new", "expected"),
    [
        ("  duration: 11 ans", "convention.duration: the duration '11 ans' is too long"),
        ("  duration: 1 semaine", "convention.duration: cannot read the duration '1 semaine'"),
        ("  renewal: tacite", "convention.renewal"),
        ("  duration: 1 month", "convention: a reminder 3 month(s) before the end does not fall"),
        ("  notice: -1 mois", "convention.notice: a duration is written like"),
        ("  funding_years: 3", "convention.funding_years"),
    ],
)
def test_a_wrong_convention_key_is_refused_with_file_line_and_field(
    new: str, expected: str
) -> None:
    from workflow.loader import parse_definition

    mini = (Path(__file__).parent / "fixtures" / "mini.yaml").read_text(encoding="utf-8")
    old = "  duration: 1 year" if "duration" in new else "  renewal: express"
    if "notice" in new:
        old = "  notice: 1 month"
    if "funding_years" in new:
        old = "  renewal: express"
        new = "  renewal: express\n" + new
    text = mini.replace(old, new, 1)
    assert text != mini
    # A field's own problem is on its line; one between fields, on the line of the section.
    at = "convention:\n" if expected.startswith("convention:") else new.splitlines()[-1]
    line = 1 + text[: text.index(at)].count("\n")
    with pytest.raises(DefinitionError) as caught:
        parse_definition(text, "prog.yaml")
    problems = [str(p) for p in caught.value.problems]
    assert any(p.startswith(f"prog.yaml:{line}: {expected}") for p in problems), problems


def test_funding_years_are_bounded() -> None:
    from workflow.loader import parse_definition

    mini = (Path(__file__).parent / "fixtures" / "mini.yaml").read_text(encoding="utf-8")
    text = mini + "funding:\n  instruments: [{key: fse, label: FSE}]\n  years: 11\n"
    with pytest.raises(DefinitionError) as caught:
        parse_definition(text, "prog.yaml")
    line = text.count("\n")
    problems = [str(p) for p in caught.value.problems]
    assert any(p.startswith(f"prog.yaml:{line}: funding.years") for p in problems), problems


def test_the_command_line_records_and_lists_a_convention(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from cli import app

    db = f"sqlite:///{tmp_path / 'c.db'}"
    runner = CliRunner()

    def run(*args: str, now: str = "2026-03-10T09:00+01:00", code: int = 0) -> str:
        result = runner.invoke(app, [*args, "--db", db, "--now", now])
        assert result.exit_code == code, result.output
        return result.output

    run("project", "create", "--definition", "cooperative", "--title", "Coop 93",
        "--start", "2026-01-05", "--pilot-email", "p@dd.example", "--pilot-org", "DD 93")  # fmt: skip
    run("partner", "add", "1", "--org", "Asso Santé", "--email", "asso@x.example")
    run("partner", "add", "1", "--org", "CMS Bondy", "--email", "cms@x.example")
    refused = run("convention", "create", "1", "--party", "2=-5", "--by", "DD", code=2)
    assert "--party[0]: an amount cannot be below 0" in refused
    out = run("convention", "create", "1", "--party", "2=22 999,00", "--party", "3=23000",
              "--by", "Claire")  # fmt: skip
    assert out == "convention 1 recorded for project 1, awaiting signatures\n"
    assert "other signatures awaited" in run(
        "convention", "sign", "1", "2", "--on", "2026-03-02", "--by", "Claire"
    )
    assert "in force from 2026-03-09" in run(
        "convention", "sign", "1", "3", "--on", "2026-03-09", "--by", "Claire"
    )
    early = run("convention", "amend", "1", "--on", "2026-03-01", "--object", "x",
                "--party", "2=1", "--by", "ARS", code=2)  # fmt: skip
    assert "on: an avenant on 2026-03-01 is before the convention took effect on 2026-03-09" in (
        early
    )
    run("convention", "amend", "1", "--on", "2026-06-01", "--object", "Collèges",
        "--party", "2=23000", "--by", "ARS", now="2026-06-10T09:00+02:00")  # fmt: skip
    listed = run("convention", "list", "1", "--on", "2026-05-31")
    assert "convention 1: Convention de partenariat (en vigueur) 2026-03-09 – 2027-03-09" in listed
    assert "  2 Asso Santé: 22\u202f999,00\xa0€ (décision attributive), signed 2026-03-02" in listed
    assert "  3 CMS Bondy: 23\u202f000,00\xa0€ (convention), signed 2026-03-09" in listed
    english = run("convention", "list", "1", "--lang", "en", now="2026-06-10T09:00+02:00")
    assert "  2 Asso Santé: €23,000.00 (convention), signed 2026-03-02" in english
    assert "2026-06-01 amendment (avenant) Collèges: Asso Santé €22,999.00 -> €23,000.00" in (
        english
    )
    assert "leaves on 2026-07-10" in run(
        "convention", "notice", "1", "3", "--received", "2026-06-10", "--by", "DD",
        now="2026-06-10T09:00+02:00",
    )  # fmt: skip


def test_a_suspension_skips_that_years_review_but_not_the_next(system: System) -> None:
    s = system
    pid = s.engine.create_project(
        NewProject(
            definition_id="cooperative",
            title="Coopérative suspendue",
            start_date=START,
            pilot=person("DD 93", PILOT, "pilot", "copil"),
            agency=person("ARS", AGENCY, "agency"),
            convention_start=START,
        )
    )
    assert [o for o, _ in pending(s, pid, "annual_review")] == [f"annual_review:{pid}:2027"]
    s.set(at(date(2026, 10, 1)))
    s.engine.advance(pid, "suspend", actor="DD 93", comment="Réorganisation de la DD")
    # Year 1's review falls due while suspended: nothing is said, year 2's is planned.
    assert about(said(s, at(date(2026, 12, 7))), "annual_review") == set()
    assert [o for o, _ in pending(s, pid, "annual_review")] == [f"annual_review:{pid}:2028"]
    s.set(at(date(2027, 1, 4)))
    s.engine.advance(pid, "resume", actor="DD 93")
    assert about(said(s, at(date(2027, 12, 6))), "annual_review") == {PILOT, AGENCY}
