from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.policy import default
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest

from notifications import (
    DeliveryResult,
    FileMailer,
    InvalidAddress,
    OutgoingMessage,
    Recipient,
    RecordingMailer,
    SmtpMailer,
    build_email,
    build_ics,
    ics_attachment,
)
from tests.smtp_support import RecordingHandler, SmtpServer, free_port, start_server

PARIS = ZoneInfo("Europe/Paris")
SENDER = Recipient("Copilote", "copilote@ars.example.org")
PILOT = Recipient("Claire Martin", "claire.martin@ars.example.org")


def message(key: str, to: Recipient | None = None, subject: str = "Rappel") -> OutgoingMessage:
    return OutgoingMessage(
        message_id=f"<copilote.{key}@copilote.local>",
        sender=SENDER,
        to=(to or Recipient("Jeanne Dupont", f"jeanne.{key}@asso.example.org"),),
        subject=subject,
        text="Bonjour,\nvotre bilan est attendu.",
        html="<p>Bonjour,<br>votre bilan est attendu.</p>",
        date=datetime(2026, 3, 2, 9, 0, tzinfo=PARIS),
    )


def invitation_ics(method: str = "REQUEST", sequence: int = 3) -> bytes:
    return build_ics(
        uid="copilote.meeting.42@copilote.local",
        sequence=sequence,
        method="CANCEL" if method == "CANCEL" else "REQUEST",
        summary="COPIL 2",
        description="Ordre du jour :\n1. Diagnostic",
        location="Mairie de Lens",
        starts_at=datetime(2026, 3, 30, 9, 0, tzinfo=PARIS),
        ends_at=datetime(2026, 3, 30, 11, 0, tzinfo=PARIS),
        organizer=PILOT,
        attendees=[Recipient("Jeanne Dupont", "jeanne@asso.example.org")],
        stamp=datetime(2026, 3, 1, 8, 0, tzinfo=UTC),
    )


# -- ICS ------------------------------------------------------------------------------------


def test_ics_parses_with_paris_time_after_dst_change() -> None:
    cal = icalendar.Calendar.from_ical(invitation_ics())
    assert str(cal["METHOD"]) == "REQUEST"
    assert str(cal["VERSION"]) == "2.0" and "Copilote" in str(cal["PRODID"])
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["Europe/Paris"]
    (event,) = cal.walk("VEVENT")
    assert str(event["UID"]) == "copilote.meeting.42@copilote.local"
    assert int(event.decoded("SEQUENCE")) == 3
    assert str(event["STATUS"]) == "CONFIRMED"
    assert event["DTSTART"].params["TZID"] == "Europe/Paris"
    start = event.decoded("DTSTART")
    assert start.astimezone(UTC) == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)  # CEST, UTC+2
    assert event.decoded("DTSTAMP") == datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    assert str(event["ORGANIZER"]) == "mailto:claire.martin@ars.example.org"
    attendee = event["ATTENDEE"]
    assert str(attendee) == "mailto:jeanne@asso.example.org"
    assert attendee.params["CN"] == "Jeanne Dupont"
    assert attendee.params["PARTSTAT"] == "NEEDS-ACTION"
    assert attendee.params["RSVP"] == "TRUE"
    assert attendee.params["ROLE"] == "REQ-PARTICIPANT"
    assert b"DTSTART;TZID=Europe/Paris:20260330T090000" in invitation_ics()


def test_an_invitation_reminds_the_day_before_and_a_cancellation_does_not() -> None:
    """The invitation's calendar entry is what reminds a frequent series' attendees (they get
    no email reminder): a display alarm the day before, after the attendees (RFC 5545)."""
    ics = invitation_ics()
    (event,) = icalendar.Calendar.from_ical(ics).walk("VEVENT")
    (alarm,) = event.walk("VALARM")
    assert str(alarm["ACTION"]) == "DISPLAY"
    assert alarm.decoded("TRIGGER") == -timedelta(days=1)
    assert str(event["ATTENDEE"]) == "mailto:jeanne@asso.example.org"
    assert ics.index(b"ATTENDEE") < ics.index(b"BEGIN:VALARM")
    cancel = icalendar.Calendar.from_ical(invitation_ics("CANCEL"))
    assert not cancel.walk("VALARM")


def test_ics_per_attendee_of_one_meeting() -> None:
    """The meeting part is built once and shared; each invitation names only its attendee."""
    people = [Recipient(f"Structure {i} — Zoé", f"s{i}@asso.example.org") for i in range(3)]
    common = dict(
        uid="copilote.meeting.7@copilote.local",
        sequence=1,
        method="REQUEST",
        summary="COPIL 1",
        description="Ordre du jour",
        location="Lens",
        starts_at=datetime(2026, 10, 25, 2, 30, tzinfo=PARIS),  # the night clocks go back
        ends_at=datetime(2026, 10, 25, 4, 0, tzinfo=PARIS),
        organizer=PILOT,
        stamp=datetime(2026, 10, 1, 8, 0, tzinfo=UTC),
    )
    calendars = [
        icalendar.Calendar.from_ical(build_ics(**common, attendees=[p]))  # type: ignore[arg-type]
        for p in people
    ]
    for person, cal in zip(people, calendars, strict=True):
        (event,) = cal.walk("VEVENT")
        assert str(event["ATTENDEE"]) == f"mailto:{person.email}"
        assert event["ATTENDEE"].params["CN"] == person.name
        assert str(event["UID"]) == "copilote.meeting.7@copilote.local"
        assert str(event["ORGANIZER"]) == "mailto:claire.martin@ars.example.org"
        assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["Europe/Paris"]
    both = icalendar.Calendar.from_ical(build_ics(**common, attendees=people[:2]))  # type: ignore[arg-type]
    (event,) = both.walk("VEVENT")
    assert isinstance(event, icalendar.Event)
    assert [str(a) for a in event.attendees] == [
        "mailto:s0@asso.example.org",
        "mailto:s1@asso.example.org",
    ]


def test_ics_cancel() -> None:
    cal = icalendar.Calendar.from_ical(invitation_ics("CANCEL", sequence=4))
    (event,) = cal.walk("VEVENT")
    assert str(cal["METHOD"]) == "CANCEL"
    assert str(event["STATUS"]) == "CANCELLED"
    assert int(event.decoded("SEQUENCE")) == 4


def test_ics_is_both_an_alternative_and_an_attachment() -> None:
    msg = message("invite")
    msg = OutgoingMessage(
        **{**msg.__dict__, "attachments": (ics_attachment(invitation_ics(), "REQUEST"),)}
    )
    built = build_email(msg, date=datetime(2026, 3, 1, 9, 0, tzinfo=PARIS))
    assert built.get_content_type() == "multipart/mixed"
    parts = {p.get_content_type(): p for p in built.walk()}
    calendar_part = parts["text/calendar"]
    assert calendar_part.get_param("method") == "REQUEST"
    assert "UID:copilote.meeting.42@copilote.local" in calendar_part.get_content()
    assert parts["application/ics"].get_filename() == "invite.ics"
    assert {"text/plain", "text/html", "multipart/alternative"} <= set(parts)
    assert built["Date"] == "Sun, 01 Mar 2026 09:00:00 +0100"


# -- header injection ---------------------------------------------------------------------


def test_invalid_addresses_are_rejected_naming_the_field() -> None:
    for bad in ("jeanne@x.org\r\nBcc: evil@x.org", "not-an-address", "a@b@c", "a b@x.org"):
        with pytest.raises(InvalidAddress, match=r"to\[0\]"):
            build_email(message("x", to=Recipient("Jeanne", bad)))
    with pytest.raises(InvalidAddress, match="sender"):
        build_email(OutgoingMessage(**{**message("x").__dict__, "sender": Recipient("C", "c")}))


def test_header_injection_reaches_no_server(smtp_server: SmtpServer) -> None:
    evil = OutgoingMessage(
        **{
            **message("evil").__dict__,
            "subject": "Hello\r\nBcc: evil@x.org",
            "to": (Recipient("Jeanne\r\nBcc: evil@x.org", "jeanne@asso.example.org"),),
            "sender": Recipient("Copilote\nBcc: evil@x.org", SENDER.email),
        }
    )
    mailer = SmtpMailer(host=smtp_server.host, port=smtp_server.port, timeout=5)
    (result,) = asyncio.run(mailer.send_batch([evil]))
    assert result.status == "sent", result
    (received,) = smtp_server.handler.received
    assert received.rcpt_tos == ["jeanne@asso.example.org"]
    assert received.message["Bcc"] is None
    assert received.message["Subject"] == "Hello Bcc: evil@x.org"
    to = received.message["To"]
    assert [a.addr_spec for a in to.addresses] == ["jeanne@asso.example.org"]
    assert "\n" not in str(to)
    header_names = [name.lower() for name in received.message]
    assert "bcc" not in header_names


# -- SMTP delivery --------------------------------------------------------------------------


@pytest.mark.parametrize("connections", [1, 4])
def test_batch_of_50_over_connections(smtp_server: SmtpServer, connections: int) -> None:
    batch = [message(f"batch.{i}") for i in range(50)]
    mailer = SmtpMailer(
        host=smtp_server.host, port=smtp_server.port, timeout=5, connections=connections
    )
    results = asyncio.run(mailer.send_batch(batch))
    assert [r.message_id for r in results] == [m.message_id for m in batch]
    assert {r.status for r in results} == {"sent"}
    ids = [r.message["Message-ID"] for r in smtp_server.handler.received]
    assert len(ids) == 50 and set(ids) == {m.message_id for m in batch}
    first = smtp_server.handler.received[0].message
    assert first["Auto-Submitted"] == "auto-generated"


def test_550_is_permanent_and_the_others_are_sent(smtp_server: SmtpServer) -> None:
    smtp_server.handler.refuse.add("nobody@asso.example.org")
    batch = [
        message("ok.1"),
        message("refused", to=Recipient("Nobody", "nobody@asso.example.org")),
        message("ok.2"),
    ]
    mailer = SmtpMailer(host=smtp_server.host, port=smtp_server.port, timeout=5)
    results = asyncio.run(mailer.send_batch(batch))
    assert [r.status for r in results] == ["sent", "permanent_failure", "sent"]
    assert "550" in results[1].detail and "No such user" in results[1].detail
    assert len(smtp_server.handler.received) == 2


def test_invalid_address_is_permanent_without_stopping_the_batch(
    smtp_server: SmtpServer,
) -> None:
    batch = [message("bad", to=Recipient("X", "x@y\r\nBcc: z@w.org")), message("good")]
    mailer = SmtpMailer(host=smtp_server.host, port=smtp_server.port, timeout=5)
    results = asyncio.run(mailer.send_batch(batch))
    assert [r.status for r in results] == ["permanent_failure", "sent"]
    assert "to[0]" in results[0].detail


def test_connection_refused_is_temporary(smtp_server: SmtpServer) -> None:
    smtp_server.stop()
    mailer = SmtpMailer(host=smtp_server.host, port=smtp_server.port, timeout=2)
    results = asyncio.run(mailer.send_batch([message("a"), message("b")]))
    assert [r.status for r in results] == ["temporary_failure"] * 2
    assert all("cannot connect" in r.detail for r in results)


def test_hanging_server_times_out(smtp_server: SmtpServer) -> None:
    smtp_server.handler.hang = True
    mailer = SmtpMailer(host=smtp_server.host, port=smtp_server.port, timeout=0.5)
    started = time.monotonic()
    results = asyncio.run(mailer.send_batch([message(f"hang.{i}") for i in range(4)]))
    elapsed = time.monotonic() - started
    assert [r.status for r in results] == ["temporary_failure"] * 4
    assert "no answer within 0.5 s" in results[0].detail
    assert "not attempted" in results[3].detail  # reconnected once, then gave up
    assert elapsed < 5
    assert smtp_server.handler.received == []


def test_silent_server_connect_times_out() -> None:
    async def scenario() -> list[str]:
        async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.read()  # returns when the client gives up and closes
            writer.close()

        server = await asyncio.start_server(never_answer, "127.0.0.1", free_port())
        port = server.sockets[0].getsockname()[1]
        async with server:
            mailer = SmtpMailer(host="127.0.0.1", port=port, timeout=0.5)
            results = await mailer.send_batch([message("silent")])
        return [r.status for r in results]

    started = time.monotonic()
    assert asyncio.run(scenario()) == ["temporary_failure"]
    assert time.monotonic() - started < 5


# -- other mailers ------------------------------------------------------------------------


def test_file_mailer_writes_parseable_eml(tmp_path: Path) -> None:
    folder = tmp_path / "outbox"
    batch = [message("file.1"), message("file/2")]
    results = asyncio.run(FileMailer(folder).send_batch(batch))
    assert [r.status for r in results] == ["sent", "sent"]
    files = sorted(folder.iterdir())
    assert [f.name for f in files] == [
        "copilote.file.1@copilote.local.eml",
        "copilote.file_2@copilote.local.eml",
    ]
    parsed = message_from_bytes(files[1].read_bytes(), policy=default)
    assert parsed["Message-ID"] == "<copilote.file/2@copilote.local>"
    assert parsed["Subject"] == "Rappel"
    body = parsed.get_body(("plain",))
    assert body is not None and "votre bilan est attendu" in body.get_content()


def test_recording_mailer_keeps_messages() -> None:
    mailer = RecordingMailer()
    results = asyncio.run(mailer.send_batch([message("rec")]))
    assert mailer.sent == [message("rec")]
    assert results[0].status == "sent"


# -- sessions: connections kept from one batch to the next ----------------------------------


class CountingHandler(RecordingHandler):
    """Counts the connections (one EHLO each)."""

    def __init__(self) -> None:
        super().__init__()
        self.connections = 0

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        self.connections += 1
        return responses


@pytest.mark.parametrize("connections", [1, 3])
def test_session_opens_each_connection_once_for_all_batches(connections: int) -> None:
    handler = CountingHandler()
    server = start_server(handler)
    mailer = SmtpMailer(host=server.host, port=server.port, timeout=5, connections=connections)

    async def three_batches() -> list[DeliveryResult]:
        results: list[DeliveryResult] = []
        async with mailer.session():
            for b in range(3):
                results += await mailer.send_batch([message(f"s{b}.{i}") for i in range(6)])
        return results

    try:
        results = asyncio.run(three_batches())
        assert [r.status for r in results] == ["sent"] * 18
        assert handler.connections == connections
        asyncio.run(mailer.send_batch([message("alone")]))  # outside a session: its own
        assert handler.connections == connections + 1
    finally:
        server.stop()
    assert len(handler.received) == 19


def test_connection_dropped_between_batches_is_replaced_without_failing(
    smtp_server: SmtpServer,
) -> None:
    mailer = SmtpMailer(host=smtp_server.host, port=smtp_server.port, timeout=5)

    async def batches() -> list[DeliveryResult]:
        async with mailer.session():
            first = await mailer.send_batch([message("before")])
            # the server restarts: the idle connection is gone
            await asyncio.to_thread(smtp_server.stop)
            await asyncio.to_thread(smtp_server.start)
            return first + await mailer.send_batch([message("after.1"), message("after.2")])

    results = asyncio.run(batches())
    assert [r.status for r in results] == ["sent"] * 3
    ids = [r.message["Message-ID"] for r in smtp_server.handler.received]
    assert ids == [f"<copilote.{k}@copilote.local>" for k in ("before", "after.1", "after.2")]
