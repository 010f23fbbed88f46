"""The error responses every API route documents (the mapping itself is in ``web.app``)."""

from __future__ import annotations

from typing import Any

from web.api.schemas import ErrorOut

__all__ = ["COMMON_ERRORS", "CONFLICT", "json_errors"]

COMMON_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "the request body is not JSON"},
    401: {"model": ErrorOut, "description": "not signed in (no session, no valid token)"},
    403: {"model": ErrorOut, "description": "not allowed for this user, or no CSRF token"},
    404: {"model": ErrorOut, "description": "no such project or record"},
    422: {"model": ErrorOut, "description": "invalid input; `field` or `detail[].loc` names it"},
}
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {
        "model": ErrorOut,
        "description": "refused step (`conditions`: each unmet condition as data with its "
        "words and its fix in the request's language; `unmet`: the engine's sentences), "
        "conflict (`current_phase`), already recorded (`recorded`: who and when) or unknown "
        "step (`allowed`)",
    },
}


def json_errors(errors: dict[int | str, dict[str, Any]]) -> dict[int | str, dict[str, Any]]:
    """The same responses spelled out as JSON, for a route whose success is not JSON (else
    FastAPI documents its errors in the route's own media type)."""
    ref = {"$ref": "#/components/schemas/ErrorOut"}
    return {
        status: {
            "description": spec["description"],
            "content": {"application/json": {"schema": ref}},
        }
        for status, spec in errors.items()
    }
