"""Occasion keys: typed values that write exactly the keys planned and queued before they were
typed (rows already in a database keep matching), and read them back."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from tests.conftest import paris
from tests.test_engine import new_mini, ready_to_deploy
from workflow import tables
from workflow.clock import FixedClock
from workflow.engine import Engine, PartnerIn
from workflow.occasions import (
    AnnualReview,
    ConventionEnd,
    ConventionEnding,
    MeetingBefore,
    MeetingMinutes,
    MeetingNotice,
    MessageGroup,
    MilestoneBefore,
    MilestoneEscalation,
    MilestoneOverdue,
    MinutesShared,
    Occasion,
    OverdueDigest,
    PartnerChange,
    Planned,
    ReportBefore,
    ReportEscalation,
    ReportOverdue,
    ReportOverdueCopy,
    ReportRequest,
    SeriesCheck,
    StaleEscalation,
    Transition,
    WeeklyDigest,
    parse,
    quarter_of_period,
)
from workflow.records import Records

# Every kind of occasion, with the key written literally as planner.py and sweep.py built it.
EVERY_KIND: list[tuple[Occasion, str]] = [
    (MilestoneBefore(12, 14), "milestone:12:before:14"),
    (MinutesShared(7), "minutes:7"),
    (MilestoneOverdue(12), "milestone:12:overdue"),
    (MilestoneEscalation(12), "milestone:12:escalation"),
    (OverdueDigest(3, date(2026, 6, 8)), "digest:3:2026-06-08"),
    (MeetingBefore(7, 2, 3), "meeting:7:s2:before:3"),
    (MeetingMinutes(7, 0), "meeting:7:s0:minutes"),
    (MeetingNotice(7, "scheduled", 0), "meeting:7:scheduled:0"),
    (MeetingNotice(7, "moved", 1), "meeting:7:moved:1"),
    (MeetingNotice(7, "cancelled", 2), "meeting:7:cancelled:2"),
    (SeriesCheck(3, "copil", date(2026, 8, 3)), "series:3:copil:2026-08-03"),
    (
        ReportRequest(3, "bilan_trimestriel", "2026-Q1"),
        "report:3:bilan_trimestriel:2026-Q1:request",
    ),
    (
        ReportBefore(3, "bilan_trimestriel", "2026-Q1", 7),
        "report:3:bilan_trimestriel:2026-Q1:before:7",
    ),
    (
        ReportOverdue(3, "bilan_trimestriel", "2026-Q4"),
        "report:3:bilan_trimestriel:2026-Q4:overdue",
    ),
    (
        ReportEscalation(3, "bilan_trimestriel", "2026-Q2"),
        "report:3:bilan_trimestriel:2026-Q2:escalation",
    ),
    (
        ReportOverdueCopy(3, "bilan_trimestriel", "2026-Q2", 41),
        "report:3:bilan_trimestriel:2026-Q2:overdue:41",
    ),
    (AnnualReview(3, 2027), "annual_review:3:2027"),
    (ConventionEnd(3, date(2027, 3, 31)), "convention_end:3:2027-03-31"),
    (ConventionEnding(8, date(2027, 3, 31), 3), "convention:8:2027-03-31:before:3m"),
    (Transition(3, 5), "transition:3:5"),
    (PartnerChange(9, True, date(2026, 5, 4)), "partner_joined:9:2026-05-04"),
    (PartnerChange(9, False, date(2026, 12, 31)), "partner_left:9:2026-12-31"),
    (MessageGroup("0123456789abcdef01234567"), "group:0123456789abcdef01234567"),
    (StaleEscalation(12), "milestone:12:stale"),
    (WeeklyDigest("2026-W05"), "weekly:2026-W05"),
]


@pytest.mark.parametrize(("occasion", "key"), EVERY_KIND, ids=[k for _, k in EVERY_KIND])
def test_every_occasion_writes_the_key_it_always_had_and_reads_it_back(
    occasion: Occasion, key: str
) -> None:
    assert occasion.key == key
    assert str(occasion) == key
    assert parse(key) == occasion
    assert type(parse(key)) is type(occasion)


# kind, chain, subject, (schedule, period, step) of each planned occasion, as planned before.
PLANNED: list[tuple[Planned, str, str, int | None, tuple[str | None, ...]]] = [
    (
        MilestoneBefore(12, 14),
        "milestone_reminder",
        "milestone:12:remind",
        12,
        (None, None, "before:14"),
    ),
    (MilestoneOverdue(12), "milestone_overdue", "milestone:12:remind", 12, (None, None, "overdue")),
    (
        MilestoneEscalation(12),
        "milestone_escalation",
        "milestone:12:escalate",
        12,
        (None, None, "escalation"),
    ),
    (OverdueDigest(3, date(2026, 6, 8)), "overdue_digest", "digest:3", None, (None, None, None)),
    (StaleEscalation(12), "milestone_stale", "milestone:12:stale", 12, (None, None, "stale")),
    (MeetingBefore(7, 2, 3), "meeting_reminder", "meeting:7:remind", 7, (None, None, "before:3")),
    (
        MeetingMinutes(7, 0),
        "meeting_minutes_request",
        "meeting:7:minutes",
        7,
        (None, None, "minutes"),
    ),
    (
        SeriesCheck(3, "copil", date(2026, 8, 3)),
        "series_behind",
        "series:3:copil",
        None,
        (None, None, None),
    ),
    (
        ReportRequest(3, "bilan", "2026-Q1"),
        "report_request",
        "report:3:bilan:2026-Q1:remind",
        None,
        ("bilan", "2026-Q1", "request"),
    ),
    (
        ReportBefore(3, "bilan", "2026-Q1", 7),
        "report_reminder",
        "report:3:bilan:2026-Q1:remind",
        None,
        ("bilan", "2026-Q1", "before:7"),
    ),
    (
        ReportOverdue(3, "bilan", "2026-Q1"),
        "report_overdue",
        "report:3:bilan:2026-Q1:remind",
        None,
        ("bilan", "2026-Q1", "overdue"),
    ),
    (
        ReportEscalation(3, "bilan", "2026-Q1"),
        "report_escalation",
        "report:3:bilan:2026-Q1:escalate",
        None,
        ("bilan", "2026-Q1", "escalation"),
    ),
    (AnnualReview(3, 2027), "annual_review", "annual:3:2027", None, (None, None, None)),
    (
        ConventionEnd(3, date(2027, 3, 31)),
        "convention_end",
        "convention:3",
        None,
        (None, None, None),
    ),
    (
        ConventionEnding(8, date(2027, 3, 31), 1),
        "convention_end",
        "convention:8:2027-03-31",
        8,
        (None, None, None),
    ),
    (
        PartnerChange(9, True, date(2026, 5, 4)),
        "partner_change",
        "partner_joined:9:2026-05-04",
        9,
        (None, None, None),
    ),
]


@pytest.mark.parametrize(
    ("occasion", "kind", "chain", "subject", "columns"), PLANNED, ids=[p[0].key for p in PLANNED]
)
def test_a_planned_occasion_says_its_kind_chain_subject_and_columns(
    occasion: Planned,
    kind: str,
    chain: str,
    subject: int | None,
    columns: tuple[str | None, ...],
) -> None:
    assert (occasion.kind, occasion.chain, occasion.subject_id, occasion.columns()) == (
        kind,
        chain,
        subject,
        columns,
    )


def _concrete(cls: type) -> set[type]:
    found: set[type] = set()
    subclasses: list[type] = type.__subclasses__(cls)
    for sub in subclasses:
        found |= _concrete(sub)
        if not sub.__name__.startswith("_"):
            found.add(sub)
    return found


def test_every_kind_of_occasion_is_covered() -> None:
    assert {type(o) for o, *_ in PLANNED} == _concrete(Planned)
    assert {type(o) for o, _ in EVERY_KIND} == _concrete(Occasion) - {Planned}


@pytest.mark.parametrize(
    "key",
    [
        "",
        "test:kept",
        "milestone:x:overdue",
        "milestone:12:overdue:extra",
        "report:3:bilan:2026-Q5:request",
        "report:3:Bilan:2026-Q1:request",
        "digest:3:2026-02-30",
        "meeting:7:held:1",
        "group:xyz",
    ],
)
def test_anything_else_is_not_an_occasion(key: str) -> None:
    with pytest.raises(ValueError, match="not an occasion key"):
        parse(key)


def test_a_meeting_changes_in_three_ways_only() -> None:
    with pytest.raises(ValueError, match="scheduled, moved or cancelled"):
        MeetingNotice(7, "held", 1)
    assert [MeetingNotice(7, c, 0).kind for c in ("scheduled", "moved", "cancelled")] == [
        "meeting_invitation",
        "meeting_update",
        "meeting_cancel",
    ]


def test_a_group_key_is_the_digest_of_its_sorted_occasions() -> None:
    import hashlib

    occasions = ["milestone:2:overdue", "milestone:1:before:14"]
    digest = hashlib.sha256(b"milestone:1:before:14|milestone:2:overdue").hexdigest()[:24]
    assert MessageGroup.of(occasions).key == f"group:{digest}"
    assert MessageGroup.of(reversed(occasions)) == MessageGroup.of(occasions)


def test_a_pilot_copy_names_the_late_partner() -> None:
    overdue = ReportOverdue(3, "bilan", "2026-Q1")
    assert overdue.copy_about(41).key == overdue.key + ":41"
    assert quarter_of_period("2026-Q3") == (2026, 3)
    with pytest.raises(ValueError):
        quarter_of_period("2026-3")


def test_the_planner_writes_the_columns_and_cancels_exact_chains(
    engine: Engine, records: Records, db: sa.Engine, clock: FixedClock
) -> None:
    pid = new_mini(engine)
    ready_to_deploy(records, pid)
    clock.set(paris(2026, 6, 15, 10))
    engine.advance(pid, "start_deployment", actor="Anne Martin", comment="COPIL 1 favorable")
    with db.connect() as conn:
        planned = conn.execute(
            sa.select(tables.reminder).where(tables.reminder.c.project_id == pid)
        ).all()
    assert planned
    for row in planned:
        occasion = parse(row.occasion)
        assert isinstance(occasion, Planned)
        assert (row.kind, row.chain, row.subject_id) == (
            occasion.kind,
            occasion.chain,
            occasion.subject_id,
        )
        assert (row.schedule, row.period, row.step) == occasion.columns()
    request = next(r for r in planned if r.kind == "report_request")
    assert (request.schedule, request.period, request.step) == (
        "bilan_trimestriel",
        "2026-Q2",
        "request",
    )
    with db.connect() as conn:
        diagnostic = conn.execute(
            sa.select(tables.milestone.c.id).where(
                tables.milestone.c.project_id == pid, tables.milestone.c.key == "diagnostic"
            )
        ).scalar_one()
    assert len({r.subject_id for r in planned if r.kind.startswith("milestone_")}) > 1
    records.milestone_done(pid, "diagnostic", by="Anne Martin")
    with db.connect() as conn:
        status = dict(
            conn.execute(
                sa.select(tables.reminder.c.occasion, tables.reminder.c.status).where(
                    tables.reminder.c.project_id == pid
                )
            ).all()
        )
    for row in planned:
        cancelled = row.subject_id == diagnostic and row.kind.startswith("milestone_")
        before = row.status
        assert status[row.occasion] == ("cancelled" if cancelled else before), row.occasion
    assert any(r.status == "pending" and r.subject_id == diagnostic for r in planned)
    assert any(r.status == "pending" and r.subject_id != diagnostic for r in planned)


def test_a_meeting_moved_then_held_keeps_only_its_current_reminders(
    engine: Engine, records: Records, db: sa.Engine, clock: FixedClock
) -> None:
    pid = new_mini(engine)
    # a COPIL member to invite (the pilot organises the meeting and is not invited to it)
    records.add_partner(pid, PartnerIn("Asso", "asso@asso.example", "", ("partner", "copil")))
    meeting = records.schedule_meeting(pid, "copil", paris(2026, 6, 12, 14), occurrence="copil_1")
    records.move_meeting(pid, meeting, paris(2026, 6, 19, 14))

    def statuses() -> dict[str, str]:
        with db.connect() as conn:
            return dict(
                conn.execute(
                    sa.select(tables.reminder.c.occasion, tables.reminder.c.status).where(
                        tables.reminder.c.subject_id == meeting,
                        tables.reminder.c.kind.in_(["meeting_reminder", "meeting_minutes_request"]),
                    )
                ).all()
            )

    assert statuses() == {
        f"meeting:{meeting}:s1:before:2": "cancelled",
        f"meeting:{meeting}:s1:minutes": "cancelled",
        f"meeting:{meeting}:s2:before:2": "pending",
        f"meeting:{meeting}:s2:minutes": "pending",
    }
    with db.connect() as conn:
        notices = dict(
            conn.execute(
                sa.select(tables.outbox.c.key, tables.outbox.c.subject_id).where(
                    tables.outbox.c.kind.in_(["meeting_invitation", "meeting_update"])
                )
            ).all()
        )
    # Moved before anything went out: one invitation each, as the meeting now is.
    assert notices and set(notices.values()) == {meeting}
    assert {key.rsplit(":", 1)[0] for key in notices} == {f"meeting:{meeting}:scheduled:2"}
    clock.set(paris(2026, 6, 19, 17))
    records.meeting_held(pid, meeting_id=meeting, held_on=date(2026, 6, 19))
    assert statuses() == {
        f"meeting:{meeting}:s1:before:2": "cancelled",
        f"meeting:{meeting}:s1:minutes": "cancelled",
        f"meeting:{meeting}:s2:before:2": "pending",
        f"meeting:{meeting}:s2:minutes": "cancelled",
    }
