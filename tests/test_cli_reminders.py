"""``copilote tick --now`` and ``copilote simulate`` on each shipped definition (in-process,
typer's CliRunner; the process-level run of ``tick`` is in test_delivery_faults.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app

DEFINITIONS = ["acia", "cooperative", "aceso", "unapei"]
LINE = re.compile(r"^(\d{4}-\d{2}-\d{2}) (09|18):00  (\S+@\S+)\s+(Copilote\u202f: .+)$")


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the file mailer writes under ./mail
    for name in ("COPILOTE_SMTP_HOST", "COPILOTE_DATABASE_URL", "COPILOTE_DEFINITIONS_DIR"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("definition", DEFINITIONS)
def test_tick_runs_on_each_definition(definition: str, tmp_path: Path) -> None:
    runner = CliRunner()
    db = f"sqlite:///{tmp_path / 'tick.db'}"
    variant = ["--variant", "axe_1"] if definition == "acia" else []
    created = runner.invoke(
        app,
        [
            "project",
            "create",
            "--definition",
            definition,
            "--title",
            f"Projet {definition}",
            "--start",
            "2026-05-04",
            "--pilot-email",
            "pilote@example.org",
            "--pilot-org",
            "Pilote",
            "--agency-email",
            "ars@example.org",
            "--convention-start",
            "2026-05-04",
            *variant,
            "--db",
            db,
            "--now",
            "2026-05-04T08:00+02:00",
        ],
    )
    assert created.exit_code == 0, created.output
    sent = 0
    for now in ("2026-05-04T09:00+02:00", "2026-09-01T09:00+02:00", "2026-09-01T09:00+02:00"):
        result = runner.invoke(app, ["tick", "--now", now, "--db", db])
        assert result.exit_code == 0, result.output
        assert "reminders:" in result.output
        found = re.search(r"^delivery: (\d+) sent, 0 to retry, 0 failed$", result.output, re.M)
        assert found, result.output
        sent += int(found.group(1))
    # the same instant twice: the second tick has nothing left to queue or send
    assert "0 message(s) queued" in result.output
    assert "delivery: 0 sent, 0 to retry, 0 failed" in result.output
    # without SMTP settings the file mailer writes one file per message sent
    assert len(list((tmp_path / "mail").glob("*.eml"))) == sent


@pytest.mark.parametrize("definition", DEFINITIONS)
def test_simulate_prints_a_calendar_of_messages(definition: str) -> None:
    result = CliRunner().invoke(
        app, ["simulate", definition, "--from", "2026-05-04", "--to", "2026-12-31"]
    )
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    end = next(i for i, line in enumerate(lines) if " message(s); phase at the end: " in line)
    calendar = [LINE.match(line) for line in lines[:end]]
    assert all(calendar), [line for line, m in zip(lines, calendar, strict=False) if not m]
    assert len(calendar) >= 5
    days = [m.group(1) for m in calendar if m]
    assert days == sorted(days) and days[0] >= "2026-05-04" and days[-1] <= "2026-12-31"
    total = re.fullmatch(r"(\d+) message\(s\); phase at the end: (\w+)", lines[end])
    assert total and int(total.group(1)) == len(calendar)
    # nobody acts: the pilot is reminded, then told of lateness
    recipients = {m.group(3) for m in calendar if m}
    assert "pilote@example.org" in recipients
    # then each person's count per month, which adds up to the calendar
    assert lines[end + 1 : end + 3] == ["", "messages per person per month"]
    header, *rows = lines[end + 3 :]
    assert header.split()[1:9] == [
        "26/05",
        "26/06",
        "26/07",
        "26/08",
        "26/09",
        "26/10",
        "26/11",
        "26/12",
    ]
    counts = {row.split()[0]: [int(n) for n in row.split()[1:9]] for row in rows}
    assert set(counts) == recipients
    for person, months in counts.items():
        sent = [m.group(1)[:7] for m in calendar if m and m.group(3) == person]
        assert months == [sent.count(f"2026-{month:02d}") for month in range(5, 13)], person


def test_simulate_diligent_moves_the_project_on_and_refuses_an_unknown_scenario() -> None:
    runner = CliRunner()
    args = ["simulate", "cooperative", "--from", "2026-05-04", "--to", "2026-09-30"]
    idle = runner.invoke(app, args)
    diligent = runner.invoke(app, [*args, "--scenario", "diligent", "--partners", "2"])
    assert idle.exit_code == 0 and diligent.exit_code == 0, diligent.output
    assert "phase at the end: prefiguration" in idle.output
    assert "phase at the end: plan_actions" in diligent.output  # two phases on, on time
    assert "invitation" in diligent.output and "retard" not in diligent.output
    wrong = runner.invoke(app, [*args, "--scenario", "lazy"])
    assert wrong.exit_code == 2 and "idle or diligent" in wrong.output
