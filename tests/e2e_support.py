"""End-to-end harness: the whole system (``Copilote``) on a FixedClock, sending to a real
SMTP server, with a log of who received what, when (the tick that delivered it) and of what
kind (looked up in the outbox by the stable Message-ID)."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from service import Copilote, Settings, TickReport
from tests.smtp_support import SmtpServer
from workflow import tables
from workflow.clock import FixedClock
from workflow.database import read
from workflow.engine import PartnerIn

PARIS = ZoneInfo("Europe/Paris")
ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def definitions_dir(tmp: Path) -> Path:
    """The shipped definitions plus tests/fixtures/mini.yaml, in one folder."""
    target = tmp / "definitions"
    target.mkdir(exist_ok=True)
    for path in (ROOT / "definitions").glob("*.yaml"):
        shutil.copy(path, target / path.name)
    shutil.copy(FIXTURES / "mini.yaml", target / "mini.yaml")
    return target


def at(day: date, hour: int = 9, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=PARIS)


@dataclass(frozen=True)
class Mail:
    when: datetime  # the Paris instant of the tick that delivered it
    to: str
    kind: str
    subject: str
    message_id: str
    message: EmailMessage

    @property
    def day(self) -> date:
        return self.when.date()


class System:
    """Copilote + its clock + the SMTP server it sends to."""

    def __init__(
        self,
        database_url: str,
        defs: Path,
        server: SmtpServer,
        start: datetime,
        **settings: object,
    ) -> None:
        self.clock = FixedClock(start)
        self.server = server
        self.settings = Settings(
            database_url=database_url,
            smtp_host="127.0.0.1",
            smtp_port=server.port,
            definitions_dir=defs,
            smtp_timeout=5.0,
            **settings,  # type: ignore[arg-type]
        )
        self.c = Copilote(self.settings, self.clock)
        self.engine, self.records = self.c.engine, self.c.records
        self.log: list[Mail] = []
        self._seen = 0

    def dispose(self) -> None:
        self.c.db.dispose()

    def set(self, instant: datetime) -> None:
        self.clock.set(instant)

    def kinds(self) -> dict[str, str]:
        """Message-ID -> outbox kind, for every message queued so far."""
        with read(self.c.db) as conn:
            rows = conn.execute(sa.select(tables.outbox.c.key, tables.outbox.c.kind)).all()
        return {self.c.delivery.message_id(key): kind for key, kind in rows}

    def collect(self, when: datetime) -> list[Mail]:
        received = self.server.handler.received[self._seen :]
        self._seen += len(received)
        kinds = self.kinds() if received else {}
        new = []
        for r in received:
            mid = str(r.message["Message-ID"])
            for to in r.rcpt_tos:
                new.append(
                    Mail(
                        when.astimezone(PARIS),
                        to,
                        kinds.get(mid, "?"),
                        str(r.message["Subject"]),
                        mid,
                        r.message,
                    )
                )
        self.log.extend(new)
        return new

    def tick_report(self, instant: datetime) -> TickReport:
        """One tick as of ``instant`` (the clock is set: delivery reads the clock, not the
        ``now`` given to ``Copilote.tick``); its report, with the mail log updated."""
        self.clock.set(instant)
        report = self.c.tick(self.clock.now())
        self.collect(self.clock.now())
        return report

    def tick(self, instant: datetime | None = None) -> list[Mail]:
        if instant is not None:
            self.clock.set(instant)
        now = self.clock.now()
        self.c.tick(now)
        return self.collect(now)

    def run_days(
        self,
        first: date,
        last: date,
        actions: Mapping[date, Sequence[Callable[[], object]]] | None = None,
        hours: Iterable[int] = (9, 18),
    ) -> None:
        """Tick every day at ``hours`` (Paris); a day's actions run at 17:00, before the 18:00 tick."""
        actions = actions or {}

        def act(day: date) -> None:
            for action in actions.get(day, []):
                action()

        self.c.run_until(
            last,
            start=first,
            ticks=[time(hour) for hour in hours],
            act=act,
            act_at=time(17),
            on_tick=lambda tick: self.collect(tick.at),
        )


def summary(mails: Iterable[Mail]) -> list[tuple[str, str, str]]:
    """(Paris date-time, recipient, kind), in delivery order."""
    return [(m.when.strftime("%Y-%m-%d %H:%M"), m.to, m.kind) for m in mails]


def person(org: str, email: str, *roles: str) -> PartnerIn:
    return PartnerIn(org, email, f"Contact {org}", tuple(roles) or ("partner",))
