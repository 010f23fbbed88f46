"""Personal answer links for partners: signed (itsdangerous), expiring, and bound to one
partner of one project and one purpose (a quarterly report, a meeting invitation).

A link carries ``{"p": purpose, "project": id, "partner": id, "d": detail}``; the pages that
open it check every one of those against the stored records, so a link for project A can
never show project B, nor another partner's report.

A link lasts as long as its purpose: until its occasion is over (the meeting's day, the
report's due date) plus :data:`MARGIN_DAYS`, and in any case ``max_age_days`` after it was
made (so a link sent again, or a new one asked for, always leaves time to answer). A partner
invited four months ahead can answer until the meeting.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from itsdangerous import (
    BadSignature,
    TimestampSigner,
    URLSafeSerializer,
    URLSafeTimedSerializer,
)

__all__ = ["MARGIN_DAYS", "LinkError", "LinkTarget", "Links"]

MARGIN_DAYS = 14
"""How long a link still opens after its occasion is over (to correct an answer, a report)."""


class LinkError(ValueError):
    """``expired``: the link is genuine but its time is over (``target`` says what it was
    for, so the page can offer a new one); otherwise it is not usable at all."""

    def __init__(
        self, reason: str, *, expired: bool = False, target: LinkTarget | None = None
    ) -> None:
        super().__init__(
            f"This link cannot be used: {reason}. Ask your project pilot for a new one."
        )
        self.reason, self.expired, self.target = reason, expired, target


@dataclass(frozen=True)
class LinkTarget:
    purpose: str  # "report" | "meeting" | "minutes" | "milestone" (workflow.sweep, .planner)
    project_id: int
    partner_id: int
    detail: str  # report: "<schedule>:<period>"; meeting, minutes: the meeting id
    issued_at: datetime | None = None  # when the link was made (its signature's time)


# Where each purpose's link opens: answers under /answer, documents to read under /shared.
_PATHS = {"minutes": "/shared/", "milestone": "/deliver/"}


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
        """Check the signature; its age against the occasion is :meth:`check_age`'s, and the
        target still has to be checked against the records by the page."""
        try:
            data, stamp = self._s.loads(token, return_timestamp=True)
        except BadSignature:
            raise LinkError("it is not a valid Copilote link (altered or truncated)") from None
        try:
            return LinkTarget(
                str(data["p"]),
                int(data["project"]),
                int(data["partner"]),
                str(data["d"]),
                stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC),
            )
        except (TypeError, KeyError, ValueError):
            raise LinkError("it is not a valid Copilote link") from None

    def valid_until(self, target: LinkTarget, occasion_over: date | None) -> datetime:
        """The last instant ``target`` opens: its occasion's end plus the margin, and never
        less than ``max_age_days`` after it was made."""
        issued = target.issued_at or datetime.min.replace(tzinfo=UTC)
        by_age = issued + timedelta(seconds=self.max_age)
        if occasion_over is None:
            return by_age
        try:
            by_occasion = datetime.combine(
                occasion_over + timedelta(days=MARGIN_DAYS + 1), datetime.min.time(), tzinfo=UTC
            )
        except OverflowError:
            return datetime.max.replace(tzinfo=UTC)
        return max(by_age, by_occasion)

    def check_age(self, target: LinkTarget, occasion_over: date | None, now: datetime) -> None:
        if now > self.valid_until(target, occasion_over):
            raise LinkError("it has expired", expired=True, target=target)
