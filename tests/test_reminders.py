"""End-to-end reminders: whole programme years driven by a FixedClock, ticked twice a day,
delivered to a real SMTP server (aiosmtpd on loopback). Asserts exactly who received what,
of which kind, at which tick, for the whole year."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from functools import partial
from pathlib import Path

import icalendar
import pytest
from e2e_support import Mail, System, at, definitions_dir, person, summary
from smtp_support import SmtpServer

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
def acia(tmp_path: Path, defs: Path, smtp_server: SmtpServer) -> Iterator[System]:
    s = System(f"sqlite:///{tmp_path / 'acia.db'}", defs, smtp_server, at(date(2026, 5, 4), 8))
    yield s
    s.dispose()


def _expect(day: str, hour: int, kind: str, *to: str) -> list[tuple[str, str, str]]:
    return [(f"{day} {hour:02d}:00", t, kind) for t in to]


def test_acia_programme_year(acia: System) -> None:
    s, records = acia, acia.records
    start = date(2026, 5, 4)
    pid = s.engine.create_project(
        definition_id="acia",
        title="EHPAD Les Tilleuls – outil numérique",
        start_date=start,
        variant="axe_1",
        pilot=person("EHPAD Les Tilleuls", PILOT, "pilot", "copil"),
        agency=person("ARS Corse", AGENCY, "agency"),
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
    expected = [
        # partner_joined goes to the steering roles (COPIL members and agency)
        *_expect("2026-05-04", 9, "partner_joined", PILOT, AGENCY, ARACT),
        *_expect("2026-05-04", 9, "partner_joined", PILOT, AGENCY, ARACT, PARTNER),
        *_expect("2026-05-11", 18, "meeting_invitation", *attendees),
        *_expect("2026-05-20", 18, "meeting_invitation", *attendees),
        *_expect("2026-05-26", 9, "meeting_reminder", *attendees),  # J-2 before COPIL 1
        *_expect("2026-06-08", 9, "meeting_reminder", *attendees),  # J-2 before inter-structure 1
        *_expect("2026-06-16", 9, "milestone_reminder", PILOT),  # fiche de cadrage J-14
        *_expect("2026-06-27", 9, "milestone_reminder", PILOT),  # J-3
        *_expect("2026-07-01", 9, "milestone_overdue", PILOT),  # the day after
        *_expect("2026-07-08", 9, "overdue_digest", PILOT),  # weekly while late
        *_expect("2026-07-14", 9, "milestone_escalation", *everyone),  # J+14: pilot+COPIL+agency
        *_expect("2026-07-15", 9, "overdue_digest", PILOT),
        *_expect("2026-07-16", 18, "phase_changed", *everyone),  # -> déploiement
        *_expect("2026-09-16", 9, "milestone_reminder", PILOT),  # diagnostic J-14; done on 20/09
        *_expect("2026-10-17", 9, "milestone_reminder", PILOT),  # arbitrage J-14
        *_expect("2026-10-28", 9, "milestone_reminder", PILOT),  # arbitrage J-3; done on 29/10
        *_expect("2026-11-16", 9, "milestone_reminder", PILOT),  # recommandations J-14
        *_expect("2026-11-27", 9, "milestone_reminder", PILOT),  # J-3; done that day
        *_expect("2026-11-30", 9, "phase_changed", *everyone),  # automatic -> bilan
        *_expect("2027-02-14", 9, "milestone_reminder", PILOT),  # bilan des actions J-14
        *_expect("2027-02-25", 9, "milestone_reminder", PILOT),  # J-3; done on 26/02
        *_expect("2027-02-28", 9, "phase_changed", *everyone),  # automatic -> clôturé
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
        "Copilote : EHPAD Les Tilleuls – outil numérique passe en phase « Déploiement »",
        "Copilote : EHPAD Les Tilleuls – outil numérique passe en phase « Bilan »",
        "Copilote : EHPAD Les Tilleuls – outil numérique passe en phase « Clôturé »",
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


