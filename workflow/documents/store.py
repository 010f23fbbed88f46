"""Where the bytes of documents live: one small interface, so an object store can be added.

Contents are addressed by their SHA-256: a file attached to ten documents is stored once.
Implementations beside it: :class:`workflow.documents.sql_store.SqlBlobStore` (the default:
the database itself, chunked, so every instance on one PostgreSQL serves every file) and
:class:`workflow.documents.directory_store.DirectoryBlobStore` (a local directory, one host).
``tests/test_blob_store.py`` is the contract every implementation passes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from typing import Protocol

from workflow.errors import NotFound, WorkflowError

__all__ = ["CHUNK_SIZE", "BlobCorrupt", "BlobMissing", "BlobStore", "rechunk", "sha256_of"]

CHUNK_SIZE = 256 * 1024
"""Bytes per stored chunk and per piece read back: memory stays at a few chunks per transfer."""


class BlobStore(Protocol):
    """The contract of a storage backend.

    - ``put(digest, size, chunks)`` stores the bytes the iterable yields under ``digest``
      (their SHA-256, hex) and returns True, or returns False without reading the iterable
      when that digest is already stored. It reads the chunks one at a time (never the whole
      file in memory) and refuses with :class:`BlobCorrupt`, storing nothing, when the bytes
      do not hash to ``digest`` or do not add up to ``size``. Storing the same digest from
      two processes at once leaves one copy.
    - ``exists(digest)``: whether those bytes are stored.
    - ``chunks(digest)``: the bytes, in order, in pieces of at most :data:`CHUNK_SIZE`;
      :class:`BlobMissing` when nothing is stored under ``digest``.
    """

    def put(self, digest: str, size: int, chunks: Iterable[bytes]) -> bool: ...

    def exists(self, digest: str) -> bool: ...

    def chunks(self, digest: str) -> Iterator[bytes]: ...


class BlobMissing(NotFound):
    def __init__(self, digest: str) -> None:
        super().__init__("stored file", digest)
        self.digest = digest


class BlobCorrupt(WorkflowError, ValueError):
    def __init__(self, digest: str, detail: str) -> None:
        super().__init__(
            f"The bytes given for {digest} were not stored: {detail}. The file changed while "
            "it was read; upload it again."
        )
        self.digest = digest


def rechunk(chunks: Iterable[bytes], size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """The same bytes in pieces of exactly ``size`` (the last one shorter)."""
    pending = bytearray()
    for chunk in chunks:
        pending += chunk
        while len(pending) >= size:
            yield bytes(pending[:size])
            del pending[:size]
    if pending:
        yield bytes(pending)


class sha256_of:
    """Hashes and counts what passes through, for :class:`BlobCorrupt` checks."""

    def __init__(self) -> None:
        self._h, self.size = hashlib.sha256(), 0

    def update(self, chunk: bytes) -> bytes:
        self._h.update(chunk)
        self.size += len(chunk)
        return chunk

    def check(self, digest: str, size: int) -> None:
        if self.size != size:
            raise BlobCorrupt(digest, f"{self.size} bytes were read, {size} were announced")
        if self._h.hexdigest() != digest:
            raise BlobCorrupt(digest, f"they hash to {self._h.hexdigest()}")
