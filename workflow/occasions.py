"""Occasions: what a reminder or a message is about, as typed values with one key format each.

An occasion's :attr:`~Occasion.key` is the idempotency key of what it produces: a reminder
row's ``occasion`` (unique), and with a recipient's address the outbox row's ``key``
(:func:`workflow.outbox.personal_key`). The keys are exactly the strings planned and queued
before occasions were typed, so rows written before keep matching (nothing is planned or
sent twice across an upgrade). :func:`parse` reads a key back into its occasion.

A :class:`Planned` occasion is one the planner puts in the ``reminder`` table: it also says
its ``kind``, its ``chain`` (reminders of one chain replace each other, see
:mod:`workflow.sweep`), its subject (a milestone or meeting id), and the columns the sweep
reads instead of parsing keys (``schedule``, ``period``, ``step``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import ClassVar

__all__ = [
    "AnnualReview",
    "ConventionEnd",
    "ConventionEnding",
    "MeetingBefore",
    "MeetingMinutes",
    "MeetingNotice",
    "MessageGroup",
    "MilestoneBefore",
    "MilestoneEscalation",
    "MilestoneOverdue",
    "MinutesShared",
    "Occasion",
    "OverdueDigest",
    "PartnerChange",
    "Planned",
    "ReportBefore",
    "ReportEscalation",
    "ReportOverdue",
    "ReportOverdueCopy",
    "ReportRequest",
    "SeriesCheck",
    "StaleEscalation",
    "Transition",
    "WeeklyDigest",
    "meeting_chains",
    "milestone_chains",
    "parse",
    "period_of",
    "quarter_of_period",
]


class Occasion:
    """Something that is said once: its key identifies it."""

    @property
    def key(self) -> str:  # pragma: no cover - every occasion defines it
        raise NotImplementedError

    def __str__(self) -> str:
        return self.key


class Planned(Occasion):
    """An occasion planned as a reminder row (a moment, a kind, a chain)."""

    kind: ClassVar[str]

    @property
    def chain(self) -> str:  # pragma: no cover - every planned occasion defines it
        raise NotImplementedError

    @property
    def subject_id(self) -> int | None:
        return None

    @property
    def step(self) -> str | None:
        return None

    def columns(self) -> tuple[str | None, str | None, str | None]:
        """What the reminder row holds besides the key: (schedule, period, step)."""
        return None, None, self.step


def period_of(year: int, quarter: int) -> str:
    """A quarterly period as reports store it: ``2026-Q2``."""
    return f"{year}-Q{quarter}"


def quarter_of_period(period: str) -> tuple[int, int]:
    """``2026-Q2`` -> (2026, 2)."""
    match = re.fullmatch(r"(\d{4})-Q([1-4])", period)
    if match is None:
        raise ValueError(f"not a quarterly period: {period!r}")
    return int(match[1]), int(match[2])


# -- milestones ------------------------------------------------------------------------------


def milestone_chains(milestone_id: int) -> tuple[str, str]:
    """Every chain a milestone's reminders belong to (cancelled together when it is done)."""
    return f"milestone:{milestone_id}:remind", f"milestone:{milestone_id}:escalate"


@dataclass(frozen=True)
class MilestoneBefore(Planned):
    """A milestone is due in ``days`` days."""

    milestone_id: int
    days: int
    kind: ClassVar[str] = "milestone_reminder"

    @property
    def key(self) -> str:
        return f"milestone:{self.milestone_id}:before:{self.days}"

    @property
    def chain(self) -> str:
        return milestone_chains(self.milestone_id)[0]

    @property
    def subject_id(self) -> int:
        return self.milestone_id

    @property
    def step(self) -> str:
        return f"before:{self.days}"


@dataclass(frozen=True)
class MilestoneOverdue(Planned):
    milestone_id: int
    kind: ClassVar[str] = "milestone_overdue"

    @property
    def key(self) -> str:
        return f"milestone:{self.milestone_id}:overdue"

    @property
    def chain(self) -> str:
        return milestone_chains(self.milestone_id)[0]

    @property
    def subject_id(self) -> int:
        return self.milestone_id

    @property
    def step(self) -> str:
        return "overdue"


@dataclass(frozen=True)
class MilestoneEscalation(Planned):
    milestone_id: int
    kind: ClassVar[str] = "milestone_escalation"

    @property
    def key(self) -> str:
        return f"milestone:{self.milestone_id}:escalation"

    @property
    def chain(self) -> str:
        return milestone_chains(self.milestone_id)[1]

    @property
    def subject_id(self) -> int:
        return self.milestone_id

    @property
    def step(self) -> str:
        return "escalation"


@dataclass(frozen=True)
class OverdueDigest(Planned):
    """The pilot's weekly list of what is late, sent on ``on``."""

    project_id: int
    on: date
    kind: ClassVar[str] = "overdue_digest"

    @property
    def key(self) -> str:
        return f"digest:{self.project_id}:{self.on}"

    @property
    def chain(self) -> str:
        return f"digest:{self.project_id}"


@dataclass(frozen=True)
class StaleEscalation(Planned):
    """A milestone late and unchanged for weeks (``weeks_before_escalation``): told once to
    the accountable; the digests then list it only once a month."""

    milestone_id: int
    kind: ClassVar[str] = "milestone_stale"

    @property
    def key(self) -> str:
        return f"milestone:{self.milestone_id}:stale"

    @property
    def chain(self) -> str:
        return f"milestone:{self.milestone_id}:stale"

    @property
    def subject_id(self) -> int:
        return self.milestone_id

    @property
    def step(self) -> str:
        return "stale"


@dataclass(frozen=True)
class WeeklyDigest(Occasion):
    """One person's digest of the week ``week`` (``2026-W05``), every project merged: with
    the address, the outbox key that lets at most one digest a week reach anyone."""

    week: str

    @property
    def key(self) -> str:
        return f"weekly:{self.week}"


# -- meetings --------------------------------------------------------------------------------


def meeting_chains(meeting_id: int) -> tuple[str, str]:
    """Every chain a meeting's reminders belong to (cancelled together when it changes)."""
    return f"meeting:{meeting_id}:remind", f"meeting:{meeting_id}:minutes"


@dataclass(frozen=True)
class MeetingBefore(Planned):
    """A meeting (as of its ``sequence``) starts in ``days`` days."""

    meeting_id: int
    sequence: int
    days: int
    kind: ClassVar[str] = "meeting_reminder"

    @property
    def key(self) -> str:
        return f"meeting:{self.meeting_id}:s{self.sequence}:before:{self.days}"

    @property
    def chain(self) -> str:
        return meeting_chains(self.meeting_id)[0]

    @property
    def subject_id(self) -> int:
        return self.meeting_id

    @property
    def step(self) -> str:
        return f"before:{self.days}"


@dataclass(frozen=True)
class MeetingMinutes(Planned):
    """The day after a meeting: its minutes are asked for."""

    meeting_id: int
    sequence: int
    kind: ClassVar[str] = "meeting_minutes_request"

    @property
    def key(self) -> str:
        return f"meeting:{self.meeting_id}:s{self.sequence}:minutes"

    @property
    def chain(self) -> str:
        return meeting_chains(self.meeting_id)[1]

    @property
    def subject_id(self) -> int:
        return self.meeting_id

    @property
    def step(self) -> str:
        return "minutes"


@dataclass(frozen=True)
class MeetingNotice(Occasion):
    """A meeting scheduled, moved or cancelled: an invitation, an update or a cancellation."""

    meeting_id: int
    change: str  # scheduled, moved, cancelled
    sequence: int

    KINDS: ClassVar[dict[str, str]] = {
        "scheduled": "meeting_invitation",
        "moved": "meeting_update",
        "cancelled": "meeting_cancel",
    }

    def __post_init__(self) -> None:
        if self.change not in self.KINDS:
            raise ValueError(f"a meeting is scheduled, moved or cancelled, not {self.change!r}")

    @property
    def kind(self) -> str:
        return self.KINDS[self.change]

    @property
    def key(self) -> str:
        return f"meeting:{self.meeting_id}:{self.change}:{self.sequence}"


@dataclass(frozen=True)
class SeriesCheck(Planned):
    """Is a meeting series on track? Checked on ``expected``, when its next meeting is due."""

    project_id: int
    series: str
    expected: date
    kind: ClassVar[str] = "series_behind"

    @property
    def key(self) -> str:
        return f"series:{self.project_id}:{self.series}:{self.expected}"

    @property
    def chain(self) -> str:
        return f"series:{self.project_id}:{self.series}"


# -- quarterly reports -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Report(Planned):
    project_id: int
    schedule: str
    period: str  # "2026-Q2"

    def columns(self) -> tuple[str | None, str | None, str | None]:
        return self.schedule, self.period, self.step

    @property
    def _stem(self) -> str:
        return f"report:{self.project_id}:{self.schedule}:{self.period}"

    @property
    def chain(self) -> str:
        return f"{self._stem}:remind"

    @property
    def key(self) -> str:
        return f"{self._stem}:{self.step}"


@dataclass(frozen=True)
class ReportRequest(_Report):
    """A period has ended: partners are asked for its report."""

    kind: ClassVar[str] = "report_request"

    @property
    def step(self) -> str:
        return "request"


@dataclass(frozen=True)
class ReportBefore(_Report):
    days: int
    kind: ClassVar[str] = "report_reminder"

    @property
    def step(self) -> str:
        return f"before:{self.days}"


@dataclass(frozen=True)
class ReportOverdue(_Report):
    kind: ClassVar[str] = "report_overdue"

    @property
    def step(self) -> str:
        return "overdue"

    def copy_about(self, partner_id: int) -> ReportOverdueCopy:
        """The pilot's copy of the reminder sent to one late partner."""
        return ReportOverdueCopy(self.project_id, self.schedule, self.period, partner_id)


@dataclass(frozen=True)
class ReportEscalation(_Report):
    kind: ClassVar[str] = "report_escalation"

    @property
    def chain(self) -> str:
        return f"{self._stem}:escalate"

    @property
    def step(self) -> str:
        return "escalation"


@dataclass(frozen=True)
class ReportOverdueCopy(Occasion):
    """The pilot's copy of a late partner's overdue reminder (a message, never planned)."""

    project_id: int
    schedule: str
    period: str
    partner_id: int

    @property
    def key(self) -> str:
        stem = ReportOverdue(self.project_id, self.schedule, self.period).key
        return f"{stem}:{self.partner_id}"


# -- convention ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnnualReview(Planned):
    """The review due before the convention's anniversary of ``year``."""

    project_id: int
    year: int
    kind: ClassVar[str] = "annual_review"

    @property
    def key(self) -> str:
        return f"annual_review:{self.project_id}:{self.year}"

    @property
    def chain(self) -> str:
        return f"annual:{self.project_id}:{self.year}"


@dataclass(frozen=True)
class ConventionEnd(Planned):
    project_id: int
    end: date
    kind: ClassVar[str] = "convention_end"

    @property
    def key(self) -> str:
        return f"convention_end:{self.project_id}:{self.end}"

    @property
    def chain(self) -> str:
        return f"convention:{self.project_id}"


@dataclass(frozen=True)
class ConventionEnding(Planned):
    """A convention's period ends on ``end`` in ``months`` months: renew it expressly or let
    it lapse. A renewal moves the end, so the reminders of the old end are no longer sent."""

    convention_id: int
    end: date
    months: int
    kind: ClassVar[str] = "convention_end"

    @property
    def key(self) -> str:
        return f"convention:{self.convention_id}:{self.end}:before:{self.months}m"

    @property
    def chain(self) -> str:
        return f"convention:{self.convention_id}:{self.end}"

    @property
    def subject_id(self) -> int | None:
        return self.convention_id


# -- notices -----------------------------------------------------------------------


@dataclass(frozen=True)
class Transition(Occasion):
    """A project's phase change (its version after the change)."""

    project_id: int
    version: int

    @property
    def key(self) -> str:
        return f"transition:{self.project_id}:{self.version}"


@dataclass(frozen=True)
class PartnerChange(Planned):
    """A partner joins (or leaves) the project on ``on``: planned for the sending time of the
    day it is recorded, so that the changes of one day reach each person as one message."""

    partner_id: int
    joined: bool
    on: date
    kind: ClassVar[str] = "partner_change"

    @property
    def message_kind(self) -> str:
        return "partner_joined" if self.joined else "partner_left"

    @property
    def key(self) -> str:
        return f"{self.message_kind}:{self.partner_id}:{self.on}"

    @property
    def chain(self) -> str:
        return self.key

    @property
    def subject_id(self) -> int | None:
        return self.partner_id


@dataclass(frozen=True)
class MinutesShared(Occasion):
    """A held meeting's minutes were attached: its attendees are told once (a later
    version of the minutes is on the same page, and is not mailed again)."""

    meeting_id: int
    kind: ClassVar[str] = "meeting_minutes"

    @property
    def key(self) -> str:
        return f"minutes:{self.meeting_id}"


@dataclass(frozen=True)
class MessageGroup(Occasion):
    """Several occasions told to one person in one sweep, as one message."""

    digest: str

    @classmethod
    def of(cls, occasions: Iterable[str]) -> MessageGroup:
        joined = "|".join(sorted(occasions))
        return cls(hashlib.sha256(joined.encode()).hexdigest()[:24])

    @property
    def key(self) -> str:
        return f"group:{self.digest}"


# -- parsing ---------------------------------------------------------------------------------

_ID = r"(\d+)"
_NAME = r"([a-z][a-z0-9_]*)"
_DAY = r"(\d{4}-\d{2}-\d{2})"
_PERIOD = r"(\d{4}-Q[1-4])"


def _day(text: str) -> date:
    return date.fromisoformat(text)


_REPORT = f"report:{_ID}:{_NAME}:{_PERIOD}"

_FORMATS: list[tuple[re.Pattern[str], Callable[..., Occasion]]] = [
    (
        re.compile(f"milestone:{_ID}:before:{_ID}"),
        lambda m, d: MilestoneBefore(int(m), int(d)),
    ),
    (re.compile(f"milestone:{_ID}:overdue"), lambda m: MilestoneOverdue(int(m))),
    (re.compile(f"milestone:{_ID}:escalation"), lambda m: MilestoneEscalation(int(m))),
    (re.compile(f"milestone:{_ID}:stale"), lambda m: StaleEscalation(int(m))),
    (re.compile(f"digest:{_ID}:{_DAY}"), lambda p, d: OverdueDigest(int(p), _day(d))),
    (re.compile(r"weekly:(\d{4}-W\d{2})"), lambda w: WeeklyDigest(w)),
    (
        re.compile(f"meeting:{_ID}:s{_ID}:before:{_ID}"),
        lambda m, s, d: MeetingBefore(int(m), int(s), int(d)),
    ),
    (re.compile(f"meeting:{_ID}:s{_ID}:minutes"), lambda m, s: MeetingMinutes(int(m), int(s))),
    (
        re.compile(f"meeting:{_ID}:(scheduled|moved|cancelled):{_ID}"),
        lambda m, c, s: MeetingNotice(int(m), c, int(s)),
    ),
    (
        re.compile(f"series:{_ID}:{_NAME}:{_DAY}"),
        lambda p, s, d: SeriesCheck(int(p), s, _day(d)),
    ),
    (re.compile(f"{_REPORT}:request"), lambda p, s, q: ReportRequest(int(p), s, q)),
    (
        re.compile(f"{_REPORT}:before:{_ID}"),
        lambda p, s, q, d: ReportBefore(int(p), s, q, int(d)),
    ),
    (re.compile(f"{_REPORT}:overdue"), lambda p, s, q: ReportOverdue(int(p), s, q)),
    (re.compile(f"{_REPORT}:escalation"), lambda p, s, q: ReportEscalation(int(p), s, q)),
    (
        re.compile(f"{_REPORT}:overdue:{_ID}"),
        lambda p, s, q, a: ReportOverdueCopy(int(p), s, q, int(a)),
    ),
    (re.compile(f"annual_review:{_ID}:{_ID}"), lambda p, y: AnnualReview(int(p), int(y))),
    (re.compile(f"convention_end:{_ID}:{_DAY}"), lambda p, d: ConventionEnd(int(p), _day(d))),
    (
        re.compile(f"convention:{_ID}:{_DAY}:before:{_ID}m"),
        lambda c, d, m: ConventionEnding(int(c), _day(d), int(m)),
    ),
    (re.compile(f"transition:{_ID}:{_ID}"), lambda p, v: Transition(int(p), int(v))),
    (
        re.compile(f"partner_(joined|left):{_ID}:{_DAY}"),
        lambda j, p, d: PartnerChange(int(p), j == "joined", _day(d)),
    ),
    (re.compile(f"minutes:{_ID}"), lambda m: MinutesShared(int(m))),
    (re.compile(r"group:([0-9a-f]{24})"), lambda d: MessageGroup(d)),
]


def parse(key: str) -> Occasion:
    """The occasion a key names (``parse(o.key) == o``); ValueError for any other text."""
    for pattern, build in _FORMATS:
        match = pattern.fullmatch(key)
        if match is not None:
            try:
                return build(*match.groups())
            except ValueError:  # a date that does not exist
                break
    raise ValueError(f"not an occasion key: {key!r}")
