"""The portfolio: the agency's dashboard (and any JSON view that wants the same figures).

The agency's dashboard reads 10,000 projects and a million milestones: every list here is
one SQL query with ``LIMIT``/``OFFSET`` plus one ``COUNT``, and every count is a
``GROUP BY``; Python only finishes the rows of the page shown (role labels, who holds the
role). The overdue milestones are read through the partial index ``ix_milestone_open_due``
(open milestones by due date), so page 1 costs the same whatever the size of the portfolio.

Only projects *in progress* (:mod:`workflow.progress`) have anything late; what is late
besides milestones is computed there, for the rows of the page.
"""

from __future__ import annotations

import weakref
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from math import ceil
from typing import Any, Generic, TypeVar

import sqlalchemy as sa

from workflow import tables
from workflow.calendar import paris_date
from workflow.database import read
from workflow.engine import Engine
from workflow.planner import quarter_end
from workflow.progress import in_progress, in_progress_clause, overdue_by_project
from workflow.sweep import resolve_due

__all__ = [
    "PAGE_SIZE",
    "PORTFOLIO_SORTS",
    "Filters",
    "MissingReport",
    "OverdueMilestone",
    "Page",
    "PhaseCount",
    "PortfolioPage",
    "ProjectLine",
    "Sort",
    "Tiles",
    "UpcomingMeeting",
    "eligible_projects",
    "late_projects",
    "missing_reports",
    "overdue_counts",
    "overdue_milestones",
    "phase_counts",
    "portfolio",
    "project_count",
    "read_sort",
    "territories",
    "upcoming_meetings",
]


PAGE_SIZE = 50
T = TypeVar("T")

_BUILT: weakref.WeakKeyDictionary[Engine, dict[str, tuple[tuple[tuple[str, int], ...], Any]]] = (
    weakref.WeakKeyDictionary()
)


def _built(engine: Engine, name: str, build: Callable[[], Any]) -> Any:
    """A part of the statements that only the loaded definitions decide (which phases are
    terminal, who owes which report, the programmes' and phases' order): built once per
    engine, and again only when a definition is added. The statements around it change
    with the filters; SQLAlchemy compiles each shape once (its compiled cache)."""
    signature = tuple((d.id, d.version) for d in engine.registry)
    parts = _BUILT.setdefault(engine, {})
    found = parts.get(name)
    if found is None or found[0] != signature:
        found = parts[name] = (signature, build())
    return found[1]


@dataclass(frozen=True)
class Filters:
    """The dashboard's filters; empty strings mean "all"."""

    programme: str = ""
    territory: str = ""
    phase: str = ""

    def conditions(self, *, with_phase: bool = True, table: sa.Table | None = None) -> list[Any]:
        """On ``project`` (``table``: another carrying its ``definition_id``, ``territory``
        and ``phase``, such as ``owed_report``)."""
        c = (tables.project if table is None else table).c
        found = []
        if self.programme:
            found.append(c.definition_id == self.programme)
        if self.territory:
            found.append(c.territory == self.territory)
        if self.phase and with_phase:
            found.append(c.phase == self.phase)
        return found

    def params(self) -> dict[str, str]:
        return {k: v for k, v in vars(self).items() if v}


@dataclass(frozen=True)
class Page(Generic[T]):
    rows: list[T]
    total: int
    number: int
    size: int = PAGE_SIZE

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.size))

    @property
    def first(self) -> int:
        """1-based position of the first row shown (0 when empty)."""
        return (self.number - 1) * self.size + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return (self.number - 1) * self.size + len(self.rows)


def _offset(number: int, size: int) -> int:
    return (max(1, number) - 1) * size


def _programme(engine: Engine, row: Any) -> str:
    definition = engine.shown_definition(row.definition_id, row.definition_version)
    variant = next((v.label for v in definition.variants if v.key == row.variant), None)
    return f"{definition.title} — {variant}" if variant else definition.title


def _phase_label(engine: Engine, row: Any) -> str:
    return engine.shown_definition(row.definition_id, row.definition_version).phase_label(row.phase)


def _projects(conn: sa.Connection, ids: Iterable[int]) -> dict[int, Any]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    return {
        p.id: p
        for p in conn.execute(
            sa.select(
                tables.project.c.id,
                tables.project.c.title,
                tables.project.c.territory,
                tables.project.c.definition_id,
                tables.project.c.definition_version,
                tables.project.c.variant,
            ).where(tables.project.c.id.in_(wanted))
        )
    }


def _holders(conn: sa.Connection, project_ids: Iterable[int], today: date) -> dict[int, list[Any]]:
    """Active partner rows of these projects (joined, not left on ``today``), by project."""
    found: dict[int, list[Any]] = defaultdict(list)
    ids = sorted(set(project_ids))
    if not ids:
        return found
    for p in conn.execute(
        sa.select(
            tables.partner.c.id,
            tables.partner.c.project_id,
            tables.partner.c.organisation,
            tables.partner.c.roles,
        )
        .where(
            tables.partner.c.project_id.in_(ids),
            tables.partner.c.joined_on <= today,
            sa.or_(tables.partner.c.left_on.is_(None), tables.partner.c.left_on > today),
        )
        .order_by(tables.partner.c.id)
    ):
        found[p.project_id].append(p)
    return found


# -- the portfolio -------------------------------------------------------------------------


@dataclass(frozen=True)
class ProjectLine:
    id: int
    title: str
    definition_id: str
    programme: str
    territory: str
    phase: str
    phase_label: str
    in_progress: bool
    next_deadline: date | None
    next_deadline_label: str | None
    overdue: int
    days_late: int = 0  # since the oldest open milestone past its date (in progress only)


@dataclass(frozen=True)
class PhaseCount:
    definition_id: str
    programme: str
    phase: str
    phase_label: str
    count: int


@dataclass(frozen=True)
class Sort:
    """A table's order: a column key (one of the table's sorts) and its direction."""

    key: str
    descending: bool = False

    @property
    def param(self) -> str:
        """The query-parameter value: ``late`` or ``-late`` (descending)."""
        return f"-{self.key}" if self.descending else self.key

    def flipped(self) -> Sort:
        return Sort(self.key, not self.descending)


PORTFOLIO_SORTS = ("late", "title", "programme", "territory", "phase")
"""The portfolio's sortable columns. ``late``: days since the oldest open milestone past its
date (0 for a project not in progress); ``programme`` by the programmes' titles; ``phase``
by programme, then the phase's place in its lifecycle (suspended and abandoned last)."""


# The dashboard and its exports: the most days late first.
DASHBOARD_SORT = Sort("late", descending=True)


def read_sort(value: str, allowed: Sequence[str], default: Sort) -> Sort:
    """The ``sort`` query parameter (``key`` or ``-key``); anything else is the default."""
    key = value[1:] if value.startswith("-") else value
    return Sort(key, value.startswith("-")) if key in allowed else default


def _late_by_project(engine: Engine, today: date, filters: Filters) -> Any:
    """Per project in progress passing the filters: its oldest open milestone past its date
    (``oldest``) and how many (``late``), read from ``ix_milestone_open_due`` alone."""
    # Grouped by ``project_id + 0``: grouping by the bare column, SQLite would read every
    # milestone through ix_milestone_project_id to get them in order (65 ms at 500 projects)
    # instead of the overdue ones through the partial index, then sort those few.
    # (the CAST gives the column an integer affinity again, so that SQLite indexes the
    # materialised rows to join them to ``project``).
    project = sa.cast(tables.milestone.c.project_id + 0, sa.Integer).label("project_id")
    return (
        sa.select(
            project,
            sa.func.min(tables.milestone.c.due_on).label("oldest"),
            sa.func.count().label("late"),
        )
        .where(*_overdue_where(engine, today, filters, few=False))
        .group_by(project)
        .cte("late_projects")
    )


def _programme_rank(engine: Engine) -> Any:
    """The programmes in the order of their titles, as a SQL expression on ``project``."""
    titles = sorted(engine.registry.latest(), key=lambda d: (d.title, d.id))
    return sa.case(
        {d.id: n for n, d in enumerate(titles)},
        value=tables.project.c.definition_id,
        else_=len(titles),
    )


def _phase_rank(engine: Engine) -> Any:
    """Each phase's place in its definition's lifecycle, as a SQL expression on ``project``."""
    whens = [
        (
            sa.and_(tables.project.c.definition_id == d.id, tables.project.c.phase == phase.key),
            n,
        )
        for d in engine.registry.latest()
        for n, phase in enumerate(d.phases)
    ]
    return sa.case(*whens, else_=len(whens)) if whens else sa.literal(0)


def _portfolio_order(engine: Engine, sort: Sort, late: Any) -> list[Any]:
    project = tables.project.c
    if sort.key == "late":
        # days late descending: the oldest date first, projects with nothing late last
        if sort.descending:
            columns = [late.c.oldest.is_(None), late.c.oldest, project.title]
        else:
            columns = [late.c.oldest.is_not(None), late.c.oldest.desc(), project.title]
    else:
        by = {
            "title": [project.title],
            "programme": [
                _built(engine, "programmes", lambda: _programme_rank(engine)),
                project.variant,
            ],
            "territory": [project.territory],
            "phase": [
                _built(engine, "programmes", lambda: _programme_rank(engine)),
                _built(engine, "phases", lambda: _phase_rank(engine)),
            ],
        }[sort.key]
        columns = [c.desc() for c in by] if sort.descending else list(by)
        columns.append(project.title)
    return [*columns, project.id]


@dataclass(frozen=True)
class PortfolioPage(Page[ProjectLine]):
    late_projects: int = 0
    """How many projects passing the filters (``readable`` aside) have a milestone past its
    date: counted in the page's own statement, from the same aggregate."""


def portfolio(
    engine: Engine,
    today: date,
    filters: Filters = Filters(),
    page: int = 1,
    *,
    readable: set[int] | None = None,
    size: int = PAGE_SIZE,
    sort: Sort = Sort("title"),  # the dashboard: Sort("late", descending=True)
    late_only: bool = False,
) -> PortfolioPage:
    """Projects (all, or the ``readable`` ones; ``late_only``: those with a milestone past its
    date), in ``sort`` order (one of :data:`PORTFOLIO_SORTS`), with next deadline, days late
    and overdue count. Sorted and paged in SQL."""
    where = filters.conditions()
    if readable is not None:
        where.append(tables.project.c.id.in_(sorted(readable)) if readable else sa.false())
    late = _late_by_project(engine, today, filters)
    joined = (
        tables.project.join(late, late.c.project_id == tables.project.c.id)
        if late_only
        else tables.project.outerjoin(late, late.c.project_id == tables.project.c.id)
    )
    with read(engine.db) as conn:
        total = conn.execute(
            sa.select(sa.func.count())
            .select_from(joined if late_only else tables.project)
            .where(*where)
        ).scalar_one()
        # the late projects' count rides along: the aggregate (a CTE used twice) is
        # computed once for both
        late_total = sa.select(sa.func.count()).select_from(late).scalar_subquery()
        rows = conn.execute(
            sa.select(tables.project, late.c.oldest, late_total.label("late_total"))
            .select_from(joined)
            .where(*where)
            .order_by(*_portfolio_order(engine, sort, late))
            .limit(size)
            .offset(_offset(page, size))
        ).all()
        ids = [r.id for r in rows]
        nxt: dict[int, tuple[date, str]] = {}
        if ids:
            rank = (
                sa.func.row_number()
                .over(
                    partition_by=tables.milestone.c.project_id,
                    order_by=(tables.milestone.c.due_on, tables.milestone.c.id),
                )
                .label("rank")
            )
            soonest = (
                sa.select(
                    tables.milestone.c.project_id,
                    tables.milestone.c.label,
                    tables.milestone.c.due_on,
                    rank,
                )
                .where(
                    tables.milestone.c.project_id.in_(ids),
                    tables.milestone.c.done_on.is_(None),
                    tables.milestone.c.due_on >= today,
                )
                .subquery()
            )
            for pid, label, due in conn.execute(
                sa.select(soonest.c.project_id, soonest.c.label, soonest.c.due_on).where(
                    soonest.c.rank == 1
                )
            ):
                nxt[pid] = (due, label)
        counts = overdue_counts(conn, engine, rows, today)
        late_count = (
            rows[0].late_total
            if rows
            else conn.execute(sa.select(sa.func.count()).select_from(late)).scalar_one()
        )
    lines = [
        ProjectLine(
            id=r.id,
            title=r.title,
            definition_id=r.definition_id,
            programme=_programme(engine, r),
            territory=r.territory,
            phase=r.phase,
            phase_label=_phase_label(engine, r),
            in_progress=in_progress(engine, r),
            next_deadline=nxt[r.id][0] if r.id in nxt else None,
            next_deadline_label=nxt[r.id][1] if r.id in nxt else None,
            overdue=counts.get(r.id, 0),
            days_late=(today - r.oldest).days if r.oldest is not None else 0,
        )
        for r in rows
    ]
    return PortfolioPage(lines, total, max(1, page), size, late_projects=int(late_count))


@dataclass(frozen=True)
class Tiles:
    """The dashboard's summary figures (each the total of the list its tile links to)."""

    projects: int
    late_projects: int
    overdue: int
    missing_reports: int
    meetings: int


def project_count(engine: Engine, filters: Filters = Filters()) -> int:
    """How many projects pass the filters (served by the project table's indexes)."""
    with read(engine.db) as conn:
        return int(
            conn.execute(
                sa.select(sa.func.count()).select_from(tables.project).where(*filters.conditions())
            ).scalar_one()
        )


def late_projects(engine: Engine, today: date, filters: Filters = Filters()) -> int:
    """How many projects in progress passing the filters have a milestone past its date."""
    with read(engine.db) as conn:
        return int(
            conn.execute(
                sa.select(sa.func.count()).select_from(_late_by_project(engine, today, filters))
            ).scalar_one()
        )


def phase_counts(
    engine: Engine, filters: Filters = Filters(), readable: set[int] | None = None
) -> list[PhaseCount]:
    """Projects per programme and phase (the phase filter is left out: it picks one of these)."""
    where = filters.conditions(with_phase=False)
    if readable is not None:
        where.append(tables.project.c.id.in_(sorted(readable)) if readable else sa.false())
    with read(engine.db) as conn:
        grouped = conn.execute(
            sa.select(tables.project.c.definition_id, tables.project.c.phase, sa.func.count())
            .where(*where)
            .group_by(tables.project.c.definition_id, tables.project.c.phase)
        ).all()
    found = []
    for definition_id, phase, count in grouped:
        try:
            definition = engine.definition(definition_id)
        except LookupError:
            continue  # a definition no longer loaded: nothing to label it with
        found.append(
            PhaseCount(definition_id, definition.title, phase, definition.phase_label(phase), count)
        )
    order = {d.id: [p.key for p in d.phases] for d in engine.registry.latest()}

    def rank(c: PhaseCount) -> tuple[str, int]:
        phases = order.get(c.definition_id, [])
        return c.programme, phases.index(c.phase) if c.phase in phases else len(phases)

    return sorted(found, key=rank)


def territories(engine: Engine) -> list[str]:
    with read(engine.db) as conn:
        return [
            t
            for (t,) in conn.execute(
                sa.select(tables.project.c.territory)
                .where(tables.project.c.territory != "")
                .distinct()
                .order_by(tables.project.c.territory)
            )
        ]


# -- what is late ------------------------------------------------------------------------


def overdue_counts(
    conn: sa.Connection, engine: Engine, rows: Sequence[Any], today: date
) -> dict[int, int]:
    """How many overdue items each of these project rows has (milestones counted in SQL)."""
    active = [r.id for r in rows if in_progress(engine, r)]
    if not active:
        return {}
    counts: dict[int, int] = dict(
        conn.execute(
            sa.select(tables.milestone.c.project_id, sa.func.count())
            .where(
                tables.milestone.c.project_id.in_(active),
                tables.milestone.c.done_on.is_(None),
                tables.milestone.c.due_on < today,
            )
            .group_by(tables.milestone.c.project_id)
        ).all()
    )
    for pid, items in overdue_by_project(conn, engine, rows, today, milestones=False).items():
        counts[pid] = counts.get(pid, 0) + len(items)
    return counts


@dataclass(frozen=True)
class OverdueMilestone:
    milestone_id: int
    project_id: int
    project_title: str
    programme: str
    territory: str
    key: str
    label: str
    deliverable: str | None
    due_on: date
    days_late: int
    responsible_role: str
    responsible: str
    holders: tuple[str, ...]


def eligible_projects(engine: Engine, filters: Filters) -> Any:
    """``SELECT id FROM project`` of the projects in progress that pass the filters."""
    in_progress = _built(engine, "in_progress", lambda: in_progress_clause(engine))
    return sa.select(tables.project.c.id).where(in_progress, *filters.conditions())


FEW_PROJECTS = 200
"""Up to this many eligible projects, their milestones are read project by project."""


def _overdue_where(engine: Engine, today: date, filters: Filters, few: bool) -> list[Any]:
    # Two plans. Many eligible projects (no filter, a programme, a phase): walk the partial
    # index of open milestones by due date; ``project_id + 0`` keeps any index on project_id
    # from serving the term (without statistics SQLite would rather read every milestone
    # of every eligible project through ix_milestone_project_id: 1.8 s instead of ~0.1 s
    # at 10,000 projects). Few (a territory): read those projects' milestones through
    # ix_milestone_project_id, a few thousand rows. Either way the project conditions are
    # one ``IN (SELECT ...)``, built once, not a join evaluated per milestone.
    project = tables.milestone.c.project_id if few else tables.milestone.c.project_id + 0
    return [
        tables.milestone.c.done_on.is_(None),
        tables.milestone.c.due_on < today,
        project.in_(eligible_projects(engine, filters)),
    ]


def overdue_milestones(
    engine: Engine,
    today: date,
    filters: Filters = Filters(),
    page: int = 1,
    *,
    size: int = PAGE_SIZE,
) -> Page[OverdueMilestone]:
    """Open milestones past their date in projects in progress, the latest first (most days
    late), with the responsible role and the partners holding it."""
    with read(engine.db) as conn:
        few = bool(filters.params()) and (
            conn.execute(
                sa.select(sa.func.count()).select_from(
                    eligible_projects(engine, filters).subquery()
                )
            ).scalar_one()
            <= FEW_PROJECTS
        )
        where = _overdue_where(engine, today, filters, few)
        total = conn.execute(
            sa.select(sa.func.count()).select_from(tables.milestone).where(*where)
        ).scalar_one()
        rows = conn.execute(
            sa.select(
                tables.milestone.c.id,
                tables.milestone.c.project_id,
                tables.milestone.c.key,
                tables.milestone.c.label,
                tables.milestone.c.deliverable,
                tables.milestone.c.due_on,
                tables.milestone.c.responsible_role,
            )
            .where(*where)
            .order_by(tables.milestone.c.due_on, tables.milestone.c.id)
            .limit(size)
            .offset(_offset(page, size))
        ).all()
        projects = _projects(conn, {r.project_id for r in rows})
        holders = _holders(conn, projects, today)
    found = []
    for r in rows:
        project = projects[r.project_id]
        definition = engine.shown_definition(project.definition_id, project.definition_version)
        found.append(
            OverdueMilestone(
                milestone_id=r.id,
                project_id=r.project_id,
                project_title=project.title,
                programme=_programme(engine, project),
                territory=project.territory,
                key=r.key,
                label=r.label,
                deliverable=r.deliverable,
                due_on=r.due_on,
                days_late=(today - r.due_on).days,
                responsible_role=r.responsible_role,
                responsible=definition.role_label(r.responsible_role),
                holders=tuple(
                    p.organisation
                    for p in holders.get(r.project_id, [])
                    if r.responsible_role in (p.roles or [])
                ),
            )
        )
    return Page(found, total, max(1, page), size)


# -- missing quarterly reports -------------------------------------------------------------


@dataclass(frozen=True)
class MissingReport:
    project_id: int
    project_title: str
    territory: str
    partner_id: int
    partner: str
    schedule: str
    report_label: str
    period: str
    due_on: date
    days_late: int


# Literals, not bound parameters: SQLite uses a partial index only when the query's own
# terms say what its WHERE says.
_OPEN = tables.owed_report.c.received_at.is_(None)
_PLANNED = tables.meeting.c.status == sa.literal_column("'planned'")


def _loaded_reports(engine: Engine) -> Any:
    """The rows of projects whose definition version is loaded and asks for reports: a
    project left on a version no longer loaded lists none (its due work is flagged), as
    before the rows were kept."""
    owed = tables.owed_report.c
    return sa.or_(
        sa.false(),
        *(
            sa.and_(owed.definition_id == d.id, owed.definition_version == d.version)
            for d in engine.registry
            if d.reports
        ),
    )


def missing_reports(
    engine: Engine,
    now: datetime,
    filters: Filters = Filters(),
    page: int = 1,
    *,
    size: int = PAGE_SIZE,
) -> Page[MissingReport]:
    """Quarterly reports requested, past their date, and not received from a partner who owes
    them, the oldest first.

    Who owes which report is kept in ``owed_report`` (:mod:`workflow.owed_reports`, the one
    home of that rule): a row per partner holding the role that owes a period's report,
    from the time of the period's ``report_overdue`` reminder (the due date plus the
    programme's grace). It is missing from then on, while not received, the project in
    progress and the partner active today.
    """
    today = paris_date(now)
    owed = tables.owed_report
    where = [
        _OPEN,
        owed.c.overdue_at <= now,
        # the row carries the project's programme, version, phase and territory and the
        # partner's dates: the count reads ix_owed_report_open alone, never a project row
        _built(engine, "owed_in_progress", lambda: in_progress_clause(engine, owed)),
        _built(engine, "owed_loaded", lambda: _loaded_reports(engine)),
        *filters.conditions(table=owed),
        owed.c.partner_joined_on <= today,
        sa.or_(owed.c.partner_left_on.is_(None), owed.c.partner_left_on > today),
    ]
    with read(engine.db) as conn:
        total = conn.execute(
            sa.select(sa.func.count()).select_from(owed).where(*where)
        ).scalar_one()
        # The page walks ix_owed_report_open in its order (the reminder's time, the
        # project's title, the partner's organisation and id) and stops after the page.
        rows = (
            conn.execute(
                sa.select(
                    owed.c.schedule,
                    owed.c.period,
                    owed.c.project_id,
                    owed.c.project_title,
                    owed.c.territory,
                    owed.c.definition_id,
                    owed.c.definition_version,
                    owed.c.partner_id,
                    owed.c.partner_organisation,
                )
                .where(*where)
                .order_by(
                    owed.c.overdue_at,
                    owed.c.project_title,
                    owed.c.partner_organisation,
                    owed.c.partner_id,
                )
                .limit(size)
                .offset(_offset(page, size))
            ).all()
            if total > _offset(page, size)
            else []
        )
    found = []
    for r in rows:
        key, period = r.schedule, r.period
        definition = engine.shown_definition(r.definition_id, r.definition_version)
        spec = next(s for s in definition.reports if s.key == key)
        year, quarter = int(period[:4]), int(period[-1])
        due = resolve_due(quarter_end(year, quarter), spec, definition).due
        found.append(
            MissingReport(
                project_id=r.project_id,
                project_title=r.project_title,
                territory=r.territory,
                partner_id=r.partner_id,
                partner=r.partner_organisation,
                schedule=key,
                report_label=spec.label,
                period=period,
                due_on=due,
                days_late=(today - due).days,
            )
        )
    return Page(found, total, max(1, page), size)


# -- meetings ahead ----------------------------------------------------------------------


@dataclass(frozen=True)
class UpcomingMeeting:
    meeting_id: int
    project_id: int
    project_title: str
    territory: str
    label: str
    starts_at: datetime
    location: str


def upcoming_meetings(
    engine: Engine,
    now: datetime,
    filters: Filters = Filters(),
    page: int = 1,
    *,
    weeks: int = 4,
    size: int = PAGE_SIZE,
) -> Page[UpcomingMeeting]:
    """Planned meetings of projects in progress from ``now`` to ``weeks`` ahead, soonest first."""
    where = [
        _PLANNED,
        tables.meeting.c.starts_at >= now,
        tables.meeting.c.starts_at < now + timedelta(weeks=weeks),
        (tables.meeting.c.project_id + 0).in_(eligible_projects(engine, filters)),
    ]
    with read(engine.db) as conn:
        # ix_meeting_planned_start: the planned meetings of these weeks only, counted then
        # paged in SQL.
        total = conn.execute(
            sa.select(sa.func.count()).select_from(tables.meeting).where(*where)
        ).scalar_one()
        rows = conn.execute(
            sa.select(
                tables.meeting.c.id,
                tables.meeting.c.project_id,
                tables.meeting.c.label,
                tables.meeting.c.starts_at,
                tables.meeting.c.location,
            )
            .where(*where)
            .order_by(tables.meeting.c.starts_at, tables.meeting.c.id)
            .limit(size)
            .offset(_offset(page, size))
        ).all()
        projects = _projects(conn, {r.project_id for r in rows})
    found = [
        UpcomingMeeting(
            r.id,
            r.project_id,
            projects[r.project_id].title,
            projects[r.project_id].territory,
            r.label,
            r.starts_at,
            r.location,
        )
        for r in rows
    ]
    return Page(found, total, max(1, page), size)
