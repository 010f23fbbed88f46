"""Dates the way the programmes count them: Europe/Paris, French working days, deadline rules."""

from __future__ import annotations

import calendar as _calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, Literal
from zoneinfo import ZoneInfo

import holidays

from workflow.definition import DateRule, NonWorkingDayRule, Offset

__all__ = [
    "COUNTRY",
    "PARIS",
    "Deadline",
    "NonWorkingDay",
    "add_offset",
    "at_paris_time",
    "in_paris",
    "is_working_day",
    "months_before",
    "months_later",
    "next_working_day",
    "non_working_reason",
    "paris_date",
    "previous_working_day",
    "resolve",
    "years_later",
]

PARIS = ZoneInfo("Europe/Paris")
COUNTRY = "FR"
"""Whose public holidays count (the ``holidays`` package's country code)."""


@lru_cache(maxsize=64)
def _holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays(COUNTRY, years=year))


@dataclass(frozen=True)
class NonWorkingDay:
    """Why a day is not worked, as data: the kind of day, and which day (a public holiday is
    identified by its country and date; its name, in the reader's language, is for the
    wording: ``notifications.days.non_working_day``)."""

    kind: Literal["public_holiday", "saturday", "sunday"]
    day: date
    country: str = COUNTRY

    def as_item(self) -> dict[str, Any]:
        """The form written into message items (JSON with tagged dates)."""
        return {"kind": self.kind, "day": self.day, "country": self.country}


def non_working_reason(day: date) -> NonWorkingDay | None:
    """Why ``day`` is not a working day in France (a public holiday, a Saturday, a Sunday), or
    None when it is one. A public holiday on a weekend counts as the holiday."""
    if day in _holidays(day.year):
        return NonWorkingDay("public_holiday", day)
    if day.weekday() == 5:
        return NonWorkingDay("saturday", day)
    if day.weekday() == 6:
        return NonWorkingDay("sunday", day)
    return None


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _holidays(day.year)


def next_working_day(day: date) -> date:
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def previous_working_day(day: date) -> date:
    while not is_working_day(day):
        day -= timedelta(days=1)
    return day


def _add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, _calendar.monthrange(year, month)[1]))


def years_later(day: date, years: int) -> date:
    """The same date ``years`` years later (earlier when negative): 31 March stays 31 March,
    29 February becomes 28 February in a year that has none."""
    return _add_months(day, 12 * years)


def months_later(day: date, months: int) -> date:
    """The same day ``months`` months later, or that month's last day when it is shorter."""
    return _add_months(day, months)


def months_before(day: date, months: int) -> date:
    """The same day ``months`` months earlier, or that month's last day when it is shorter
    (31 May, 3 months before: 28 or 29 February)."""
    return _add_months(day, -months)


def add_offset(day: date, offset: Offset) -> date:
    if offset.unit == "days":
        return day + timedelta(days=offset.amount)
    if offset.unit == "weeks":
        return day + timedelta(weeks=offset.amount)
    if offset.unit == "months":
        return _add_months(day, offset.amount)
    remaining = offset.amount
    while remaining > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return day


def _calendar_date(spec: str, on_or_after: date) -> date:
    month_text, day_text = spec.split("-")
    month = int(month_text)
    for year in (on_or_after.year, on_or_after.year + 1):
        last = _calendar.monthrange(year, month)[1]
        day = last if day_text == "end" else min(int(day_text), last)
        candidate = date(year, month, day)
        if candidate >= on_or_after:
            return candidate
    raise AssertionError("unreachable: a date recurs every year")  # pragma: no cover


@dataclass(frozen=True)
class Deadline:
    due: date
    moved_from: date | None = None
    """The original date when it fell on a non-working day and the programme moves it."""


def resolve(
    rule: DateRule,
    *,
    project_start: date,
    phase_start: date,
    move_to_working_day: bool = False,
    on_non_working_day: NonWorkingDayRule | None = None,
) -> Deadline:
    """The due date of ``rule``; one falling on a non-working day is moved as
    ``on_non_working_day`` says (``next``, ``previous``, ``keep``; unset: ``next`` when
    ``move_to_working_day``, else ``keep``), remembering where it fell (``moved_from``)."""
    if rule.date is not None:
        due = _calendar_date(rule.date, project_start)
    else:
        if rule.offset is None:  # DateRule's validator makes this impossible
            raise ValueError("a deadline rule counted from a start needs an offset")
        base = phase_start if rule.after == "phase_start" else project_start
        due = add_offset(base, rule.offset)
    how = on_non_working_day or ("next" if move_to_working_day else "keep")
    if how == "keep" or is_working_day(due):
        return Deadline(due)
    moved = next_working_day(due) if how == "next" else previous_working_day(due)
    return Deadline(moved, moved_from=due)


def paris_date(instant: datetime) -> date:
    return instant.astimezone(PARIS).date()


# The last instant Python can hold in Paris time (31 December 9999, 23:59 there).
_LAST_PARIS = datetime.max.replace(tzinfo=PARIS)


def in_paris(instant: datetime) -> datetime:
    """``instant`` in Paris time, for showing it: an instant stored beyond the last one Python
    can hold there (31 December 9999 after 23:00 UTC) is shown as that last instant instead of
    raising OverflowError. Deadline arithmetic keeps :func:`paris_date`, which raises: a
    project whose due work meets such a date is flagged (workflow.failures), not hidden."""
    try:
        return instant.astimezone(PARIS)
    except OverflowError:
        return _LAST_PARIS


def at_paris_time(day: date, hhmm: str) -> datetime:
    """The aware instant of ``hh:mm`` Paris time on ``day`` (right on both sides of DST changes)."""
    hour, minute = (int(x) for x in hhmm.split(":"))
    return datetime.combine(day, time(hour, minute), tzinfo=PARIS)
