"""Issue 10, finding 1, as reported: ``project migrate 1 --apply`` to a version that renames
a meeting series (``reunion_projet`` -> ``reunion_equipe``); the next tick died with
``StopIteration`` in the sweep. ``migrate`` now shows the reminders it cancels before
``--apply``, and the ticks after it go through."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from cli import app
from tests.conftest import ROOT
from workflow import tables


def test_migrating_to_a_renamed_series_shows_the_cancelled_reminders_and_ticks_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    definitions = tmp_path / "definitions"
    definitions.mkdir()
    v1 = (ROOT / "definitions" / "cooperative.yaml").read_text(encoding="utf-8")
    (definitions / "cooperative.yaml").write_text(v1, encoding="utf-8")
    monkeypatch.setenv("COPILOTE_DEFINITIONS_DIR", str(definitions))
    monkeypatch.setenv("COPILOTE_MAIL_DIR", str(tmp_path / "mail"))
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()

    def run(*args: str, now: str | None = None) -> str:
        argv = [*args, "--db", db] + (["--now", now] if now else [])
        result = runner.invoke(app, argv)
        assert result.exit_code == 0, f"{argv}: {result.output}"
        assert "Traceback" not in result.output
        return result.output

    run(
        "project",
        "create",
        "--definition",
        "cooperative",
        "--title",
        "Coopérative 93",
        "--start",
        "2026-05-04",
        "--pilot-email",
        "pilote@coop93.fr",
        "--pilot-org",
        "Coop 93",
        now="2026-05-04T09:00",
    )
    run(
        "meeting",
        "schedule",
        "1",
        "reunion_projet",
        "--at",
        # invited seven weeks ahead, so the meeting gets its email reminder (a fortnightly
        # series invited within a month has only its calendar reminder)
        "2026-06-24T14:00+02:00",
        "--occurrence",
        "reunion_lancement",
        now="2026-05-04T10:00",
    )
    run("tick", now="2026-05-05T09:00")
    v2 = re.sub(r"^version: 1$", "version: 2", v1, count=1, flags=re.M)
    v2 = v2.replace("key: reunion_projet", "key: reunion_equipe")
    (definitions / "cooperative_v2.yaml").write_text(v2, encoding="utf-8")

    plan = run("project", "migrate", "1")
    assert "meeting re-keyed: meeting 1 of series 'reunion_projet' now of 'reunion_equipe'" in plan
    assert "run again with --apply" in plan
    run("project", "migrate", "1", "--apply")
    run("tick", now="2026-06-19T10:00")  # what fell due before (milestone reminders)
    out = run("tick", now="2026-06-22T10:00")  # the reminder of the meeting of the 24th
    assert "failed" not in out.split("delivery:")[0] and " 0 failed" in out, out
    # the meeting's reminder, re-keyed to the renamed series, has fired (the other reminders
    # that fired with it: the weekend's, left for this Monday morning)
    engine = sa.create_engine(db)
    with engine.connect() as conn:
        fired = conn.execute(
            sa.select(tables.reminder.c.status, tables.reminder.c.fired_at).where(
                tables.reminder.c.kind == "meeting_reminder",
                tables.reminder.c.subject_id == 1,
            )
        ).all()
    engine.dispose()
    assert [(row.status, str(row.fired_at)[:10]) for row in fired] == [("done", "2026-06-22")]
    for day in ("2026-07-01", "2026-08-03"):
        out = run("tick", now=f"{day}T10:00")
        assert "failed" not in out.split("delivery:")[0], out
