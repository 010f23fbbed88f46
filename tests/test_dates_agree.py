"""Dates that agree (issue 10, finding 13): an end before its start is refused naming both
dates, and a deadline is met until the end of its day in Europe/Paris."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from tests.conftest import paris
from tests.test_engine import AGENCY, PILOT, new_mini, ready_to_deploy
from workflow.clock import FixedClock
from workflow.engine import Engine, NewProject, PartnerIn
from workflow.errors import InvalidInput
from workflow.progress import overdue_items
from workflow.records import Records


def test_a_partner_cannot_leave_before_joining(
    engine: Engine, records: Records, clock: FixedClock
) -> None:
    pid = new_mini(engine)
    today = clock.now().date()
    late = records.add_partner(
        pid, PartnerIn("Asso C", "c@asso-c.example.fr"), joined_on=today + timedelta(days=200)
    )
    with pytest.raises(InvalidInput) as refused:
        records.partner_leaves(pid, late, on=today + timedelta(days=180))
    assert refused.value.field == "on"
    assert str(refused.value) == (
        f"on: Asso C cannot leave on {today + timedelta(days=180)}, "
        f"before joining on {today + timedelta(days=200)}"
    )
    # By default it leaves at the first annual deadline after it has joined.
    left = records.partner_leaves(pid, late)
    assert left >= today + timedelta(days=200)


def test_the_cli_refuses_a_leave_before_the_join_and_says_annual_deadline_only_when_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COPILOTE_MAIL_DIR", str(tmp_path / "mail"))
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()

    def run(*args: str, now: str, code: int = 0) -> str:
        result = runner.invoke(app, [*args, "--db", db, "--now", now])
        assert result.exit_code == code, result.output
        assert "Traceback" not in result.output
        return result.output

    run(
        *("project", "create", "--definition", "acia", "--title", "ACIA Corse"),
        *("--start", "2023-06-01", "--variant", "axe_1", "--pilot-email", "p@corse.fr"),
        *("--pilot-org", "Pilote Corse", "--agency-email", "ars@ars-corse.fr"),
        now="2023-06-01T09:00",
    )
    added = run(
        *("partner", "add", "1", "--org", "Asso C", "--email", "c@asso.fr"), now="2023-06-30T09:00"
    )
    partner = added.split()[1]
    refused = run(
        "partner", "leave", "1", partner, "--on", "2023-06-10", now="2023-06-01T10:00", code=2
    )
    assert "cannot leave on 2023-06-10, before joining on 2023-06-30" in refused
    given = run("partner", "leave", "1", partner, "--on", "2023-09-01", now="2023-06-30T10:00")
    assert given.strip() == f"partner {partner} leaves project 1 on 2023-09-01"


def test_a_convention_ending_before_the_project_starts_is_refused(engine: Engine) -> None:
    with pytest.raises(InvalidInput) as refused:
        engine.create_project(
            NewProject(
                definition_id="mini",
                title="ACIA Corse",
                start_date=date(2023, 6, 30),
                pilot=PILOT,
                agency=AGENCY,
                convention_end=date(2023, 6, 10),
            )
        )
    assert refused.value.field == "convention_end"
    assert "2023-06-10" in str(refused.value) and "2023-06-30" in str(refused.value)
    with pytest.raises(
        InvalidInput, match=r"ends on 2023-06-10, not after it starts on 2023-06-20"
    ):
        engine.create_project(
            NewProject(
                definition_id="mini",
                title="ACIA Corse",
                start_date=date(2023, 6, 1),
                pilot=PILOT,
                agency=AGENCY,
                convention_start=date(2023, 6, 20),
                convention_end=date(2023, 6, 10),
            )
        )


def test_an_automatic_step_due_today_is_not_late_until_the_day_is_over(
    engine: Engine, records: Records, clock: FixedClock
) -> None:
    pid = new_mini(engine)
    ready_to_deploy(records, pid)
    engine.advance(pid, "start_deployment", actor="Anne")
    clock.set(paris(2026, 11, 30, 0, 30))  # 23:30 on 29 November in UTC
    engine.run_timed_transitions()
    assert [
        i for i in overdue_items(engine, date(2026, 11, 30), pid) if i.kind == "automatic_step"
    ] == []
    (item,) = [
        i for i in overdue_items(engine, date(2026, 12, 1), pid) if i.kind == "automatic_step"
    ]
    assert item.since == date(2026, 12, 1)
    assert item.days_late(date(2026, 12, 1)) == 0
    assert item.days_late(date(2026, 12, 2)) == 1
