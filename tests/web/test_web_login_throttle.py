"""Sign-in attempts are limited per account and per address, and password hashing is capped:
a flood of wrong sign-ins neither guesses a password nor exhausts the server's memory."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from tests.smtp_support import SmtpServer
from tests.web.conftest import AGENCY, PASSWORD, PILOT_A, PILOT_B, Site, csrf_of
from web.throttle import HashingSlots, LoginThrottle, SignInThrottled


def _attempt(client: TestClient, email: str, password: str) -> tuple[int, str | None]:
    page = client.get("/login")
    response = client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    return response.status_code, response.headers.get("retry-after")


def test_an_account_is_refused_after_five_failures_until_the_window_passes(site: Site) -> None:
    client = site.client()
    assert [_attempt(client, AGENCY, "wrong")[0] for _ in range(5)] == [401] * 5
    # Even the right password is refused now, with a clear 429 and when to retry.
    assert _attempt(client, AGENCY, PASSWORD) == (429, "900")
    page = client.get("/login")
    refused = client.post(
        "/login",
        data={"email": AGENCY, "password": PASSWORD, "csrf_token": csrf_of(page.text)},
    )
    assert "Trop de tentatives de connexion" in refused.text
    # Another account from elsewhere is not affected... (a different address)
    other = TestClient(site.app, base_url="http://127.0.0.1:8000", client=("198.51.100.7", 1))
    assert _attempt(other, PILOT_A, PASSWORD)[0] == 303
    site.clock.advance(timedelta(minutes=10))
    assert _attempt(client, AGENCY, PASSWORD) == (429, "300")
    site.clock.advance(timedelta(minutes=5))
    assert _attempt(client, AGENCY, PASSWORD)[0] == 303


def test_an_address_is_refused_after_twenty_failures_on_any_accounts(site: Site) -> None:
    client = site.client()
    emails = [f"guess{i}@ars.example" for i in range(20)]
    assert {_attempt(client, email, "wrong")[0] for email in emails} == {401}
    assert _attempt(client, PILOT_B, PASSWORD) == (429, "900")
    # The account itself is fine from another address.
    other = TestClient(site.app, base_url="http://127.0.0.1:8000", client=("198.51.100.7", 1))
    assert _attempt(other, PILOT_B, PASSWORD)[0] == 303


def test_a_success_clears_the_accounts_failures(site: Site) -> None:
    client = site.client()
    for _ in range(4):
        _attempt(client, AGENCY, "wrong")
    assert _attempt(client, AGENCY, PASSWORD)[0] == 303
    for _ in range(4):
        assert _attempt(site.client(), AGENCY, "wrong")[0] == 401


def test_no_password_is_checked_while_the_hashing_slots_are_taken(site: Site) -> None:
    site.c.accounts.hashing = slots = HashingSlots(slots=2, wait_seconds=0)
    client = site.client()
    with slots.hold(), slots.hold():
        assert _attempt(client, AGENCY, PASSWORD) == (429, "1")
    assert _attempt(client, AGENCY, PASSWORD)[0] == 303


@pytest.fixture
def full_cost_site(sqlite_url: str, smtp_server: SmtpServer) -> Iterator[Site]:
    """The site with the production hasher (64 MiB, 3 passes), so the hashes overlap."""
    s = Site(sqlite_url, smtp_server, hasher=None)
    yield s
    s.c.db.dispose()


def test_concurrent_sign_ins_hash_two_at_a_time(
    full_cost_site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """40 concurrent wrong sign-ins: never more than two argon2 computations at once."""
    site = full_cost_site
    site.c.accounts.hashing = HashingSlots(slots=2, wait_seconds=30)
    site.c.accounts.throttle = LoginThrottle(site.clock.now, per_account=100, per_address=100)
    running, most = 0, 0
    lock = threading.Lock()
    real = site.c.accounts.hasher

    class Counting:
        def _around(self, fn: object, *args: str) -> object:
            nonlocal running, most
            with lock:
                running += 1
                most = max(most, running)
            try:
                return fn(*args)  # type: ignore[operator]
            finally:
                with lock:
                    running -= 1

        def hash(self, password: str) -> object:
            return self._around(real.hash, password)

        def verify(self, stored: str, password: str) -> object:
            return self._around(real.verify, stored, password)

    monkeypatch.setattr(site.c.accounts, "hasher", Counting())
    start = threading.Barrier(40)
    results: list[object] = []

    def attempt(i: int) -> None:
        start.wait()
        results.append(site.c.accounts.authenticate(AGENCY, f"wrong {i}", f"10.0.0.{i}"))

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [None] * 40
    assert 1 <= most <= 2


def test_the_throttle_memory_is_bounded() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 5, 4, 9, tzinfo=UTC)
    throttle = LoginThrottle(lambda: now, per_account=5, per_address=20, max_keys=100)
    for i in range(1000):
        throttle.failed(f"user{i}@ars.example", f"10.0.{i // 250}.{i % 250}")
    assert len(throttle) == 100
    for _ in range(50):
        throttle.failed("same@ars.example", "10.9.9.9")
    assert len(throttle._failures[("account", "same@ars.example")]) == 5
    with pytest.raises(SignInThrottled) as refused:
        throttle.check("same@ars.example")
    assert refused.value.retry_after == 900
