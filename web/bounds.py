"""The one set of bounds on what comes in over HTTP, shared by the JSON API (its pydantic
schemas) and the pages (their path parameters, query strings and form fields).

Anything the database or the date arithmetic could not take is refused here, naming the
field, never a 500: identifiers that fit a 32-bit column, dates between 2000 and 2100, no
control characters (NUL, CR, LF in a one-line field), no lone surrogates, numbers of a
sensible number of digits.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Path

from workflow.errors import InvalidInput

__all__ = [
    "FIRST_DAY",
    "LAST_DAY",
    "MAX_ID",
    "MAX_LENGTH",
    "MULTI_LINE",
    "ONE_LINE",
    "PageId",
    "form_day",
    "form_id",
    "form_instant",
    "form_line",
    "form_text",
    "page_number",
    "query_year",
    "storable",
    "valid_text",
]

MAX_ID = 2**31 - 1
"""Identifiers and cent amounts are 32-bit integer columns (PostgreSQL ``integer``)."""
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)
ONE_LINE = r"^[^\x00-\x1f\x7f]*$"
"""A one-line text: no control character at all (no NUL, no CR or LF, no tab)."""
MULTI_LINE = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
"""A text of several lines: tabs and line breaks, but no other control character."""
MAX_LENGTH: dict[str, int] = {
    "label": 300,
    "organisation": 300,
    "contact_name": 200,
    "email": 320,
    "territory": 200,
    "location": 200,
    "minutes_ref": 300,
    "deliverable_ref": 300,
    "attendee": 300,
    "unit": 40,
    "period": 40,
    "comment": 1000,
    "reason": 1000,
    "text": 5000,
    "gap_explanation": 5000,
    "corrective_measure": 5000,
}
"""The longest text each field takes, by field name: the one declaration the API's schemas
(``web/api/schemas.py``) and the pages' forms (``web/forms.py``) both apply."""
_ONE_LINE, _MULTI_LINE = re.compile(ONE_LINE), re.compile(MULTI_LINE)
_PARIS = ZoneInfo("Europe/Paris")
_MAX_DIGITS = 10  # enough for MAX_ID; int() of a longer string is never needed

PageId = Annotated[int, Path(ge=1, le=MAX_ID, description="identifier")]
"""A project (or record) id in a page's path: beyond a 32-bit column it is no such page."""


def valid_text(value: str) -> str:
    """``value`` if it can be stored (encoded as UTF-8), else ValueError."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("the text is not valid Unicode (lone surrogate)") from None
    return value


def storable(value: str, lines: bool = False) -> bool:
    """Whether ``value`` has no control character (but line breaks and tabs when ``lines``)
    and no lone surrogate: what a database can store and a page can show."""
    if not (_MULTI_LINE if lines else _ONE_LINE).match(value):
        return False
    try:
        valid_text(value)
    except ValueError:
        return False
    return True


def _checked(value: str, field: str, pattern: re.Pattern[str], max_length: int) -> str:
    if len(value) > max_length:
        raise InvalidInput(
            field, f"at most {max_length} characters", "input.too_long", {"max_length": max_length}
        )
    if not pattern.match(value):
        raise InvalidInput(
            field,
            "control characters (NUL, line breaks...) are not allowed",
            "input.control_characters",
        )
    try:
        return valid_text(value)
    except ValueError as exc:
        raise InvalidInput(field, str(exc)) from None


def form_line(value: str, field: str, max_length: int = 300) -> str:
    """A one-line form field, stripped: no control character, at most ``max_length``."""
    return _checked(value.strip(), field, _ONE_LINE, max_length)


def form_text(value: str, field: str, max_length: int = 5000) -> str:
    """A text area, stripped: line breaks allowed, no other control character."""
    return _checked(value.strip(), field, _MULTI_LINE, max_length)


def _in_bounds(day: date, field: str) -> date:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise InvalidInput(
            field,
            f"{day} is not between {FIRST_DAY} and {LAST_DAY}",
            "input.out_of_bounds",
            {"day": day, "first": FIRST_DAY, "last": LAST_DAY},
        )
    return day


def form_day(value: str, field: str) -> date | None:
    """A date of a form (2026-06-12) between 2000 and 2100, or None when left empty."""
    value = form_line(value, field, 40)
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            field, f"{value!r} is not a date (2026-06-12)", "input.not_a_date", {"value": value}
        ) from None
    return _in_bounds(day, field)


def form_instant(value: str, field: str) -> datetime:
    """A date and time of a form (2026-06-12T14:00), in Paris unless it says its zone."""
    value = form_line(value, field, 40)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            field,
            f"{value!r} is not a date and time (2026-06-12T14:00)",
            "input.not_an_instant",
            {"value": value},
        ) from None
    _in_bounds(parsed.date(), field)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=_PARIS)


def form_id(value: str, field: str) -> int | None:
    """An identifier chosen in a form, or None when it is not one (wrong or out of range)."""
    value = value.strip()
    if not value.isascii() or not value.isdigit() or len(value) > _MAX_DIGITS:
        return None
    number = int(value)
    return number if 1 <= number <= MAX_ID else None


def page_number(value: str | None) -> int:
    """``?page=`` leniently: anything but a positive integer that fits is page 1."""
    return form_id(value or "1", "page") or 1


def query_year(value: str, today: date) -> int:
    """``?year=``: this year when absent, else a year between 2000 and 2100."""
    if not value:
        return today.year
    if not (value.isascii() and value.isdigit() and len(value) == 4) or not (
        FIRST_DAY.year <= int(value) <= LAST_DAY.year
    ):
        raise InvalidInput("year", f"{value[:20]!r} is not a year between 2000 and 2100")
    return int(value)
