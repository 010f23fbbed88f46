"""When and how often (issue 11): the sending window, deadlines moved off non-working days,
one digest a week per person with escalation of stale items, preferences without an account.

Rules are checked on their own (the window's arithmetic, the deadline rule, the loader's
errors), then through the whole system on a fixed clock with a real SMTP server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from demo import load_demo
from service import Settings
from tests.conftest import ROOT, paris
from tests.e2e_support import System, at, definitions_dir, person
from tests.smtp_support import SmtpServer
from workflow import tables
from workflow.calendar import is_working_day, resolve
from workflow.database import read
from workflow.definition import DateRule, ReminderPolicy
from workflow.engine import NewProject
from workflow.errors import DefinitionError
from workflow.loader import load_definition
from workflow.occasions import MilestoneOverdue
from workflow.outbox import Outgoing, SqlOutboxStore, queue
from workflow.planner import plan
from workflow.preferences import FAMILIES, KINDS, load, save
from workflow.window import EXEMPT_KINDS, SendingWindow

WINDOW = SendingWindow()
PILOT = "pilote@cooperative-test.example"
AGENCY = "ars@ars.example"
PARTNER = "asso@partenaire.example"


# -- the window's arithmetic ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("now", "is_open", "opens"),
    [
        (paris(2026, 5, 4, 10), True, paris(2026, 5, 4, 10)),  # a Monday morning
        (paris(2026, 5, 4, 8, 59), False, paris(2026, 5, 4, 9)),  # before the hour
        (paris(2026, 5, 2, 10), False, paris(2026, 5, 4, 9)),  # Saturday -> Monday
        (paris(2026, 5, 1, 10), False, paris(2026, 5, 4, 9)),  # 1 May (Friday) -> Monday
        (paris(2026, 7, 13, 19), True, paris(2026, 7, 13, 19)),  # open until midnight
        (paris(2026, 7, 14, 9), False, paris(2026, 7, 15, 9)),  # 14 July
        (paris(2026, 12, 24, 23), True, paris(2026, 12, 24, 23)),
        (paris(2026, 12, 25, 9), False, paris(2026, 12, 28, 9)),  # Christmas, then weekend
    ],
)
def test_the_window_opens_on_working_mornings(
    now: datetime, is_open: bool, opens: datetime
) -> None:
    assert WINDOW.is_open(now) is is_open
    assert WINDOW.next_opening(now) == opens
    assert WINDOW.last_opening(now) <= now


def test_close_meetings_and_the_digest_day() -> None:
    # Saturday 2 May: the two next working days are Monday 4 and Tuesday 5.
    assert WINDOW.exempt_before(paris(2026, 5, 2, 10)) == paris(2026, 5, 6)
    assert WINDOW.digest_day(date(2026, 5, 4)) == date(2026, 5, 11)  # strictly after
    assert WINDOW.digest_day(date(2026, 5, 6)) == date(2026, 5, 11)
    assert SendingWindow(digest_weekday=4).digest_day(date(2026, 5, 6)) == date(2026, 5, 8)
    assert SendingWindow.is_monthly(date(2026, 6, 1)) and not SendingWindow.is_monthly(
        date(2026, 6, 8)
    )


def test_window_settings_are_checked_and_name_the_setting() -> None:
    assert SendingWindow.parse("07:30", "Friday") == SendingWindow(time(7, 30), 4)
    with pytest.raises(ValueError, match="COPILOTE_SEND_AT: '25:00'"):
        Settings(send_at="25:00")
    with pytest.raises(ValueError, match="COPILOTE_DIGEST_WEEKDAY: 'sunday'"):
        Settings(digest_weekday="sunday")
    assert Settings(digest_weekday=" Wednesday").window().digest_weekday == 2


# -- deadlines on non-working days ---------------------------------------------------------
@pytest.mark.parametrize(
    ("rule", "due", "moved_from"),
    [
        ("next", date(2026, 5, 4), date(2026, 5, 2)),
        ("previous", date(2026, 4, 30), date(2026, 5, 2)),  # Friday 1 May is a holiday
        ("keep", date(2026, 5, 2), None),
    ],
)
def test_a_saturday_deadline_moves_as_the_rule_says(
    rule: str, due: date, moved_from: date | None
) -> None:
    saturday = DateRule(after="project_start", offset="12 days")  # type: ignore[arg-type]
    deadline = resolve(
        saturday,
        project_start=date(2026, 4, 20),
        phase_start=date(2026, 4, 20),
        on_non_working_day=rule,  # type: ignore[arg-type]
    )
    assert (deadline.due, deadline.moved_from) == (due, moved_from)


def test_what_partners_owe_moves_to_the_next_working_day_by_default() -> None:
    policy = ReminderPolicy()
    assert policy.deadline_rule("partner") == "next"
    assert policy.deadline_rule("pilot") == "keep"
    assert policy.deadline_rule("pilot", "previous") == "previous"
    assert policy.deadline_rule("partner", None, False) == "keep"  # the older flag, per item
    assert ReminderPolicy(on_non_working_day="next").deadline_rule("pilot") == "next"
    assert ReminderPolicy(move_to_working_day=True).deadline_rule("pilot") == "next"


def test_a_wrong_rule_is_refused_with_file_line_and_field(tmp_path: Path) -> None:
    text = (ROOT / "tests" / "fixtures" / "mini.yaml").read_text(encoding="utf-8")
    text += "reminders:\n  on_non_working_day: tomorrow\n  weeks_before_escalation: 0\n"
    path = tmp_path / "mini.yaml"
    path.write_text(text, encoding="utf-8")
    lines = text.splitlines()
    with pytest.raises(DefinitionError) as caught:
        load_definition(path)
    message = str(caught.value)
    rule_line = lines.index("  on_non_working_day: tomorrow") + 1
    weeks_line = rule_line + 1
    assert f"mini.yaml:{rule_line}: reminders.on_non_working_day" in message
    assert f"mini.yaml:{weeks_line}: reminders.weeks_before_escalation" in message


# -- the outbox claims only inside the window ----------------------------------------------
def test_the_outbox_holds_messages_outside_the_window_except_close_meeting_changes(
    db: sa.Engine,
) -> None:
    saturday = paris(2026, 5, 2, 10)
    with db.begin() as conn:
        pid = conn.execute(
            sa.insert(tables.project)
            .values(
                definition_id="mini",
                definition_version=1,
                title="P",
                territory="",
                start_date=date(2026, 5, 4),
                phase="instruction",
                phase_entered_at=saturday,
                created_at=saturday,
                version=1,
            )
            .returning(tables.project.c.id)
        ).scalar_one()
        meetings = {}
        for name, starts in (("soon", paris(2026, 5, 5, 14)), ("later", paris(2026, 5, 12, 14))):
            meetings[name] = conn.execute(
                sa.insert(tables.meeting)
                .values(
                    project_id=pid,
                    series="copil",
                    label=name,
                    status="planned",
                    starts_at=starts,
                    sequence=0,
                    attendees=[],
                )
                .returning(tables.meeting.c.id)
            ).scalar_one()
        queue(
            conn,
            [
                Outgoing(
                    "update-soon",
                    pid,
                    "a@x.example",
                    "A",
                    "fr",
                    "meeting_update",
                    [{}],
                    meetings["soon"],
                ),
                Outgoing(
                    "cancel-soon",
                    pid,
                    "a@x.example",
                    "A",
                    "fr",
                    "meeting_cancel",
                    [{}],
                    meetings["soon"],
                ),
                Outgoing(
                    "update-later",
                    pid,
                    "a@x.example",
                    "A",
                    "fr",
                    "meeting_update",
                    [{}],
                    meetings["later"],
                ),
                Outgoing("reminder", pid, "a@x.example", "A", "fr", "milestone_reminder", [{}]),
            ],
            saturday,
        )
    store = SqlOutboxStore(db, window=WINDOW)
    claimed = store.claim(saturday)
    assert sorted(m.key for m in claimed) == ["cancel-soon", "update-soon"]
    store.mark_sent([m.id for m in claimed], saturday)
    assert store.claim(paris(2026, 5, 4, 8, 30)) == []  # Monday, before 09:00
    assert sorted(m.key for m in store.claim(paris(2026, 5, 4, 9))) == ["reminder", "update-later"]


# -- the whole system ----------------------------------------------------------------------
@pytest.fixture
def defs(tmp_path: Path) -> Path:
    return definitions_dir(tmp_path)


@pytest.fixture
def system(db_url: str, defs: Path, smtp_server: SmtpServer) -> Iterator[System]:
    s = System(db_url, defs, smtp_server, at(date(2026, 5, 4), 8))
    yield s
    s.dispose()


def _project(s: System, title: str, definition: str = "mini") -> int:
    return s.engine.create_project(
        NewProject(
            definition_id=definition,
            title=title,
            start_date=date(2026, 5, 4),
            pilot=person("DD 93", PILOT, "pilot", "copil"),
            agency=person("ARS IDF", AGENCY, "agency"),
        )
    )


def _outbox(s: System) -> list[Any]:
    with read(s.c.db) as conn:
        return list(
            conn.execute(
                sa.select(
                    tables.outbox.c.key,
                    tables.outbox.c.recipient_email,
                    tables.outbox.c.kind,
                    tables.outbox.c.status,
                ).order_by(tables.outbox.c.id)
            ).all()
        )


def _late(s: System, pid: int, due: date) -> None:
    """The project's fiche de cadrage falls due on ``due`` (its overdue notice the day after)."""
    with s.c.db.begin() as conn:
        mid = conn.execute(
            sa.update(tables.milestone)
            .where(tables.milestone.c.project_id == pid, tables.milestone.c.key == "fiche_cadrage")
            .values(due_on=due)
            .returning(tables.milestone.c.id)
        ).scalar_one()
        conn.execute(
            sa.delete(tables.reminder).where(
                tables.reminder.c.project_id == pid, tables.reminder.c.subject_id == mid
            )
        )
        plan(conn, pid, MilestoneOverdue(mid), at(due + timedelta(days=1)))


def test_one_digest_a_week_merges_projects_then_escalates_once_and_goes_monthly(
    system: System,
) -> None:
    """Two projects of one pilot, late on a Wednesday and a Tuesday (8 May is a holiday): one digest a week, on
    Mondays, listing both; four weeks late, each item is escalated once to the accountable
    (the pilot and the agency: ``mini`` has no RACI; the pilot being the late party, the
    agency alone) and leaves the weekly digest; the
    month's first digest still lists them."""
    s = system
    first, second = _project(s, "Coopérative A"), _project(s, "Coopérative B")
    _late(s, first, date(2026, 5, 6))
    _late(s, second, date(2026, 5, 5))
    s.run_days(date(2026, 5, 4), date(2026, 7, 8))
    keys = {s.c.delivery.message_id(row.key): row.key for row in _outbox(s)}
    digests = [m for m in s.log if keys[m.message_id].startswith("weekly:")]
    assert {m.to for m in digests} == {PILOT}
    assert [m.day for m in digests] == [
        date(2026, 5, 11),
        date(2026, 5, 18),
        date(2026, 5, 26),  # Monday 25 May is Whit Monday: the next working morning
        date(2026, 6, 1),
        date(2026, 7, 6),  # 8 June on: both escalated, only the month's first digest
    ]
    for m in digests:
        body = m.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        assert "Coopérative A" in body and "Coopérative B" in body, body  # both, one mail
    escalated = [
        row
        for row in _outbox(s)
        if row.key.startswith(("milestone:", "group:")) and row.kind != "milestone_overdue"
    ]
    # to the accountable but never to the late party itself: the pilot's own deliverable is
    # escalated to the agency (the routing's rule for every escalation)
    assert sorted(row.recipient_email for row in escalated) == [AGENCY]
    mails = [m for m in s.log if keys[m.message_id] in {row.key for row in escalated}]
    assert {m.when for m in mails} == {at(date(2026, 6, 8), 18)}
    assert all("Fiche de cadrage" in m.subject or "2" in m.subject for m in mails)
    assert all(is_working_day(m.day) for m in s.log)


def test_preferences_hold_messages_for_the_digest_and_choose_the_language(
    system: System,
) -> None:
    s = system
    news = {"partner_joined", "phase_changed"}  # per kind of message
    with s.c.db.begin() as conn:
        save(conn, PILOT.upper(), "en", sorted(news), s.clock.now())
    with read(s.c.db) as conn:
        assert load(conn, PILOT) == load(conn, PILOT.upper())
        assert load(conn, PILOT).digest == news and load(conn, PILOT).lang == "en"
    with s.c.db.begin() as conn, pytest.raises(ValueError, match="digest: 'spam'"):
        save(conn, PILOT, "fr", ["spam"], s.clock.now())
    with s.c.db.begin() as conn, pytest.raises(ValueError, match="digest: 'news'"):
        save(conn, PILOT, "fr", ["news"], s.clock.now())  # a family is no longer a choice
    with s.c.db.begin() as conn:  # a row stored per family before (0013 rewrites them)
        conn.execute(
            sa.insert(tables.preference).values(
                email="old@asso.example.fr",
                lang="fr",
                digest_kinds=["reports", "unknown"],
                updated_at=s.clock.now(),
            )
        )
    with read(s.c.db) as conn:
        assert load(conn, "old@asso.example.fr").digest == set(FAMILIES["reports"])
    s.set(at(date(2026, 5, 4), 10))
    pid = _project(s, "Coopérative A")
    s.records.add_partner(pid, person("Asso", PARTNER, "partner", "copil"), date(2026, 5, 4))
    s.tick(at(date(2026, 5, 4), 18))
    held = [r for r in _outbox(s) if r.recipient_email == PILOT]
    assert held and {r.status for r in held} == {"held"}  # news: waits for Monday
    assert not [m for m in s.log if m.to == PILOT]
    assert [m for m in s.log if m.to == PARTNER]  # the partner chose nothing: at once
    s.run_days(date(2026, 5, 5), date(2026, 5, 11))
    mine = [m for m in s.log if m.to == PILOT]
    assert [m.day for m in mine] == [date(2026, 5, 11)]  # Monday: one digest of it all
    assert mine[0].message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = str(mine[0].message["List-Unsubscribe"]).strip("<>")
    assert url.startswith("http://127.0.0.1:8000/preferences/")
    body = mine[0].message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Hello" in body and "Bonjour" not in body  # English, as chosen
    assert url in body
    assert {r.status for r in _outbox(s) if r.recipient_email == PILOT} == {"merged", "sent"}
    # the partner's messages carry their own link, in French
    theirs = next(m for m in s.log if m.to == PARTNER)
    their_url = str(theirs.message["List-Unsubscribe"]).strip("<>")
    assert their_url != url
    text = theirs.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert f"récapitulatif hebdomadaire, et choisir leur langue\u202f: {their_url}" in text
    assert "report_request" in KINDS and "overdue_digest" not in KINDS  # the digest: never held


@pytest.mark.slow
def test_an_idle_year_of_the_demo_one_digest_a_week_and_only_working_days(
    sqlite_url: str, tmp_path: Path, smtp_server: SmtpServer
) -> None:
    """The issue's measure: the 12 demo projects left alone for a year, ticked twice a day,
    through the real SMTP server. Nobody gets two digests in one week; nothing leaves on a
    Saturday, a Sunday or a French public holiday but the exempt meeting changes."""
    start = date(2026, 11, 23)
    s = System(sqlite_url, definitions_dir(tmp_path), smtp_server, at(start, 8))
    try:
        assert load_demo(s.c)
        s.run_days(start, start + timedelta(days=364), hours=(9,))
        keys = {s.c.delivery.message_id(row.key): row.key for row in _outbox(s)}
        assert len(s.log) > 100  # the year did speak
        weekly: dict[tuple[str, int, int], int] = {}
        for m in s.log:
            if keys[m.message_id].startswith("weekly:"):
                week = (m.to, *m.day.isocalendar()[:2])
                weekly[week] = weekly.get(week, 0) + 1
            if not is_working_day(m.day):
                assert m.kind in EXEMPT_KINDS, (m.day, m.to, m.kind)
        assert weekly and max(weekly.values()) == 1
        digests_per_person: dict[str, int] = {}
        for (who, _, _), n in weekly.items():
            digests_per_person[who] = digests_per_person.get(who, 0) + n
        # escalated items leave the weekly digest: an idle pilot is not written every week
        assert max(digests_per_person.values()) < 30, digests_per_person
    finally:
        s.dispose()
