"""Shared fixtures: a clock you advance, a database (SQLite file per test, or the real
PostgreSQL server), and the whole system wired from them.

PostgreSQL: tests marked or parametrized ``postgres`` use the server at
``COPILOTE_TEST_POSTGRES`` (default ``postgresql://postgres@127.0.0.1:5432/test``). Where it
is unreachable they skip with the reason, except under CI (``CI=true``), where they fail.
"""

from __future__ import annotations

import os
import shutil
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


# Everything in schema ``public`` that a migration creates or a test could change (tables,
# columns, defaults, constraints, indexes, views, triggers, functions, types) and the Alembic
# revision, as one digest.
_SCHEMA_DIGEST = sa.text(
    """
    SELECT md5(coalesce(string_agg(item, E'\\n' ORDER BY item), '')) FROM (
      SELECT concat_ws(' ', 'rel', c.relname, c.relkind::text, pg_get_viewdef(c.oid))
        FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace
      UNION ALL
      SELECT concat_ws(' ', 'col', c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
                       a.attnotnull::text, pg_get_expr(d.adbin, d.adrelid))
        FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
       WHERE c.relnamespace = 'public'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
      UNION ALL
      SELECT concat_ws(' ', 'con', conrelid::regclass::text, conname, pg_get_constraintdef(oid))
        FROM pg_constraint WHERE connamespace = 'public'::regnamespace
      UNION ALL
      SELECT concat_ws(' ', 'idx', indexdef) FROM pg_indexes WHERE schemaname = 'public'
      UNION ALL
      SELECT concat_ws(' ', 'trg', pg_get_triggerdef(t.oid))
        FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
       WHERE c.relnamespace = 'public'::regnamespace AND NOT t.tgisinternal
      UNION ALL
      SELECT concat_ws(' ', 'fn', p.oid::regprocedure::text, md5(p.prosrc))
        FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace
      UNION ALL
      SELECT concat_ws(' ', 'type', t.typname, (SELECT string_agg(e.enumlabel, ','
             ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid))
        FROM pg_type t WHERE t.typnamespace = 'public'::regnamespace
      UNION ALL
      SELECT concat_ws(' ', 'ver', version_num) FROM alembic_version
    ) AS items(item)
    """
)
_TABLES = sa.text(
    "SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
)
_SEQUENCES = sa.text(
    "SELECT quote_ident(sequencename) FROM pg_sequences WHERE schemaname = 'public' ORDER BY 1"
)
_pristine: dict[str, str] = {}
"""By URL: the digest of the schema as the migrations left it, from scratch, this session."""


def _schema_digest(conn: sa.Connection) -> str | None:
    if conn.execute(sa.text("SELECT to_regclass('public.alembic_version')")).scalar() is None:
        return None
    return str(conn.execute(_SCHEMA_DIGEST).scalar_one())


def fresh_postgres(url: str) -> None:
    """Leave the schema as migrating an empty database from scratch leaves it: at the newest
    revision, every table empty, every sequence at its start.

    The migrations run from scratch once a session (about two seconds on a busy machine);
    afterwards, while the schema is still exactly the one they built (same digest of tables,
    columns, constraints, indexes... and revision), emptying the tables and restarting the
    sequences gives the same state in a tenth of a second. A test that changed the schema
    (a downgrade, a dropped table) gets the full drop-and-migrate again."""
    engine = create_db_engine(url)
    try:
        with engine.begin() as conn:
            digest = _schema_digest(conn)
            if digest is not None and digest == _pristine.get(url):
                # DELETE, not TRUNCATE: on tables of a few rows it is ten times faster. The
                # foreign keys' triggers are off meanwhile, since every table is emptied.
                conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
                for table in conn.execute(_TABLES).scalars():
                    if table != "alembic_version":
                        conn.execute(sa.text(f"DELETE FROM {table}"))
                for sequence in conn.execute(_SEQUENCES).scalars():
                    conn.execute(sa.text(f"ALTER SEQUENCE {sequence} RESTART"))
                return
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
        migrate(engine)
        with engine.begin() as conn:
            tables = [t for t in conn.execute(_TABLES).scalars() if t != "alembic_version"]
            empty = all(
                conn.execute(sa.text(f"SELECT NOT EXISTS (SELECT FROM {table})")).scalar()
                for table in tables
            )
            digest = _schema_digest(conn)
        if empty and digest is not None:  # what the fast path restores is exactly this
            _pristine[url] = digest
        else:
            _pristine.pop(url, None)
    finally:
        engine.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(paris(2026, 5, 4, 8, 0))


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated from scratch to the newest revision, once a session.

    Tests get a copy of it (:func:`copy_of`): running every Alembic migration costs about a
    second a test on a busy machine, copying the file about a millisecond. The migrations
    themselves still run from scratch here, and ``tests/test_migrations.py`` checks the result
    against the models."""
    path = tmp_path_factory.mktemp("migrated") / "copilote.db"
    engine = create_db_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()  # the last connection closed: the WAL is checkpointed into the file
    return path


def copy_of(template: Path, target: Path) -> str:
    """The URL of a private copy of a SQLite file (with its WAL files, should any remain)."""
    for suffix in ("", "-wal", "-shm"):
        source = template.with_name(template.name + suffix)
        if source.exists():
            shutil.copyfile(source, target.with_name(target.name + suffix))
    return f"sqlite:///{target}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every test using it runs against SQLite and against the real PostgreSQL server, each
    database already at the newest revision and empty (migrating again changes nothing)."""
    if request.param == "sqlite":
        return copy_of(request.getfixturevalue("migrated_sqlite"), tmp_path / "copilote.db")
    url = require_postgres()
    fresh_postgres(url)
    return url


@pytest.fixture
def sqlite_url(migrated_sqlite: Path, tmp_path: Path) -> str:
    """A fresh SQLite file of this test's own, already at the newest revision."""
    return copy_of(migrated_sqlite, tmp_path / "copilote.db")


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
