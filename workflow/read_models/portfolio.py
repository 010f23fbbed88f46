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

from workflow import due_tally, owed_reports, tables
from workflow.calendar import at_paris_time, paris_date
from workflow.database import read
from workflow.engine import Engine
from workflow.lifecycle import ABANDONED, SUSPENDED
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


def _late(engine: Engine, today: date) -> Any:
    """ "Late on ``today``" as a condition on ``project``: in progress, and its earliest open
    milestone (``open_due``, kept by :mod:`workflow.lateness`) is past. Every column it reads
    is in ``ix_project_open_due``, with the filters' ones: counting the late projects reads
    that index alone."""
    in_progress = _built(engine, "in_progress", lambda: in_progress_clause(engine))
    return sa.and_(tables.project.c.open_due < today, in_progress)


def _not_late(engine: Engine, today: date) -> Any:
    """The complement of :func:`_late` (``open_due`` NULL included)."""
    in_progress = _built(engine, "in_progress", lambda: in_progress_clause(engine))
    return sa.or_(
        tables.project.c.open_due.is_(None),
        tables.project.c.open_due >= today,
        sa.not_(in_progress),
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


def _portfolio_order(engine: Engine, sort: Sort) -> list[Any]:
    """The order of a sort other than ``late`` (see :func:`_late_segments` for that one)."""
    project = tables.project.c
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
    return [*columns, project.title, project.id]


def _late_segments(engine: Engine, today: date, sort: Sort) -> list[tuple[Any, list[Any]]]:
    """The portfolio sorted by days late, as two parts read one after the other, each in an
    order an index serves: the late projects by ``open_due`` (the most days late first when
    descending) and the others by title. Descending: late first; ascending: the others
    first, then the late ones from the fewest days late."""
    project = tables.project.c
    late = (_late(engine, today), [project.open_due, project.title, project.id])
    others = (_not_late(engine, today), [project.title, project.id])
    if sort.descending:
        return [late, others]
    return [others, (late[0], [project.open_due.desc(), project.title, project.id])]


def _days_late(engine: Engine, row: Any, today: date) -> int:
    """Days since the project's earliest open milestone fell due (0 unless it is late)."""
    late = row.open_due is not None and row.open_due < today and in_progress(engine, row)
    return (today - row.open_due).days if late else 0


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
    late = _late(engine, today)
    if late_only:
        where.append(late)
    offset = _offset(page, size)
    columns = sa.select(tables.project)
    with read(engine.db) as conn:

        def count(*conditions: Any) -> int:
            return int(
                conn.execute(
                    sa.select(sa.func.count()).select_from(tables.project).where(*conditions)
                ).scalar_one()
            )

        total = count(*where)
        late_count = _late_count(conn, engine, today, filters)
        rows: list[Any] = []
        if sort.key != "late" or late_only:
            order = (
                _late_segments(engine, today, sort)[0 if sort.descending else 1][1]
                if sort.key == "late"
                else _portfolio_order(engine, sort)
            )
            rows = list(
                conn.execute(columns.where(*where).order_by(*order).limit(size).offset(offset))
            )
        else:
            # Two parts, each paged in SQL: the page takes the first part's rows from its
            # offset and, when that part ends on this page, the second part's first rows.
            (first, first_order), (second, second_order) = _late_segments(engine, today, sort)
            in_first = (
                late_count
                if sort.descending and readable is None  # the late ones: counted already
                else count(*where, first)
            )
            if offset < in_first:
                rows += conn.execute(
                    columns.where(*where, first).order_by(*first_order).limit(size).offset(offset)
                ).all()
            if len(rows) < size:
                rows += conn.execute(
                    columns.where(*where, second)
                    .order_by(*second_order)
                    .limit(size - len(rows))
                    .offset(max(0, offset - in_first))
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
            days_late=_days_late(engine, r, today),
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


def _late_count(conn: sa.Connection, engine: Engine, today: date, filters: Filters) -> int:
    """How many projects in progress passing the filters have a milestone past its date.
    Without filters: every project whose earliest open milestone is past (a range of
    ``ix_project_open_due``, the index alone), less the idle ones among them (a few, from
    ``ix_project_phase_definition`` alone); with filters, the late test on each project."""
    p = tables.project.c

    def count(*where: Any) -> int:
        return int(
            conn.execute(
                sa.select(sa.func.count()).select_from(tables.project).where(*where)
            ).scalar_one()
        )

    if filters.params():
        return count(*filters.conditions(), _late(engine, today))
    idle = _built(engine, "idle_where", lambda: _idle_where(engine))
    return count(p.open_due < today) - count(p.open_due < today, idle)


def late_projects(engine: Engine, today: date, filters: Filters = Filters()) -> int:
    """How many projects in progress passing the filters have a milestone past its date
    (read from the project indexes alone)."""
    with read(engine.db) as conn:
        return _late_count(conn, engine, today, filters)


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
    """The territories named by projects, in order: one index seek per territory (a loose
    scan of ``ix_project_territory``: each step asks for the first territory after the last
    one), not a pass over every project."""
    inner = tables.project.alias("later")
    steps = (
        sa.select(sa.func.min(tables.project.c.territory).label("territory"))
        .where(tables.project.c.territory > "")
        .cte("territories", recursive=True)
    )
    steps = steps.union_all(
        sa.select(
            sa.select(sa.func.min(inner.c.territory))
            .where(inner.c.territory > steps.c.territory)
            .scalar_subquery()
        ).where(steps.c.territory.is_not(None))
    )
    with read(engine.db) as conn:
        return [
            t
            for (t,) in conn.execute(
                sa.select(steps.c.territory)
                .where(steps.c.territory.is_not(None))
                .order_by(steps.c.territory)
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


def _overdue_source(engine: Engine, today: date, filters: Filters, few: bool) -> Any:
    """The open milestones past their date of the projects in progress passing the filters:
    ``(from, where)``.

    Two plans. Few eligible projects (a territory): read those projects' open milestones
    through ``ix_milestone_open_project``, the projects as one ``IN (SELECT ...)``. Many (no
    filter, a programme, a phase): walk ``ix_milestone_open_due`` by due date, each
    milestone joined to its project by its key to check it (``project_id + 0``: without
    statistics SQLite would rather read every milestone of every eligible project through
    ix_milestone_project_id, 1.8 s instead of ~0.1 s at 10,000 projects); a page stops after
    its rows, and no list of every eligible project is built first."""
    past = [tables.milestone.c.done_on.is_(None), tables.milestone.c.due_on < today]
    if few:
        return tables.milestone, [
            *past,
            tables.milestone.c.project_id.in_(eligible_projects(engine, filters)),
        ]
    in_progress = _built(engine, "in_progress", lambda: in_progress_clause(engine))
    joined = tables.milestone.join(
        tables.project, tables.project.c.id == tables.milestone.c.project_id + 0
    )
    return joined, [*past, in_progress, *filters.conditions()]


def _idle_where(engine: Engine) -> Any:
    """ "Not in progress" as a condition an index serves: only the phases where a project may
    rest (suspended, abandoned, a definition's terminal phases) are looked up in
    ``ix_project_phase_definition``, then each such project is tested exactly (a phase named
    like another definition's terminal one may be in progress)."""
    resting = {SUSPENDED, ABANDONED}.union(
        *(engine.lifecycle(d.id, d.version).terminal for d in engine.registry)
    )
    return sa.and_(tables.project.c.phase.in_(sorted(resting)), sa.not_(in_progress_clause(engine)))


def _idle(engine: Engine) -> Any:
    """``SELECT id FROM project`` of the projects not in progress (:func:`_idle_where`)."""
    return sa.select(tables.project.c.id).where(_idle_where(engine))


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
        source, where = _overdue_source(engine, today, filters, few)
        if filters.territory or filters.phase:
            total = conn.execute(
                sa.select(sa.func.count()).select_from(source).where(*where)
            ).scalar_one()
        else:  # every programme, or one: kept per programme and day (workflow.due_tally)
            total = due_tally.overdue(conn, today, filters.programme)
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
            .select_from(source)
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
        if filters.territory or filters.phase:
            total = conn.execute(
                sa.select(sa.func.count()).select_from(owed).where(*where)
            ).scalar_one()
        else:  # every programme, or one: counted as events per day (workflow.owed_reports)
            tomorrow = at_paris_time(today + timedelta(days=1), "00:00")
            later_today = (
                sa.select(sa.func.count())
                .select_from(owed)
                .where(_OPEN, owed.c.overdue_at > now, owed.c.overdue_at < tomorrow, *where[2:])
            )
            total = owed_reports.missing_count(
                conn, engine.registry, now, filters.programme, later_today
            )
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
    in_progress = _built(engine, "in_progress", lambda: in_progress_clause(engine))
    m, p = tables.meeting, tables.project
    # ix_meeting_planned_start: the planned meetings of these weeks only, each joined to its
    # project by its key (``project_id + 0``: read the meetings first, never a project's all)
    # to check it is in progress and passes the filters; counted, then paged, in SQL.
    joined = m.join(p, p.c.id == m.c.project_id + 0)
    where = [
        _PLANNED,
        m.c.starts_at >= now,
        m.c.starts_at < now + timedelta(weeks=weeks),
        in_progress,
        *filters.conditions(),
    ]
    with read(engine.db) as conn:
        if filters.params():
            total = conn.execute(
                sa.select(sa.func.count()).select_from(joined).where(*where)
            ).scalar_one()
        else:
            # every planned meeting of these weeks (the index alone), less those of the
            # projects not in progress (a few, each through ix_meeting_project_planned)
            ahead = [_PLANNED, m.c.starts_at >= now, m.c.starts_at < now + timedelta(weeks=weeks)]
            every = conn.execute(
                sa.select(sa.func.count()).select_from(m).where(*ahead)
            ).scalar_one()
            idle = conn.execute(
                sa.select(sa.func.count())
                .select_from(m)
                .where(*ahead, m.c.project_id.in_(_built(engine, "idle", lambda: _idle(engine))))
            ).scalar_one()
            total = int(every) - int(idle)
        rows = conn.execute(
            sa.select(
                m.c.id,
                m.c.project_id,
                m.c.label,
                m.c.starts_at,
                m.c.location,
                p.c.title,
                p.c.territory,
            )
            .select_from(joined)
            .where(*where)
            .order_by(m.c.starts_at, m.c.id)
            .limit(size)
            .offset(_offset(page, size))
        ).all()
    found = [
        UpcomingMeeting(r.id, r.project_id, r.title, r.territory, r.label, r.starts_at, r.location)
        for r in rows
    ]
    return Page(found, total, max(1, page), size)
