"""The service refuses to be reachable beyond this machine with the public default secret."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cli import app as cli
from service import Copilote, Settings
from tests.conftest import paris
from workflow.clock import FixedClock
from workflow.errors import InvalidInput

NOW = paris(2026, 5, 4, 9)


def settings(tmp_path: Path, **values: Any) -> Settings:
    return Settings(
        database_url=f"sqlite:///{tmp_path / 'c.db'}", mail_dir=tmp_path / "mail", **values
    )


def test_default_secret_is_refused_beyond_loopback(tmp_path: Path) -> None:
    c = Copilote(settings(tmp_path, base_url="https://copilote.ars-idf.example"), FixedClock(NOW))
    with pytest.raises(
        InvalidInput,
        match="COPILOTE_SECRET_KEY: set a secret of your own to serve on copilote.ars-idf.example",
    ):
        c.app()
    c = Copilote(settings(tmp_path, host="0.0.0.0"), FixedClock(NOW))
    with pytest.raises(InvalidInput, match="0.0.0.0"):
        c.app()


def test_own_secret_or_loopback_serve(tmp_path: Path) -> None:
    clock = FixedClock(NOW)
    assert Copilote(settings(tmp_path), clock).app() is not None  # the embedded defaults
    own = settings(
        tmp_path, base_url="https://copilote.ars-idf.example", secret_key="s3cr3t-of-our-own"
    )
    assert Copilote(own, clock).app() is not None


def test_serve_says_why_and_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COPILOTE_BASE_URL", "https://copilote.ars-idf.example")
    monkeypatch.delenv("COPILOTE_SECRET_KEY", raising=False)
    monkeypatch.setenv("COPILOTE_MAIL_DIR", str(tmp_path / "mail"))
    result = CliRunner().invoke(cli, ["serve", "--db", f"sqlite:///{tmp_path / 'c.db'}"])
    assert result.exit_code == 2
    assert "COPILOTE_SECRET_KEY: set a secret of your own" in result.output


def test_skipped_intervals_during_a_long_pass_are_not_warned(tmp_path: Path) -> None:
    """A pass that delivers for longer than the interval makes APScheduler skip the next ones
    (max_instances=1, by design): that must not fill the log with warnings; others still pass."""
    import logging

    c = Copilote(settings(tmp_path, sweep_interval_seconds=3600), FixedClock(NOW))
    scheduler = c.start_scheduler()
    try:
        log = logging.getLogger("apscheduler.scheduler")

        def record(message: str) -> logging.LogRecord:
            return log.makeRecord(log.name, logging.WARNING, __file__, 1, message, (), None)

        skipped = 'Execution of job "Copilote._scheduled_tick" skipped: maximum number of running instances reached (1)'
        assert not log.filter(record(skipped))
        assert log.filter(
            record('Run time of job "Copilote._scheduled_tick" was missed by 0:00:05')
        )
    finally:
        scheduler.shutdown(wait=True)


def _environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **env: str) -> None:
    """What a worker started by uvicorn or gunicorn sees: settings only from the environment."""
    monkeypatch.chdir(tmp_path)  # no .env file of the checkout
    for name in ("SECRET_KEY", "DEVELOPMENT", "HOST", "BASE_URL"):
        monkeypatch.delenv(f"COPILOTE_{name}", raising=False)
    monkeypatch.setenv("COPILOTE_DATABASE_URL", f"sqlite:///{tmp_path / 'c.db'}")
    monkeypatch.setenv("COPILOTE_MAIL_DIR", str(tmp_path / "mail"))
    monkeypatch.setenv("COPILOTE_SCHEDULER", "false")
    for name, value in env.items():
        monkeypatch.setenv(name, value)


@pytest.mark.parametrize("host", ["0.0.0.0", "127.0.0.2", "127.0.0.1"])
def test_uvicorn_factory_refuses_the_default_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, host: str
) -> None:
    """The README's `uvicorn --factory service:app --host ...`: whatever the host (uvicorn's
    --host is not COPILOTE_HOST), the built-in key is refused before anything is built."""
    import uvicorn

    _environment(monkeypatch, tmp_path)
    config = uvicorn.Config("service:app", factory=True, host=host)
    with pytest.raises(InvalidInput, match="COPILOTE_SECRET_KEY: set a secret of your own"):
        config.load()
    assert not (tmp_path / "c.db").exists()


def test_gunicorn_factory_call_refuses_the_default_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """gunicorn's `'service:app()'` imports the module and calls the factory."""
    import importlib

    _environment(monkeypatch, tmp_path, COPILOTE_BASE_URL="http://127.0.0.1:8000")
    service = importlib.import_module("service")
    with pytest.raises(InvalidInput, match="COPILOTE_DEVELOPMENT=true"):
        service.app()


def test_factory_serves_with_an_own_secret_or_in_development_on_loopback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    _environment(monkeypatch, tmp_path, COPILOTE_SECRET_KEY="s3cr3t-of-our-own")
    config = uvicorn.Config("service:app", factory=True)
    config.load()
    assert config.loaded_app is not None
    _environment(monkeypatch, tmp_path, COPILOTE_DEVELOPMENT="true")
    config = uvicorn.Config("service:app", factory=True)
    config.load()
    assert config.loaded_app is not None
    # Development never makes the public key acceptable beyond loopback.
    _environment(monkeypatch, tmp_path, COPILOTE_DEVELOPMENT="true", COPILOTE_HOST="0.0.0.0")
    with pytest.raises(InvalidInput, match="0.0.0.0"):
        uvicorn.Config("service:app", factory=True).load()


def test_serve_on_loopback_turns_development_on_for_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    _environment(monkeypatch, tmp_path)
    served: list[Any] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: served.append((app, options)))
    result = CliRunner().invoke(cli, ["serve"])
    assert result.exit_code == 0, result.output
    assert served and served[0][1]["host"] == "127.0.0.1"
