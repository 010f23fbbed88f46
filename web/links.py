"""Personal answer links for partners: signed (itsdangerous), expiring, and bound to one
partner of one project and one purpose (a quarterly report, a meeting invitation).

A link carries ``{"p": purpose, "project": id, "partner": id, "d": detail}``; the pages that
open it check every one of those against the stored records, so a link for project A can
never show project B, nor another partner's report.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from itsdangerous import (
    BadSignature,
    SignatureExpired,
    TimestampSigner,
    URLSafeSerializer,
    URLSafeTimedSerializer,
)

__all__ = ["LinkError", "LinkTarget", "Links"]


class LinkError(ValueError):
    def __init__(self, reason: str) -> None:
        super().__init__(
            f"This link cannot be used: {reason}. Ask your project pilot for a new one."
        )


@dataclass(frozen=True)
class LinkTarget:
    purpose: str  # "report" | "meeting" | "minutes" (see workflow.sweep / workflow.planner)
    project_id: int
    partner_id: int
    detail: str  # report: "<schedule>:<period>"; meeting, minutes: the meeting id


# Where each purpose's link opens: answers under /answer, documents to read under /shared.
_PATHS = {"minutes": "/shared/"}


class Links:
    """Makes and reads links; signing and expiry use the injected clock, not the wall clock."""

    def __init__(
        self, secret_key: str, base_url: str, max_age_days: int, now: Callable[[], datetime]
    ) -> None:
        class _ClockSigner(TimestampSigner):
            def get_timestamp(self) -> int:
                return int(now().timestamp())

        self._s = URLSafeTimedSerializer(
            secret_key, salt="copilote-answer-link", signer=_ClockSigner
        )
        self.base_url, self.max_age = base_url.rstrip("/"), max_age_days * 86400
        # A preferences link never expires: an unsubscribe link in an old message must work
        # (RFC 8058). It names an address, nothing else, under its own salt.
        self._p = URLSafeSerializer(secret_key, salt="copilote-preferences")

    def preferences(self, email: str) -> str:
        """The preferences page of ``email`` (linked from every message it receives)."""
        token = self._p.dumps({"e": email.strip().lower()})
        return f"{self.base_url}/preferences/{token}"

    def read_preferences(self, token: str) -> str:
        """The address a preferences link was made for."""
        try:
            data = self._p.loads(token)
        except BadSignature:
            raise LinkError("it is not a valid Copilote link (altered or truncated)") from None
        if not isinstance(data, dict) or not isinstance(data.get("e"), str):
            raise LinkError("it is not a valid Copilote link")
        return str(data["e"])

    def token(self, purpose: str, project_id: int, partner_id: int, detail: str) -> str:
        return self._s.dumps(
            {"p": purpose, "project": project_id, "partner": partner_id, "d": detail}
        )

    def make(self, purpose: str, project_id: int, partner_id: int, detail: str) -> str:
        path = _PATHS.get(purpose, "/answer/")
        return f"{self.base_url}{path}{self.token(purpose, project_id, partner_id, detail)}"

    def read(self, token: str) -> LinkTarget:
        """Check the signature and the age; the target still has to be checked by the page."""
        try:
            data = self._s.loads(token, max_age=self.max_age)
        except SignatureExpired:
            raise LinkError("it has expired") from None
        except BadSignature:
            raise LinkError("it is not a valid Copilote link (altered or truncated)") from None
        try:
            return LinkTarget(
                str(data["p"]), int(data["project"]), int(data["partner"]), str(data["d"])
            )
        except (TypeError, KeyError, ValueError):
            raise LinkError("it is not a valid Copilote link") from None
