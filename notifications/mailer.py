"""Delivery: the :class:`Mailer` role and its implementations (SMTP, files, recording)."""

from __future__ import annotations

import asyncio
import os
import re
import ssl
import tempfile
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import aiosmtplib

from .message import OutgoingMessage, email_bytes

__all__ = ["DeliveryResult", "FileMailer", "Mailer", "RecordingMailer", "SmtpMailer"]

Status = Literal["sent", "temporary_failure", "permanent_failure"]
_EIGHT_BIT = ("BODY=8BITMIME",)


@dataclass(frozen=True)
class DeliveryResult:
    message_id: str
    status: Status
    detail: str  # the server's answer, or the exception text
    # False: the message was never handed to the server (the connection was used up by
    # others, or could not be made): it must not count as one of its attempts.
    attempted: bool = True
    # True: the server could not be reached at all (cannot connect, 421 at the greeting):
    # an outage of the server, not a fault of this message.
    outage: bool = False


OnResult = Callable[[int, "DeliveryResult"], None]
"""(index of the message in the batch, its result)."""


class Mailer(Protocol):
    async def send_batch(
        self, messages: Sequence[OutgoingMessage], on_result: OnResult | None = None
    ) -> list[DeliveryResult]:
        """Send ``messages``; return one result per message, in order.

        Never raises for a failure of one message: that is a ``*_failure`` result. A temporary
        failure may be retried later with the same message id; a permanent one should not.
        ``on_result(index, result)``, when given, is called as soon as a message's result is
        known (before the batch ends), so the caller can record a sent message at once: a
        process killed mid-batch then re-sends only the messages in flight, not the batch.

        A mailer may also offer ``session()``, an async context manager within which
        consecutive batches share resources (:meth:`SmtpMailer.session`: the connections).
        """
        ...


class RecordingMailer:
    """Test double: keeps every message in :attr:`sent` and reports it sent."""

    def __init__(self) -> None:
        self.sent: list[OutgoingMessage] = []

    async def send_batch(
        self, messages: Sequence[OutgoingMessage], on_result: OnResult | None = None
    ) -> list[DeliveryResult]:
        results = []
        for index, m in enumerate(messages):
            self.sent.append(m)
            results.append(DeliveryResult(m.message_id, "sent", "recorded"))
            if on_result is not None:
                on_result(index, results[-1])
        return results


def safe_filename(message_id: str) -> str:
    """``<copilote.x/1@copilote.local>`` -> ``copilote.x_1@copilote.local``."""
    name = re.sub(r"[^A-Za-z0-9._@+-]", "_", message_id.strip().strip("<>"))
    return name.lstrip(".") or "message"


class FileMailer:
    """Writes each message to ``<folder>/<message id>.eml``: the embedded default when no SMTP
    server is configured. Writing is atomic (temporary file, then ``os.replace``), so a reader
    never sees half a message and re-sending the same message id overwrites it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def send_batch(
        self, messages: Sequence[OutgoingMessage], on_result: OnResult | None = None
    ) -> list[DeliveryResult]:
        results = await asyncio.to_thread(self._write_all, list(messages))
        if on_result is not None:  # each write is atomic and idempotent: report at the end
            for index, result in enumerate(results):
                on_result(index, result)
        return results

    def _write_all(self, messages: list[OutgoingMessage]) -> list[DeliveryResult]:
        self.folder.mkdir(parents=True, exist_ok=True)
        return [self._write(m) for m in messages]

    def _write(self, message: OutgoingMessage) -> DeliveryResult:
        try:
            data = email_bytes(message)
        except ValueError as exc:
            return DeliveryResult(message.message_id, "permanent_failure", str(exc))
        target = self.folder / f"{safe_filename(message.message_id)}.eml"
        try:
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-", suffix=".eml")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            return DeliveryResult(message.message_id, "temporary_failure", f"{target}: {exc}")
        return DeliveryResult(message.message_id, "sent", str(target))


class _ConnectionLost(Exception):
    """Internal: the SMTP connection can no longer be used."""


class SmtpMailer:
    """Sends over SMTP with aiosmtplib, reusing connections.

    A batch is spread round-robin over up to ``connections`` concurrent connections; each
    connects once, sends its share one message after the other, then quits (within a
    :meth:`session`, stays open for the next batch instead).

    ``timeout`` bounds every operation separately: connecting (TCP, greeting, EHLO, STARTTLS,
    AUTH), sending one message (MAIL, RCPT, DATA), quitting. It is given to aiosmtplib for each
    command and also enforced with ``asyncio.timeout`` around the whole operation, because a
    reused aiosmtplib connection can hang forever on a silent server (aiosmtplib #15, #243).

    If a connection is lost mid-batch (disconnect, timeout, 421), the message being sent is a
    temporary failure (it may or may not have arrived), then the connection is re-opened
    **once** and the share goes on. If that fails too, or the new connection is lost as well,
    the remaining messages of the share are temporary failures without being tried
    (``attempted=False``: they keep their attempts). A refused connection is not retried; its
    messages are ``outage`` results (the server is down, not the messages at fault). Nothing
    is reported "sent" unless the server accepted it.

    Classification: 4xx answers, timeouts, refused or reset connections are temporary; 5xx
    answers and addresses refused by :func:`email_bytes` are permanent. A message accepted for
    some recipients and refused for others is "sent" (retrying would duplicate it), with the
    refusals in ``detail``.
    """

    def __init__(
        self,
        *,
        host: str,
        port: int,
        username: str | None = None,
        password: str | None = None,
        security: Literal["none", "starttls", "tls"] = "none",
        timeout: float = 10.0,
        connections: int = 1,
        sender_hostname: str | None = None,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        if security not in ("none", "starttls", "tls"):
            raise ValueError(
                f"Unknown SMTP security {security!r}; expected 'none', 'starttls' or 'tls'."
            )
        if connections < 1:
            raise ValueError(f"connections must be at least 1, got {connections}.")
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, got {timeout}.")
        self.host, self.port = host, port
        self.username, self.password = username, password
        self.security = security
        self.timeout = timeout
        self.connections = connections
        self.sender_hostname = sender_hostname
        # Built once: creating a context per connection costs ~40 ms (23 msg/s instead of 540).
        self.tls_context = (
            tls_context
            if tls_context is not None or security == "none"
            else ssl.create_default_context()
        )
        # The connections left open between batches, per event loop in a session().
        self._idle: dict[asyncio.AbstractEventLoop, list[aiosmtplib.SMTP]] = {}

    @asynccontextmanager
    async def session(self) -> AsyncIterator[None]:
        """Keep the connections open from one :meth:`send_batch` to the next until the block
        ends (``Delivery.run_until_idle``): one connection per slot instead of one per slot
        and batch; connecting cost about as much as sending five messages (EHLO, QUIT, the
        address lookup). A connection is checked (NOOP) before it is used again, so one the
        server dropped meanwhile is replaced without failing a message."""
        loop = asyncio.get_running_loop()
        if loop in self._idle:  # nested: the outer session keeps them
            yield
            return
        idle: list[aiosmtplib.SMTP] = []
        self._idle[loop] = idle
        try:
            yield
        finally:
            del self._idle[loop]
            await asyncio.gather(*(self._quit(client) for client in idle))

    async def send_batch(
        self, messages: Sequence[OutgoingMessage], on_result: OnResult | None = None
    ) -> list[DeliveryResult]:
        results: list[DeliveryResult | None] = [None] * len(messages)
        ready: list[tuple[int, OutgoingMessage, bytes]] = []
        for index, message in enumerate(messages):
            try:
                # 8-bit bodies: nearly every server announces 8BITMIME (_send_share checks)
                ready.append((index, message, email_bytes(message, eight_bit=True)))
            except ValueError as exc:
                results[index] = DeliveryResult(message.message_id, "permanent_failure", str(exc))
        if ready:
            count = min(self.connections, len(ready))
            shares = [ready[i::count] for i in range(count)]
            await asyncio.gather(*(self._send_share(share, results, on_result) for share in shares))
        final: list[DeliveryResult] = []
        for message, result in zip(messages, results, strict=True):
            # A share that died unexpectedly leaves holes; never report those as sent.
            final.append(
                result
                or DeliveryResult(
                    message.message_id, "temporary_failure", "not attempted", attempted=False
                )
            )
        return final

    def _client(self) -> aiosmtplib.SMTP:
        return aiosmtplib.SMTP(
            hostname=self.host,
            port=self.port,
            username=self.username,
            password=self.password,
            local_hostname=self.sender_hostname,
            timeout=self.timeout,
            use_tls=self.security == "tls",
            start_tls=self.security == "starttls",
            tls_context=self.tls_context,
        )

    async def _connect(self) -> aiosmtplib.SMTP:
        client = self._client()
        try:
            await asyncio.wait_for(self._greet(client), self.timeout)
        except BaseException:
            client.close()
            raise
        return client

    @staticmethod
    async def _greet(client: aiosmtplib.SMTP) -> None:
        await client.connect()
        if client.is_ehlo_or_helo_needed:  # the extensions (8BITMIME) are needed before MAIL
            try:
                await client.ehlo()
            except aiosmtplib.SMTPHeloError:
                await client.helo()

    async def _reuse(self, idle: list[aiosmtplib.SMTP]) -> aiosmtplib.SMTP | None:
        """An idle connection of the session that still answers, or None."""
        while idle:
            client = idle.pop()
            try:
                await asyncio.wait_for(client.noop(), self.timeout)
            except (aiosmtplib.SMTPException, OSError):  # dropped while idle: nothing was sent
                client.close()
            else:
                return client
        return None

    async def _quit(self, client: aiosmtplib.SMTP) -> None:
        try:
            await asyncio.wait_for(client.quit(), self.timeout)
        except (aiosmtplib.SMTPException, OSError):
            pass  # every message already has its result; the server may hang up first
        finally:
            client.close()

    def _where(self) -> str:
        return f"SMTP server {self.host}:{self.port}"

    async def _send_share(
        self,
        share: list[tuple[int, OutgoingMessage, bytes]],
        results: list[DeliveryResult | None],
        on_result: OnResult | None = None,
    ) -> None:
        idle = self._idle.get(asyncio.get_running_loop())  # None outside a session()
        client = await self._reuse(idle) if idle else None
        eight_bit = client is not None and client.supports_extension("8bitmime")
        connects_left = 1 if client is not None else 2  # the first one and one reconnection
        lost = ""
        finished = False
        try:
            for position, (index, message, data) in enumerate(share):
                if client is None:
                    if connects_left == 0:
                        reason = f"not attempted: the connection to {self._where()} was lost"
                        self._defer_rest(share[position:], results, f"{reason} ({lost})")
                        return
                    try:
                        client = await self._connect()
                    except (aiosmtplib.SMTPException, OSError) as exc:
                        detail = self._exception_detail("cannot connect to", exc)
                        self._defer_rest(share[position:], results, detail, outage=True)
                        return
                    finally:
                        connects_left -= 1
                    eight_bit = client.supports_extension("8bitmime")
                if data.isascii():
                    options = None
                elif eight_bit:
                    options = _EIGHT_BIT
                else:  # a server without 8BITMIME: quoted-printable instead (RFC 6152)
                    options, data = None, email_bytes(message)
                try:
                    results[index] = result = await self._send_one(client, message, data, options)
                    if on_result is not None and result.status == "sent":
                        on_result(index, result)  # accepted: recorded before the next one
                except _ConnectionLost as exc:
                    lost = str(exc)
                    results[index] = DeliveryResult(message.message_id, "temporary_failure", lost)
                    client.close()
                    client = None
                else:
                    if not client.is_connected:  # closed with that answer (421 to a RCPT)
                        lost = result.detail
                        client.close()
                        client = None
            finished = True
        finally:
            if client is not None:
                if (
                    finished
                    and idle is not None
                    and self._idle.get(asyncio.get_running_loop()) is idle
                ):
                    idle.append(client)  # for the next batch of the session
                else:
                    await self._quit(client)

    def _defer_rest(
        self,
        rest: list[tuple[int, OutgoingMessage, bytes]],
        results: list[DeliveryResult | None],
        detail: str,
        *,
        outage: bool = False,
    ) -> None:
        """The rest of a share, never handed to the server: deferred, not failed."""
        for index, message, _ in rest:
            results[index] = DeliveryResult(
                message.message_id, "temporary_failure", detail, attempted=False, outage=outage
            )

    def _exception_detail(self, doing: str, exc: BaseException) -> str:
        if isinstance(exc, TimeoutError):
            return f"{doing} {self._where()}: no answer within {self.timeout} s ({exc!r})"
        return f"{doing} {self._where()}: {exc}"

    async def _send_one(
        self,
        client: aiosmtplib.SMTP,
        message: OutgoingMessage,
        data: bytes,
        options: tuple[str, ...] | None,
    ) -> DeliveryResult:
        mid = message.message_id
        try:
            # The bytes as built (headers ASCII, addresses ASCII: SMTPUTF8 is never needed):
            # sendmail, not send_message, which would flatten an EmailMessage again (1.8 ms).
            async with asyncio.timeout(self.timeout):
                errors, response = await client.sendmail(
                    message.sender.email, [r.email for r in message.to], data, mail_options=options
                )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            detail = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)
            status: Status = "permanent_failure" if min(codes) >= 500 else "temporary_failure"
            return DeliveryResult(mid, status, detail)
        except aiosmtplib.SMTPResponseException as exc:
            detail = f"{exc.code} {exc.message}"
            if exc.code == 421:  # the server is closing this connection
                raise _ConnectionLost(detail) from exc
            status = "permanent_failure" if exc.code >= 500 else "temporary_failure"
            return DeliveryResult(mid, status, detail)
        except (aiosmtplib.SMTPServerDisconnected, TimeoutError, OSError) as exc:
            raise _ConnectionLost(self._exception_detail("while sending to", exc)) from exc
        except aiosmtplib.SMTPException as exc:
            return DeliveryResult(mid, "temporary_failure", str(exc))
        if errors:
            refused = "; ".join(f"{addr}: {r.code} {r.message}" for addr, r in errors.items())
            return DeliveryResult(mid, "sent", f"{response}; refused: {refused}")
        return DeliveryResult(mid, "sent", response)
