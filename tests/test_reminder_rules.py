"""Reminder rules end to end (real SMTP, FixedClock): coalescing after downtime, 09:00 Paris
on both sides of the DST changes, ICS invitation / update / cancel, idempotent sweeps,
one message per person and sweep, nothing about a suspended or abandoned project."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import icalendar
import pytest
import sqlalchemy as sa

from tests.e2e_support import Mail, System, at, definitions_dir, person, summary
from tests.smtp_support import SmtpServer
from workflow import tables
from workflow.database import read
from workflow.engine import NewProject

PILOT = "pilote@etablissement.example"
AGENCY = "ars@ars.example"
ARACT = "aract@aract.example"
PARTNER = "partenaire@asso.example"


@pytest.fixture
def defs(tmp_path: Path) -> Path:
    return definitions_dir(tmp_path)


@pytest.fixture
def system(db_url: str, defs: Path, smtp_server: SmtpServer) -> Iterator[System]:
    s = System(db_url, defs, smtp_server, at(date(2026, 5, 4), 8))
    yield s
    s.dispose()


def acia_project(s: System, variant: str = "axe_1", title: str = "EHPAD Les Tilleuls") -> int:
    start = date(2026, 5, 4)
    pid = s.engine.create_project(
        NewProject(
            definition_id="acia",
            title=title,
            start_date=start,
            variant=variant,
            pilot=person("EHPAD", PILOT, "pilot", "copil"),
            agency=person("ARS", AGENCY, "agency"),
        )
    )
    s.records.add_partner(pid, person("ARACT", ARACT, "aract", "copil"), start)
    s.tick(at(start, 9))  # the join notices
    return pid


def kinds_to(mails: list[Mail], email: str) -> list[str]:
    return [m.kind for m in mails if m.to == email]


def test_downtime_sends_one_coalesced_message_per_occasion(system: System) -> None:
    s = system
    acia_project(s)
    assert s.tick(at(date(2026, 6, 10), 9)) == []  # J-20: nothing yet
    # No tick from J-20 to J+2: J-14, J-3 and the overdue notice are all due at once.
    mails = s.tick(at(date(2026, 7, 2), 9))
    assert summary(mails) == [("2026-07-02 09:00", PILOT, "milestone_overdue")]
    assert mails[0].subject.startswith("Copilote\u202f: retard sur «\u202fFiche de cadrage")
    with read(s.c.db) as conn:
        rows = dict(
            conn.execute(
                sa.select(tables.reminder.c.occasion, tables.reminder.c.status).where(
                    tables.reminder.c.kind.like("milestone_%")
                )
            ).all()
        )
    statuses = {occ.rsplit(":", 1)[-1]: st for occ, st in rows.items()}
    assert statuses == {
        "14": "coalesced",
        "3": "coalesced",
        "overdue": "done",
        "escalation": "pending",
    }
    # The next day, nothing is repeated; the weekly digest and the escalation come on time.
    assert s.tick(at(date(2026, 7, 3), 9)) == []
    assert summary(s.tick(at(date(2026, 7, 9), 9))) == [
        ("2026-07-09 09:00", PILOT, "overdue_digest")
    ]
    # The digest is due on Mondays: the one of Monday 13 July, missed, comes with them, on
    # the next working morning (14 July is a holiday: nothing leaves).
    assert s.tick(at(date(2026, 7, 14), 9)) == []
    assert sorted(summary(s.tick(at(date(2026, 7, 15), 9)))) == sorted(
        [
            # the pilot's own deliverable: escalated to the agency, not to COPIL members (ARACT)
            ("2026-07-15 09:00", AGENCY, "milestone_escalation"),
            ("2026-07-15 09:00", PILOT, "overdue_digest"),
        ]
    )


@pytest.mark.parametrize(
    ("meeting_day", "reminder_day", "utc_hour"),
    [
        (date(2026, 3, 30), date(2026, 3, 28), 8),  # Saturday before the March change: CET
        (date(2026, 3, 31), date(2026, 3, 29), 7),  # the day of the change: CEST
        (date(2026, 10, 26), date(2026, 10, 24), 7),  # Saturday before the October change
        (date(2026, 10, 27), date(2026, 10, 25), 8),  # the day of the change: back to CET
    ],
)
def test_reminder_at_nine_paris_across_dst(
    tmp_path: Path,
    defs: Path,
    smtp_server: SmtpServer,
    meeting_day: date,
    reminder_day: date,
    utc_hour: int,
) -> None:
    # DST changes fall on Sundays, so these reminders fall on weekends: the sending window
    # (tested in test_cadence.py) would hold them to Monday; here it is off, to see the hour.
    s = System(
        f"sqlite:///{tmp_path / 'dst.db'}",
        defs,
        smtp_server,
        at(date(2026, 3, 2), 8),
        sending_window=False,
    )
    try:
        pid = s.engine.create_project(
            NewProject(
                definition_id="mini",
                title="Programme test",
                start_date=date(2026, 3, 2),
                pilot=person("Pilote", PILOT, "pilot", "copil"),
            )
        )
        member = "membre@asso.example"  # invited; the pilot organises it
        s.records.add_partner(pid, person("Asso", member, "partner", "copil"))
        meeting = s.records.schedule_meeting(pid, "copil", at(meeting_day, 14))
        invited = s.tick(at(date(2026, 3, 2), 9))
        assert "meeting_invitation" in kinds_to(invited, member)  # beside its welcome
        assert "meeting_invitation" not in kinds_to(invited, PILOT)
        with read(s.c.db) as conn:
            due_at = conn.execute(
                sa.select(tables.reminder.c.due_at).where(
                    tables.reminder.c.subject_id == meeting,
                    tables.reminder.c.kind == "meeting_reminder",
                )
            ).scalar_one()
        assert due_at == datetime.combine(reminder_day, datetime.min.time(), UTC).replace(
            hour=utc_hour
        )
        s.tick(at(reminder_day - timedelta(days=1), 9))  # whatever else was due before
        assert s.tick(at(reminder_day, 8, 59)) == []
        mails = s.tick(at(reminder_day, 9))
        assert sorted(summary(mails)) == [
            (f"{reminder_day} 09:00", member, "meeting_reminder"),
            (f"{reminder_day} 09:00", PILOT, "meeting_reminder"),
        ]
        assert mails[0].when.utcoffset() is not None
        assert s.clock.now().hour == utc_hour
    finally:
        s.dispose()


def _calendar(mail: Mail) -> icalendar.Calendar:
    (part,) = [p for p in mail.message.walk() if p.get_content_type() == "text/calendar"]
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return icalendar.Calendar.from_ical(payload)


def test_ics_invitation_update_and_cancel(system: System) -> None:
    s = system
    pid = acia_project(s)
    s.set(at(date(2026, 5, 11), 10))
    meeting = s.records.schedule_meeting(
        pid, "copil", at(date(2026, 5, 28), 14), occurrence="copil_1", location="Salle 1"
    )
    invitations = s.tick(at(date(2026, 5, 11), 10))
    s.set(at(date(2026, 5, 12), 10))
    s.records.move_meeting(pid, meeting, at(date(2026, 6, 2), 10), location="Salle 2")
    updates = s.tick(at(date(2026, 5, 12), 10))
    s.set(at(date(2026, 5, 13), 10))
    s.records.cancel_meeting(pid, meeting)
    cancels = s.tick(at(date(2026, 5, 13), 10))

    attendees = [ARACT]  # copil, pilot, aract; not the agency, not the pilot who organises it
    for mails, kind in (
        (invitations, "meeting_invitation"),
        (updates, "meeting_update"),
        (cancels, "meeting_cancel"),
    ):
        assert sorted(m.to for m in mails) == attendees
        assert {m.kind for m in mails} == {kind}

    def event(mail: Mail) -> tuple[str, str, int, datetime]:
        cal = _calendar(mail)
        (ev,) = cal.walk("VEVENT")
        return (
            str(cal["METHOD"]),
            str(ev["UID"]),
            int(ev.decoded("SEQUENCE")),
            ev.decoded("DTSTART"),
        )

    for who in attendees:
        inv = event(next(m for m in invitations if m.to == who))
        upd = event(next(m for m in updates if m.to == who))
        can = event(next(m for m in cancels if m.to == who))
        assert inv[0] == upd[0] == "REQUEST" and can[0] == "CANCEL"
        assert inv[1] == upd[1] == can[1]  # one UID: calendars update the same event
        assert inv[2] < upd[2] < can[2]
        assert inv[3] == at(date(2026, 5, 28), 14)
        assert upd[3] == can[3] == at(date(2026, 6, 2), 10)
        (ev,) = _calendar(next(m for m in cancels if m.to == who)).walk("VEVENT")
        assert str(ev["STATUS"]) == "CANCELLED"
    # The cancelled meeting gets no reminder (26/05 nor 31/05) and no minutes request.
    s.run_days(date(2026, 5, 14), date(2026, 6, 5))
    assert [m for m in s.log if m.kind.startswith("meeting_") and m.day > date(2026, 5, 13)] == []


def test_sweep_twice_at_the_same_instant_never_duplicates(system: System) -> None:
    s = system
    acia_project(s)
    s.set(at(date(2026, 6, 16), 9))
    now = s.clock.now()
    first = s.c.sweeper.run(now)
    assert (first.fired, first.messages) == (1, 1)  # fiche de cadrage J-14, to the pilot
    again = s.c.sweeper.run(now)
    assert (again.claimed, again.messages) == (0, 0)
    # Even if the reminder were swept again (its mark lost, a second instance racing),
    # the outbox key of the occasion keeps it to one message.
    with s.c.db.begin() as conn:
        conn.execute(
            sa.update(tables.reminder)
            .where(
                tables.reminder.c.status == "done", tables.reminder.c.kind == "milestone_reminder"
            )
            .values(status="pending")
        )
    replay = s.c.sweeper.run(now)
    assert (replay.fired, replay.messages) == (1, 0)
    mails = s.tick(at(date(2026, 6, 16), 9))
    assert summary(mails) == [("2026-06-16 09:00", PILOT, "milestone_reminder")]
    assert s.tick(at(date(2026, 6, 16), 9)) == []
    with read(s.c.db) as conn:
        count = conn.execute(
            sa.select(sa.func.count()).where(tables.outbox.c.kind == "milestone_reminder")
        ).scalar_one()
    assert count == 1


def test_one_message_per_person_listing_everything_due(system: System) -> None:
    s = system
    # Axe 2: the pilot owes the feuille de cadrage AND the recensement, both due 30 June.
    acia_project(s, variant="axe_2")
    mails = s.tick(at(date(2026, 6, 16), 9))
    assert summary(mails) == [("2026-06-16 09:00", PILOT, "digest")]
    text = mails[0].message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Fiche de cadrage" in text and "Recensement des temps d'échange" in text
    assert mails[0].subject == "Copilote\u202f: 2 points à traiter"


def test_nothing_about_a_suspended_or_abandoned_project(system: System) -> None:
    s = system
    suspended = acia_project(s, title="Projet suspendu")
    abandoned = acia_project(s, title="Projet abandonné")
    s.set(at(date(2026, 6, 10), 10))
    s.engine.advance(suspended, "suspend", actor="ARS", comment="changement de direction")
    s.engine.advance(abandoned, "abandon", actor="ARS", comment="fermeture de l'établissement")
    notices = s.tick(at(date(2026, 6, 10), 10))
    assert sorted(summary(notices)) == sorted(
        [
            ("2026-06-10 10:00", who, kind)
            for who in (PILOT, ARACT, AGENCY)
            for kind in ("project_suspended", "project_abandoned")
        ]
    )
    s.run_days(date(2026, 6, 11), date(2026, 6, 19))
    assert [m for m in s.log if m.day > date(2026, 6, 10)] == []  # J-14 (16/06) skipped
    s.set(at(date(2026, 6, 20), 10))
    s.engine.advance(suspended, "resume", actor="ARS")
    s.run_days(date(2026, 6, 20), date(2026, 8, 31))
    later = [m for m in s.log if m.day >= date(2026, 6, 20)]
    # Only the resumed project speaks again: J-3, overdue, digests, escalation...
    assert {m.subject.split("– ")[-1] for m in later if m.kind != "project_resumed"} <= {
        "Projet suspendu"
    }
    assert all("abandonné" not in m.subject for m in later)
    # J-3 falls on Saturday 27 June: it leaves on Monday morning
    assert ("2026-06-29 09:00", PILOT, "milestone_reminder") in summary(later)
