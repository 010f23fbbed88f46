"""``/health`` and ``/metrics``: what a load balancer and Prometheus see, without signing in.

The scheduler's heartbeat is on the system's clock, so these tests move a FixedClock instead
of waiting; the one real scheduled pass is awaited on its condition, not slept for.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as openmetrics_families,
)
from prometheus_client.parser import text_string_to_metric_families

from service import Copilote, Settings
from tests.smtp_support import SmtpServer
from workflow import tables
from workflow.clock import FixedClock
from workflow.engine import NewProject, PartnerIn
from workflow.outbox import queue_message

PARIS = ZoneInfo("Europe/Paris")
START = datetime(2026, 5, 4, 9, 0, tzinfo=PARIS)
ROOT_KEYS = {"status", "database", "scheduler", "outbox"}


def system(database_url: str, server: SmtpServer, **settings: object) -> Copilote:
    options: dict[str, object] = dict(
        database_url=database_url,
        smtp_host="127.0.0.1",
        smtp_port=server.port,
        smtp_timeout=5.0,
        scheduler=False,
        secret_key="test-secret",
    )
    options.update(settings)
    return Copilote(Settings(**options), FixedClock(START))  # type: ignore[arg-type]


def advance(c: Copilote, delta: timedelta) -> None:
    """Move the system's clock (a FixedClock here) forward."""
    assert isinstance(c.clock, FixedClock)
    c.clock.advance(delta)


@pytest.fixture
def c(db_url: str, smtp_server: SmtpServer) -> Iterator[Copilote]:
    copilote = system(db_url, smtp_server)
    yield copilote
    copilote.db.dispose()


def project(c: Copilote, n: int = 1) -> int:
    return c.engine.create_project(
        NewProject(
            definition_id="cooperative",
            title=f"Coopérative {n}",
            start_date=date(2026, 5, 4),
            territory="Paris",
            pilot=PartnerIn(f"Structure {n}", f"pilote{n}@exemple.fr", "Pia", ("pilot", "copil")),
        )
    )


def queue(c: Copilote, n: int, first: int = 0) -> None:
    with c.db.begin() as conn:
        for i in range(first, first + n):
            queue_message(
                conn,
                key=f"test:{i}",
                project_id=None,
                email=f"partenaire{i}@exemple.fr",
                name=f"Partenaire {i}",
                lang="fr",
                kind="phase_changed",
                items=[
                    {
                        "project_title": "Coopérative",
                        "programme": "Coopérative d'acteurs",
                        "pilot_name": "Pia",
                        "pilot_email": "pilote1@exemple.fr",
                        "answer_url": None,
                        "kind": "phase_changed",
                        "from_phase": "Préfiguration",
                        "to_phase": "Diagnostic",
                        "phase": "Préfiguration",
                        "actor": "Pia",
                        "comment": None,
                        "at": c.clock.now(),
                    }
                ],
                now=c.clock.now(),
            )


def families(
    text: str,
) -> dict[str, tuple[str, dict[tuple[str, tuple[tuple[str, str], ...]], float]]]:
    """name -> (type, {(sample name, labels): value}); raises if the text is not valid."""
    out = {}
    for family in text_string_to_metric_families(text):
        samples = {(s.name, tuple(sorted(s.labels.items()))): s.value for s in family.samples}
        out[family.name] = (family.type, samples)
    return out


def value(fams: dict, family: str, sample: str | None = None, **labels: str) -> float:  # type: ignore[type-arg]
    return fams[family][1][(sample or family, tuple(sorted(labels.items())))]  # type: ignore[no-any-return]


def test_health_without_signing_in_reports_database_and_outbox(c: Copilote) -> None:
    client = TestClient(c.app())
    response = client.get("/health")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == ROOT_KEYS
    assert body["status"] == "ok" and body["database"] == "ok"
    assert body["outbox"] == {"backlog": 0, "oldest_pending_age_seconds": None}
    # API-only replica: no scheduler, and that is healthy
    assert body["scheduler"]["enabled"] is False and body["scheduler"]["alive"] is False

    queue(c, 3)
    advance(c, timedelta(minutes=10))
    queue(c, 1, first=3)  # newer: the age is the oldest's
    body = client.get("/health").json()
    assert body["outbox"] == {"backlog": 4, "oldest_pending_age_seconds": 600.0}

    report = c.tick()
    assert report.delivery.sent == 4
    assert client.get("/health").json()["outbox"] == {
        "backlog": 0,
        "oldest_pending_age_seconds": None,
    }


def test_health_says_nothing_sensitive(c: Copilote) -> None:
    queue(c, 1)
    text = TestClient(c.app()).get("/health").text
    for secret in ("exemple.fr", "test-secret", c.settings.database_url, "127.0.0.1", "Partenaire"):
        assert secret not in text


def test_unreachable_database_is_503_and_database_up_0(smtp_server: SmtpServer) -> None:
    # Nothing listens on port 1: connection refused, as when the server is down.
    c = Copilote(
        Settings(database_url="postgresql://postgres@127.0.0.1:1/copilote", scheduler=False),
        FixedClock(START),
        migrate_schema=False,
    )
    client = TestClient(c.app())
    response = client.get("/health")
    assert response.status_code == 503
    assert response.json()["status"] == "error" and response.json()["database"] == "error"
    assert response.json()["outbox"] == {"backlog": None, "oldest_pending_age_seconds": None}
    scrape = client.get("/metrics")
    assert scrape.status_code == 200  # the scrape itself works and says the database is down
    fams = families(scrape.text)
    assert value(fams, "copilote_database_up") == 0
    assert "copilote_transitions" not in fams and "copilote_outbox_backlog" not in fams


def test_scheduler_alive_after_a_real_pass_dead_after_three_intervals(
    sqlite_url: str, smtp_server: SmtpServer
) -> None:
    c = system(
        sqlite_url, smtp_server, scheduler=True, sweep_interval_seconds=60, lease_seconds=600
    )
    state = c.metrics.scheduler
    app = c.app()
    client = TestClient(app)
    # Enabled but never started (no lifespan ran): not alive, so 503.
    assert client.get("/health").status_code == 503
    queue(c, 2)
    with TestClient(app) as client:  # the lifespan starts the scheduler; its first pass is now
        assert state.wait_for_ticks(1, timeout=60)
        body = client.get("/health").json()
        assert body["status"] == "ok"
        assert body["scheduler"] == {
            "enabled": True,
            "interval_seconds": 60,
            "last_tick_at": c.clock.now().isoformat(),
            "running_since": None,
            "alive": True,
        }
        assert body["outbox"]["backlog"] == 0
        assert len(smtp_server.handler.received) == 2

        advance(c, timedelta(seconds=180))
        assert client.get("/health").status_code == 200  # three intervals: still on time
        advance(c, timedelta(seconds=1))
        response = client.get("/health")
        assert response.status_code == 503 and response.json()["scheduler"]["alive"] is False

        # A pass that is still running (a big backlog) is alive until it outlasts the lease.
        state.tick_begins()
        running = client.get("/health").json()["scheduler"]
        assert running["alive"] is True and running["running_since"] == c.clock.now().isoformat()
        advance(c, timedelta(seconds=600))
        assert client.get("/health").status_code == 200
        advance(c, timedelta(seconds=1))
        assert client.get("/health").status_code == 503
        state.tick_ends(ok=True)
        assert client.get("/health").status_code == 200
        fams = families(client.get("/metrics").text)
        assert value(fams, "copilote_scheduler_last_tick_timestamp_seconds") > 0
    c.db.dispose()


def test_failed_pass_is_counted_and_not_a_heartbeat(
    sqlite_url: str, smtp_server: SmtpServer
) -> None:
    c = system(sqlite_url, smtp_server, scheduler=True)
    c.metrics.scheduler.started()
    with c.db.begin() as conn:  # the outbox becomes unreadable: the pass fails at delivery
        conn.exec_driver_sql("ALTER TABLE outbox RENAME TO outbox_lost")
    c._scheduled_tick()
    assert c.metrics.scheduler.last_tick_at is None
    client = TestClient(c.app())
    response = client.get("/health")
    assert response.status_code == 503 and response.json()["database"] == "error"
    fams = families(client.get("/metrics").text)
    assert value(fams, "copilote_sweep_failures", "copilote_sweep_failures_total") == 1
    assert (
        value(fams, "copilote_sweep_duration_seconds", "copilote_sweep_duration_seconds_count") == 0
    )
    c.db.dispose()


def test_metrics_text_format_transitions_notifications_sweeps(
    c: Copilote, smtp_server: SmtpServer
) -> None:
    client = TestClient(c.app())
    pid = project(c)
    other = project(c, 2)
    c.engine.advance(pid, "suspend", actor="Pia", comment="pause estivale")
    c.engine.advance(pid, "resume", actor="Pia")
    c.engine.advance(other, "suspend", actor="Paul", comment="en attente")
    queue(c, 5)
    smtp_server.handler.refuse.add("partenaire4@exemple.fr")  # a permanent failure
    report = c.tick()

    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    fams = families(response.text)
    assert fams["copilote_transitions"][0] == "counter"
    assert value(fams, "copilote_transitions", "copilote_transitions_total", trigger="suspend") == 2
    assert value(fams, "copilote_transitions", "copilote_transitions_total", trigger="resume") == 1
    assert ("copilote_transitions_total", (("trigger", "create"),)) not in fams[
        "copilote_transitions"
    ][1]
    sent = value(fams, "copilote_notifications_sent", "copilote_notifications_sent_total")
    failed = value(fams, "copilote_notifications_failed", "copilote_notifications_failed_total")
    assert (sent, failed) == (report.delivery.sent, report.delivery.failed)
    assert failed == 1 and sent >= 4
    assert (
        value(fams, "copilote_notifications_retried", "copilote_notifications_retried_total") == 0
    )
    assert fams["copilote_sweep_duration_seconds"][0] == "histogram"
    assert (
        value(fams, "copilote_sweep_duration_seconds", "copilote_sweep_duration_seconds_count") == 1
    )
    assert fams["copilote_outbox_backlog"][0] == "gauge"
    assert value(fams, "copilote_outbox_backlog") == 0
    assert value(fams, "copilote_database_up") == 1
    # A scraper that asks for OpenMetrics gets it.
    om = client.get("/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"})
    assert om.headers["content-type"].startswith("application/openmetrics-text")
    # prometheus_client's OpenMetrics parser has no annotations (its text-format one has).
    parsed = openmetrics_families(om.text)  # type: ignore[no-untyped-call]
    assert "copilote_transitions" in {f.name for f in parsed}

    # The transitions come from the database: another system on it (another instance)
    # reports the same, and its own counters start at zero.
    twin = Copilote(c.settings, FixedClock(START), migrate_schema=False)
    twin_fams = families(TestClient(twin.app()).get("/metrics").text)
    assert (
        value(twin_fams, "copilote_transitions", "copilote_transitions_total", trigger="suspend")
        == 2
    )
    assert value(twin_fams, "copilote_notifications_sent", "copilote_notifications_sent_total") == 0
    twin.db.dispose()


def test_queued_messages_show_in_the_backlog_gauge(c: Copilote) -> None:
    queue(c, 3)
    advance(c, timedelta(seconds=90))
    fams = families(TestClient(c.app()).get("/metrics").text)
    assert value(fams, "copilote_outbox_backlog") == 3
    assert value(fams, "copilote_outbox_oldest_pending_age_seconds") == 90


def test_a_failing_project_is_listed_by_health_with_a_200_and_counted_in_metrics(
    c: Copilote,
) -> None:
    """Issue 10, finding 1: one project whose due work raises (here its definition version
    is gone while an automatic step is due) degrades, it does not fail the instance."""
    healthy, broken = project(c, 1), project(c, 2)
    with c.db.begin() as conn:
        conn.execute(
            sa.update(tables.project)
            .where(tables.project.c.id == broken)
            .values(definition_version=99, auto_due_on=START.date())
        )
    report = c.tick()
    assert any(f"project {broken}: failed" in line for line in report.timed)
    client = TestClient(c.app())
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert [p["project_id"] for p in body["degraded_projects"]] == [broken]
    assert healthy not in {p["project_id"] for p in body["degraded_projects"]}
    assert set(body["degraded_projects"][0]) == {"project_id", "failed_at"}  # no error texts
    fams = families(client.get("/metrics").text)
    assert value(fams, "copilote_projects_failing") == 1
