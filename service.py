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
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from apscheduler.schedulers.background import BackgroundScheduler
from argon2 import PasswordHasher
from fastapi import FastAPI
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from notifications import FileMailer, Mailer, Recipient, Renderer, SmtpMailer
from notifications.delivery import Delivery, DeliveryStats
from web import create_app
from web.auth import Accounts
from web.links import Links
from web.metrics import Metrics
from workflow.clock import Clock, FixedClock, SystemClock
from workflow.conventions import Conventions
from workflow.database import create_db_engine, migrate
from workflow.documents import BlobStore, DirectoryBlobStore, Documents, SqlBlobStore
from workflow.driver import Tick, run_due, run_until
from workflow.engine import Engine
from workflow.errors import InvalidInput
from workflow.loader import load_directory
from workflow.outbox import SqlOutboxStore
from workflow.planner import Planner
from workflow.records import Records
from workflow.sweep import Sweeper, SweepResult
from workflow.window import SendingWindow

__all__ = ["Copilote", "Settings", "TickReport", "app", "refuse_public_secret"]

HERE = Path(__file__).resolve().parent
log = logging.getLogger("copilote")


DEFAULT_SECRET_KEY = "change-me-in-production"
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


class Settings(BaseSettings):
    """Every setting, from the environment (``COPILOTE_...``) or a ``.env`` file."""

    model_config = SettingsConfigDict(env_prefix="COPILOTE_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///copilote.db"
    definitions_dir: Path = HERE / "definitions"
    host: str = "127.0.0.1"
    port: int = 8000
    base_url: str = "http://127.0.0.1:8000"
    secret_key: str = DEFAULT_SECRET_KEY
    # Development only: accept the public default secret on loopback. ``copilote serve`` on
    # loopback turns it on for itself; the ``service:app`` factory never does.
    development: bool = False
    link_max_age_days: int = 60
    token_max_age_days: int = Field(default=365, ge=1, le=3650)  # API tokens expire
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
    # Documents: their bytes in the database (every instance on one PostgreSQL serves them)
    # or in a local directory (one host); uploads above the limit are refused.
    storage: Literal["database", "directory"] = "database"
    storage_dir: Path = Path("files")
    upload_max_bytes: int = Field(default=20_000_000, ge=1_000, le=10_000_000_000)
    # The sending window: messages leave on French working days from this hour (Paris);
    # the weekly digest goes on this weekday. ``sending_window=false`` sends at any time.
    send_at: str = "09:00"
    digest_weekday: str = "monday"
    sending_window: bool = True
    # Who runs this instance, shown in every page's header and in the legal pages; and the
    # State design system's identity: "state" shows the State block (Marianne, "République
    # Française"), reserved to State services; "neutral" drops it (see README, "Identity").
    agency_name: str = Field(default="Agence régionale de santé Île-de-France", min_length=1)
    brand: Literal["state", "neutral"] = "state"
    # Where people write about accessibility and personal data (legal pages); none: the pilot.
    contact_email: str = ""

    @field_validator("send_at")
    @classmethod
    def _a_time(cls, value: str) -> str:
        SendingWindow.parse(value, "monday")
        return value

    @field_validator("digest_weekday")
    @classmethod
    def _a_weekday(cls, value: str) -> str:
        SendingWindow.parse("09:00", value)
        return value.strip().lower()

    def window(self) -> SendingWindow:
        return SendingWindow.parse(self.send_at, self.digest_weekday)


def refuse_public_secret(settings: Settings) -> None:
    """The default secret is public: anyone can sign a session cookie or an answer link with
    it. Refused unless ``development`` is on, whatever the host (a balancer or a proxy in
    front of a loopback address exposes it all the same)."""
    if settings.secret_key == DEFAULT_SECRET_KEY and not settings.development:
        raise InvalidInput(
            "COPILOTE_SECRET_KEY",
            "set a secret of your own (generate one with: python3 -c"
            " 'import secrets; print(secrets.token_urlsafe(32))'); the default one is public"
            " and only accepted with COPILOTE_DEVELOPMENT=true on a development machine",
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


def _skipped_while_running(record: logging.LogRecord) -> bool:
    return "maximum number of running instances reached" not in record.getMessage()


class Copilote:
    """The running system, built from settings and one clock."""

    def __init__(
        self,
        settings: Settings | None = None,
        clock: Clock | None = None,
        mailer: Mailer | None = None,
        *,
        migrate_schema: bool = True,
        password_hasher: PasswordHasher | None = None,
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
        self.links = Links(
            self.settings.secret_key,
            self.settings.base_url,
            self.settings.link_max_age_days,
            self.clock.now,
        )
        # Invitations and report requests carry a personal answer link.
        planner = Planner(self.registry, links=self.make_link)
        self.engine = Engine(self.db, self.registry, self.clock, planner)
        self.records = Records(self.engine)
        self.conventions = Conventions(self.engine)
        store: BlobStore = (
            DirectoryBlobStore(self.settings.storage_dir)
            if self.settings.storage == "directory"
            else SqlBlobStore(self.db, self.clock.now)
        )
        self.documents = Documents(self.engine, store, self.settings.upload_max_bytes)
        self.accounts = Accounts(
            self.db,
            self.clock.now,
            token_max_age_days=self.settings.token_max_age_days,
            hasher=password_hasher,
        )
        # The weekly digest's weekday holds either way; the window only when it is on.
        cadence = self.settings.window()
        self.window = cadence if self.settings.sending_window else None
        self.sweeper = Sweeper(self.engine, window=cadence, hold=self.settings.sending_window)
        worker = self.settings.worker_id or f"{socket.gethostname()}:{os.getpid()}"
        self.outbox = SqlOutboxStore(
            self.db,
            worker=worker,
            lease=timedelta(seconds=self.settings.lease_seconds),
            window=self.window,
        )
        self.mailer = mailer or self._mailer()
        self.delivery = Delivery(
            self.outbox,
            self.renderer,
            self.mailer,
            self.clock.now,
            Recipient(self.settings.sender_name, self.settings.sender_email),
            domain=self.settings.mail_domain,
            preferences=self.links.preferences,
        )
        self.metrics = Metrics(
            self.db,
            self.clock.now,
            interval_seconds=self.settings.sweep_interval_seconds,
            lease_seconds=self.settings.lease_seconds,
            outage=lambda: self.delivery.outage,
            window=self.window,
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
        """A personal answer link; for ``project``, the project's page (signed in)."""
        if purpose == "project":
            return f"{self.links.base_url}/projects/{project_id}"
        return self.links.make(purpose, project_id, partner_id, detail)

    # -- due work ----------------------------------------------------------------------------
    def tick(self, now: datetime | None = None) -> TickReport:
        """All due work once, as of ``now``: automatic steps, reminders, delivery.

        Without ``now`` (the scheduler), delivery reads the clock at each batch it claims, so
        a claim's lease runs from the claim, not from the start of a long sweep (a lease that
        began minutes earlier could expire mid-batch and let another instance send it again).
        """
        instant = now or self.clock.now()
        tick = run_due(self.engine, self.sweeper, instant, lambda _: self._deliver(now))
        self.metrics.record_tick(tick.sweep, tick.delivery, tick.seconds)
        return TickReport(tick.timed, tick.sweep, tick.delivery)

    def _deliver(self, now: datetime | None) -> DeliveryStats:
        return asyncio.run(self.delivery.run_until_idle(now=now))

    def run_until(
        self,
        until: date,
        *,
        start: date | None = None,
        ticks: Sequence[time] = (time(9), time(18)),
        act: Callable[[date], object] | None = None,
        act_at: time = time(17),
        on_tick: Callable[[Tick], object] | None = None,
    ) -> None:
        """The due work day after day up to ``until``, delivering, on this system's clock (a
        :class:`FixedClock`): :func:`workflow.driver.run_until` (same options), each tick
        counted in the metrics as :meth:`tick` does."""
        if not isinstance(self.clock, FixedClock):
            raise TypeError("run_until moves the clock: build Copilote with a FixedClock")

        def ticked(tick: Tick) -> None:
            self.metrics.record_tick(tick.sweep, tick.delivery, tick.seconds)
            if on_tick is not None:
                on_tick(tick)

        run_until(
            self.clock,
            until,
            engine=self.engine,
            sweeper=self.sweeper,
            deliver=self._deliver,
            start=start,
            ticks=ticks,
            act=act,
            act_at=act_at,
            on_tick=ticked,
        )

    # -- the running service ------------------------------------------------------------------
    def app(self) -> FastAPI:
        """The ASGI application; its lifespan starts and stops the scheduler (if enabled).

        Refused when it would be reachable beyond this machine with the default secret key:
        anyone could then sign a session cookie or an answer link.
        """
        exposed = {urlsplit(self.settings.base_url).hostname, self.settings.host} - LOOPBACK
        if self.settings.secret_key == DEFAULT_SECRET_KEY and exposed:
            raise InvalidInput(
                "COPILOTE_SECRET_KEY",
                f"set a secret of your own to serve on {', '.join(sorted(map(str, exposed)))};"
                " the default one is public (generate one with: python3 -c"
                " 'import secrets; print(secrets.token_urlsafe(32))')",
            )

        @asynccontextmanager
        async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
            scheduler = self.start_scheduler() if self.settings.scheduler else None
            try:
                yield
            finally:
                if scheduler is not None:
                    scheduler.shutdown(wait=True)

        return create_app(self, lifespan=lifespan)

    def start_scheduler(self) -> BackgroundScheduler:
        """One APScheduler job that sweeps every ``sweep_interval_seconds``, in a thread.

        There is one job, not one per reminder: what is due lives in the database, so a
        restart loses nothing, and several instances share the work through row claims.
        """
        scheduler = BackgroundScheduler(timezone="Europe/Paris")
        scheduler.add_job(
            self._scheduled_tick,
            "interval",
            seconds=self.settings.sweep_interval_seconds,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
            next_run_time=self.clock.now(),  # the first pass at once (the wall clock in production)
        )
        # APScheduler logs "Running job" / "executed successfully" at every run: our own
        # line says what a pass did, and only when it did something.
        logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)
        # While a long pass delivers, the next intervals are skipped (max_instances=1): that
        # is the design (the running pass sends until idle), not something to warn about.
        logging.getLogger("apscheduler.scheduler").addFilter(_skipped_while_running)
        self.metrics.scheduler.started()
        scheduler.start()
        log.info("scheduler started: sweeping every %ss", self.settings.sweep_interval_seconds)
        return scheduler

    def serve(self) -> None:
        import uvicorn

        refuse_public_secret(self.settings)
        uvicorn.run(self.app(), host=self.settings.host, port=self.settings.port, log_level="info")

    def _scheduled_tick(self) -> None:
        """The scheduler's job: one tick, its heartbeat for ``/health``, a log line if it did
        anything. An error is logged and counted; the next interval runs again."""
        self.metrics.scheduler.tick_begins()
        try:
            report = self.tick()
        except Exception:
            self.metrics.scheduled_tick_ends(ok=False)
            log.exception("sweep failed; it runs again at the next interval")
            return
        self.metrics.scheduled_tick_ends(ok=True)
        busy = report.timed or report.sweep.claimed or report.delivery.sent
        busy = busy or report.delivery.retried or report.delivery.failed
        for line in report.lines():
            log.log(logging.INFO if busy else logging.DEBUG, line)


def configure_logging() -> None:
    """INFO lines of our own; ``transitions`` logs every state callback at INFO: not those."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("transitions").setLevel(logging.WARNING)


def app() -> FastAPI:  # for `uvicorn --factory service:app` and gunicorn's `service:app()`
    """Application factory for uvicorn/gunicorn workers: settings from the environment.

    The default secret is refused before anything is built, unless COPILOTE_DEVELOPMENT is on.
    """
    configure_logging()
    settings = Settings()
    refuse_public_secret(settings)
    return Copilote(settings).app()
