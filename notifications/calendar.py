"""Calendar invitations (iCalendar, RFC 5545 / iTIP RFC 5546), built with the icalendar library."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar, Event, vCalAddress, vText

from .message import Attachment, Recipient, clean_text_line

__all__ = ["PARIS", "REMIND_BEFORE", "build_ics", "ics_attachment"]

PARIS = ZoneInfo("Europe/Paris")
PRODID = "-//Copilote//Notifications//FR"
# The calendar's own reminder of an invitation: the day before. It is what reminds attendees
# of a frequent series' meetings, which get no email reminder
# (workflow.definition.ReminderPolicy.calendar_reminds).
REMIND_BEFORE = timedelta(days=1)
_BEGIN_EVENT, _END_EVENT = b"BEGIN:VEVENT\r\n", b"END:VEVENT\r\n"
_BEGIN_ALARM = b"BEGIN:VALARM\r\n"


def _require_aware(name: str, value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got naive {value!r}.")
    return value.astimezone(PARIS)


def _cal_address(person: Recipient, **params: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{clean_text_line(person.email)}")
    address.params["CN"] = vText(clean_text_line(person.name))
    for key, value in params.items():
        address.params[key] = vText(value)
    return address


def build_ics(
    *,
    uid: str,
    sequence: int,
    method: Literal["REQUEST", "CANCEL"],
    summary: str,
    description: str,
    location: str,
    starts_at: datetime,
    ends_at: datetime,
    organizer: Recipient,
    attendees: Sequence[Recipient],
    stamp: datetime,
    remind_before: timedelta | None = REMIND_BEFORE,
) -> bytes:
    """Return one VEVENT in a VCALENDAR, times in Europe/Paris with its VTIMEZONE.

    ``uid`` must stay the same for every update or cancellation of one meeting, and
    ``sequence`` must grow with each change, or calendars will not replace the event.
    ``stamp`` is the DTSTAMP: the caller's clock, never the wall clock.
    ``remind_before``: a REQUEST carries a VALARM (a display reminder) that long before the
    start, so the attendee's calendar reminds; ``None`` for none. A CANCEL never carries one.

    An invitation goes to each partner with that partner as attendee: the rest of the
    calendar (~1.5 ms with its VTIMEZONE) is built once per meeting and stamp, and only the
    ATTENDEE lines for each message.
    """
    if method not in ("REQUEST", "CANCEL"):
        raise ValueError(f"Unknown iTIP method {method!r}; expected 'REQUEST' or 'CANCEL'.")
    start = _require_aware("starts_at", starts_at)
    end = _require_aware("ends_at", ends_at)
    if end <= start:
        raise ValueError(f"Meeting {uid!r} ends ({end}) before it starts ({start}).")
    _require_aware("stamp", stamp)
    alarm = remind_before if method == "REQUEST" else None
    head, tail = _meeting(
        uid, sequence, method, summary, description, location, start, end, organizer, stamp, alarm
    )
    return head + b"".join(map(_attendee_lines, attendees)) + tail


@lru_cache(maxsize=256)
def _meeting(
    uid: str,
    sequence: int,
    method: str,
    summary: str,
    description: str,
    location: str,
    start: datetime,
    end: datetime,
    organizer: Recipient,
    stamp: datetime,
    alarm: timedelta | None,
) -> tuple[bytes, bytes]:
    """The calendar without attendees, cut where they go: at the end of the VEVENT."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)

    event = Event()
    event.add("uid", uid)
    event.add("sequence", sequence)
    event.add("dtstamp", stamp.astimezone(ZoneInfo("UTC")))
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("summary", clean_text_line(summary))
    event.add("description", description)
    event.add("location", clean_text_line(location))
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    event.add("transp", "OPAQUE")
    event.add("organizer", _cal_address(organizer))
    if alarm is not None:
        reminder = Alarm()
        reminder.add("action", "DISPLAY")
        reminder.add("description", clean_text_line(summary))
        reminder.add("trigger", -alarm)
        event.add_component(reminder)
    calendar.add_component(event)
    # Only the transitions around the meeting: a full 1970-2038 VTIMEZONE is needlessly long.
    calendar.add_missing_timezones(
        first_date=(start - timedelta(days=366)).date(),
        last_date=(end + timedelta(days=366)).date(),
    )
    ics: bytes = calendar.to_ical()
    # The attendees go among the event's properties, before its alarm (RFC 5545 orders them).
    cut = ics.find(_BEGIN_ALARM) if alarm is not None else -1
    cut = cut if cut >= 0 else ics.rindex(_END_EVENT)
    return ics[:cut], ics[cut:]


@lru_cache(maxsize=1024)
def _attendee_lines(attendee: Recipient) -> bytes:
    """The ATTENDEE property of ``attendee``, folded, as icalendar writes it."""
    event = Event()
    event.add(
        "attendee",
        _cal_address(
            attendee,
            CUTYPE="INDIVIDUAL",
            ROLE="REQ-PARTICIPANT",
            PARTSTAT="NEEDS-ACTION",
            RSVP="TRUE",
        ),
        encode=False,
    )
    lines: bytes = event.to_ical()
    return lines.removeprefix(_BEGIN_EVENT).removesuffix(_END_EVENT)


def ics_attachment(ics: bytes, method: str) -> Attachment:
    """Wrap ``ics`` for :class:`OutgoingMessage`; ``build_email`` turns it into an invitation."""
    method = method.upper()
    if method not in ("REQUEST", "CANCEL"):
        raise ValueError(f"Unknown iTIP method {method!r}; expected 'REQUEST' or 'CANCEL'.")
    filename = "cancel.ics" if method == "CANCEL" else "invite.ics"
    return Attachment(
        filename=filename,
        content_type=f"text/calendar; method={method}; charset=utf-8",
        data=ics,
    )
