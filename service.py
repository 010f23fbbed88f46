"""Composition root: settings, wiring of engine, sweep and delivery, and the scheduler.

``copilote serve`` runs this: APScheduler triggers one sweep job every
``sweep_interval_seconds`` (not one job per reminder: what is due lives in the database, so
a restart loses nothing). ``copilote tick`` runs the same work once, as of any instant.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from pydantic_settings import BaseSettings, SettingsConfigDict

from notifications import FileMailer, Mailer, Recipient, Renderer, SmtpMailer
from notifications.delivery import Delivery, DeliveryStats
from workflow.clock import Clock, SystemClock
from workflow.database import create_db_engine, migrate
from workflow.engine import Engine
from workflow.loader import load_directory
from workflow.outbox import SqlOutboxStore
from workflow.records import Records
from workflow.sweep import Sweeper, SweepResult

__all__ = ["Copilote", "LinkError", "Settings", "TickReport"]

HERE = Path(__file__).resolve().parent
log = logging.getLogger("copilote")


class Settings(BaseSettings):
    """Every setting, from the environment (``COPILOTE_...``) or a ``.env`` file."""

    model_config = SettingsConfigDict(env_prefix="COPILOTE_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///copilote.db"
    definitions_dir: Path = HERE / "definitions"
    base_url: str = "http://127.0.0.1:8000"
    secret_key: str = "change-me-in-production"
    link_max_age_days: int = 60
    scheduler: bool = True
    sweep_interval_seconds: int = 60
    lease_seconds: int = 300
    pool_size: int = 5
    worker_id: str = ""
    mail_dir: Path = Path("mail")
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_security: Literal["none", "starttls", "tls"] = "none"
    smtp_timeout: float = 10.0
    smtp_connections: int = 2
    sender_email: str = "copilote@localhost.localdomain"
    sender_name: str = "Copilote"
    mail_domain: str = "copilote.local"


class LinkError(ValueError):
    def __init__(self, reason: str) -> None:
        super().__init__(
            f"This link cannot be used: {reason}. Ask your project pilot for a new one."
        )


@dataclass
class TickReport:
    timed: list[str]
    sweep: SweepResult
    delivery: DeliveryStats

    def lines(self) -> list[str]:
        return [
            *self.timed,
            f"reminders: {self.sweep.fired} fired, {self.sweep.coalesced} coalesced, {self.sweep.skipped} "
            f"no longer relevant; {self.sweep.messages} message(s) queued",
            f"delivery: {self.delivery.sent} sent, {self.delivery.retried} to retry, {self.delivery.failed} failed",
        ]


class Copilote:
    """The running system, built from settings and one clock."""

    def __init__(
        self,
        settings: Settings | None = None,
        clock: Clock | None = None,
        mailer: Mailer | None = None,
        *,
        migrate_schema: bool = True,
    ) -> None:
        self.settings = settings or Settings()
        self.clock = clock or SystemClock()
        self.db = create_db_engine(self.settings.database_url, pool_size=self.settings.pool_size)
        if migrate_schema:
            migrate(self.db)
        self.renderer = Renderer()
        self.registry = load_directory(
            self.settings.definitions_dir, templates=self.renderer.kinds()
        )
        self.engine = Engine(self.db, self.registry, self.clock)
        self.records = Records(self.engine)
        self._links = URLSafeTimedSerializer(self.settings.secret_key, salt="copilote-answer-link")
        self.sweeper = Sweeper(self.engine, links=self.make_link)
        worker = self.settings.worker_id or f"{socket.gethostname()}:{os.getpid()}"
        self.outbox = SqlOutboxStore(
            self.db, worker=worker, lease=timedelta(seconds=self.settings.lease_seconds)
        )
        self.mailer = mailer or self._mailer()
        self.delivery = Delivery(
            self.outbox,
            self.renderer,
            self.mailer,
            self.clock.now,
            Recipient(self.settings.sender_name, self.settings.sender_email),
            domain=self.settings.mail_domain,
        )

    def _mailer(self) -> Mailer:
        s = self.settings
        if not s.smtp_host:
            return FileMailer(s.mail_dir)
        return SmtpMailer(
            host=s.smtp_host,
            port=s.smtp_port,
            username=s.smtp_username,
            password=s.smtp_password,
            security=s.smtp_security,
            timeout=s.smtp_timeout,
            connections=s.smtp_connections,
        )

    # -- personal answer links -----------------------------------------------------------
    def make_link(self, purpose: str, project_id: int, partner_id: int, detail: str) -> str:
        token = self._links.dumps(
            {"p": purpose, "project": project_id, "partner": partner_id, "d": detail}
        )
        return f"{self.settings.base_url}/answer/{token}"

    def read_link(self, token: str) -> dict[str, object]:
        try:
            data = self._links.loads(token, max_age=self.settings.link_max_age_days * 86400)
        except SignatureExpired:
            raise LinkError("it has expired") from None
        except BadSignature:
            raise LinkError("it is not a valid Copilote link (altered or truncated)") from None
        if not isinstance(data, dict):
            raise LinkError("it is not a valid Copilote link")
        return data

    # -- due work ----------------------------------------------------------------------------
    def tick(self, now: datetime | None = None) -> TickReport:
        """All due work once, as of ``now``: automatic steps, reminders, delivery."""
        now = now or self.clock.now()
        timed = self.engine.run_timed_transitions(now)
        sweep = self.sweeper.run(now)
        delivery = asyncio.run(self.delivery.run_until_idle(now=now))
        return TickReport(timed, sweep, delivery)

    def serve(self) -> None:  # pragma: no cover - exercised by the process tests
        from apscheduler.schedulers.blocking import BlockingScheduler

        scheduler = BlockingScheduler(timezone="Europe/Paris")
        scheduler.add_job(
            self._scheduled_tick,
            "interval",
            seconds=self.settings.sweep_interval_seconds,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
            next_run_time=self.clock.now(),
        )
        log.info(
            "Copilote scheduler started: sweeping every %ss", self.settings.sweep_interval_seconds
        )
        try:
            scheduler.start()
        except (KeyboardInterrupt, SystemExit):
            scheduler.shutdown(wait=True)

    def _scheduled_tick(self) -> None:  # pragma: no cover
        try:
            for line in self.tick().lines():
                log.info(line)
        except Exception:
            log.exception("sweep failed; it runs again at the next interval")
