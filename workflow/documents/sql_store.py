"""The database storage backend: blobs in chunks of 256 KiB (``blob``, ``blob_chunk``).

The default: every instance on one PostgreSQL serves every file, with no other server. A blob
is written in one transaction (its row and all its chunks), so a failed upload leaves
nothing; the row is inserted first with ``ON CONFLICT DO NOTHING``, so two instances storing
the same file at once keep one copy (PostgreSQL makes the second wait for the first).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from workflow import tables
from workflow.database import read
from workflow.documents.store import BlobMissing, rechunk, sha256_of

__all__ = ["SqlBlobStore"]


class SqlBlobStore:
    def __init__(self, db: sa.Engine, now: Callable[[], datetime]) -> None:
        self.db, self._now = db, now

    def exists(self, digest: str) -> bool:
        with read(self.db) as conn:
            return (
                conn.execute(
                    sa.select(tables.blob.c.digest).where(tables.blob.c.digest == digest)
                ).first()
                is not None
            )

    def put(self, digest: str, size: int, chunks: Iterable[bytes]) -> bool:
        if self.exists(digest):
            return False
        insert = postgresql.insert if self.db.dialect.name == "postgresql" else sqlite.insert
        with self.db.begin() as conn:
            created = conn.execute(
                insert(tables.blob)
                .values(digest=digest, size=size, created_at=self._now())
                .on_conflict_do_nothing(index_elements=["digest"])
                .returning(tables.blob.c.digest)
            ).first()
            if created is None:
                return False  # stored meanwhile by another process
            hashed = sha256_of()
            for seq, chunk in enumerate(rechunk(chunks)):
                conn.execute(
                    tables.blob_chunk.insert().values(
                        digest=digest, seq=seq, data=hashed.update(chunk)
                    )
                )
            hashed.check(digest, size)  # raises: the transaction is rolled back
        return True

    def chunks(self, digest: str) -> Iterator[bytes]:
        if not self.exists(digest):
            raise BlobMissing(digest)
        return self._read(digest)

    def _read(self, digest: str) -> Iterator[bytes]:
        # One short query per chunk: a slow download holds no connection between chunks.
        c = tables.blob_chunk.c
        seq = 0
        while True:
            with read(self.db) as conn:
                data = conn.execute(
                    sa.select(c.data).where(c.digest == digest, c.seq == seq)
                ).scalar()
            if data is None:
                return
            yield bytes(data)
            seq += 1
