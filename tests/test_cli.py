"""The command line: a whole ACIA project driven from framing to closure, and clean errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("COPILOTE_MAIL_DIR", str(tmp_path / "mail"))
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()

    def invoke(*args: str, now: str | None = None, code: int = 0) -> str:
        argv = [*args, "--db", db] + (["--now", now] if now else [])
        result = runner.invoke(app, argv)
        assert result.exit_code == code, f"{argv}: {result.output}"
        assert "Traceback" not in result.output
        return result.output

    return invoke


def test_acia_project_from_framing_to_closure(run) -> None:  # type: ignore[no-untyped-def]
    out = run(
        "project",
        "create",
        "--definition",
        "acia",
        "--title",
        "EHPAD Les Tilleuls",
        "--start",
        "2026-05-04",
        "--variant",
        "axe_1",
        "--pilot-email",
        "pilote@tilleuls.fr",
        "--pilot-org",
        "EHPAD Les Tilleuls",
        "--agency-email",
        "ars@ars-corse.fr",
        "--funding",
        "18000",
        now="2026-05-04T09:00",
    )
    assert "project 1 created" in out and "décision attributive" in out
    refused = run(
        "project",
        "advance",
        "1",
        "start_deployment",
        "--actor",
        "Marie",
        now="2026-05-20T10:00",
        code=3,
    )
    assert "COPIL 1" in refused and "not held" in refused and "not delivered" in refused
    run(
        "partner",
        "add",
        "1",
        "--org",
        "ARACT Corse",
        "--email",
        "aract@aract.fr",
        "--role",
        "aract",
        "--role",
        "copil",
        now="2026-05-05T10:00",
    )
    run(
        "meeting",
        "schedule",
        "1",
        "copil",
        "--occurrence",
        "copil_1",
        "--at",
        "2026-05-18T14:00+02:00",
        now="2026-05-06T10:00",
    )
    run("meeting", "held", "1", "--occurrence", "copil_1", now="2026-05-18T17:00")
    run("meeting", "held", "1", "--occurrence", "inter_structure_1", now="2026-05-25T17:00")
    run(
        "milestone",
        "done",
        "1",
        "fiche_cadrage",
        "--by",
        "Marie",
        "--ref",
        "GED-1",
        now="2026-06-01T10:00",
    )
    assert "cadrage -> deploiement" in run(
        "project", "advance", "1", "start_deployment", "--actor", "Marie", now="2026-06-02T10:00"
    )
    for occ in ("copil_2", "copil_3", "inter_structure_2", "inter_structure_3", "copil_4"):
        run("meeting", "held", "1", "--occurrence", occ, now="2026-11-20T10:00")
    assert "deploiement -> bilan" in run(
        "project", "advance", "1", "start_assessment", "--actor", "Marie", now="2026-11-25T10:00"
    )
    run("meeting", "held", "1", "--occurrence", "inter_structure_4", now="2027-02-10T10:00")
    run("milestone", "done", "1", "bilan_actions", "--by", "Marie", now="2027-02-15T10:00")
    assert "bilan -> cloture" in run(
        "project", "advance", "1", "close_project", "--actor", "Marie", now="2027-02-20T10:00"
    )
    shown = run("project", "show", "1", now="2027-02-21T10:00")
    assert "phase: Clôturé" in shown or "(cloture)" in shown
    assert shown.count("Marie:") == 3
    ticked = run("tick", now="2027-02-21T10:00")
    assert "delivery:" in ticked


def test_errors_are_one_line_and_change_nothing(run) -> None:  # type: ignore[no-untyped-def]
    out = run("project", "show", "42", code=2)
    assert (
        out.strip()
        == "copilote: No project 42: check the identifier (list them to see the known ones)."
    )
    out = run(
        "project",
        "create",
        "--definition",
        "nope",
        "--title",
        "X",
        "--start",
        "2026-05-04",
        "--pilot-email",
        "a@b.fr",
        "--pilot-org",
        "DD",
        code=2,
    )
    assert "No programme definition 'nope'" in out
    out = run(
        "project",
        "create",
        "--definition",
        "acia",
        "--title",
        "X",
        "--start",
        "04/05/2026",
        "--pilot-email",
        "a@b.fr",
        "--pilot-org",
        "DD",
        code=2,
    )
    assert "--start: '04/05/2026' is not a date" in out
    assert run("project", "list") == ""
    out = run("tick", now="demain", code=2)
    assert "--now: 'demain' is not an ISO date-time" in out


def test_show_words_what_is_late_from_the_read_model(run) -> None:  # type: ignore[no-untyped-def]
    run(
        "project",
        "create",
        "--definition",
        "cooperative",
        "--title",
        "Coopérative de Bobigny",
        "--start",
        "2026-05-04",
        "--pilot-email",
        "pilote@cls.example",
        "--pilot-org",
        "CLS Bobigny",
        now="2026-05-04T09:00",
    )
    shown = run("project", "show", "1", now="2026-08-01T10:00")
    late = shown.split("  overdue:\n")[1].split("  history:\n")[0].splitlines()
    assert "    phase Preparation past its planned end: 27 days late, " in [
        line[: line.rindex(", ") + 2] for line in late
    ]
    assert any(
        line.endswith(
            ": none held or planned every 2 weeks: 75 days late, Coordinateur·rice"
            " de la coopérative (DD de l'ARS)"
        )
        for line in late
    )
    assert "{" not in shown and "overdue." not in shown.replace("  overdue:", "")
    listed = run("project", "list")
    assert listed == "1\tcooperative v1\tprefiguration\t\tCoopérative de Bobigny\n"
