"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import workflow.models  # noqa: F401  (registers the tables)
from workflow.database import migrate


def test_migrations_match_the_models(db: sa.Engine) -> None:
    with db.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert differences == [], "models changed without a migration: " + repr(differences)


def test_migrating_twice_changes_nothing(db: sa.Engine) -> None:
    migrate(db)
    with db.connect() as conn:
        versions = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all()
    assert len(versions) == 1


def _alembic(db: sa.Engine, action: str, revision: str) -> None:
    from alembic import command

    from workflow.database import _alembic_config

    with db.begin() as conn:
        getattr(command, action)(_alembic_config(conn), revision)


def test_0003_fills_the_occasion_columns_of_rows_planned_before(db: sa.Engine) -> None:
    """Rows written by 0002-era code (keys only) get the columns the planner now writes."""
    import hashlib
    from datetime import UTC, date, datetime

    def shortened(key: str) -> str:  # how outbox keys longer than the column were written
        if len(key) > 300:
            key = key[:200] + ":" + hashlib.sha256(key.encode()).hexdigest()[:32]
        return key

    from workflow import tables
    from workflow.database import raw
    from workflow.occasions import Planned, parse

    with db.begin() as conn:
        pid = conn.execute(
            sa.insert(tables.project)
            .values(
                definition_id="mini",
                definition_version=1,
                title="Coopérative 93",
                territory="",
                start_date=date(2026, 5, 4),
                phase="instruction",
                phase_entered_at=datetime(2026, 5, 4, tzinfo=UTC),
                created_at=datetime(2026, 5, 4, tzinfo=UTC),
            )
            .returning(tables.project.c.id)
        ).scalar_one()
    _alembic(db, "downgrade", "0002")
    # What 0002-era code wrote: keys and chains only (2,500 rows: more than one batch).
    old = {
        f"report:{pid}:bilan:2026-Q{q}:{step}": (f"report:{pid}:bilan:2026-Q{q}:remind", "x")
        for q in range(1, 5)
        for step in ("request", "before:14", "before:7", "overdue", "escalation")
    }
    old.update({f"milestone:{m}:before:14": (f"milestone:{m}:remind", "x") for m in range(2_460)})
    old[f"series:{pid}:copil:2026-08-03"] = (f"series:{pid}:copil", "x")
    old["test:kept"] = ("test", "x")  # not an occasion of the planner's: left alone
    due = datetime(2026, 7, 1, 7, tzinfo=UTC)
    invitations = {
        "meeting:7:scheduled:0:a@asso.example.fr": "meeting_invitation",
        "meeting:7:moved:1:a@asso.example.fr": "meeting_update",
        "meeting:" + "8:scheduled:2:" + "b" * 280 + "@asso.example.fr": "meeting_invitation",
        f"transition:{pid}:2:a@asso.example.fr": "phase_changed",
    }
    with db.begin() as conn:
        db_raw = raw(conn)
        db_raw.executemany(
            "INSERT INTO reminder (project_id, occasion, kind, chain, due_at, status)"
            " VALUES (?, ?, ?, ?, ?, 'pending')",
            [(pid, key, kind, chain, db_raw.instant(due)) for key, (chain, kind) in old.items()],
        )
        db_raw.executemany(
            'INSERT INTO outbox ("key", project_id, recipient_name, recipient_email, lang, kind,'
            " items, status, attempts, next_attempt_at, created_at)"
            " VALUES (?, ?, '', 'a@asso.example.fr', 'fr', ?, '[]', 'pending', 0, ?, ?)",
            [
                (shortened(key), pid, kind, db_raw.instant(due), db_raw.instant(due))
                for key, kind in invitations.items()
            ],
        )
    _alembic(db, "upgrade", "head")
    with db.connect() as conn:
        rows = {
            r.occasion: (r.schedule, r.period, r.step)
            for r in conn.execute(sa.select(tables.reminder))
        }
        subjects = dict(
            conn.execute(sa.select(tables.outbox.c.key, tables.outbox.c.subject_id)).all()
        )
    assert len(rows) == len(old) == 2_482
    for key, columns in rows.items():
        occasion = parse(key) if key != "test:kept" else None
        expected = occasion.columns() if isinstance(occasion, Planned) else (None, None, None)
        assert columns == expected, key
    assert rows[f"report:{pid}:bilan:2026-Q3:before:7"] == ("bilan", "2026-Q3", "before:7")
    assert rows["milestone:2459:before:14"] == (None, None, "before:14")
    assert rows[f"series:{pid}:copil:2026-08-03"] == (None, None, None)
    assert {":".join(key.split(":", 4)[:4]): subject for key, subject in subjects.items()} == {
        "meeting:7:scheduled:0": 7,
        "meeting:7:moved:1": 7,
        "meeting:8:scheduled:2": 8,
        f"transition:{pid}:2:a@asso.example.fr": None,
    }


DASHBOARD_INDEXES = {
    "project": {"ix_project_definition_phase", "ix_project_failed_at"},
    "milestone": {"ix_milestone_open_project"},
    "meeting": {"ix_meeting_planned_start"},
    "reminder": {"ix_reminder_report_overdue"},
    "partner": {"ix_partner_project_active"},
}


def _indexes(db: sa.Engine) -> dict[str, set[str]]:
    inspector = sa.inspect(db)
    return {t: {i["name"] or "" for i in inspector.get_indexes(t)} for t in DASHBOARD_INDEXES}


def test_0013_indexes_the_dashboard_over_rows_written_before(db: sa.Engine) -> None:
    """From 0012 with data: the dashboard's indexes are built over the rows already there,
    which stay as they were; down again, they go."""
    from datetime import UTC, date, datetime

    from workflow import tables

    _alembic(db, "downgrade", "0012")
    assert all(not (found & DASHBOARD_INDEXES[t]) for t, found in _indexes(db).items())
    at = datetime(2026, 5, 4, 7, 0, tzinfo=UTC)
    with db.begin() as conn:
        pid = conn.execute(
            sa.insert(tables.project)
            .values(
                definition_id="cooperative",
                definition_version=1,
                title="Coopérative 93",
                territory="Seine-Saint-Denis",
                start_date=date(2026, 5, 4),
                phase="prefiguration",
                phase_entered_at=at,
                failed_at=at,
                failure="boom",
                created_at=at,
            )
            .returning(tables.project.c.id)
        ).scalar_one()
        conn.execute(
            sa.insert(tables.milestone),
            [
                {
                    "project_id": pid,
                    "key": f"m{n}",
                    "label": f"Jalon {n}",
                    "phase": "prefiguration",
                    "responsible_role": "pilot",
                    "due_on": date(2026, 6, n + 1),
                    "done_on": date(2026, 6, 1) if n % 2 else None,
                }
                for n in range(6)
            ],
        )
        conn.execute(
            sa.insert(tables.meeting).values(
                project_id=pid,
                series="copil",
                label="COPIL",
                status="planned",
                starts_at=at,
                attendees=[],
            )
        )
        conn.execute(
            sa.insert(tables.reminder).values(
                project_id=pid,
                occasion=f"report:{pid}:bilan_trimestriel:2026-Q1:overdue",
                kind="report_overdue",
                chain=f"report:{pid}:bilan_trimestriel:2026-Q1",
                due_at=at,
            )
        )
        conn.execute(
            sa.insert(tables.partner).values(
                project_id=pid,
                organisation="Association A",
                contact_name="Awa Diallo",
                email="a@asso.example.fr",
                roles=["partner"],
                lang="fr",
                joined_on=date(2026, 5, 4),
            )
        )
    before = {t: _rows(db, t) for t in DASHBOARD_INDEXES}
    _alembic(db, "upgrade", "head")
    assert all(DASHBOARD_INDEXES[t] <= found for t, found in _indexes(db).items())
    assert {t: _rows_as_before(db, t, before[t]) for t in DASHBOARD_INDEXES} == before
    with db.connect() as conn:
        open_ones = conn.execute(
            sa.select(sa.func.count())
            .select_from(tables.milestone)
            .where(tables.milestone.c.project_id == pid, tables.milestone.c.done_on.is_(None))
        ).scalar_one()
    assert open_ones == 3
    # what the missing reports read of reminders and partners is in their indexes
    columns = {
        i["name"]: i["column_names"]
        for t in ("reminder", "partner")
        for i in sa.inspect(db).get_indexes(t)
    }
    assert columns["ix_reminder_report_overdue"] == [
        "due_at",
        "project_id",
        "schedule",
        "period",
        "kind",
    ]
    assert columns["ix_partner_project_active"][:3] == ["project_id", "joined_on", "left_on"]
    _alembic(db, "downgrade", "0012")
    assert all(not (found & DASHBOARD_INDEXES[t]) for t, found in _indexes(db).items())
    _alembic(db, "upgrade", "head")


def _rows(db: sa.Engine, table: str) -> list[tuple[object, ...]]:
    """The table's rows, the columns it has at the database's revision (a later migration may
    add some: they are compared as they were)."""
    from workflow import tables

    t = getattr(tables, table)
    present = {c["name"] for c in sa.inspect(db).get_columns(t.name)}
    with db.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                sa.select(*(c for c in t.c if c.name in present)).order_by(t.c.id)
            )
        ]


def _rows_as_before(
    db: sa.Engine, table: str, before: list[tuple[object, ...]]
) -> list[tuple[object, ...]]:
    """:func:`_rows` cut to as many columns as ``before`` had (the model's order: columns a
    later migration adds come last)."""
    width = len(before[0]) if before else 0
    return [r[:width] for r in _rows(db, table)]


def test_0014_adds_the_daily_overdue_count_to_a_database_with_projects(db: sa.Engine) -> None:
    """From 0013 with a project in it: 0014 adds ``overdue_daily`` (one row per day and
    programme) and keeps the project; back to 0013 drops only that table."""
    from datetime import UTC, date, datetime

    from workflow import tables

    _alembic(db, "downgrade", "0013")
    with db.begin() as conn:
        assert "overdue_daily" not in sa.inspect(conn).get_table_names()
        pid = conn.execute(
            sa.insert(tables.project)
            .values(
                definition_id="cooperative",
                definition_version=1,
                title="Coopérative 93",
                territory="",
                start_date=date(2026, 5, 4),
                phase="prefiguration",
                phase_entered_at=datetime(2026, 5, 4, tzinfo=UTC),
                created_at=datetime(2026, 5, 4, tzinfo=UTC),
            )
            .returning(tables.project.c.id)
        ).scalar_one()
    _alembic(db, "upgrade", "head")
    row = {
        "day": date(2026, 9, 1),
        "programme": "cooperative",
        "overdue_milestones": 3,
        "missing_reports": 1,
        "late_projects": 1,
        "projects": 1,
        "recorded_at": datetime(2026, 9, 1, 7, tzinfo=UTC),
    }
    with db.begin() as conn:
        conn.execute(sa.insert(tables.overdue_daily).values(row))
        assert conn.execute(sa.select(tables.project.c.id)).scalars().all() == [pid]
    with pytest.raises(sa.exc.IntegrityError), db.begin() as conn:
        conn.execute(sa.insert(tables.overdue_daily).values(row))  # one row per day and programme
    _alembic(db, "downgrade", "0013")
    with db.connect() as conn:
        assert "overdue_daily" not in sa.inspect(conn).get_table_names()
        assert conn.execute(sa.select(tables.project.c.id)).scalars().all() == [pid]
    _alembic(db, "upgrade", "head")


def test_0015_turns_stored_families_into_their_kinds_and_back(db: sa.Engine) -> None:
    """A choice stored per family (meetings, news) before preferences were per kind keeps its
    effect: every kind of the family; going back keeps the families wholly chosen."""
    from datetime import UTC, datetime

    from workflow import tables
    from workflow.database import read
    from workflow.preferences import FAMILIES, load

    _alembic(db, "downgrade", "0014")
    now = datetime(2026, 11, 30, 9, tzinfo=UTC)
    with db.begin() as conn:
        for email, chosen in (
            ("a@asso.example.fr", ["meetings", "news"]),
            ("b@asso.example.fr", []),
        ):
            conn.execute(
                sa.insert(tables.preference).values(
                    email=email, lang="fr", digest_kinds=chosen, updated_at=now
                )
            )
    _alembic(db, "upgrade", "head")
    with read(db) as conn:
        stored = {
            row.email: row.digest_kinds
            for row in conn.execute(
                sa.select(tables.preference.c.email, tables.preference.c.digest_kinds)
            )
        }
        a = load(conn, "a@asso.example.fr")
    assert sorted(stored["a@asso.example.fr"]) == sorted(FAMILIES["meetings"] + FAMILIES["news"])
    assert stored["b@asso.example.fr"] == []
    assert a.holds(["meeting_invitation", "partner_joined"]) and not a.holds(["report_request"])
    _alembic(db, "downgrade", "0014")
    with read(db) as conn:
        back = conn.execute(
            sa.select(tables.preference.c.digest_kinds).where(
                tables.preference.c.email == "a@asso.example.fr"
            )
        ).scalar_one()
    assert back == ["meetings", "news"]
    _alembic(db, "upgrade", "head")


def test_0016_sets_each_project_s_earliest_open_milestone(db: sa.Engine) -> None:
    """From 0015 with two projects: 0016 sets ``open_due`` to the earliest due date of the
    milestones not done (NULL for the project whose milestones are all done) and indexes it;
    back to 0015 drops the column and its indexes, the projects stay."""
    from datetime import UTC, date, datetime

    from workflow import tables

    _alembic(db, "downgrade", "0015")
    at = datetime(2026, 5, 4, 7, 0, tzinfo=UTC)
    project = {c.name for c in tables.project.c} - {"open_due", "id"}
    ids = []
    with db.begin() as conn:
        for title in ("Ouvert", "Tout fait"):
            values = {
                "definition_id": "cooperative",
                "definition_version": 1,
                "title": title,
                "territory": "",
                "start_date": date(2026, 5, 4),
                "phase": "prefiguration",
                "phase_entered_at": at,
                "created_at": at,
                "version": 1,
                "lang": "fr",
            }
            assert set(values) <= project
            ids.append(
                conn.execute(
                    sa.insert(tables.project).values(values).returning(tables.project.c.id)
                ).scalar_one()
            )
        conn.execute(
            sa.insert(tables.milestone),
            [
                {
                    "project_id": pid,
                    "key": f"m{n}",
                    "label": f"Jalon {n}",
                    "phase": "prefiguration",
                    "responsible_role": "pilot",
                    "due_on": date(2026, 6, 10 - n),
                    # the first project: the two earliest done, so its earliest open is June 8
                    "done_on": date(2026, 6, 1) if pid == ids[1] or n >= 3 else None,
                }
                for pid in ids
                for n in range(5)
            ],
        )
    _alembic(db, "upgrade", "head")
    with db.connect() as conn:
        found = dict(conn.execute(sa.select(tables.project.c.id, tables.project.c.open_due)).all())
    assert found == {ids[0]: date(2026, 6, 8), ids[1]: None}
    names = {i["name"] for i in sa.inspect(db).get_indexes("project")}
    assert {"ix_project_open_due", "ix_project_title"} <= names
    _alembic(db, "downgrade", "0015")
    columns = {c["name"] for c in sa.inspect(db).get_columns("project")}
    names = {i["name"] for i in sa.inspect(db).get_indexes("project")}
    assert "open_due" not in columns and not names & {"ix_project_open_due", "ix_project_title"}
    with db.connect() as conn:
        assert sorted(conn.execute(sa.select(tables.project.c.id)).scalars()) == sorted(ids)
    _alembic(db, "upgrade", "head")


def test_0020_counts_the_open_milestones_of_the_projects_in_progress_per_day(
    db: sa.Engine,
) -> None:
    """From 0019 with a project in progress, a suspended one and a closed one: 0020 counts
    per programme and day the open milestones of the first alone; back to 0019 drops the
    table, the milestones stay."""
    from datetime import UTC, date, datetime

    from workflow import tables

    _alembic(db, "downgrade", "0019")
    at = datetime(2026, 5, 4, 7, 0, tzinfo=UTC)
    ids = []
    with db.begin() as conn:
        for phase in ("prefiguration", "suspendu", "cloture"):
            ids.append(
                conn.execute(
                    sa.insert(tables.project)
                    .values(
                        definition_id="cooperative",
                        definition_version=1,
                        title=phase,
                        territory="",
                        start_date=date(2026, 5, 4),
                        phase=phase,
                        suspended_from="prefiguration" if phase == "suspendu" else None,
                        phase_entered_at=at,
                        created_at=at,
                        version=1,
                        lang="fr",
                    )
                    .returning(tables.project.c.id)
                ).scalar_one()
            )
        conn.execute(
            sa.insert(tables.milestone),
            [
                {
                    "project_id": pid,
                    "key": f"m{n}",
                    "label": f"Jalon {n}",
                    "phase": "prefiguration",
                    "responsible_role": "pilot",
                    "due_on": date(2026, 6, 1 + n % 2),  # two on June 1, two on June 2
                    "done_on": date(2026, 6, 1) if n == 0 else None,  # one done
                }
                for pid in ids
                for n in range(4)
            ],
        )
    _alembic(db, "upgrade", "head")
    t = tables.due_tally.c
    with db.connect() as conn:
        found = set(conn.execute(sa.select(t.definition_id, t.due_on, t.open_milestones)))
    assert found == {("cooperative", date(2026, 6, 1), 1), ("cooperative", date(2026, 6, 2), 2)}
    _alembic(db, "downgrade", "0019")
    assert "due_tally" not in sa.inspect(db).get_table_names()
    with db.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(tables.milestone)).scalar() == 12
    _alembic(db, "upgrade", "head")


def test_0017_tallies_each_project_s_copil_meetings_per_year(db: sa.Engine) -> None:
    """From 0016 with meetings: 0017 counts per project and year the COPIL meetings held or
    planned (a held one in the year it was held, a planned one in the year of its start in
    Paris: 31 December 23:30 UTC is already 1 January there), not the cancelled ones nor
    other series; back to 0016 drops the table, the meetings stay."""
    from datetime import UTC, date, datetime

    from workflow import tables

    _alembic(db, "downgrade", "0016")
    at = datetime(2026, 5, 4, 7, 0, tzinfo=UTC)
    with db.begin() as conn:
        pid = conn.execute(
            sa.insert(tables.project)
            .values(
                definition_id="cooperative",
                definition_version=1,
                title="Coopérative 93",
                territory="",
                start_date=date(2025, 5, 4),
                phase="prefiguration",
                phase_entered_at=at,
                created_at=at,
            )
            .returning(tables.project.c.id)
        ).scalar_one()
        meetings = [
            ("copil", "held", date(2025, 12, 1), at),  # held in 2025, whatever its start
            ("copil", "planned", None, datetime(2025, 12, 31, 23, 30, tzinfo=UTC)),  # 2026
            ("copil", "planned", None, datetime(2026, 9, 1, 12, tzinfo=UTC)),
            ("copil", "cancelled", None, datetime(2026, 10, 1, 12, tzinfo=UTC)),
            ("copil", "expected", None, None),
            ("coordination", "held", date(2026, 3, 1), at),
        ]
        conn.execute(
            sa.insert(tables.meeting),
            [
                {
                    "project_id": pid,
                    "series": series,
                    "label": f"{series} {n}",
                    "status": status,
                    "held_on": held_on,
                    "starts_at": starts_at,
                    "attendees": [],
                    "location": "",
                    "sequence": 0,
                }
                for n, (series, status, held_on, starts_at) in enumerate(meetings)
            ],
        )
    _alembic(db, "upgrade", "head")
    with db.connect() as conn:
        rows = conn.execute(
            sa.select(
                tables.copil_tally.c.year,
                tables.copil_tally.c.definition_id,
                tables.copil_tally.c.planned,
                tables.copil_tally.c.held,
            ).where(tables.copil_tally.c.project_id == pid)
        ).all()
    assert sorted(tuple(r) for r in rows) == [
        (2025, "cooperative", 1, 1),
        (2026, "cooperative", 2, 0),
    ]
    _alembic(db, "downgrade", "0016")
    with db.connect() as conn:
        assert "copil_tally" not in sa.inspect(conn).get_table_names()
        assert conn.execute(sa.select(sa.func.count()).select_from(tables.meeting)).scalar() == 6
    _alembic(db, "upgrade", "head")


def test_0019_writes_the_reports_owed_by_the_partners_of_reminders_planned_before(
    db: sa.Engine,
) -> None:
    """From 0018 with a project whose Q1 report is overdue: 0019 writes one owed row per
    partner holding the role that owes it (the shipped coopérative: ``partner``), received
    where a report was sent, with the project's and partner's columns; down again, it goes."""
    from datetime import UTC, date, datetime

    from workflow import tables

    _alembic(db, "downgrade", "0018")
    at = datetime(2026, 5, 4, 7, 0, tzinfo=UTC)
    with db.begin() as conn:
        assert "owed_report" not in sa.inspect(conn).get_table_names()
        pid = conn.execute(
            sa.insert(tables.project)
            .values(
                definition_id="cooperative",
                definition_version=1,
                title="Coopérative 93",
                territory="Seine-Saint-Denis",
                start_date=date(2025, 5, 4),
                phase="mise_en_oeuvre",
                phase_entered_at=at,
                created_at=at,
            )
            .returning(tables.project.c.id)
        ).scalar_one()
        partners = {
            name: conn.execute(
                sa.insert(tables.partner)
                .values(
                    project_id=pid,
                    organisation=name,
                    contact_name=name,
                    email=f"{name.lower()}@asso.example.fr",
                    roles=roles,
                    lang="fr",
                    joined_on=date(2025, 5, 4),
                    left_on=date(2026, 9, 1) if name == "Beta" else None,
                )
                .returning(tables.partner.c.id)
            ).scalar_one()
            for name, roles in (("Alpha", ["partner"]), ("Beta", ["partner"]), ("Pia", ["pilot"]))
        }
        conn.execute(
            sa.insert(tables.reminder).values(
                project_id=pid,
                occasion=f"report:{pid}:bilan_trimestriel:2026-Q1:overdue",
                kind="report_overdue",
                chain=f"report:{pid}:bilan_trimestriel:2026-Q1",
                schedule="bilan_trimestriel",
                period="2026-Q1",
                step="overdue",
                due_at=at,
            )
        )
        conn.execute(
            sa.insert(tables.report).values(
                project_id=pid,
                partner_id=partners["Alpha"],
                schedule="bilan_trimestriel",
                period="2026-Q1",
                submitted_at=at,
                content={},
            )
        )
    _alembic(db, "upgrade", "head")
    o = tables.owed_report.c
    with db.connect() as conn:
        owed = conn.execute(
            sa.select(
                o.partner_id,
                o.period,
                o.overdue_at,
                o.received_at,
                o.phase,
                o.territory,
                o.project_title,
                o.partner_organisation,
                o.partner_left_on,
            ).order_by(o.partner_id)
        ).all()
    assert [tuple(r) for r in owed] == [
        (partners["Alpha"], "2026-Q1", at, at, "mise_en_oeuvre", "Seine-Saint-Denis",
         "Coopérative 93", "Alpha", None),
        (partners["Beta"], "2026-Q1", at, None, "mise_en_oeuvre", "Seine-Saint-Denis",
         "Coopérative 93", "Beta", date(2026, 9, 1)),
    ]  # fmt: skip
    # 0021 counts Beta's report as missing from the reminder's day to Beta's leaving day
    t = tables.owed_tally.c
    with db.connect() as conn:
        events = set(conn.execute(sa.select(t.definition_id, t.definition_version, t.day, t.delta)))
    assert events == {
        ("cooperative", 1, date(2026, 5, 4), 1),
        ("cooperative", 1, date(2026, 9, 1), -1),
    }
    _alembic(db, "downgrade", "0018")
    with db.connect() as conn:
        assert "owed_report" not in sa.inspect(conn).get_table_names()
        assert "owed_tally" not in sa.inspect(conn).get_table_names()
    _alembic(db, "upgrade", "head")
