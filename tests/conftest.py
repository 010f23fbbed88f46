"""Shared fixtures: a clock you advance, a database (SQLite file per test, or the real
PostgreSQL server), and the whole system wired from them.

PostgreSQL: tests marked or parametrized ``postgres`` use the server at
``COPILOTE_TEST_POSTGRES`` (default ``postgresql://postgres@127.0.0.1:5432/test``). Where it
is unreachable they skip with the reason, except under CI (``CI=true``), where they fail.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from tests.smtp_support import SmtpServer, start_server
from workflow.clock import FixedClock
from workflow.database import create_db_engine, migrate
from workflow.engine import Engine
from workflow.loader import DefinitionRegistry, load_definition, load_directory
from workflow.records import Records

PARIS = ZoneInfo("Europe/Paris")
ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
POSTGRES_URL = os.environ.get("COPILOTE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() == "true"


def paris(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=PARIS)


def require_postgres() -> str:
    """The PostgreSQL URL, or skip (fail under CI) with the reason."""
    try:
        engine = create_db_engine(POSTGRES_URL)
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # any failure to connect means "not here"
        message = f"PostgreSQL at {POSTGRES_URL} is unreachable ({type(exc).__name__}: {exc})"
        if IN_CI:
            pytest.fail(message + "; under CI=true this is a failure, not a skip")
        pytest.skip(message)
    return POSTGRES_URL


def fresh_postgres(url: str) -> None:
    engine = create_db_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(paris(2026, 5, 4, 8, 0))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every test using it runs against SQLite and against the real PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'copilote.db'}"
    url = require_postgres()
    fresh_postgres(url)
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'copilote.db'}"


@pytest.fixture
def db(db_url: str) -> Iterator[sa.Engine]:
    engine = create_db_engine(db_url)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def registry() -> DefinitionRegistry:
    registry = load_directory(ROOT / "definitions")
    registry.add(load_definition(FIXTURES / "mini.yaml"))
    return registry


@pytest.fixture
def engine(db: sa.Engine, registry: DefinitionRegistry, clock: FixedClock) -> Engine:
    return Engine(db, registry, clock)


@pytest.fixture
def records(engine: Engine) -> Records:
    return Records(engine)


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1, on a free port, recording what it gets."""
    server = start_server()
    try:
        yield server
    finally:
        if server.running:  # still running unless the test stopped it
            server.stop()
