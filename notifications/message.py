"""What one email is made of, and how it becomes MIME bytes that are safe to send.

Names and subjects come from people (partner names, project titles), so nothing they contain
may ever become a header of its own: line breaks are replaced in names and subjects, and an
address that could not be written as is in a header is refused with :class:`InvalidAddress`.
Whether an address is a valid one is decided upstream, when it is entered, by the one rule of
``workflow/addresses.py`` (this package may not import ``workflow``); here only what protects
the header is checked: a single ``@`` between two non-empty parts of printable ASCII with no
space, line break, angle bracket, comma, quote or other character that has a meaning in an
address header.

The bytes are written here directly rather than through ``email.message.EmailMessage``:
building and flattening one with the default policy cost ~4.5 ms a message, more than
sending it to a local server (issue 3). The output is plain RFC 5322 / MIME: headers
folded at 78 columns, anything but printable ASCII in a header RFC 2047-encoded (UTF-8,
"Q"), so headers never need SMTPUTF8; a text body as is when it is ASCII (or, for a server
with 8BITMIME, UTF-8 "8bit"), else quoted-printable; every file base64. A boundary
containing ``=_`` cannot occur in any body: a body with ``=_`` is quoted-printable, which
writes ``=`` as ``=3D``, and base64 has no ``_``. :func:`build_email` parses those same bytes back, so tests that
inspect an ``EmailMessage`` inspect exactly what is sent.
"""

from __future__ import annotations

import binascii
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email import message_from_bytes
from email.message import EmailMessage, Message
from email.policy import SMTP
from email.utils import format_datetime
from functools import lru_cache
from urllib.parse import quote

__all__ = [
    "Attachment",
    "InvalidAddress",
    "OutgoingMessage",
    "Recipient",
    "build_email",
    "clean_text_line",
    "email_bytes",
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
    date: datetime
    """When it is sent, as the caller's clock says (the ``Date`` header); timezone-aware."""
    attachments: tuple[Attachment, ...] = ()
    unsubscribe: str | None = None
    """The recipient's preferences page: ``List-Unsubscribe`` with one-click POST (RFC 8058)."""


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
# Whitespace that shrinks to one space: all of it but the no-break spaces.
_PLAIN_SPACES = " \t\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2008\u2009\u200a\u205f\u3000"
_SPACES = re.compile(f"[{_PLAIN_SPACES}]+")
# RFC 5322 atext and dots: what an address part may hold and still be written as is in a header.
_ADDRESS_PART = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+")
_MESSAGE_ID = re.compile(r"<[!-;=?A-~]+@[!-;=?A-~]+>")  # printable ASCII, no <, >, @ inside
_MAX_ADDRESS = 254  # RFC 5321: longer paths are refused by servers anyway
_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+")
_TOKEN = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`{|}~-]+")  # RFC 2045 token
_URL = re.compile(r"https?://[!-;=?-~]+")  # printable ASCII, no spaces, no < or >
_LINE = 78  # RFC 5322 2.1.1: lines SHOULD be at most 78 characters
_WORD = _LINE - 3  # the longest word a folded line can hold (an encoded word may be 75)
_CRLF = "\r\n"
# RFC 2047 5(3): the only characters an encoded word may show as is, in a phrase as well.
_Q_LITERAL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!*+-/")
_Q_PREFIX, _Q_SUFFIX = "=?utf-8?q?", "?="


def clean_text_line(value: str) -> str:
    """Return ``value`` on one line: every line break becomes a space, runs of spaces shrink.

    No-break spaces (French typography: "Copilote\u202f: ...") are kept as they are."""
    return _SPACES.sub(" ", _LINE_BREAKS.sub(" ", value)).strip(_PLAIN_SPACES)


@lru_cache(maxsize=4096)
def _q_char(char: str) -> str:
    if char in _Q_LITERAL:
        return char
    if char == " ":
        return "_"
    return "".join(f"={byte:02X}" for byte in char.encode("utf-8"))


def _encoded_words(text: str, first: int) -> str:
    """``text`` as RFC 2047 encoded words separated by spaces (each a fold point): the first
    at most ``first`` characters long, the others at most 75 (RFC 2047's limit).
    A character is never split across two words."""
    words: list[str] = []
    budget = max(first, 20) - len(_Q_PREFIX) - len(_Q_SUFFIX)
    current: list[str] = []
    used = 0
    for char in text:
        piece = _q_char(char)
        if used + len(piece) > budget and current:
            words.append(_Q_PREFIX + "".join(current) + _Q_SUFFIX)
            current, used = [], 0
            budget = _WORD - len(_Q_PREFIX) - len(_Q_SUFFIX)
        current.append(piece)
        used += len(piece)
    words.append(_Q_PREFIX + "".join(current) + _Q_SUFFIX)
    return " ".join(words)


def _plain_text(word: str) -> bool:
    """A word of unstructured text (a subject) that can be written as is."""
    return word.isascii() and word.isprintable() and "=?" not in word and len(word) <= _WORD


def _plain_atom(word: str) -> bool:
    """A word of a display name that can be written as is (an RFC 5322 atom)."""
    return _ATOM.fullmatch(word) is not None and "=?" not in word and len(word) <= _WORD


def _words(text: str, plain: Callable[[str], bool], first: int) -> str:
    """``text`` (one line) with its plain words as they are and each run of other words as
    RFC 2047 encoded words (the spaces of a run inside them: a reader drops the spaces
    between two encoded words). ``first`` is the room on the first line."""
    out: list[str] = []
    run: list[str] = []
    for word in text.split(" "):
        if plain(word):
            if run:
                out.append(_encoded_words(" ".join(run), first if not out else _WORD))
                run = []
            out.append(word)
        else:
            run.append(word)
    if run:
        out.append(_encoded_words(" ".join(run), first if not out else _WORD))
    return " ".join(out)


def _unstructured(text: str, first: int) -> str:
    """A one-line ``text`` (see :func:`clean_text_line`) as an unstructured header value."""
    return _words(text, _plain_text, first)


def _phrase(name: str, first: int) -> str:
    """A one-line display name as an RFC 5322 phrase: as is, quoted or encoded."""
    words = name.split(" ")
    if all(map(_plain_atom, words)):
        return name
    if all(map(_plain_text, words)):
        return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return _words(name, _plain_atom, first)


def _fold(name: str, value: str) -> str:
    """``name: value`` folded at spaces so that lines stay within 78 characters where the
    words allow it. Every space of a value built here is a legal folding point (between
    words, encoded words, an address and its name, or inside a quoted string)."""
    line = f"{name}: {value}"
    if len(line) <= _LINE:
        return line
    lines: list[str] = []
    current = f"{name}:"
    for word in value.split(" "):
        if word and len(current) + 1 + len(word) > _LINE and current.strip(" ") != f"{name}:":
            lines.append(current)
            current = ""
        current += " " + word
    lines.append(current)
    return _CRLF.join(lines)


def _check_address(field: str, email: str) -> None:
    """Only what keeps the header whole; the address rule itself is workflow/addresses.py."""
    local, at, domain = email.rpartition("@")
    if (
        not at
        or len(email) > _MAX_ADDRESS
        or not _ADDRESS_PART.fullmatch(local)
        or not _ADDRESS_PART.fullmatch(domain)
    ):
        raise InvalidAddress(field, email)


@lru_cache(maxsize=1024)
def _mailbox(field: str, name: str, email: str, first: int) -> str:
    """``Name <local@domain>`` (or the bare address without a name), checked and encoded.
    Cached: the sender, and a partner written to several times, are formatted once."""
    _check_address(field, email)
    display = clean_text_line(name)
    if not display:
        return email
    return f"{_phrase(display, first)} <{email}>"


# The messages of a batch share their date (the delivery's "now"): it is formatted once.
# Keyed by the ISO text, not the instant: equal instants in two offsets are written apart.
_last_date = ("", "")


def _date_header(when: datetime) -> str:
    """The Date header for ``when``, an aware instant written with its own UTC offset."""
    global _last_date
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"The date of a message must be timezone-aware, got {when!r}.")
    iso = when.isoformat()
    if _last_date[0] != iso:
        _last_date = (iso, format_datetime(when))
    return _last_date[1]


def _split_content_type(content_type: str) -> tuple[str, str, dict[str, str]]:
    parsed = Message()
    parsed["Content-Type"] = clean_text_line(content_type)
    params = {k: v for k, v in parsed.get_params(failobj=[])[1:] if isinstance(v, str)}
    return parsed.get_content_maintype(), parsed.get_content_subtype(), params


def _text_part(subtype: str, text: str, params: str = "", *, eight_bit: bool = False) -> bytes:
    """A ``text/*`` part in UTF-8, lines ending in CRLF: as is ("7bit", or "8bit" when allowed
    and not ASCII) unless it has NUL, ``=_`` or a line over 998 bytes; else quoted-printable."""
    lines = text.encode("utf-8").splitlines()  # \n, \r\n and a lone \r all end a line
    body = b"\r\n".join(lines) + b"\r\n"
    as_is = b"\x00" not in body and b"=_" not in body and max(map(len, lines), default=0) <= 998
    if as_is and body.isascii():
        encoding = "7bit"
    elif as_is and eight_bit:
        encoding = "8bit"
    else:
        encoding = "quoted-printable"
        body = binascii.b2a_qp(body, istext=True)
    head = (
        f'Content-Type: text/{subtype}; charset="utf-8"{params}\r\n'
        f"Content-Transfer-Encoding: {encoding}\r\n\r\n"
    )
    return head.encode("ascii") + body


def _file_part(maintype: str, subtype: str, filename: str, data: bytes) -> bytes:
    if filename.isascii() and filename.isprintable() and not set(filename) & set('"\\'):
        disposition = f'attachment; filename="{filename}"'
    else:  # RFC 2231
        disposition = f"attachment; filename*=utf-8''{quote(filename, safe='')}"
    encoded = b"".join(
        binascii.b2a_base64(data[i : i + 57]).rstrip(b"\n") + b"\r\n"
        for i in range(0, len(data), 57)
    )
    head = (
        f"Content-Type: {maintype}/{subtype}\r\n"
        "Content-Transfer-Encoding: base64\r\n"
        f"{_fold('Content-Disposition', disposition)}\r\n\r\n"
    )
    return head.encode("ascii") + encoded


def _multipart(subtype: str, boundary: str, parts: list[bytes]) -> bytes:
    head = f'Content-Type: multipart/{subtype}; boundary="{boundary}"\r\n\r\n'.encode("ascii")
    delimiter = f"--{boundary}\r\n".encode("ascii")
    body = b"".join(delimiter + part + b"\r\n" for part in parts)
    return head + body + f"--{boundary}--\r\n".encode("ascii")


def email_bytes(
    msg: OutgoingMessage, *, date: datetime | None = None, eight_bit: bool = False
) -> bytes:
    """The MIME message for ``msg``, as the bytes to give to SMTP ``DATA`` (CRLF lines).

    Structure: ``multipart/alternative`` (text, html); with attachments the whole is wrapped in
    ``multipart/mixed``. A ``text/calendar`` attachment is added twice, as Gmail and Outlook
    expect of an invitation: as a third alternative (``text/calendar; method=...``) that they
    show as an invitation, and as an ``application/ics`` file attachment for other clients.

    ``date`` overrides ``msg.date`` (the instant the caller's clock gave the message). With ``eight_bit``, text that
    is not ASCII is sent as is ("8bit", for a server that announced 8BITMIME, with
    ``BODY=8BITMIME``) instead of quoted-printable; the headers stay ASCII either way.
    Raises :class:`InvalidAddress` for a bad sender or recipient address and ``ValueError`` for
    a malformed ``message_id`` or attachment content type.
    """
    sender = _mailbox("sender", msg.sender.name, msg.sender.email, _LINE - len("From: "))
    if not msg.to:
        raise ValueError(f"Message {msg.message_id!r} has no recipient.")
    to = [
        _mailbox(f"to[{i}]", r.name, r.email, _LINE - len("To: ") if i == 0 else _WORD)
        for i, r in enumerate(msg.to)
    ]
    if len(msg.message_id) > 250 or not _MESSAGE_ID.fullmatch(msg.message_id):
        raise ValueError(
            f"Invalid message_id {msg.message_id!r}: expected '<key@domain>' in printable "
            "ASCII without spaces."
        )
    subject = _unstructured(clean_text_line(msg.subject), _LINE - len("Subject: "))
    unsubscribe = ""
    if msg.unsubscribe is not None:
        if not _URL.fullmatch(msg.unsubscribe):
            raise ValueError(
                f"Invalid unsubscribe address {msg.unsubscribe!r}: expected an https or http"
                " URL in printable ASCII without spaces or angle brackets."
            )
        # RFC 8058: a POST of "List-Unsubscribe=One-Click" to that URL acts, without a page.
        unsubscribe = (
            f"List-Unsubscribe: <{msg.unsubscribe}>\r\n"
            "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
        )
    sent_at = _date_header(date if date is not None else msg.date)

    alternatives = [
        _text_part("plain", msg.text, eight_bit=eight_bit),
        _text_part("html", msg.html, eight_bit=eight_bit),
    ]
    files: list[bytes] = []
    for attachment in msg.attachments:
        maintype, subtype, params = _split_content_type(attachment.content_type)
        if (maintype, subtype) == ("text", "calendar"):
            method = params.get("method", "REQUEST").upper()
            if not _TOKEN.fullmatch(method):
                raise ValueError(f"Invalid iTIP method {method!r} in {attachment.content_type!r}.")
            ics = attachment.data.decode("utf-8")
            part = _text_part("calendar", ics, f'; method="{method}"', eight_bit=eight_bit)
            alternatives.append(part)
            maintype, subtype = "application", "ics"
        if not (_TOKEN.fullmatch(maintype) and _TOKEN.fullmatch(subtype)):
            raise ValueError(f"Invalid attachment content type {attachment.content_type!r}.")
        files.append(
            _file_part(maintype, subtype, clean_text_line(attachment.filename), attachment.data)
        )
    # Fixed per message (same bytes when a message is retried); "=_" keeps them out of bodies.
    tag = hashlib.blake2b(msg.message_id.encode("ascii"), digest_size=9).hexdigest()
    body = _multipart("alternative", f"=_a{tag}", alternatives)
    if files:
        body = _multipart("mixed", f"=_m{tag}", [body, *files])

    headers = (
        f"{_fold('From', sender)}\r\n"
        f"{_fold('To', ', '.join(to))}\r\n"
        f"{_fold('Subject', subject)}\r\n"
        f"Message-ID: {msg.message_id}\r\n"
        f"Date: {sent_at}\r\n"
        # RFC 3834: tells auto-responders (holiday replies) not to answer.
        "Auto-Submitted: auto-generated\r\n"
        "X-Auto-Response-Suppress: All\r\n"
        f"{unsubscribe}"
        "MIME-Version: 1.0\r\n"
    )
    return headers.encode("ascii") + body


def build_email(msg: OutgoingMessage, *, date: datetime | None = None) -> EmailMessage:
    """The message :func:`email_bytes` writes, parsed back (for inspection and tests).

    Raises what :func:`email_bytes` raises.
    """
    parsed = message_from_bytes(email_bytes(msg, date=date), policy=SMTP)
    if not isinstance(parsed, EmailMessage):  # the SMTP policy's factory makes one
        raise TypeError(f"Expected an EmailMessage, got {type(parsed).__name__}.")
    return parsed
