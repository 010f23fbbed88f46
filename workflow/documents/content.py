"""What an uploaded file is, read from its bytes (never from its name or the client's type),
and a clean name to serve it under.

Accepted: PDF, ODT, ODS, DOCX, XLSX, PNG, JPEG and CSV. OpenDocument and Office files are zip
archives: an ODT/ODS names its type in its ``mimetype`` member, a DOCX/XLSX in
``[Content_Types].xml``. CSV has no signature: a file is taken as CSV only when its name
says ``.csv`` and its content is text (UTF-8 or Windows-1252, no control characters) that
does not open like markup, so an HTML page named ``.pdf`` or ``.csv`` is refused.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from typing import BinaryIO

from workflow.documents.store import CHUNK_SIZE
from workflow.errors import InvalidInput

__all__ = [
    "ACCEPTED",
    "Checked",
    "FileRefused",
    "FileTooLarge",
    "clean_filename",
    "inspect_file",
]

# media type -> the extension a download carries
ACCEPTED: dict[str, str] = {
    "application/pdf": "pdf",
    "application/vnd.oasis.opendocument.text": "odt",
    "application/vnd.oasis.opendocument.spreadsheet": "ods",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "image/png": "png",
    "image/jpeg": "jpg",
    "text/csv": "csv",
}
_OOXML = {
    "wordprocessingml.document.main+xml": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    ),
    "spreadsheetml.sheet.main+xml": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    ),
}
_NAME_MAX = 150
_TEXT_SAMPLE = 64 * 1024
_UNSAFE_NAME = re.compile(r'[<>:"/\\|?*]')


class FileRefused(InvalidInput):
    """An upload whose content is not one of the accepted types."""

    def __init__(self, filename: str, detail: str) -> None:
        super().__init__(
            "file",
            f"{filename!r} is refused: {detail}. Accepted: PDF, ODT, ODS, DOCX, XLSX, PNG, "
            "JPEG and CSV (the type is read from the content, not from the name)",
        )
        self.filename = filename


class FileTooLarge(InvalidInput):
    def __init__(self, limit: int) -> None:
        super().__init__(
            "file",
            f"the file is larger than the limit of {limit / 1_000_000:g} MB and was not stored;"
            " compress it or split it (the limit is the COPILOTE_UPLOAD_MAX_BYTES setting)",
        )
        self.limit = limit


@dataclass(frozen=True)
class Checked:
    """An upload read through once: its SHA-256, size, type and clean name."""

    digest: str
    size: int
    media_type: str
    filename: str


def clean_filename(name: str, media_type: str | None = None) -> str:
    """The last path segment, without control characters, path separators or characters
    systems refuse, at most 150 characters, ending with the extension of ``media_type``."""
    name = unicodedata.normalize("NFC", name.replace("\\", "/").rsplit("/", 1)[-1])
    name = "".join(ch for ch in name if not unicodedata.category(ch).startswith("C"))
    name = _UNSAFE_NAME.sub("_", name)
    name = re.sub(r"\s+", " ", name).strip(" .")
    stem, dot, ext = name.rpartition(".")
    if not dot or not re.fullmatch(r"[A-Za-z0-9]{1,5}", ext):
        stem, ext = name, ""
    if media_type is not None:
        wanted = ACCEPTED[media_type]
        if not (ext.lower() == wanted or (wanted == "jpg" and ext.lower() == "jpeg")):
            ext = wanted  # the served name says what the content is
    stem = stem.strip(" .") or "document"
    suffix = f".{ext}" if ext else ""
    return stem[: _NAME_MAX - len(suffix)].rstrip(" .") + suffix


def _zip_type(file: BinaryIO, filename: str) -> str:
    try:
        archive = zipfile.ZipFile(file)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise FileRefused(filename, "it is a damaged zip archive") from None
    with archive:
        names = set(archive.namelist())
        if "mimetype" in names:
            with archive.open("mimetype") as member:
                declared = member.read(100).decode("ascii", "replace").strip()
            if declared in ACCEPTED and declared.startswith("application/vnd.oasis"):
                return declared
            raise FileRefused(filename, f"it is an archive of type {declared[:60]!r}")
        if "[Content_Types].xml" in names:
            with archive.open("[Content_Types].xml") as member:
                types = member.read(1_000_000).decode("utf-8", "replace")
            for marker, media_type in _OOXML.items():
                if marker in types:
                    return media_type
            raise FileRefused(filename, "it is an Office archive that is not DOCX nor XLSX")
    raise FileRefused(filename, "it is a zip archive, not a document")


def _text_type(sample: bytes, filename: str) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = sample.decode(encoding)
            break
        except UnicodeDecodeError as exc:
            cut = len(sample) == _TEXT_SAMPLE and exc.start >= len(sample) - 3
            if encoding == "utf-8-sig" and cut:
                text = sample[: exc.start].decode(encoding)  # a character cut by the sample
                break
    else:
        raise FileRefused(filename, "its content is not one of them")
    if any(unicodedata.category(ch) == "Cc" and ch not in "\t\r\n" for ch in text):
        raise FileRefused(filename, "its content is not one of them")
    if text.lstrip().startswith("<"):
        raise FileRefused(filename, "its content is markup (HTML or XML), not a document")
    if not filename.lower().endswith(".csv"):
        raise FileRefused(filename, "its content is plain text, accepted only as a .csv file")
    return "text/csv"


def inspect_file(file: BinaryIO, filename: str, limit: int) -> Checked:
    """Read ``file`` once in chunks (hash, size), decide its type from its first bytes (and,
    for a zip, its directory), and leave it at the start for storing. Nothing is kept."""
    file.seek(0)
    digest, size, head = hashlib.sha256(), 0, b""
    while chunk := file.read(CHUNK_SIZE):
        size += len(chunk)
        if size > limit:
            raise FileTooLarge(limit)
        if len(head) < _TEXT_SAMPLE:
            head += chunk[: _TEXT_SAMPLE - len(head)]
        digest.update(chunk)
    if size == 0:
        raise FileRefused(filename, "it is empty")
    if head.startswith(b"%PDF-"):
        media_type = "application/pdf"
    elif head.startswith(b"\x89PNG\r\n\x1a\n"):
        media_type = "image/png"
    elif head.startswith(b"\xff\xd8\xff"):
        media_type = "image/jpeg"
    elif head.startswith(b"PK\x03\x04"):
        file.seek(0)
        media_type = _zip_type(file, filename)
    else:
        media_type = _text_type(head, filename)
    file.seek(0)
    return Checked(digest.hexdigest(), size, media_type, clean_filename(filename, media_type))
