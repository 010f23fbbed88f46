"""The reports owed (``owed_report``, :mod:`workflow.owed_reports`): the dashboard's missing
reports read them, and each writer of what they depend on keeps them in step (a report
sent, a partner leaving or joining, the project suspended), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.smtp_support import SmtpServer
from tests.web.conftest import Site
from tests.web.test_pages_dashboard import ALPHA, BETA, paris, to_implementation
from workflow import tables
from workflow.database import read
from workflow.engine import PartnerIn
from workflow.read_models.portfolio import Filters, missing_reports

Q2 = "2026-Q2"


@pytest.fixture
def site(db_url: str, smtp_server: SmtpServer, tmp_path: Path) -> Iterator[Site]:
    s = Site(db_url, smtp_server)
    yield s
    s.c.db.dispose()


def _missing(site: Site, now: datetime | None = None) -> tuple[list[tuple[int, str]], int]:
    page = missing_reports(site.c.engine, now or site.c.clock.now())
    return [(r.partner_id, r.period) for r in page.rows], page.total


def _q2_requested(site: Site) -> tuple[int, int]:
    """Two partners owing project A's reports, the Q2 request sent; then 05/08/2026, when
    the Q2 report (due 30/07) is missing."""
    records = site.c.records
    alpha = records.add_partner(site.project_a, PartnerIn("Association Alpha", ALPHA, "Alice"))
    beta = records.add_partner(site.project_a, PartnerIn("Centre Beta", BETA, "Bruno"))
    to_implementation(site, site.project_a)
    site.c.tick(paris(2026, 6, 30, 9, 0))
    site.clock.set(paris(2026, 8, 5, 9, 0))
    return alpha, beta


def test_a_report_is_missing_from_its_overdue_reminder_on_not_before(site: Site) -> None:
    alpha, beta = _q2_requested(site)
    with read(site.c.db) as conn:
        overdue_at = conn.execute(
            sa.select(tables.reminder.c.due_at).where(
                tables.reminder.c.project_id == site.project_a,
                tables.reminder.c.kind == "report_overdue",
                tables.reminder.c.period == Q2,
            )
        ).scalar_one()
    assert _missing(site, overdue_at - timedelta(minutes=1)) == ([], 0)
    assert _missing(site, overdue_at) == ([(alpha, Q2), (beta, Q2)], 2)


def test_a_report_received_is_no_longer_missing_and_stays_received(site: Site) -> None:
    alpha, beta = _q2_requested(site)
    site.c.records.submit_report(site.project_a, alpha, "bilan_trimestriel", Q2, {})
    assert _missing(site) == ([(beta, Q2)], 1)
    site.c.records.submit_report(site.project_a, alpha, "bilan_trimestriel", Q2, {"a": "b"})
    with read(site.c.db) as conn:
        received = conn.execute(
            sa.select(tables.owed_report.c.partner_id, tables.owed_report.c.received_at)
            .where(tables.owed_report.c.project_id == site.project_a)
            .order_by(tables.owed_report.c.partner_id)
        ).all()
    assert [(p, at is not None) for p, at in received] == [(alpha, True), (beta, False)]


def test_a_partner_who_left_is_no_longer_listed_from_the_day_it_leaves(site: Site) -> None:
    alpha, beta = _q2_requested(site)
    leaves = site.c.records.partner_leaves(site.project_a, beta, on=date(2026, 8, 10))
    assert _missing(site) == ([(alpha, Q2), (beta, Q2)], 2)  # still a partner until then
    assert _missing(site, paris(2026, 8, 9, 23, 0)) == ([(alpha, Q2), (beta, Q2)], 2)
    assert _missing(site, paris(leaves.year, leaves.month, leaves.day, 9, 0)) == (
        [(alpha, Q2)],
        1,
    )


def test_a_suspended_project_drops_out_and_comes_back_when_resumed(site: Site) -> None:
    alpha, beta = _q2_requested(site)
    engine = site.c.engine
    engine.advance(site.project_a, "suspend", actor="ARS", comment="Travaux")
    assert _missing(site) == ([], 0)
    engine.advance(site.project_a, "resume", actor="ARS")
    assert _missing(site) == ([(alpha, Q2), (beta, Q2)], 2)
    by_phase = missing_reports(engine, site.c.clock.now(), Filters(phase="mise_en_oeuvre"))
    assert by_phase.total == 2
    assert missing_reports(engine, site.c.clock.now(), Filters(phase="diagnostic")).total == 0


def test_a_partner_joining_after_the_request_owes_the_period_too(site: Site) -> None:
    """As before the table: whoever holds the role owing the report on the day is listed."""
    alpha, beta = _q2_requested(site)
    gamma = site.c.records.add_partner(
        site.project_a, PartnerIn("Collectif Gamma", "gamma@collectif.example", "Gaël")
    )
    pilot_only = site.c.records.add_partner(
        site.project_a, PartnerIn("Mairie", "mairie@ville.example", "Max", ("copil",))
    )
    assert _missing(site) == ([(alpha, Q2), (beta, Q2), (gamma, Q2)], 3)
    with read(site.c.db) as conn:
        owing = conn.execute(
            sa.select(tables.owed_report.c.partner_id).where(
                tables.owed_report.c.partner_id == pilot_only
            )
        ).all()
    assert owing == []  # no role owing the report: never written


def test_a_project_on_a_definition_version_no_longer_loaded_lists_no_report(site: Site) -> None:
    """As before the table (and as its due work, flagged): its reports are not listed, and
    the dashboard still answers."""
    _q2_requested(site)
    with site.c.db.begin() as conn:  # the project's version, as if its file were bumped
        for table in (tables.project, tables.owed_report):
            key = table.c.id if table is tables.project else table.c.project_id
            conn.execute(
                sa.update(table).where(key == site.project_a).values(definition_version=99)
            )
        # and the missing reports' tally, kept per version, as that project's rows left it
        # (project A alone owes reports here)
        conn.execute(sa.update(tables.owed_tally).values(definition_version=99))
    assert _missing(site) == ([], 0)


def test_each_writer_keeps_the_tally_as_a_recount_writes_it(site: Site) -> None:
    """The events kept by each writer in turn (a request planned, a partner joining, a report
    sent, a partner leaving, a suspension and a resume, a migration's rewrite) are those a
    recount from the rows writes, and the count read from them is the rows counted."""
    from workflow.owed_reports import project_migrated, recount

    def tally() -> set[tuple[object, ...]]:
        t = tables.owed_tally.c
        with read(site.c.db) as conn:
            return {
                tuple(r)
                for r in conn.execute(
                    sa.select(t.definition_id, t.definition_version, t.day, t.delta)
                )
                if r.delta
            }

    def recounted() -> set[tuple[object, ...]]:
        kept = tally()
        with site.c.db.begin() as conn:
            recount(conn, site.c.engine.registry)
        assert tally() == kept
        return kept

    alpha, beta = _q2_requested(site)
    assert recounted()
    site.c.records.add_partner(site.project_a, PartnerIn("Collectif Gamma", "g@c.example", "G"))
    recounted()
    site.c.records.submit_report(site.project_a, alpha, "bilan_trimestriel", Q2, {})
    recounted()
    site.c.records.partner_leaves(site.project_a, beta, on=date(2026, 8, 10))
    recounted()
    site.c.engine.advance(site.project_a, "suspend", actor="ARS", comment="Travaux")
    assert recounted() == set()
    site.c.engine.advance(site.project_a, "resume", actor="ARS")
    recounted()
    with site.c.db.begin() as conn:
        project_migrated(conn, site.c.engine.registry, site.project_a)
    recounted()
    now = site.c.clock.now()
    for day in (now, paris(2026, 8, 10, 9, 0), paris(2027, 1, 5, 9, 0)):
        engine = site.c.engine
        whole = missing_reports(engine, day).total
        # the long way: the rows counted one by one, per phase
        phases = [p.key for d in engine.registry for p in d.phases]
        assert whole == sum(
            missing_reports(engine, day, Filters(phase=p)).total for p in set(phases)
        )
