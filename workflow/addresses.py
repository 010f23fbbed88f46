"""The one rule for an email address, used wherever one comes in (engine, records, sign-in
accounts, API); notifications only guard the header they write (see notifications.message).

An address is ``local@domain``: the local part a dot-atom (RFC 5322 ``atext`` words joined by
single dots, at most 64 characters), the domain at least two DNS labels (letters, digits,
inner hyphens, at most 63 characters each), the whole at most 254 characters (RFC 5321).
That excludes spaces, line breaks, angle brackets, commas, quotes and a second ``@``: nothing
that could change the structure of a header, and nothing a mail server would refuse outright.
Quoted local parts and address literals (``"a b"@x.fr``, ``a@[127.0.0.1]``) are refused:
no programme partner uses them and they complicate every header written from them.
"""

from __future__ import annotations

import re

from workflow.errors import InvalidInput

__all__ = ["check_email", "is_email"]

_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DOMAIN = re.compile(rf"{_LABEL}(?:\.{_LABEL})+")
_MAX_LOCAL, _MAX_ADDRESS = 64, 254


def is_email(address: str) -> bool:
    """Whether ``address`` (as given, not stripped) follows the rule."""
    local, at, domain = address.rpartition("@")
    return bool(
        at
        and len(address) <= _MAX_ADDRESS
        and len(local) <= _MAX_LOCAL
        and _LOCAL.fullmatch(local)
        and _DOMAIN.fullmatch(domain)
    )


def check_email(field: str, address: str) -> str:
    """``address`` without surrounding spaces, or :class:`InvalidInput` naming ``field``."""
    address = address.strip()
    if not is_email(address):
        raise InvalidInput(field, f"{address!r} is not an email address (expected name@domain.fr)")
    return address
