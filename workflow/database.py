"""Database engines and schema migrations.

SQLite (a file, WAL mode) by default; PostgreSQL by URL. On SQLite every transaction is
``BEGIN IMMEDIATE``: writers queue on the busy timeout instead of failing half-way, and
the read-modify-write of an advance cannot interleave (measured: SQLAlchemy's default
deferred transactions lost ~60 of 1,000 concurrent updates). Every database also gets a
``version`` column check in the UPDATE, which is what protects PostgreSQL.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

__all__ = [
    "Conn",
    "Params",
    "Raw",
    "create_db_engine",
    "migrate",
    "placeholders",
    "raw",
    "read",
    "sqlite_url",
    "write",
]

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


# -- hand-written SQL on the hot paths ---------------------------------------------------


Params = Mapping[str, Any] | Sequence[Any]
"""The values of one statement: by name (``:name`` in the SQL) or by position (``?``)."""

_JSON = json.JSONEncoder()  # what json.dumps(value) and SQLAlchemy's JSON type use


class Raw:
    """Hand-written SQL run straight on a driver connection (the engine's hot paths).

    SQLAlchemy Core costs 20-40 us a statement (statement objects, cache key, execution
    context, result processing) and its ``Connection``/``Transaction`` ~45 us a transaction,
    where the driver needs 2-5 us a statement; an advance issues about ten, so on the hot
    paths (:meth:`workflow.engine.Engine.advance` and what it calls) the SQL is written
    once, with ``:name`` parameters and a mapping of values (SQLite's own style; PostgreSQL
    gets ``%(name)s``, translated once per statement), and run here (``?`` placeholders with
    a sequence of values still work): either inside a SQLAlchemy transaction
    (:func:`raw`, same connection, committed by SQLAlchemy) or as a transaction of its own
    on a pooled connection (:func:`write`: the same pool, PRAGMAs and ``BEGIN IMMEDIATE``).
    Values are converted the way the SQLAlchemy column types store them (``UtcDateTime``,
    ``Date``, ``JSON``), so each side reads what the other wrote; driver errors are raised
    as SQLAlchemy's (``sa.exc.OperationalError``, ``IntegrityError``...). These statements
    skip SQLAlchemy's events and echo logging.
    """

    __slots__ = ("dbapi", "dialect", "_invalidate")

    def __init__(self, dbapi: Any, dialect: sa.Dialect, invalidate: Any) -> None:
        self.dbapi, self.dialect, self._invalidate = dbapi, dialect, invalidate

    def _sql(self, sql: str) -> str:
        return sql

    def execute(self, sql: str, params: Params = ()) -> Any:
        """Run one statement; the driver cursor (``fetchall``, ``rowcount``).

        ``params``: a mapping for ``:name`` parameters, a sequence for ``?`` ones."""
        cursor = self.dbapi.cursor()
        try:
            cursor.execute(self._sql(sql), params)
        except self.dialect.loaded_dbapi.Error as exc:
            raise self._wrap(exc, sql, params) from exc
        return cursor

    def executemany(self, sql: str, rows: Sequence[Params]) -> None:
        if rows:
            try:
                self.dbapi.cursor().executemany(self._sql(sql), rows)
            except self.dialect.loaded_dbapi.Error as exc:
                raise self._wrap(exc, sql, rows) from exc

    def begin(self) -> None:
        """Start a write transaction (:func:`write`); PostgreSQL's driver starts its own."""

    def commit(self) -> None:
        try:
            self.dbapi.commit()
        except self.dialect.loaded_dbapi.Error as exc:
            raise self._wrap(exc, "COMMIT", ()) from exc

    def _wrap(self, exc: Exception, sql: str, params: Any) -> sa.exc.StatementError:
        dialect = self.dialect
        lost = dialect.is_disconnect(exc, self.dbapi, None)  # type: ignore[arg-type]
        if lost:
            self._invalidate(exc)
        return sa.exc.DBAPIError.instance(
            sql,
            params,
            exc,
            dialect.loaded_dbapi.Error,
            connection_invalidated=lost,
            dialect=dialect,
        )

    # values in: what the column types write
    @staticmethod
    def _utc(value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError(
                f"naive datetime {value!r}: Copilote stores only timezone-aware instants"
            )
        return value.astimezone(UTC)

    def instant(self, value: datetime | None) -> Any:
        return None if value is None else self._utc(value)

    def day(self, value: date | None) -> Any:
        return value

    def json(self, value: Any, encoder: json.JSONEncoder | None = None) -> Any:
        """``encoder``: one that writes more than JSON's types (default: ``json.dumps``'s)."""
        return (encoder or _JSON).encode(value)

    # values out: what the column types return
    def to_instant(self, value: Any) -> datetime | None:
        return None if value is None else value.astimezone(UTC)

    def to_day(self, value: Any) -> date | None:
        return value  # type: ignore[no-any-return]

    def from_json(self, value: Any) -> Any:
        return value


class _SqliteRaw(Raw):
    """SQLite keeps dates as ISO text, instants as naive UTC text, JSON as text."""

    __slots__ = ()
    # The last instant written and its text: an advance writes the same "now" 3-4 times.
    _last: tuple[datetime | None, str | None] = (None, None)

    def begin(self) -> None:
        # As every write transaction here: writers queue on the busy timeout (module doc).
        self.execute("BEGIN IMMEDIATE")

    def instant(self, value: datetime | None) -> Any:
        if value is None:
            return None
        last, text = _SqliteRaw._last
        if value is not last:
            # DATETIME's storage format: naive UTC, "YYYY-MM-DD HH:MM:SS.ffffff"
            text = self._utc(value).replace(tzinfo=None).isoformat(" ", "microseconds")
            _SqliteRaw._last = (value, text)
        return text

    def day(self, value: date | None) -> Any:
        return None if value is None else value.isoformat()

    def to_instant(self, value: Any) -> datetime | None:
        return None if value is None else datetime.fromisoformat(value + "+00:00")

    def to_day(self, value: Any) -> date | None:
        return None if value is None else date.fromisoformat(value)

    def from_json(self, value: Any) -> Any:
        return None if value is None else json.loads(value)


# A quoted literal or identifier (kept as it is), or a ``:name`` parameter (not ``::type``).
_NAMED = re.compile(r"'(?:[^']|'')*'|\"[^\"]*\"|(?<![:\w]):([A-Za-z_]\w*)")


def _pyformat(sql: str) -> str:
    """``:name`` parameters as psycopg's ``%(name)s``, a literal ``%`` doubled."""
    sql = sql.replace("%", "%%")
    return _NAMED.sub(lambda m: f"%({m[1]})s" if m[1] else m[0], sql)


class _PostgresRaw(Raw):
    """psycopg adapts dates, aware datetimes and JSON itself; it wants ``%(name)s`` (or
    ``%s``) placeholders: each statement's text is translated once, then cached."""

    __slots__ = ()
    _cache: dict[str, str] = {}

    def _sql(self, sql: str) -> str:
        text = self._cache.get(sql)
        if text is None:
            text = sql.replace("?", "%s") if "?" in sql else _pyformat(sql)
            self._cache[sql] = text
        return text


Conn = sa.Connection | Raw
"""What the functions of the hot paths accept: a SQLAlchemy connection or its :class:`Raw`."""


def _raw_class(dialect: sa.Dialect) -> type[Raw]:
    return _SqliteRaw if dialect.name == "sqlite" else _PostgresRaw


def raw(conn: Conn) -> Raw:
    """The hand-written-SQL view of ``conn``, in its transaction (see :class:`Raw`)."""
    if isinstance(conn, Raw):
        return conn
    return _raw_class(conn.dialect)(conn.connection.dbapi_connection, conn.dialect, conn.invalidate)


@contextmanager
def write(engine: sa.Engine) -> Iterator[Raw]:
    """One write transaction on a connection of ``engine``'s pool, without SQLAlchemy's
    ``Connection``: ``BEGIN IMMEDIATE`` on SQLite, committed when the block ends, rolled
    back when it raises (see :class:`Raw`)."""
    pooled = engine.raw_connection()
    try:
        db = _raw_class(engine.dialect)(pooled.dbapi_connection, engine.dialect, pooled.invalidate)
        db.begin()
        try:
            yield db
        except BaseException:
            # If the rollback fails too, the pool's reset on close discards the connection.
            with suppress(Exception):
                pooled.dbapi_connection.rollback()  # type: ignore[union-attr]
            raise
        db.commit()
    finally:
        pooled.close()


def placeholders(values: Iterable[Any]) -> str:
    """``?, ?, ?`` for an ``IN (...)`` of that many values."""
    return ", ".join("?" for _ in values)
