"""Issue 10, finding 20: the mail one pilot can cause is bounded (the notice budget).

A pilot suspending and resuming a project in a loop, through the API, reaches the real SMTP
server as at most ``notices_per_window`` messages per person within the window (3 within 24
hours by default, per kind of notice: the definition's ``reminders``), then one message per
person at the end of the window that gathers every notice held back. Nothing is dropped: each held-back notice is
an outbox row ``merged`` (the project's outbox in the API and on its page), counted in
``/metrics``, and its content is in the gathering message.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.smtp_support import Received, SmtpServer
from tests.web.conftest import PILOT_A, Site
from workflow.engine import PartnerIn

CYCLES = 20
# the steering roles: the pilot (copil), a COPIL member and the agency
PEOPLE = frozenset({PILOT_A, "copil@asso.example", "dd75@ars.example"})
PER_WINDOW = 3  # ReminderPolicy.notices_per_window's default (per kind)
WINDOW = timedelta(hours=24)  # ReminderPolicy.notice_window_hours's default


def budgeted(s: Site) -> Site:
    """Project A with the steering roles filled (three people), in a fresh window."""
    a = s.project_a
    s.c.records.add_partner(a, PartnerIn("ARS DD75", "dd75@ars.example", "", ("agency",)))
    s.c.records.add_partner(
        a, PartnerIn("Asso Santé", "copil@asso.example", "Camille", ("partner", "copil"))
    )
    s.c.tick()
    # A new window: the partner notices above no longer count.
    s.clock.advance(WINDOW + timedelta(hours=1))
    s.server.handler.received.clear()
    return s


@pytest.fixture
def any_site(db_url: str, smtp_server: SmtpServer) -> Iterator[Site]:
    s = Site(db_url, smtp_server)
    yield budgeted(s)
    s.c.db.dispose()


@pytest.fixture
def one_site(site: Site) -> Site:
    return budgeted(site)


def received(site: Site) -> list[Received]:
    return site.server.handler.received


def received_by(site: Site) -> dict[str, int]:
    counts: dict[str, int] = {}
    for r in received(site):
        for address in r.rcpt_tos:
            counts[address] = counts.get(address, 0) + 1
    return counts


def test_a_suspend_resume_loop_sends_a_bounded_stated_number_of_messages(
    any_site: Site,
) -> None:
    """20 cycles: 40 notices to each of 3 people without a budget (120 messages); with it,
    3 suspensions and 3 resumptions each at once, then one message each gathering the 34
    others a day later: 7 messages a person, 21 in all."""
    site, a = any_site, any_site.project_a
    api = site.client(PILOT_A)
    for n in range(CYCLES):
        for trigger, comment in (("suspend", f"attente n° {n}"), ("resume", None)):
            answer = api.post(
                f"/api/projects/{a}/advance", json={"trigger": trigger, "comment": comment}
            )
            assert answer.status_code == 200, answer.text
            site.clock.advance(timedelta(minutes=1))
        site.c.tick()
    # Within the window: the first three notices of each kind to each person, nothing more.
    assert received_by(site) == dict.fromkeys(PEOPLE, 2 * PER_WINDOW)
    subjects = Counter(str(r.message["Subject"]) for r in received(site))
    assert subjects == {
        "Copilote\u202f: le projet Coopérative A est suspendu": len(PEOPLE) * PER_WINDOW,
        "Copilote\u202f: le projet Coopérative A reprend": len(PEOPLE) * PER_WINDOW,
    }, subjects

    held = 2 * CYCLES - 2 * PER_WINDOW  # per person
    outbox = api.get(f"/api/projects/{a}/outbox?status=merged&limit=1000").json()
    assert len(outbox) == len(PEOPLE) * held
    assert {o["kind"] for o in outbox} == {"project_suspended", "project_resumed"}
    metrics = {
        s.name: s.value
        for family in text_string_to_metric_families(site.client().get("/metrics").text)
        for s in family.samples
    }
    assert metrics["copilote_notices_merged_total"] == len(PEOPLE) * held

    # The window counts from the first notice held back (the 7th action, at minute 6).
    site.clock.advance(WINDOW - timedelta(minutes=2 * CYCLES - 5))
    site.c.tick()
    assert received_by(site) == dict.fromkeys(PEOPLE, 2 * PER_WINDOW)
    # At the end of the window, one message per person gathers every notice held back.
    site.clock.advance(timedelta(minutes=1))
    site.c.tick()
    assert received_by(site) == dict.fromkeys(PEOPLE, 2 * PER_WINDOW + 1)
    assert len(received(site)) == len(PEOPLE) * (2 * PER_WINDOW + 1)  # instead of 120
    last = received(site)[-1].message
    assert str(last["Subject"]) == f"Copilote\u202f: {held} points à traiter"
    body = last.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    # every suspension held back, with its comment (the first three went at once)
    assert text.count("attente n° ") == CYCLES - PER_WINDOW
    assert "attente n° 19" in text

    # Nothing pending; the next window starts afresh.
    assert api.get(f"/api/projects/{a}/outbox?status=pending").json() == []
    answer = api.post(f"/api/projects/{a}/advance", json={"trigger": "suspend", "comment": "x"})
    assert answer.status_code == 200
    site.c.tick()
    assert received_by(site) == dict.fromkeys(PEOPLE, 2 * PER_WINDOW + 2)


def test_partners_added_in_a_loop_tell_each_person_once_and_leave_the_budget_alone(
    one_site: Site,
) -> None:
    """Partner news is told as one message per person and day (the sweep merges it), so a
    loop of additions is one message naming them all; it does not use up the budget of
    another kind: the suspension that follows is told at once."""
    site, a = one_site, one_site.project_a
    for n in range(10):
        partner = PartnerIn(f"Asso {n}", f"asso{n}@exemple.fr", "", ("partner",))
        site.c.records.add_partner(a, partner)
    site.c.tick()
    steering = {k: v for k, v in received_by(site).items() if k in PEOPLE}
    assert steering == dict.fromkeys(PEOPLE, 1)
    news = [r for r in received(site) if PILOT_A in r.rcpt_tos]
    body = news[-1].message.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert all(f"Asso {n}" in text for n in range(10)), text
    before = received_by(site)
    site.c.engine.advance(a, "suspend", actor="Pia", comment="attente du financement")
    site.c.tick()
    after = received_by(site)
    assert {k: after[k] - before.get(k, 0) for k in PEOPLE} == dict.fromkeys(PEOPLE, 1)
    assert all(str(r.message["Subject"]).endswith("est suspendu") for r in received(site)[-3:])
