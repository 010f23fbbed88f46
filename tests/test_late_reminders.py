"""A reminder whose occasion has passed is dropped (issue 10, finding 8): a sweep that missed
the reminder's window never tells partners about a meeting "in -1 days"."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.e2e_support import System, at, definitions_dir, person
from tests.smtp_support import SmtpServer
from workflow import tables
from workflow.database import read
from workflow.engine import NewProject

PILOT = "pilote@etablissement.example"
MEETING_DAY = date(2026, 3, 30)  # a Monday; its reminder is due on Saturday 28 at 09:00


@pytest.mark.parametrize(
    "late",
    [
        at(MEETING_DAY, 14, 5),  # the meeting began five minutes ago
        at(date(2026, 3, 31), 9),  # the day after
        at(date(2027, 9, 1), 9),  # eighteen months later
    ],
)
def test_a_meeting_reminder_after_the_meeting_began_is_dropped(
    tmp_path: Path, smtp_server: SmtpServer, late: object
) -> None:
    defs = definitions_dir(tmp_path)
    s = System(f"sqlite:///{tmp_path / 'late.db'}", defs, smtp_server, at(date(2026, 3, 2), 8))
    try:
        pid = s.engine.create_project(
            NewProject(
                definition_id="mini",
                title="Programme test",
                start_date=date(2026, 3, 2),
                pilot=person("Pilote", PILOT, "pilot", "copil"),
            )
        )
        meeting = s.records.schedule_meeting(pid, "copil", at(MEETING_DAY, 14))
        s.tick(at(date(2026, 3, 2), 9))  # the invitation
        assert isinstance(late, type(at(MEETING_DAY)))
        mails = s.tick(late)  # no tick ran in the reminder's window
        assert "meeting_reminder" not in [m.kind for m in mails]
        assert not any("dans -" in m.message.get_body().get_content() for m in mails)  # type: ignore[union-attr]
        with read(s.c.db) as conn:
            status = conn.execute(
                sa.select(tables.reminder.c.status).where(
                    tables.reminder.c.subject_id == meeting,
                    tables.reminder.c.kind == "meeting_reminder",
                )
            ).scalar_one()
        assert status != "pending"  # dropped, not left to fire later
    finally:
        s.dispose()


def test_a_meeting_reminder_just_before_the_meeting_is_still_sent(
    tmp_path: Path, smtp_server: SmtpServer
) -> None:
    defs = definitions_dir(tmp_path)
    s = System(f"sqlite:///{tmp_path / 'late.db'}", defs, smtp_server, at(date(2026, 3, 2), 8))
    try:
        pid = s.engine.create_project(
            NewProject(
                definition_id="mini",
                title="Programme test",
                start_date=date(2026, 3, 2),
                pilot=person("Pilote", PILOT, "pilot", "copil"),
            )
        )
        s.records.schedule_meeting(pid, "copil", at(MEETING_DAY, 14))
        s.tick(at(date(2026, 3, 2), 9))
        mails = s.tick(at(MEETING_DAY, 13, 55))  # late, but the meeting has not begun
        assert "meeting_reminder" in [m.kind for m in mails]
    finally:
        s.dispose()
