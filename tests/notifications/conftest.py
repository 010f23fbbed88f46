"""Fixtures for notifications: a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from notification_smtp import RecordingHandler, SmtpServer, free_port

# tests/ is on sys.path (pytest's rootdir import mode, because of tests/conftest.py), so
# "import notifications" finds this test folder as a namespace package before the editable
# install's finder is asked. Put the repository first so the real package wins. The lasting
# fix is `pythonpath = ["."]` in [tool.pytest.ini_options].
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)
if getattr(sys.modules.get("notifications"), "__file__", "") is None:
    for _name in [n for n in sys.modules if n.partition(".")[0] == "notifications"]:
        del sys.modules[_name]


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    handler = RecordingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    server = SmtpServer(controller, handler, "127.0.0.1", port)
    try:
        yield server
    finally:
        if controller._thread is not None:  # still running unless the test stopped it
            server.stop()
