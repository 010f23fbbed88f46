"""The local directory storage backend: one file per blob, ``<root>/<ab>/<digest>``.

For one host (or a directory every instance mounts). A blob is written to a temporary file
in the same directory and renamed into place once its hash is checked, so a reader never
sees half a file and a failed upload leaves nothing.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from workflow.documents.store import CHUNK_SIZE, BlobMissing, sha256_of

__all__ = ["DirectoryBlobStore"]

_DIGEST = re.compile(r"^[0-9a-f]{64}$")


class DirectoryBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, digest: str) -> Path:
        if not _DIGEST.match(digest):  # the digest becomes a path: only hex, nothing else
            raise BlobMissing(digest)
        return self.root / digest[:2] / digest

    def exists(self, digest: str) -> bool:
        return self._path(digest).is_file()

    def put(self, digest: str, size: int, chunks: Iterable[bytes]) -> bool:
        path = self._path(digest)
        if path.is_file():
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            hashed = sha256_of()
            with os.fdopen(fd, "wb") as out:
                for chunk in chunks:
                    out.write(hashed.update(chunk))
                out.flush()
                os.fsync(out.fileno())
            hashed.check(digest, size)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return True

    def chunks(self, digest: str) -> Iterator[bytes]:
        path = self._path(digest)
        try:
            handle = path.open("rb")
        except FileNotFoundError:
            raise BlobMissing(digest) from None
        return self._read(handle)

    @staticmethod
    def _read(handle: BinaryIO) -> Iterator[bytes]:
        with handle:
            while chunk := handle.read(CHUNK_SIZE):
                yield chunk
