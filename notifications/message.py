"""What one email is made of, and how it becomes a MIME message that is safe to send.

Names and subjects come from people (partner names, project titles), so nothing they contain
may ever become a header of its own: line breaks are replaced in names and subjects, and an
address that is not plainly ``local@domain`` is refused with :class:`InvalidAddress`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.policy import SMTP
from email.utils import format_datetime

__all__ = [
    "Attachment",
    "InvalidAddress",
    "OutgoingMessage",
    "Recipient",
    "build_email",
    "clean_text_line",
]


@dataclass(frozen=True)
class Recipient:
    name: str
    email: str


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str  # e.g. "text/calendar; method=REQUEST; charset=utf-8"
    data: bytes


@dataclass(frozen=True)
class OutgoingMessage:
    """One email, ready to send. ``message_id`` is stable and given by the caller
    (``<copilote.<key>@copilote.local>``) so that a retried send keeps the same id."""

    message_id: str
    sender: Recipient
    to: tuple[Recipient, ...]
    subject: str
    text: str
    html: str
    attachments: tuple[Attachment, ...] = ()


class InvalidAddress(ValueError):
    """An email address that cannot be put in a header as is."""

    def __init__(self, field: str, address: str) -> None:
        super().__init__(
            f"Invalid email address in {field}: {address!r}; expected a plain local@domain "
            "address without line breaks, spaces or angle brackets (check the partner's "
            "contact details)."
        )
        self.field, self.address = field, address


# Characters that some mail software treats as line ends (str.splitlines' set, plus NUL).
_LINE_BREAKS = re.compile(r"[\r\n\x00\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]+")
_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_DOMAIN = re.compile(
    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
)
_MESSAGE_ID = re.compile(r"<[^<>\s@]+@[^<>\s@]+>")


def clean_text_line(value: str) -> str:
    """Return ``value`` on one line: every line break becomes a space, runs of spaces shrink."""
    return " ".join(_LINE_BREAKS.sub(" ", value).split())


def _address(field: str, recipient: Recipient) -> Address:
    email = recipient.email
    local, at, domain = email.rpartition("@")
    if not at or not _LOCAL.fullmatch(local) or not _DOMAIN.fullmatch(domain):
        raise InvalidAddress(field, email)
    return Address(display_name=clean_text_line(recipient.name), username=local, domain=domain)


def _split_content_type(content_type: str) -> tuple[str, str, dict[str, str]]:
    parsed = Message()
    parsed["Content-Type"] = clean_text_line(content_type)
    params = {k: v for k, v in parsed.get_params(failobj=[])[1:] if isinstance(v, str)}
    return parsed.get_content_maintype(), parsed.get_content_subtype(), params


def build_email(msg: OutgoingMessage, *, date: datetime | None = None) -> EmailMessage:
    """Build the MIME message for ``msg``.

    Structure: ``multipart/alternative`` (text, html); with attachments the whole is wrapped in
    ``multipart/mixed``. A ``text/calendar`` attachment is added twice, as Gmail and Outlook
    expect of an invitation: as a third alternative (``text/calendar; method=...``) that they
    show as an invitation, and as an ``application/ics`` file attachment for other clients.

    ``date`` defaults to now; pass it for reproducible output.
    Raises :class:`InvalidAddress` for a bad sender or recipient address and ``ValueError`` for
    a malformed ``message_id``.
    """
    sender = _address("sender", msg.sender)
    if not msg.to:
        raise ValueError(f"Message {msg.message_id!r} has no recipient.")
    to = [_address(f"to[{i}]", r) for i, r in enumerate(msg.to)]
    if not _MESSAGE_ID.fullmatch(msg.message_id):
        raise ValueError(
            f"Invalid message_id {msg.message_id!r}: expected '<key@domain>' without spaces."
        )

    email = EmailMessage(policy=SMTP)
    email["From"] = sender
    email["To"] = to
    email["Subject"] = clean_text_line(msg.subject)
    email["Message-ID"] = msg.message_id
    email["Date"] = format_datetime(date if date is not None else datetime.now(UTC))
    # RFC 3834: tells auto-responders (holiday replies) not to answer.
    email["Auto-Submitted"] = "auto-generated"
    email["X-Auto-Response-Suppress"] = "All"

    email.set_content(msg.text, subtype="plain", charset="utf-8")
    email.add_alternative(msg.html, subtype="html", charset="utf-8")
    for attachment in msg.attachments:
        maintype, subtype, params = _split_content_type(attachment.content_type)
        if (maintype, subtype) == ("text", "calendar"):
            method = params.get("method", "REQUEST").upper()
            email.add_alternative(
                attachment.data.decode("utf-8"),
                subtype="calendar",
                charset="utf-8",
                params={"method": method},
            )
    for attachment in msg.attachments:
        maintype, subtype, params = _split_content_type(attachment.content_type)
        filename = clean_text_line(attachment.filename)
        if (maintype, subtype) == ("text", "calendar"):
            maintype, subtype = "application", "ics"
        email.add_attachment(attachment.data, maintype=maintype, subtype=subtype, filename=filename)
    return email
