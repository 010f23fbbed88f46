"""The storage contract (workflow.documents.store.BlobStore), run against every backend:
the database on SQLite and on PostgreSQL, and a local directory."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import fresh_postgres, require_postgres
from workflow import tables
from workflow.clock import FixedClock
from workflow.database import create_db_engine, migrate
from workflow.documents import (
    CHUNK_SIZE,
    BlobCorrupt,
    BlobMissing,
    BlobStore,
    DirectoryBlobStore,
    SqlBlobStore,
)

DATA = bytes(range(256)) * (CHUNK_SIZE // 128 + 3)  # a little over two chunks
DIGEST = hashlib.sha256(DATA).hexdigest()


def pieces(data: bytes, size: int = 10_000) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


@pytest.fixture(
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres), "directory"]
)
def store(request: pytest.FixtureRequest, tmp_path: Path, clock: FixedClock) -> Iterator[BlobStore]:
    if request.param == "directory":
        yield DirectoryBlobStore(tmp_path / "files")
        return
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'blobs.db'}"
    else:
        url = require_postgres()
        fresh_postgres(url)
    db = create_db_engine(url)
    migrate(db)
    yield SqlBlobStore(db, clock.now)
    db.dispose()


def test_what_is_put_comes_back_in_bounded_chunks(store: BlobStore) -> None:
    assert not store.exists(DIGEST)
    assert store.put(DIGEST, len(DATA), pieces(DATA)) is True
    assert store.exists(DIGEST)
    chunks = list(store.chunks(DIGEST))
    assert b"".join(chunks) == DATA
    assert len(chunks) >= 3 and max(map(len, chunks)) <= CHUNK_SIZE


def test_the_same_bytes_are_stored_once(store: BlobStore) -> None:
    assert store.put(DIGEST, len(DATA), pieces(DATA)) is True

    def never() -> Iterator[bytes]:
        raise AssertionError("an already stored blob must not be read again")
        yield b""  # pragma: no cover

    assert store.put(DIGEST, len(DATA), never()) is False
    assert b"".join(store.chunks(DIGEST)) == DATA


def test_bytes_that_do_not_match_their_digest_are_not_stored(store: BlobStore) -> None:
    wrong = hashlib.sha256(b"something else").hexdigest()
    with pytest.raises(BlobCorrupt, match="hash to"):
        store.put(wrong, len(DATA), pieces(DATA))
    with pytest.raises(BlobCorrupt, match="announced"):
        store.put(DIGEST, len(DATA) + 1, pieces(DATA))
    assert not store.exists(wrong) and not store.exists(DIGEST)
    if isinstance(store, SqlBlobStore):
        with store.db.connect() as conn:
            assert (
                conn.execute(sa.select(sa.func.count()).select_from(tables.blob_chunk)).scalar()
                == 0
            )
    if isinstance(store, DirectoryBlobStore):
        assert [p for p in store.root.rglob("*") if p.is_file()] == []


def test_an_unknown_digest_is_missing(store: BlobStore) -> None:
    with pytest.raises(BlobMissing):
        store.chunks(DIGEST)
    with pytest.raises(BlobMissing):
        store.chunks("../../etc/passwd")
