"""Database engines and schema migrations.

SQLite (a file, WAL mode) by default; PostgreSQL by URL. On SQLite every transaction is
``BEGIN IMMEDIATE``: writers queue on the busy timeout instead of failing half-way, and
the read-modify-write of an advance cannot interleave (measured: SQLAlchemy's default
deferred transactions lost ~60 of 1,000 concurrent updates). Every database also gets a
``version`` column check in the UPDATE, which is what protects PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

__all__ = ["create_db_engine", "migrate", "read", "sqlite_url"]

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
_ADVISORY_LOCK_ID = 0x436F70696C6F7465  # "Copilote"


def sqlite_url(path: Path | str) -> str:
    return f"sqlite:///{Path(path)}"


def create_db_engine(url: str, *, pool_size: int = 5, echo: bool = False) -> sa.Engine:
    if url.startswith("sqlite"):
        engine = sa.create_engine(
            url, echo=echo, connect_args={"check_same_thread": False, "timeout": 30}
        )

        @sa.event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @sa.event.listens_for(engine, "begin")
        def _on_begin(conn: sa.Connection) -> None:
            read_only = conn.get_execution_options().get("copilote_read_only", False)
            conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return sa.create_engine(
        url, echo=echo, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True
    )


def read(engine: sa.Engine) -> sa.Connection:
    """A connection for reading only: on SQLite it does not take the write lock."""
    return engine.execution_options(copilote_read_only=True).connect()


def _alembic_config(connection: sa.Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def migrate(engine: sa.Engine) -> None:
    """Bring the schema to the newest revision, once even when several instances start together.

    On PostgreSQL a transaction-level advisory lock serialises concurrent starters: the
    second waits, then finds the schema current and does nothing.
    """
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(
                sa.text("SELECT pg_advisory_xact_lock(:id)"), {"id": _ADVISORY_LOCK_ID}
            )
        command.upgrade(_alembic_config(connection), "head")
