"""Fixtures for notifications: the real SMTP server on loopback is ``smtp_server`` in
``tests/conftest.py`` (shared with the end-to-end reminder tests)."""

from __future__ import annotations

import sys
from pathlib import Path

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
