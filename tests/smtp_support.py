"""A real SMTP server on loopback (aiosmtpd) that records what it receives.

Shared by the notification tests and the end-to-end reminder tests (``smtp_server`` fixture
in ``tests/conftest.py``). The server can be stopped and started again on the same port
(an outage), refuse recipients, hang on DATA, or block after N accepted messages (to kill a
sender mid-batch).
"""

from __future__ import annotations

import asyncio
import socket
import threading
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class RecordingHandler:
    """Records every envelope; refuses recipients listed in ``refuse`` with 550;
    with ``hang`` set, never answers DATA until ``release`` is set.

    With ``block_after`` set to N: once N messages are recorded, every further DATA is still
    recorded (the message has arrived) but not answered until ``unblock`` is set; ``blocked``
    is set as soon as that happens, and ``unacknowledged`` lists the Message-IDs received but
    not acknowledged (the sender cannot know they arrived: the in-flight messages)."""

    received: list[Received] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    hang: bool = False
    release: asyncio.Event | None = None
    block_after: int | None = None
    blocked: threading.Event = field(default_factory=threading.Event)
    unblock: threading.Event = field(default_factory=threading.Event)
    unacknowledged: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        if address in self.refuse:
            return "550 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.hang:
            self.release = self.release or asyncio.Event()
            await self.release.wait()
            return "451 Released at teardown"
        parsed = message_from_bytes(envelope.content, policy=default)
        assert isinstance(parsed, EmailMessage)
        with self.lock:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), parsed))
            block = (
                self.block_after is not None
                and len(self.received) > self.block_after
                and not self.unblock.is_set()
            )
            if block:
                self.unacknowledged.append(str(parsed["Message-ID"]))
        if block:
            self.blocked.set()
            # Wait in a thread, so the server's loop (and the other connection) keeps running.
            await asyncio.get_running_loop().run_in_executor(None, self.unblock.wait)
        return "250 Message accepted for delivery"

    def message_ids(self) -> list[str]:
        with self.lock:
            return [str(r.message["Message-ID"]) for r in self.received]


@dataclass
class SmtpServer:
    controller: Controller
    handler: RecordingHandler
    host: str
    port: int

    @property
    def running(self) -> bool:
        return self.controller._thread is not None

    def stop(self) -> None:
        release = self.handler.release
        if release is not None:
            self.controller.loop.call_soon_threadsafe(release.set)
        self.handler.unblock.set()
        self.controller.stop()

    def start(self) -> None:
        """Start again on the same port (after :meth:`stop`), with the same handler."""
        self.controller = Controller(self.handler, hostname=self.host, port=self.port)
        self.controller.start()


def start_server(handler: RecordingHandler | None = None) -> SmtpServer:
    handler = handler or RecordingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    return SmtpServer(controller, handler, "127.0.0.1", port)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
