"""Sign-in throttling: failed attempts per account and per address, and a cap on how many
passwords are hashed at once.

Each argon2 check allocates 64 MiB: without a cap, 40 concurrent wrong sign-ins took the
server from 147 to 960 MB. :class:`HashingSlots` lets ``slots`` checks run at once and
refuses the others after a short wait; :class:`LoginThrottle` refuses an account after
``per_account`` failures within ``window`` and an address after ``per_address``, until the
oldest of those failures leaves the window. Both keep bounded memory: at most ``max_keys``
accounts and addresses (the least recently failed are forgotten first), each holding at most
its limit of instants. Time comes from the injected clock.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

__all__ = ["HashingSlots", "LoginThrottle", "SignInThrottled"]


class SignInThrottled(PermissionError):
    """A sign-in refused before its password is checked; retry after ``retry_after`` s."""

    def __init__(self, retry_after: int, *, busy: bool = False) -> None:
        self.retry_after, self.busy = retry_after, busy
        reason = (
            "the server is busy checking other sign-ins"
            if busy
            else "too many failed sign-ins for this account or from this address"
        )
        super().__init__(f"Sign-in refused: {reason}; try again in {retry_after} s.")


class LoginThrottle:
    def __init__(
        self,
        now: Callable[[], datetime],
        *,
        per_account: int = 5,
        per_address: int = 20,
        window: timedelta = timedelta(minutes=15),
        max_keys: int = 10_000,
    ) -> None:
        self._now, self.window, self.max_keys = now, window, max_keys
        self._limits = {"account": per_account, "address": per_address}
        self._failures: OrderedDict[tuple[str, str], deque[datetime]] = OrderedDict()
        self._lock = threading.Lock()

    def _keys(self, email: str, address: str) -> list[tuple[str, str]]:
        keys = [("account", email.strip().lower())]
        return [*keys, ("address", address)] if address else keys

    def check(self, email: str, address: str = "") -> None:
        """Raise :class:`SignInThrottled` when the account or the address is at its limit."""
        now = self._now()
        wait = 0.0
        with self._lock:
            for key in self._keys(email, address):
                times = self._recent(key, now)
                if len(times) >= self._limits[key[0]]:
                    wait = max(wait, (times[0] + self.window - now).total_seconds())
        if wait > 0:
            raise SignInThrottled(max(1, math.ceil(wait)))

    def failed(self, email: str, address: str = "") -> None:
        now = self._now()
        with self._lock:
            for key in self._keys(email, address):
                times = self._recent(key, now)
                if not times:
                    times = self._failures[key] = deque(maxlen=self._limits[key[0]])
                times.append(now)
                self._failures.move_to_end(key)
            while len(self._failures) > self.max_keys:
                self._failures.popitem(last=False)

    def succeeded(self, email: str) -> None:
        """A right password clears the account's failures (not the address's)."""
        with self._lock:
            self._failures.pop(("account", email.strip().lower()), None)

    def __len__(self) -> int:
        return len(self._failures)

    def _recent(self, key: tuple[str, str], now: datetime) -> deque[datetime]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[key]
        return times


class HashingSlots:
    """At most ``slots`` password hashes at once; a caller waits ``wait_seconds`` at most."""

    def __init__(self, slots: int = 2, wait_seconds: float = 5.0) -> None:
        self._slots = threading.BoundedSemaphore(slots)
        self.wait_seconds = wait_seconds

    @contextmanager
    def hold(self) -> Iterator[None]:
        if not self._slots.acquire(timeout=self.wait_seconds):
            raise SignInThrottled(1, busy=True)
        try:
            yield
        finally:
            self._slots.release()
