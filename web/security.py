"""What every response and every access-log line must hold back.

- :class:`SecurityHeaders`: one middleware adding the headers that forbid framing
  (clickjacking), MIME sniffing, and sending a page's address (which may carry an answer-link
  token) to other sites as a referrer.
- :class:`SecretsMasked`: a filter on uvicorn's access logger replacing answer-link tokens
  and calendar-feed keys by ``***``: whoever reads the logs must not be able to answer for a
  partner or subscribe to a project's calendar.
"""

from __future__ import annotations

import logging
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["SECURITY_HEADERS", "SecretsMasked", "SecurityHeaders", "mask_secrets"]

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", b"frame-ancestors 'none'"),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
)


class SecurityHeaders:
    """Adds :data:`SECURITY_HEADERS` to every HTTP response (a header a route set wins)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(n, v) for n, v in SECURITY_HEADERS if n not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


# /answer/<token>[/...] and any key= or token= query parameter.
_ANSWER = re.compile(r"(/answer/)[^/?#\s\"]+")
_QUERY = re.compile(r"([?&](?:key|token)=)[^&#\s\"]*", re.IGNORECASE)


def mask_secrets(text: str) -> str:
    """``text`` with answer-link tokens and feed keys replaced by ``***``."""
    return _QUERY.sub(r"\1***", _ANSWER.sub(r"\1***", text))


class SecretsMasked(logging.Filter):
    """Masks secrets in the path of uvicorn's access-log records (their arguments)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(mask_secrets(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = mask_secrets(record.msg)
        return True

    @classmethod
    def install(cls, logger: logging.Logger | None = None) -> None:
        """On uvicorn's access logger (by default), once however many apps are built."""
        target = logger or logging.getLogger("uvicorn.access")
        if not any(isinstance(f, cls) for f in target.filters):
            target.addFilter(cls())
