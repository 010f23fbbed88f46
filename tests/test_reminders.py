"""End-to-end reminders: whole programme years driven by a FixedClock, ticked twice a day,
delivered to a real SMTP server (aiosmtpd on loopback). Asserts exactly who received what,
of which kind, at which tick, for the whole year; on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from functools import partial
from pathlib import Path

import icalendar
import pytest

from tests.e2e_support import Mail, System, at, definitions_dir, person, summary
from tests.plan_support import enter_plan
from tests.smtp_support import SmtpServer
from workflow.engine import NewProject

PILOT = "pilote@ehpad-tilleuls.example"
ARACT = "aract@aract-corse.example"
AGENCY = "ars-dd2a@ars.example"
PARTNER = "direction@asso-partenaire.example"


def by_tick(mails: list[Mail]) -> list[tuple[str, str, str]]:
    """Order across ticks matters; within one tick the SMTP connections may interleave."""
    return sorted(summary(mails))


@pytest.fixture
def defs(tmp_path: Path) -> Path:
    return definitions_dir(tmp_path)


@pytest.fixture
def acia(db_url: str, defs: Path, smtp_server: SmtpServer) -> Iterator[System]:
    s = System(db_url, defs, smtp_server, at(date(2026, 5, 4), 8))
    yield s
    s.dispose()


def _expect(day: str, hour: int, kind: str, *to: str) -> list[tuple[str, str, str]]:
    return [(f"{day} {hour:02d}:00", t, kind) for t in to]


def test_acia_programme_year(acia: System) -> None:
    s, records = acia, acia.records
    start = date(2026, 5, 4)
    pid = s.engine.create_project(
        NewProject(
            definition_id="acia",
            title="EHPAD Les Tilleuls – outil numérique",
            start_date=start,
            variant="axe_1",
            pilot=person("EHPAD Les Tilleuls", PILOT, "pilot", "copil"),
            agency=person("ARS Corse", AGENCY, "agency"),
        )
    )
    records.add_partner(pid, person("ARACT Corse", ARACT, "aract", "copil"), start)
    partner_id = records.add_partner(
        pid, person("Association partenaire", PARTNER, "partner", "copil"), start
    )
    assert partner_id
    meetings: dict[str, int] = {}

    def schedule(occurrence: str, series: str, day: date) -> None:
        meetings[occurrence] = records.schedule_meeting(
            pid, series, at(day, 14), occurrence=occurrence, location="Salle du conseil"
        )

    def held(occurrence: str) -> None:
        records.meeting_held(pid, occurrence=occurrence, minutes_ref=f"CR {occurrence}")

    def done(key: str) -> None:
        records.milestone_done(pid, key, by="Pilote", deliverable_ref=f"{key}.pdf")

    def advance(trigger: str) -> None:
        s.engine.advance(pid, trigger, actor="Pilote")

    d = date
    actions = {
        d(2026, 5, 11): [partial(schedule, "copil_1", "copil", d(2026, 5, 28))],
        d(2026, 5, 20): [partial(schedule, "inter_structure_1", "inter_structure", d(2026, 6, 10))],
        d(2026, 5, 28): [partial(held, "copil_1")],
        d(2026, 6, 10): [partial(held, "inter_structure_1")],
        # the fiche de cadrage (due 30 June) is delivered 16 days late, then the pilot advances
        d(2026, 7, 16): [partial(done, "fiche_cadrage"), partial(advance, "start_deployment")],
        d(2026, 9, 1): [partial(held, "copil_2")],
        d(2026, 9, 15): [partial(held, "inter_structure_2")],
        d(2026, 9, 20): [partial(done, "diagnostic")],
        d(2026, 10, 1): [partial(held, "copil_3")],
        d(2026, 10, 20): [partial(held, "inter_structure_3")],
        d(2026, 10, 29): [partial(done, "arbitrage")],
        d(2026, 11, 20): [partial(held, "copil_4")],
        d(2026, 11, 27): [partial(done, "recommandations")],
        d(2027, 2, 10): [partial(held, "inter_structure_4")],
        d(2027, 2, 26): [partial(done, "bilan_actions")],
    }
    s.run_days(start, d(2027, 3, 10), actions)

    everyone = (PILOT, ARACT, PARTNER, AGENCY)
    attendees = (PILOT, ARACT, PARTNER)  # copil, pilot, aract
    invited = (ARACT, PARTNER)  # the pilot organises the meetings: not invited to them
    expected = [
        # the two founding partners: ONE message each, for the steering roles (pilot, COPIL,
        # agency) news of both, for each partner a welcome naming the other
        *_expect("2026-05-04", 9, "partner_joined", PILOT, AGENCY, ARACT, PARTNER),
        *_expect("2026-05-11", 18, "meeting_invitation", *invited),
        *_expect("2026-05-20", 18, "meeting_invitation", *invited),
        *_expect("2026-05-26", 9, "meeting_reminder", *attendees),  # J-2 before COPIL 1
        *_expect("2026-06-08", 9, "meeting_reminder", *attendees),  # J-2 before inter-structure 1
        *_expect("2026-06-16", 9, "milestone_reminder", PILOT),  # fiche de cadrage J-14
        *_expect("2026-06-29", 9, "milestone_reminder", PILOT),  # J-3 (a Saturday): Monday
        *_expect("2026-07-01", 9, "milestone_overdue", PILOT),  # the day after
        *_expect("2026-07-06", 9, "overdue_digest", PILOT),  # weekly while late, on Mondays
        # J+14 (14 July, a holiday: the next morning): the pilot's own deliverable is escalated
        # to the agency, not to COPIL members
        *_expect("2026-07-15", 9, "milestone_escalation", AGENCY),
        *_expect("2026-07-13", 9, "overdue_digest", PILOT),
        *_expect("2026-07-16", 18, "phase_changed", *everyone),  # -> déploiement
        *_expect("2026-09-16", 9, "milestone_reminder", PILOT),  # diagnostic J-14; done on 20/09
        *_expect("2026-10-19", 9, "milestone_reminder", PILOT),  # arbitrage J-14 (Saturday)
        *_expect("2026-10-28", 9, "milestone_reminder", PILOT),  # arbitrage J-3; done on 29/10
        *_expect("2026-11-16", 9, "milestone_reminder", PILOT),  # recommandations J-14
        *_expect("2026-11-27", 9, "milestone_reminder", PILOT),  # J-3; done that day
        *_expect("2026-11-30", 9, "phase_changed", *everyone),  # automatic -> bilan
        *_expect("2027-02-15", 9, "milestone_reminder", PILOT),  # bilan des actions J-14 (Sun.)
        *_expect("2027-02-25", 9, "milestone_reminder", PILOT),  # J-3; done on 26/02
        # automatic -> clôturé on Sunday 28 February; told on Monday morning
        *_expect("2027-03-01", 9, "phase_changed", *everyone),
    ]
    assert by_tick(s.log) == sorted(expected)

    # What each says: the fiche de cadrage is named, and nothing is said about it once done.
    fiche = [m for m in s.log if "cadrage" in m.subject.lower() and "fiche" in m.subject.lower()]
    assert {m.kind for m in fiche} == {
        "milestone_reminder",
        "milestone_overdue",
        "milestone_escalation",
    }
    assert max(m.when for m in fiche) < at(date(2026, 7, 16), 17)
    digests = [m for m in s.log if m.kind == "overdue_digest"]
    assert all("1 échéance en retard" in m.subject for m in digests)
    phases = [m.subject for m in s.log if m.kind == "phase_changed" and m.to == AGENCY]
    assert phases == [
        "Copilote\u202f: EHPAD Les Tilleuls – outil numérique passe en phase «\u202fDéploiement\u202f»",
        "Copilote\u202f: EHPAD Les Tilleuls – outil numérique passe en phase «\u202fBilan\u202f»",
        "Copilote\u202f: EHPAD Les Tilleuls – outil numérique passe en phase «\u202fClôturé\u202f»",
    ]
    # Invitations carry an ICS that parses, one per attendee, with the meeting's UID.
    for m in s.log:
        if m.kind == "meeting_invitation":
            cal = icalendar.Calendar.from_ical(_ics(m))
            assert str(cal["METHOD"]) == "REQUEST"
            (event,) = cal.walk("VEVENT")
            assert str(event["UID"]).startswith("meeting-")
    # every message distinct: one Message-ID per (occasion, recipient)
    ids = [m.message_id for m in s.log]
    assert len(ids) == len(set(ids))


def _ics(mail: Mail) -> bytes:
    for part in mail.message.walk():
        if part.get_content_type() == "text/calendar":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload
    raise AssertionError(f"no text/calendar part in {mail.subject!r}")


COORD = "coordination@dd93.ars.example"
DD_AGENCY = "programme@ars-idf.example"
PA = "contact@asso-a.example"
PB = "contact@centre-sante-b.example"
PC = "contact@mairie-c.example"


@pytest.fixture
def coop(db_url: str, defs: Path, smtp_server: SmtpServer) -> Iterator[System]:
    s = System(db_url, defs, smtp_server, at(date(2026, 3, 2), 8))
    yield s
    s.dispose()


def test_cooperative_year_quarterly_reports(coop: System) -> None:
    s, records = coop, coop.records
    start = date(2026, 3, 2)
    pid = s.engine.create_project(
        NewProject(
            definition_id="cooperative",
            title="Coopérative Seine-Saint-Denis Nord",
            start_date=start,
            pilot=person("DD 93", COORD, "pilot", "copil"),
            agency=person("ARS IDF", DD_AGENCY, "agency"),
        )
    )
    a = records.add_partner(pid, person("Association A", PA), start)
    b = records.add_partner(pid, person("Centre de santé B", PB), start)
    c = records.add_partner(pid, person("Mairie C", PC), start)

    def set_up() -> None:
        """The pilot brings the coopérative to the implementation phase on day one."""
        records.meeting_held(pid, occurrence="reunion_lancement")
        for key in ("gouvernance", "orientations_validees"):
            records.milestone_done(pid, key, by="Pilote")
        s.engine.advance(pid, "start_diagnostic", actor="Pilote")
        records.milestone_done(pid, "diagnostic_local_sante", by="Pilote")
        records.meeting_held(pid, series="copil")
        s.engine.advance(pid, "start_action_plan", actor="Pilote")
        for key in ("arbre_objectifs", "fiches_actions", "indicateurs", "convention_signee"):
            records.milestone_done(pid, key, by="Pilote")
        records.meeting_held(pid, series="copil")
        enter_plan(records, pid)  # issue 13: objectives: required
        s.engine.advance(pid, "validate_action_plan", actor="Pilote")
        records.milestone_done(pid, "tableau_de_bord", by="Pilote")

    def report(partner: int, period: str) -> None:
        records.submit_report(pid, partner, "bilan_trimestriel", period, {"actions": "ok"})

    def copil() -> None:  # every six weeks: the two-monthly COPIL cadence is kept
        records.meeting_held(pid, series="copil")

    def leave() -> None:
        assert records.partner_leaves(pid, c, on=date(2026, 7, 15)) == date(2026, 7, 15)

    d = date
    actions: dict[date, list[Callable[[], object]]] = {
        d(2026, 3, 2): [set_up],
        d(2026, 4, 10): [partial(report, a, "2026-Q1")],
        d(2026, 4, 15): [copil],
        d(2026, 4, 24): [partial(report, c, "2026-Q1")],  # after the reminder, before overdue
        d(2026, 6, 1): [copil],
        d(2026, 7, 1): [leave],
        d(2026, 7, 15): [copil],
        d(2026, 7, 20): [partial(report, a, "2026-Q2")],
        d(2026, 7, 25): [partial(report, b, "2026-Q2")],
        d(2026, 9, 1): [copil],
        d(2026, 10, 15): [copil],
        d(2026, 11, 20): [partial(report, a, "2026-Q3")],
        d(2026, 12, 1): [copil],
    }
    s.run_days(start, d(2027, 1, 5), actions)

    reports = [m for m in s.log if m.kind.startswith("report_") or m.kind == "digest"]
    expected = [
        # Q1 (due 30 April): A submits on 10/04, C on 24/04, B never
        *_expect("2026-03-31", 9, "report_request", PA, PB, PC),
        *_expect("2026-04-23", 9, "report_reminder", PB, PC),
        # 1 May and 14 May (Ascension) are holidays: they leave the next working morning
        *_expect("2026-05-04", 9, "report_overdue", PB),  # the late partner only
        *_expect("2026-05-15", 9, "report_escalation", COORD, DD_AGENCY),
        # Q2 (due 30 July): C has left on 15/07; A and B submit before the deadline
        *_expect("2026-06-30", 9, "report_request", PA, PB, PC),
        *_expect("2026-07-23", 9, "report_reminder", PB),
        # Q3 (due 30 October): only A and B are still partners; nobody answers in time
        *_expect("2026-09-30", 9, "report_request", PA, PB),
        *_expect("2026-10-23", 9, "report_reminder", PA, PB),
        # due Saturday 31 October: Monday 2 November, the next working morning
        *_expect("2026-11-02", 9, "report_overdue", PA, PB),
        # the pilot (and the agency, which the reports are sent to) is told of both late
        # partners in ONE escalation; never the other partners
        *_expect("2026-11-13", 9, "report_escalation", COORD, DD_AGENCY),
        # Q4
        *_expect("2026-12-31", 9, "report_request", PA, PB),
    ]
    assert by_tick(reports) == sorted(expected)

    # Everything else of the year: the joins, the three phase changes, C leaving.
    others = [m for m in s.log if m not in reports]
    steering = (COORD, DD_AGENCY)
    members = (COORD, DD_AGENCY, PA, PB, PC)
    assert by_tick(others) == sorted(
        [
            # one message each: news of the three for the steering, a welcome for each
            *_expect("2026-03-02", 9, "partner_joined", *steering, PA, PB, PC),
            *_expect("2026-03-02", 18, "phase_changed", *members),
            *_expect("2026-03-02", 18, "phase_changed", *members),
            *_expect("2026-03-02", 18, "phase_changed", *members),
            *_expect("2026-07-01", 18, "partner_left", *steering),
        ]
    )
    # The partner who left gets nothing after leaving.
    assert [m for m in s.log if m.to == PC and m.day >= date(2026, 7, 15)] == []

    # Each request carries the partner's own answer link, for its quarter.
    for m in s.log:
        if m.kind in ("report_request", "report_reminder", "report_overdue"):
            text = m.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
            token = text.split("/answer/", 1)[1].split()[0]
            s.clock.set(at(m.day, 12))  # read the day it was received: links expire
            target = s.c.links.read(token)
            partner = {PA: a, PB: b, PC: c}[m.to]
            assert target.purpose == "report" and target.project_id == pid
            assert target.partner_id == partner
            assert target.detail.startswith("bilan_trimestriel:2026-Q")
    escalation = [m for m in s.log if m.kind == "report_escalation" and m.day.month == 11]
    assert {m.to for m in escalation} == {COORD, DD_AGENCY}
    for m in escalation:
        text = m.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        assert "Association A" in text and "Centre de santé B" in text
    # the pilot is not told to contact the pilot; the agency is told who acts
    to_pilot = next(m for m in escalation if m.to == COORD)
    text = to_pilot.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Merci de prendre contact avec elle" in text and "écrivez à votre pilote" not in text
    welcome = next(m for m in s.log if m.kind == "partner_joined" and m.to == PA)
    text = welcome.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Bienvenue dans le projet" in text
    assert "Centre de santé B" in text and "Mairie C" in text
