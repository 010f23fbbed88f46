"""The command line and time (issue 10, findings 7 and 9): ``tick --now`` in the future only
previews unless ``--commit-future`` is given, and ``outbox retry`` queues failed messages
again."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from cli import app
from tests.notifications.notification_samples import sample
from workflow import tables
from workflow.database import create_db_engine, read
from workflow.outbox import queue_message

Run = Callable[..., str]


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    monkeypatch.setenv("COPILOTE_MAIL_DIR", str(tmp_path / "mail"))
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()

    def invoke(*args: str, now: str | None = None, code: int = 0) -> str:
        argv = [*args, "--db", db] + (["--now", now] if now else [])
        result = runner.invoke(app, argv)
        assert result.exit_code == code, f"{argv}: {result.output}"
        assert "Traceback" not in result.output
        return result.output

    invoke.db = db  # type: ignore[attr-defined]
    return invoke


def create(run: Run) -> None:
    run(
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


def snapshot(db: str) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    engine = create_db_engine(db)
    try:
        with read(engine) as conn:
            outbox = conn.execute(
                sa.select(
                    tables.outbox.c.key,
                    tables.outbox.c.status,
                    tables.outbox.c.attempts,
                    tables.outbox.c.next_attempt_at,
                ).order_by(tables.outbox.c.id)
            ).all()
            reminders = conn.execute(
                sa.select(tables.reminder.c.id, tables.reminder.c.status).order_by(
                    tables.reminder.c.id
                )
            ).all()
    finally:
        engine.dispose()
    return [tuple(r) for r in outbox], [tuple(r) for r in reminders]


def test_a_future_tick_previews_and_writes_nothing(run: Run, tmp_path: Path) -> None:
    create(run)
    run("tick", now="2026-05-04T10:00")
    before = snapshot(run.db)  # type: ignore[attr-defined]
    mails = sorted((tmp_path / "mail").glob("*.eml"))
    # a working morning (1 January is a holiday: the sending window would hold everything)
    out = run("tick", now="2099-01-02T09:00")
    assert "preview" in out and "nothing was written or sent" in out and "--commit-future" in out
    assert "delivery:" in out and "0 sent" not in out.split("delivery:")[1][:10]
    assert snapshot(run.db) == before  # type: ignore[attr-defined]
    assert sorted((tmp_path / "mail").glob("*.eml")) == mails
    done = run("tick", "--commit-future", now="2099-01-02T09:00")
    assert "preview" not in done
    assert snapshot(run.db) != before  # type: ignore[attr-defined]


def test_outbox_retry_queues_failed_messages_again(run: Run) -> None:
    create(run)
    engine = create_db_engine(run.db)  # type: ignore[attr-defined]
    try:
        with engine.begin() as conn:
            for i in range(3):
                queue_message(
                    conn,
                    key=f"k{i}",
                    project_id=None,
                    email=f"p{i}@asso.example.org",
                    name=f"Partenaire {i}",
                    lang="fr",
                    kind="phase_changed",
                    items=[sample("phase_changed")],
                    now=datetime(2026, 4, 30, 8, tzinfo=UTC),
                )
            ids = list(conn.execute(sa.select(tables.outbox.c.id)).scalars())
            assert len(ids) >= 2
            conn.execute(
                sa.update(tables.outbox)
                .where(tables.outbox.c.id == ids[0])
                .values(
                    status="failed",
                    attempts=12,
                    last_error="gave up after 12 attempts: cannot connect",
                    next_attempt_at=datetime(2026, 5, 1, 8, tzinfo=UTC),
                )
            )
            conn.execute(
                sa.update(tables.outbox)
                .where(tables.outbox.c.id == ids[1])
                .values(
                    status="failed",
                    attempts=12,
                    next_attempt_at=datetime(2026, 5, 5, 8, tzinfo=UTC),
                )
            )
        assert "0 failed message(s)" in run(
            "outbox", "retry", "--failed-since", "2026-05-06", now="2026-05-06T09:00"
        )
        out = run("outbox", "retry", "--failed-since", "2026-05-05", now="2026-05-06T09:00")
        assert "1 failed message(s) queued again" in out
        assert "1 failed message(s) queued again" in run("outbox", "retry", now="2026-05-06T09:00")
        with read(engine) as conn:
            rows = conn.execute(
                sa.select(tables.outbox.c.status, tables.outbox.c.attempts).where(
                    tables.outbox.c.id.in_(ids[:2])
                )
            ).all()
        assert [tuple(r) for r in rows] == [("pending", 0), ("pending", 0)]
        run("outbox", "retry", "--failed-since", "hier", code=2)
    finally:
        engine.dispose()
