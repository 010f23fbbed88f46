"""``copilote document attach``: a file filed from the command line, checked as on the pages."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app


def test_a_file_is_attached_versioned_and_a_wrong_one_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COPILOTE_MAIL_DIR", str(tmp_path / "mail"))
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(app, [*args, "--db", db, "--now", "2026-05-04T09:00"])
        assert result.exit_code == code, result.output
        assert "Traceback" not in result.output
        return result.output

    run(
        "project", "create", "--definition", "cooperative", "--title", "Coopérative 93",
        "--start", "2026-05-04", "--pilot-email", "pilote@dd93.example",
        "--pilot-org", "DD 93",
    )  # fmt: skip
    pdf = tmp_path / "fiche.pdf"
    pdf.write_bytes(b"%PDF-1.4\n%%EOF\n")
    out = run("document", "attach", "1", str(pdf), "--by", "Pia", "--to", "milestone:gouvernance")
    assert "document 1 version 1 (fiche.pdf, application/pdf, 15 bytes)" in out
    out = run("document", "attach", "1", str(pdf), "--by", "Pia", "--to", "milestone:gouvernance")
    assert "document 1 version 2" in out and "content already stored" in out
    fake = tmp_path / "cr.pdf"
    fake.write_text("<html><body>not a pdf</body></html>")
    out = run("document", "attach", "1", str(fake), "--by", "Pia", code=2)
    assert "markup" in out
