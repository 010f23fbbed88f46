"""What a page route answers, as the pages' OpenAPI schema says (the pages are left out of the
served schema, which is the API's; the tests build the pages' own to check them against it):
an HTML page, a redirect (after a form, or to the sign-in page), or a page that says why not."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["PAGE_RESPONSES", "file_response"]

_HTML: dict[str, Any] = {"text/html": {}}

PAGE_RESPONSES: dict[int | str, dict[str, Any]] = {
    303: {"description": "done (after a form), or to the sign-in page first"},
    403: {"description": "not yours to see or do: a page saying so", "content": _HTML},
    404: {"description": "no such project, meeting or page", "content": _HTML},
    409: {"description": "the step is refused: a page saying what is missing", "content": _HTML},
    422: {"description": "invalid input: a page naming the field", "content": _HTML},
    503: {"description": "the database is busy or unreachable (Retry-After)", "content": _HTML},
}


def file_response(media_type: str | Iterable[str], what: str) -> dict[int | str, dict[str, Any]]:
    """The documented 200 of a route answering a file (an export, a calendar; a document,
    of any of the types accepted)."""
    types = [media_type] if isinstance(media_type, str) else list(media_type)
    return {200: {"description": what, "content": {t: {} for t in types}}}
