"""Reading an upload as a stream, and serving a stored file safely.

The body is parsed as it arrives (Starlette's multipart parser over ``request.stream()``):
the file part goes to a spooled temporary file (in memory up to 1 MB, then on disk), so memory
stays flat whatever the size. A body announced or found larger than the limit (plus room for
the form's other fields) is refused as soon as that is known; the exact limit is checked on
the file itself. Downloads are always ``attachment`` with ``nosniff`` and the type read from
the content at upload: a file is never shown, run or rendered by Copilote's pages.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterator
from dataclasses import dataclass
from typing import BinaryIO
from urllib.parse import quote, unquote

from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request
from starlette.responses import StreamingResponse

from web.csrf import check_csrf
from workflow.documents import FileTooLarge
from workflow.errors import InvalidInput
from workflow.read_models.documents import VersionView

__all__ = ["Upload", "file_response", "read_upload"]

_FORM_MARGIN = 64 * 1024  # the multipart framing and the small fields around the file


@dataclass
class Upload:
    fields: dict[str, str]
    file: BinaryIO
    filename: str

    def close(self) -> None:
        self.file.close()


async def read_upload(request: Request, limit: int) -> Upload:
    """The form's fields and its one file, after the CSRF check; refused when too large."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + _FORM_MARGIN:
        raise FileTooLarge(limit)
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise InvalidInput("file", "send the file as multipart/form-data (a form with a file)")

    async def limited() -> AsyncGenerator[bytes, None]:
        total = 0
        async for chunk in request.stream():
            total += len(chunk)
            if total > limit + _FORM_MARGIN:
                raise FileTooLarge(limit)
            yield chunk

    parser = MultiPartParser(
        request.headers, limited(), max_files=1, max_fields=20, max_part_size=64 * 1024
    )
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        raise InvalidInput("file", f"the form could not be read ({exc.message})") from None
    fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
    check_csrf(request, fields.get("csrf_token"))
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise InvalidInput("file", "choose a file to send")
    # Browsers write the quote, CR and LF of a name as %22, %0D, %0A (and some clients any
    # control character): decoded here, then cleaned with the rest of the name.
    return Upload(fields, upload.file, unquote(upload.filename))


def _disposition(filename: str) -> str:
    ascii_name = filename.encode("ascii", "replace").decode("ascii").replace('"', "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


def file_response(version: VersionView, chunks: Iterator[bytes]) -> StreamingResponse:
    """The stored bytes as a download: never displayed inline, never sniffed."""
    return StreamingResponse(
        chunks,
        media_type=version.media_type,
        headers={
            "Content-Disposition": _disposition(version.filename),
            "Content-Length": str(version.size),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox; default-src 'none'",
            "Cache-Control": "private, no-store",
            "ETag": f'"{version.digest}"',
        },
    )
