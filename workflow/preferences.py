"""Mail preferences without an account: per kind of message, "immediately" or "in my weekly
digest", and the language (issue 11).

A person opens the page from the signed link every message carries (``web.pages.preferences``).
The choice is kept per lower-cased address in ``preference``; :func:`workflow.outbox.queue`
reads it for every message it writes: a message of a kind moved to the digest is written
``held`` (unless it is about a meeting held before the next digest), in the language chosen.
The sweep then gathers a person's held messages into their weekly digest (``merged``).

The choice is per kind of message (``KINDS``, the routing's kinds but the digest itself);
convocations and report requests can be moved to the digest like the others, but nothing can
be switched off. Choices stored before per family (``FAMILIES``: meetings, reports,
deadlines, news) still read as every kind of the family (migration 0013 rewrites them).
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
    "FAMILIES",
    "KINDS",
    "LANGUAGES",
    "Preference",
    "kinds_of",
    "load",
    "load_many",
    "save",
]

LANGUAGES = ("fr", "en")

FAMILIES: Mapping[str, tuple[str, ...]] = {
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
"""The families preferences were once chosen by (kept to read what was stored then)."""

KINDS: tuple[str, ...] = tuple(kind for kinds in FAMILIES.values() for kind in kinds)
"""The kinds of message a person chooses for, in the page's order (their labels live in the
web catalogue); the weekly digest itself is not among them: it is never held."""


def kinds_of(chosen: Iterable[str]) -> frozenset[str]:
    """The kinds ``chosen`` names: kinds as they are, a family as all its kinds (a choice
    stored before preferences were per kind); anything else is dropped."""
    out: set[str] = set()
    for name in chosen:
        if name in FAMILIES:
            out.update(FAMILIES[name])
        elif name in KINDS:
            out.add(name)
    return frozenset(out)


@dataclass(frozen=True)
class Preference:
    email: str
    lang: str | None = None
    digest: frozenset[str] = frozenset()  # kinds moved to the weekly digest

    def holds(self, kinds: Iterable[str]) -> bool:
        """Whether a message of these kinds waits for the digest: all of them moved there."""
        listed = list(kinds)
        return bool(listed) and all(kind in self.digest for kind in listed)


def _row(email: str, lang: str | None, chosen: Any) -> Preference:
    return Preference(email, lang if lang in LANGUAGES else None, kinds_of(chosen or []))


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
    """Record ``email``'s choice (kinds); ValueError naming the field for an unknown
    language or kind (nothing is written then)."""
    email = email.strip().lower()
    if lang is not None and lang not in LANGUAGES:
        raise ValueError(f"lang: {lang!r} is not offered: choose one of {', '.join(LANGUAGES)}")
    kinds = sorted(set(digest))
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise ValueError(
            f"digest: {', '.join(map(repr, unknown))} is not a kind of message: "
            f"choose among {', '.join(KINDS)}"
        )
    values = {"lang": lang, "digest_kinds": kinds, "updated_at": now}
    updated = conn.execute(
        sa.update(tables.preference).where(tables.preference.c.email == email).values(**values)
    ).rowcount
    if not updated:
        conn.execute(sa.insert(tables.preference).values(email=email, **values))
    return Preference(email, lang, frozenset(kinds))
