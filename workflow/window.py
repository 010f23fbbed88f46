"""When messages leave: the sending window and the weekly digest day (issue 11).

Messages leave on French working days (Europe/Paris; weekends and public holidays skipped,
the calendar of :mod:`workflow.calendar`), from a fixed hour (default 09:00). What falls due
while the window is shut waits for the next working morning. Exempt: changes and
cancellations of a meeting held within two working days (people must hear of them at once).

One :class:`SendingWindow`, built from the settings, is shared by the sweep (reminders fire
only when the window is open), the outbox (messages are claimed only when it is open) and
the weekly digest (one a week per person, on :attr:`SendingWindow.digest_weekday`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from workflow.calendar import PARIS, is_working_day, next_working_day, paris_date

__all__ = ["ASKED_KINDS", "EXEMPT_KINDS", "WEEKDAYS", "SendingWindow"]

EXEMPT_KINDS = ("meeting_update", "meeting_cancel")
"""Kinds that leave at once, window shut or not, when their meeting is close (see
:meth:`SendingWindow.exempt_before`)."""

ASKED_KINDS = ("answer_link",)
"""Kinds a person asks for themselves (a new personal link from an expired one): they leave at
once, whatever the day, since the person is waiting for them."""

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday")
"""The days a weekly digest may be sent on (``digest_weekday`` setting)."""

_EXEMPT_WORKING_DAYS = 2


@dataclass(frozen=True)
class SendingWindow:
    """The working mornings messages leave from, and the weekday of the weekly digest."""

    send_at: time = time(9, 0)
    digest_weekday: int = 0  # Monday

    def __post_init__(self) -> None:
        if not 0 <= self.digest_weekday < len(WEEKDAYS):
            raise ValueError(
                f"the weekly digest is sent on a weekday, Monday (0) to Friday (4),"
                f" not day {self.digest_weekday}"
            )

    @classmethod
    def parse(cls, send_at: str, digest_weekday: str) -> SendingWindow:
        """From the settings' words: ``"09:00"`` and ``"monday"``; ValueError naming the
        setting when either cannot be read."""
        try:
            hour, minute = (int(x) for x in send_at.split(":"))
            at = time(hour, minute)
        except ValueError:
            raise ValueError(
                f"COPILOTE_SEND_AT: {send_at!r} is not a time of day: write it like 09:00"
            ) from None
        day = digest_weekday.strip().lower()
        if day not in WEEKDAYS:
            raise ValueError(
                f"COPILOTE_DIGEST_WEEKDAY: {digest_weekday!r} is not a working weekday:"
                f" write one of {', '.join(WEEKDAYS)}"
            )
        return cls(at, WEEKDAYS.index(day))

    def opening(self, day: date) -> datetime:
        """The instant the window opens on ``day`` (Paris), worked or not."""
        return datetime.combine(day, self.send_at, tzinfo=PARIS)

    def is_open(self, now: datetime) -> bool:
        day = paris_date(now)
        return is_working_day(day) and now >= self.opening(day)

    def next_opening(self, now: datetime) -> datetime:
        """``now`` when the window is open, else the instant it next opens."""
        if self.is_open(now):
            return now
        day = paris_date(now)
        if is_working_day(day) and now < self.opening(day):
            return self.opening(day)
        return self.opening(next_working_day(day + timedelta(days=1)))

    def last_opening(self, now: datetime) -> datetime:
        """The last instant at or before ``now`` the window opened."""
        day = paris_date(now)
        while not (is_working_day(day) and self.opening(day) <= now):
            day -= timedelta(days=1)
        return self.opening(day)

    def exempt_before(self, now: datetime) -> datetime:
        """Meetings starting before this instant are close: their changes and cancellations
        leave at once (the end of the second working day after today)."""
        day = paris_date(now)
        for _ in range(_EXEMPT_WORKING_DAYS):
            day = next_working_day(day + timedelta(days=1))
        return datetime.combine(day + timedelta(days=1), time(0), tzinfo=PARIS)

    # -- the weekly digest -----------------------------------------------------------------
    def digest_day(self, today: date) -> date:
        """The next digest day strictly after ``today`` (the window then lets it out on that
        day, or on the next working morning when that day is a holiday)."""
        ahead = (self.digest_weekday - today.weekday()) % 7 or 7
        return today + timedelta(days=ahead)

    def week_of(self, day: date) -> str:
        """The digest week ``day`` belongs to, as a key (``2026-W05``): one digest each."""
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"

    @staticmethod
    def is_monthly(day: date) -> bool:
        """Whether the digest of ``day`` is the month's first (it also lists the items
        already escalated, which the other weekly digests leave out)."""
        return day.day <= 7
