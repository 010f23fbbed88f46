"""Mail preferences without an account: per kind of message, "immediately" or "in my weekly
digest", and the language (issue 11).

A person opens the page from the signed link every message carries (``web.pages.preferences``).
The choice is kept per lower-cased address in ``preference``; :func:`workflow.outbox.queue`
reads it for every message it writes: a message of a kind moved to the digest is written
``held`` (unless it is about a meeting held before the next digest), in the language chosen.
The sweep then gathers a person's held messages into their weekly digest (``merged``).

Kinds are offered as a few families people recognise (``KINDS``); convocations and report
requests can be moved to the digest like the others, but nothing can be switched off.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from workflow import tables
from workflow.database import Raw, placeholders

__all__ = [
    "KINDS",
    "LANGUAGES",
    "Preference",
    "family_of",
    "load",
    "load_many",
    "save",
]

LANGUAGES = ("fr", "en")

KINDS: Mapping[str, tuple[str, ...]] = {
    # convocations: invitations, changes, cancellations, reminders, minutes
    "meetings": (
        "meeting_invitation",
        "meeting_update",
        "meeting_cancel",
        "meeting_reminder",
        "meeting_minutes_request",
    ),
    # quarterly report requests and their reminders
    "reports": ("report_request", "report_reminder", "report_overdue", "report_escalation"),
    # deliverables due and late
    "deadlines": ("milestone_reminder", "milestone_overdue", "milestone_escalation"),
    # what happens in the project: phases, partners, conventions, meeting rhythm
    "news": (
        "phase_changed",
        "partner_joined",
        "partner_left",
        "project_suspended",
        "project_resumed",
        "project_abandoned",
        "series_behind",
        "annual_review",
        "convention_end",
    ),
}
"""The families of messages a person chooses for (their labels live in the web catalogue)."""

_FAMILY = {kind: family for family, kinds in KINDS.items() for kind in kinds}


def family_of(kind: str) -> str | None:
    """The family a message kind belongs to; None for the digest itself (never held)."""
    return _FAMILY.get(kind)


@dataclass(frozen=True)
class Preference:
    email: str
    lang: str | None = None
    digest: frozenset[str] = frozenset()  # families moved to the weekly digest

    def holds(self, kinds: Iterable[str]) -> bool:
        """Whether a message of these kinds waits for the digest: all of them moved there."""
        families = [family_of(kind) for kind in kinds]
        return bool(families) and all(f is not None and f in self.digest for f in families)


def _row(email: str, lang: str | None, families: Any) -> Preference:
    chosen = frozenset(f for f in (families or []) if f in KINDS)
    return Preference(email, lang if lang in LANGUAGES else None, chosen)


def load(conn: sa.Connection, email: str) -> Preference:
    """``email``'s preference (the default one when it never chose)."""
    email = email.strip().lower()
    row = conn.execute(
        sa.select(tables.preference.c.lang, tables.preference.c.digest_kinds).where(
            tables.preference.c.email == email
        )
    ).one_or_none()
    return Preference(email) if row is None else _row(email, row.lang, row.digest_kinds)


def load_many(db: Raw, emails: Sequence[str]) -> dict[str, Preference]:
    """The preferences of those of ``emails`` (lower-cased) that chose, on the driver."""
    wanted = sorted({e.lower() for e in emails})
    if not wanted:
        return {}
    rows = db.execute(
        f"SELECT email, lang, digest_kinds FROM preference WHERE email IN ({placeholders(wanted)})",
        tuple(wanted),
    ).fetchall()
    return {email: _row(email, lang, db.from_json(kinds)) for email, lang, kinds in rows}


def save(
    conn: sa.Connection, email: str, lang: str | None, digest: Iterable[str], now: datetime
) -> Preference:
    """Record ``email``'s choice; ValueError naming the field for an unknown language or
    family (nothing is written then)."""
    email = email.strip().lower()
    if lang is not None and lang not in LANGUAGES:
        raise ValueError(f"lang: {lang!r} is not offered: choose one of {', '.join(LANGUAGES)}")
    families = sorted(set(digest))
    unknown = [f for f in families if f not in KINDS]
    if unknown:
        raise ValueError(
            f"digest: {', '.join(map(repr, unknown))} is not a kind of message: "
            f"choose among {', '.join(KINDS)}"
        )
    values = {"lang": lang, "digest_kinds": families, "updated_at": now}
    updated = conn.execute(
        sa.update(tables.preference).where(tables.preference.c.email == email).values(**values)
    ).rowcount
    if not updated:
        conn.execute(sa.insert(tables.preference).values(email=email, **values))
    return Preference(email, lang, frozenset(families))
