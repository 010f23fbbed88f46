"""Moving a running project to a newer version of its definition, only when a pilot asks."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from workflow import tables
from workflow.database import read
from workflow.engine import Engine
from workflow.errors import MigrationRefused
from workflow.lifecycle import ABANDONED, SUSPENDED

__all__ = ["MigrationPlan", "apply_migration", "plan_migration"]


@dataclass(frozen=True)
class MigrationPlan:
    project_id: int
    from_version: int
    to_version: int
    changes: list[str]
    blocker: str | None

    def describe(self) -> str:
        head = f"Project {self.project_id}: version {self.from_version} -> {self.to_version}"
        body = [f"  - {c}" for c in self.changes] or ["  - nothing changes for this project"]
        tail = [f"  cannot be applied: {self.blocker}"] if self.blocker else []
        return "\n".join([head, *body, *tail])


def _diff(kind: str, old: dict[str, str], new: dict[str, str]) -> list[str]:
    out = [f"{kind} added: {new[k]} ({k})" for k in new if k not in old]
    out += [f"{kind} removed: {old[k]} ({k})" for k in old if k not in new]
    out += [
        f"{kind} renamed: {old[k]!r} -> {new[k]!r}" for k in new if k in old and old[k] != new[k]
    ]
    return out


def plan_migration(engine: Engine, project_id: int, to_version: int | None = None) -> MigrationPlan:
    with read(engine.db) as conn:
        row = engine.project_row(conn, project_id)
    old = engine.definition(row.definition_id, row.definition_version)
    new = engine.definition(row.definition_id, to_version)
    changes = _diff(
        "phase", {p.key: p.label for p in old.phases}, {p.key: p.label for p in new.phases}
    )
    changes += _diff(
        "milestone",
        {m.key: m.label for m in old.milestones},
        {m.key: m.label for m in new.milestones},
    )
    changes += _diff(
        "meeting",
        {o.key: o.label for s in old.meetings for o in s.occurrences}
        | {s.key: s.label for s in old.meetings},
        {o.key: o.label for s in new.meetings for o in s.occurrences}
        | {s.key: s.label for s in new.meetings},
    )
    changes += _diff(
        "step",
        {t.trigger: t.label or t.trigger for t in old.transitions},
        {t.trigger: t.label or t.trigger for t in new.transitions},
    )
    phase = row.suspended_from if row.phase == SUSPENDED else row.phase
    blocker = None
    if new.version <= old.version:
        blocker = f"the project is already on version {old.version}"
    elif row.phase != ABANDONED and phase not in {p.key for p in new.phases}:
        blocker = f"its current phase {phase!r} no longer exists in version {new.version}"
    return MigrationPlan(project_id, old.version, new.version, changes, blocker)


def apply_migration(
    engine: Engine, project_id: int, to_version: int | None, *, actor: str
) -> MigrationPlan:
    plan = plan_migration(engine, project_id, to_version)
    if plan.blocker:
        raise MigrationRefused(project_id, plan.blocker)
    now = engine.clock.now()
    with engine.db.begin() as conn:
        row = engine.project_row(conn, project_id)
        result = conn.execute(
            sa.update(tables.project)
            .where(
                tables.project.c.id == project_id,
                tables.project.c.version == row.version,
                tables.project.c.definition_version == plan.from_version,
            )
            .values(definition_version=plan.to_version, version=row.version + 1)
        )
        if result.rowcount != 1:
            raise MigrationRefused(
                project_id, "the project changed meanwhile; plan the migration again"
            )
        conn.execute(
            sa.insert(tables.history).values(
                project_id=project_id,
                at=now,
                actor=actor,
                trigger="migrate",
                from_phase=row.phase,
                to_phase=row.phase,
                comment=f"definition v{plan.from_version} -> v{plan.to_version}",
            )
        )
        if row.phase not in (SUSPENDED, ABANDONED):
            engine._enter_phase(
                conn,
                engine.definition(row.definition_id, plan.to_version),
                project_id,
                row.variant,
                row.phase,
                row.start_date,
                engine.today(),
            )
    return plan
