"""The MIME bytes written by hand (``email_bytes``): what every reader must get back from them.

Each message is parsed back with the standard library (policy ``default``, as the test SMTP
server and most Python tooling do) and, for display names, also with a plain RFC 2047
decoder: the standard library's address parser keeps the space between two adjacent
encoded words, which RFC 2047 (and mail clients) drop.
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from email import message_from_bytes
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.policy import default
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest

from notifications import (
    OutgoingMessage,
    Recipient,
    SmtpMailer,
    build_email,
    build_ics,
    ics_attachment,
)
from notifications.message import Attachment, clean_text_line, email_bytes
from tests.smtp_support import RecordingHandler, SmtpServer, start_server

PARIS = ZoneInfo("Europe/Paris")
DATE = datetime(2026, 3, 2, 9, 0, tzinfo=PARIS)
SENDER = Recipient("Copilote — ARS Hauts-de-France", "copilote@ars.example.org")
HEADERS = [
    "From",
    "To",
    "Subject",
    "Message-ID",
    "Date",
    "Auto-Submitted",
    "X-Auto-Response-Suppress",
    "MIME-Version",
    "Content-Type",
]
NAMES = [
    "Jeanne Dupont",
    "Zoé Lefèvre",
    "Jean-Éric de La Tour d'Auvergne",
    "Ça va (bien)",
    "J. Dupont",
    'Dupont, "Jeanne"',
    "Association Prévention Santé Lens-Liévin — Maison de santé pluriprofessionnelle",
    "x =?utf-8?q?pas_un_mot_encod=C3=A9?= y",
    "Œuvre 😀 émoji",
    "",
]
SUBJECTS = [
    "Copilote : échéance « Diagnostic » le lundi 2 mars 2026",
    "Copilote : invitation – COPIL 2, lundi 2 mars 2026 à 9 h (Mairie de Lens, salle du "
    "conseil municipal, 2e étage, accès par la rue de la Gare)",
    "Rappel",
    "Plain ASCII subject that is rather long, long enough to be folded over two lines at "
    "least by any correct writer",
    "=?utf-8?q?Not_an_encoded_word?=",
    "a" * 120,
]


def message(
    key: str,
    *,
    name: str = "Jeanne Dupont",
    subject: str = "Rappel",
    text: str = "Bonjour,\nvotre bilan est attendu.",
    html: str = "<p>Bonjour,<br>votre bilan est attendu.</p>",
    attachments: tuple[Attachment, ...] = (),
) -> OutgoingMessage:
    return OutgoingMessage(
        message_id=f"<copilote.{key}@copilote.local>",
        sender=SENDER,
        to=(Recipient(name, f"{key}@asso.example.org"),),
        subject=subject,
        text=text,
        html=html,
        date=DATE,
        attachments=attachments,
    )


def parse(data: bytes) -> EmailMessage:
    parsed = message_from_bytes(data, policy=default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def raw_header(data: bytes, name: str) -> str:
    """The unfolded value of header ``name`` as written."""
    head = data.split(b"\r\n\r\n", 1)[0].decode("ascii").replace("\r\n ", " ")
    (line,) = [h for h in head.split("\r\n") if h.startswith(f"{name}: ")]
    return line.removeprefix(f"{name}: ")


def invitation(method: str = "REQUEST") -> bytes:
    return build_ics(
        uid="meeting-42@copilote.local",
        sequence=2,
        method="CANCEL" if method == "CANCEL" else "REQUEST",
        summary="COPIL 2 — Coopérative d'acteurs du Lensois",
        description="Comité de pilotage (Coopérative d'acteurs en santé)",
        location="Mairie de Lens, salle du conseil",
        starts_at=datetime(2026, 3, 30, 9, 0, tzinfo=PARIS),
        ends_at=datetime(2026, 3, 30, 11, 0, tzinfo=PARIS),
        organizer=Recipient("Claire Martin", "claire.martin@ars.example.org"),
        attendees=[Recipient("Zoé Lefèvre", "zoe@asso.example.org")],
        stamp=datetime(2026, 3, 1, 8, 0, tzinfo=UTC),
    )


def test_seven_bit_crlf_lines_within_limits() -> None:
    for i, (name, subject) in enumerate(zip(NAMES, SUBJECTS * 2, strict=False)):
        text = "Échéance : lundi\n" + "é" * 400 + "\n. seul\nFrom here\ttab \n"
        data = email_bytes(message(f"m{i}", name=name, subject=subject, text=text), date=DATE)
        assert data.isascii()  # no 8BITMIME or SMTPUTF8 needed from the server
        assert b"\r" not in data.replace(b"\r\n", b"") and b"\n" not in data.replace(b"\r\n", b"")
        head, _, body = data.partition(b"\r\n\r\n")
        assert all(len(line) <= 78 for line in head.split(b"\r\n")), head.decode()
        assert all(len(line) <= 998 for line in body.split(b"\r\n"))
        parsed = parse(data)
        assert list(parsed.keys()) == HEADERS
        assert not parsed.defects and not any(part.defects for part in parsed.walk())
        plain = parsed.get_body(("plain",))
        assert plain is not None
        assert plain.get_content().replace("\r\n", "\n") == text


def test_encoded_words_stay_within_75_characters() -> None:
    """RFC 2047 2: an encoded word is at most 75 characters, whichever header holds it."""
    long_name = "Zoé-Éléonore-Françoise-Hélène-Bérénice-Adélaïde-Léonie Val-de-Lys-Artois — Pôle"
    msg = OutgoingMessage(
        message_id="<copilote.many@copilote.local>",
        sender=Recipient(long_name, "copilote@ars.example.org"),
        to=tuple(Recipient("é" + "a" * 90 + f" {i}", f"p{i}@asso.example.org") for i in range(3)),
        subject=long_name * 3,
        text="x",
        html="x",
        date=DATE,
    )
    data = email_bytes(msg, date=DATE)
    head = data.split(b"\r\n\r\n", 1)[0].decode("ascii")
    words = re.findall(r"=\?utf-8\?q\?[^?]*\?=", head)
    assert len(words) > 10 and max(map(len, words)) <= 75
    parsed = parse(data)
    assert [a.addr_spec for a in parsed["To"].addresses] == [
        f"p{i}@asso.example.org" for i in range(3)
    ]
    assert parsed["Subject"] == long_name * 3


@pytest.mark.parametrize("subject", SUBJECTS)
def test_subjects_come_back_exactly(subject: str) -> None:
    data = email_bytes(message("s", subject=subject), date=DATE)
    assert parse(data)["Subject"] == subject
    if subject.isascii() and "=?" not in subject and len(subject) < 70:
        assert raw_header(data, "Subject") == subject  # plain ASCII stays readable


def test_french_subject_is_rfc2047_utf8() -> None:
    data = email_bytes(message("fr", subject=SUBJECTS[0]), date=DATE)
    raw = raw_header(data, "Subject")
    assert raw.startswith("Copilote : =?utf-8?q?")
    assert "=C3=A9ch=C3=A9ance" in raw and "=C2=AB" in raw  # é, «
    assert str(make_header(decode_header(raw))) == SUBJECTS[0]


@pytest.mark.parametrize("name", NAMES)
def test_display_names_come_back_exactly(name: str) -> None:
    data = email_bytes(message("n", name=name), date=DATE)
    (to,) = parse(data)["To"].addresses
    assert to.addr_spec == "n@asso.example.org"
    raw = raw_header(data, "To").removesuffix(" <n@asso.example.org>")
    if name.isascii() or not raw.startswith("=?"):
        assert to.display_name == name
    else:  # RFC 2047 reading (see the module docstring)
        assert str(make_header(decode_header(raw))) == name or to.display_name == name
    sender = parse(data)["From"].addresses[0]
    assert sender.display_name == SENDER.name and sender.addr_spec == SENDER.email


def test_long_french_name_reads_back_with_the_stdlib_parser_too() -> None:
    name = "Jérôme Dupont-Éléonore de la Fontaine-Saint-Ménéhould"
    (to,) = parse(email_bytes(message("long", name=name), date=DATE))["To"].addresses
    assert to.display_name == name


def test_line_breaks_never_make_headers() -> None:
    evil = "Hello\r\nBcc: evil@x.org\nX-Evil: 1\u2028Reply-To: evil@x.org\x00"
    msg = OutgoingMessage(
        message_id="<copilote.evil@copilote.local>",
        sender=Recipient("Copilote\r\nBcc: evil@x.org", "copilote@ars.example.org"),
        to=(Recipient(evil, "jeanne@asso.example.org"),),
        subject=evil,
        text="x",
        html="x",
        date=DATE,
        attachments=(
            Attachment("a.ics\r\nBcc: evil@x.org", "text/calendar; method=REQUEST", invitation()),
        ),
    )
    data = email_bytes(msg, date=DATE)
    parsed = parse(data)
    assert list(parsed.keys()) == HEADERS
    assert parsed["Subject"] == clean_text_line(evil)
    names = [name.lower() for part in parsed.walk() for name in part]
    assert not {"bcc", "x-evil", "reply-to"} & set(names)


@pytest.mark.parametrize(
    "field, value",
    [
        ("message_id", "<copilote.é@copilote.local>"),
        ("message_id", "<a b@copilote.local>"),
        ("message_id", "copilote@copilote.local"),
        ("message_id", "<a@b@copilote.local>"),
        ("message_id", "<a@b>\r\nBcc: evil@x.org"),
        ("content_type", "application/pdf@"),
        ("content_type", "application/pdf\r\nBcc: evil@x.org"),
        ("content_type", "application/"),
    ],
)
def test_malformed_ids_and_content_types_are_refused(field: str, value: str) -> None:
    msg = message("bad")
    if field == "message_id":
        msg = OutgoingMessage(**{**msg.__dict__, "message_id": value})
    else:
        msg = OutgoingMessage(**{**msg.__dict__, "attachments": (Attachment("f", value, b"x"),)})
    with pytest.raises(ValueError):
        email_bytes(msg, date=DATE)


def test_body_cannot_forge_a_mime_part() -> None:
    """The boundaries are derived from the Message-ID, so known in advance: a body that
    contains one (a comment typed by a pilot, say) is quoted-printable, where ``=_`` cannot
    appear, and the structure stays the same."""
    probe = parse(email_bytes(message("forge"), date=DATE))
    boundary = probe.get_boundary()
    assert boundary is not None and "=_" in boundary
    text = f"Avant\n--{boundary}\nContent-Type: text/html\n\n<b>faux</b>\n--{boundary}--\nAprès"
    parsed = parse(email_bytes(message("forge", text=text), date=DATE))
    assert [p.get_content_type() for p in parsed.walk()] == [
        "multipart/alternative",
        "text/plain",
        "text/html",
    ]
    plain = parsed.get_body(("plain",))
    assert plain is not None and plain.get_content().replace("\r\n", "\n") == text + "\n"
    assert plain["Content-Transfer-Encoding"] == "quoted-printable"


def test_ascii_bodies_stay_readable_and_french_ones_are_quoted_printable() -> None:
    data = email_bytes(message("cte", text="Hello\nworld", html="<p>Réunion</p>"), date=DATE)
    parts = {p.get_content_type(): p for p in parse(data).walk()}
    assert parts["text/plain"]["Content-Transfer-Encoding"] == "7bit"
    assert b"\r\n\r\nHello\r\nworld\r\n" in data
    assert parts["text/html"]["Content-Transfer-Encoding"] == "quoted-printable"
    assert parts["text/html"].get_content() == "<p>Réunion</p>\r\n"


@pytest.mark.parametrize("method", ["REQUEST", "CANCEL"])
def test_invitation_is_an_alternative_and_a_file_both_parsable(method: str) -> None:
    ics = invitation(method)
    msg = message("ics", attachments=(ics_attachment(ics, method),))
    parsed = parse(email_bytes(msg, date=DATE))
    assert [p.get_content_type() for p in parsed.walk()] == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "text/html",
        "text/calendar",
        "application/ics",
    ]
    parts = {p.get_content_type(): p for p in parsed.walk()}
    calendar_part, file_part = parts["text/calendar"], parts["application/ics"]
    assert calendar_part.get_param("method") == method
    assert calendar_part.get_content_charset() == "utf-8"
    assert file_part.get_filename() == ("cancel.ics" if method == "CANCEL" else "invite.ics")
    assert file_part.get_content_disposition() == "attachment"
    assert file_part.get_content() == ics  # base64, byte for byte
    for data in (calendar_part.get_content().encode("utf-8"), file_part.get_content()):
        cal = icalendar.Calendar.from_ical(data)
        assert str(cal["METHOD"]) == method
        (event,) = cal.walk("VEVENT")
        assert str(event["SUMMARY"]) == "COPIL 2 — Coopérative d'acteurs du Lensois"
        assert event["ATTENDEE"].params["CN"] == "Zoé Lefèvre"
        assert event.decoded("DTSTART") == datetime(2026, 3, 30, 9, 0, tzinfo=PARIS)


def test_non_ascii_file_name_is_rfc2231() -> None:
    msg = message("pdf", attachments=(Attachment("Bilan été.pdf", "application/pdf", b"%PDF"),))
    data = email_bytes(msg, date=DATE)
    assert b"filename*=utf-8''Bilan%20%C3%A9t%C3%A9.pdf" in data
    parts = {p.get_content_type(): p for p in parse(data).walk()}
    assert parts["application/pdf"].get_filename() == "Bilan été.pdf"
    assert parts["application/pdf"].get_content() == b"%PDF"


def test_same_message_same_bytes_and_build_email_parses_them() -> None:
    msg = message("stable", name="Zoé", attachments=(ics_attachment(invitation(), "REQUEST"),))
    data = email_bytes(msg, date=DATE)
    assert email_bytes(msg, date=DATE) == data  # a retried message is the same message
    built = build_email(msg, date=DATE)
    assert built.as_bytes() == data
    assert built["Date"] == "Mon, 02 Mar 2026 09:00:00 +0100"
    assert built["Message-ID"] == "<copilote.stable@copilote.local>"


def test_french_message_over_smtp_arrives_intact(smtp_server: SmtpServer) -> None:
    name, subject = "Zoé Lefèvre", SUBJECTS[1]
    msg = message(
        "smtp",
        name=name,
        subject=subject,
        text="Bonjour Zoé,\n\n. une ligne qui commence par un point\nÀ bientôt",
        attachments=(ics_attachment(invitation(), "REQUEST"),),
    )
    mailer = SmtpMailer(host=smtp_server.host, port=smtp_server.port, timeout=5)
    (result,) = asyncio.run(mailer.send_batch([msg]))
    assert result.status == "sent", result
    (received,) = smtp_server.handler.received
    assert received.rcpt_tos == ["smtp@asso.example.org"]
    assert received.mail_from == SENDER.email
    got = received.message
    assert got["Subject"] == subject
    assert got["To"].addresses[0].display_name == name
    plain = got.get_body(("plain",))
    assert plain is not None
    assert plain.get_content().replace("\r\n", "\n") == msg.text + "\n"  # dot-stuffing undone
    calendar_part = next(p for p in got.walk() if p.get_content_type() == "text/calendar")
    cal = icalendar.Calendar.from_ical(calendar_part.get_content())
    assert str(cal["METHOD"]) == "REQUEST"


def test_eight_bit_bodies_keep_ascii_headers() -> None:
    text = "Bonjour Zoé,\nla réunion est déplacée."
    msg = message("eight", name="Zoé", subject=SUBJECTS[0], text=text)
    data = email_bytes(msg, date=DATE, eight_bit=True)
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.isascii() and not body.isascii()
    assert "Bonjour Zoé,\r\nla réunion est déplacée.\r\n".encode() in data
    parsed = parse(data)
    assert parsed["Subject"] == SUBJECTS[0]
    plain = parsed.get_body(("plain",))
    assert plain is not None and plain["Content-Transfer-Encoding"] == "8bit"
    assert plain.get_content().replace("\r\n", "\n") == text + "\n"
    # still quoted-printable where 8bit is not allowed: "=_", NUL, a line over 998 bytes
    for awkward in ("é =_ é", "é\x00", "é" * 500):
        data = email_bytes(message("q", text=awkward), date=DATE, eight_bit=True)
        plain = parse(data).get_body(("plain",))
        assert plain is not None and plain["Content-Transfer-Encoding"] == "quoted-printable"
        assert plain.get_content().replace("\r\n", "\n") == awkward + "\n"


class OptionsHandler(RecordingHandler):
    """Records the MAIL ``BODY=`` option; with ``eight_bit`` False, does not announce 8BITMIME."""

    def __init__(self, eight_bit: bool) -> None:
        super().__init__()
        self.eight_bit = eight_bit
        self.mail_options: list[list[str]] = []

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        return [r for r in responses if self.eight_bit or r != "250-8BITMIME"]

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.mail_options.append([o for o in envelope.mail_options if o.startswith("BODY=")])
        return await super().handle_DATA(server, session, envelope)


@pytest.mark.parametrize("eight_bit", [True, False])
def test_body_encoding_follows_what_the_server_announces(eight_bit: bool) -> None:
    handler = OptionsHandler(eight_bit)
    server = start_server(handler)
    try:
        text = "Bonjour Zoé,\n. la réunion est déplacée."
        messages = [
            message("fr", name="Zoé", text=text),
            message("ascii", text="Hello", html="<p>Hello</p>"),
        ]
        mailer = SmtpMailer(host=server.host, port=server.port, timeout=5)
        results = asyncio.run(mailer.send_batch(messages))
    finally:
        server.stop()
    assert [r.status for r in results] == ["sent", "sent"]
    french, ascii_only = handler.received
    plain = french.message.get_body(("plain",))
    assert plain is not None
    assert plain.get_content().replace("\r\n", "\n") == text + "\n"
    expected = "8bit" if eight_bit else "quoted-printable"
    assert plain["Content-Transfer-Encoding"] == expected
    assert handler.mail_options == [["BODY=8BITMIME"] if eight_bit else [], []]
    ascii_body = ascii_only.message.get_body(("plain",))
    assert ascii_body is not None and ascii_body["Content-Transfer-Encoding"] == "7bit"
