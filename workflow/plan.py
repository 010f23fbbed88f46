"""What a pilot records of the plan d'actions: objectives, fiches-actions, the notes the CPOM
report carries on a meeting, and what partners' reports say was realised (the budget per year
is in :mod:`workflow.budget`).

Each function is one transaction. Every input is checked before anything is written, and a
refusal names the field (and, for an end before its start, both dates).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa

from workflow import tables
from workflow.conventions import author, history
from workflow.engine import Engine
from workflow.errors import InvalidInput, NotFound
from workflow.progress import closed

__all__ = [
    "LEVELS",
    "MAX_CENTS",
    "PLAN_TRIGGERS",
    "ActionIn",
    "Plan",
    "cents_in",
    "check_year",
    "open_project",
    "text_in",
    "written",
]

LEVELS = ("general", "specific", "operational")
_PARENT = {"general": None, "specific": "general", "operational": "specific"}
MAX_CENTS = 10_000_000_000_00  # ten billion euros: beyond, a typo
MAX_ETP = 1000.0
FIRST_YEAR, LAST_YEAR = 2000, 2100
PLAN_TRIGGERS = (
    "objective_created",
    "objective_changed",
    "action_created",
    "action_changed",
    "indicator_created",
    "indicator_changed",
    "meeting_noted",
    "realised_reported",
    "budget_line_added",
    "budget_line_changed",
    "funding_share_set",
    "funding_share_removed",
)
"""What the history says of the plan d'actions' and the budget's changes (not phase changes;
the pages word each one)."""


def written(
    engine: Engine, conn: sa.Connection, project: Any, trigger: str, by: str, what: str
) -> None:
    """A change of the plan d'actions or the budget in the project's history, with its author
    and what it is about (the label people gave it), in the change's transaction."""
    history(conn, project, trigger, by, engine.clock.now(), what[:500])


def check_year(year: int, field: str = "year") -> int:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise InvalidInput(
            field,
            f"{year} is not a year between {FIRST_YEAR} and {LAST_YEAR}",
            "input.year_out_of_range",
            {"year": str(year), "first": str(FIRST_YEAR), "last": str(LAST_YEAR)},
        )
    return year


def cents_in(value: int | None, field: str) -> int | None:
    if value is None:
        return None
    if value < 0:
        raise InvalidInput(
            field, f"{value} is below 0: an amount cannot be negative", "input.negative_amount"
        )
    if value > MAX_CENTS:
        raise InvalidInput(
            field, f"{value} cents is beyond ten billion euros", "input.amount_too_large"
        )
    return value


def text_in(value: str | None, field: str, limit: int = 5000) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if len(value) > limit:
        raise InvalidInput(
            field,
            f"{len(value)} characters, at most {limit}",
            "input.too_long",
            {"max_length": limit},
        )
    return value


@dataclass(frozen=True)
class ActionIn:
    """A fiche-action's fields; ``None`` leaves a field as it is (a new action needs
    ``objective`` and ``label``)."""

    objective: str | None = None
    label: str | None = None
    partner_id: int | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    target_public: str | None = None
    etp: float | None = None
    budget_cents: int | None = None
    series: str | None = None
    planned: str | None = None
    realised: str | None = None
    gap_explanation: str | None = None
    corrective_measure: str | None = None
    corrective_measure_cpom: str | None = None


def open_project(engine: Engine, conn: sa.Connection, project_id: int) -> Any:
    """The project's row, refused when it is closed (nothing is recorded on it then)."""
    row = engine.project_row(conn, project_id)
    if closed(engine, row):
        raise InvalidInput(
            "project", f"project {project_id} is closed ({row.phase}); nothing can be recorded"
        )
    return row


class Plan:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _open(self, conn: sa.Connection, project_id: int) -> Any:
        return open_project(self.engine, conn, project_id)

    @staticmethod
    def objective_id(conn: sa.Connection, project_id: int, key: str, field: str) -> Any:
        row = conn.execute(
            sa.select(tables.objective).where(
                tables.objective.c.project_id == project_id, tables.objective.c.key == key
            )
        ).one_or_none()
        if row is None:
            known = conn.execute(
                sa.select(tables.objective.c.key)
                .where(tables.objective.c.project_id == project_id)
                .order_by(tables.objective.c.id)
            ).scalars()
            raise InvalidInput(
                field,
                f"project {project_id} has no objective {key!r} "
                f"(known: {', '.join(known) or 'none yet'})",
            )
        return row

    @staticmethod
    def action_row(conn: sa.Connection, project_id: int, key: str, field: str = "action") -> Any:
        row = conn.execute(
            sa.select(tables.fiche_action).where(
                tables.fiche_action.c.project_id == project_id, tables.fiche_action.c.key == key
            )
        ).one_or_none()
        if row is None:
            known = conn.execute(
                sa.select(tables.fiche_action.c.key)
                .where(tables.fiche_action.c.project_id == project_id)
                .order_by(tables.fiche_action.c.id)
            ).scalars()
            raise InvalidInput(
                field,
                f"project {project_id} has no action {key!r} "
                f"(known: {', '.join(known) or 'none yet'})",
            )
        return row

    # -- objectives ------------------------------------------------------------------------
    def set_objective(
        self,
        project_id: int,
        key: str,
        *,
        label: str | None = None,
        level: str | None = None,
        parent: str | None = None,
        position: int | None = None,
        by: str,
    ) -> int:
        """Create an objective (label and level needed; a specific one under a general one, an
        operational one under a specific one) or change its label or position."""
        by = author(by)
        label = text_in(label, "label", 2000)
        if label == "":
            raise InvalidInput("label", "an objective needs a label", "input.required")
        if level is not None and level not in LEVELS:
            raise InvalidInput("level", f"{level!r} is not one of {', '.join(LEVELS)}")
        with self.engine.db.begin() as conn:
            project = self._open(conn, project_id)
            existing = conn.execute(
                sa.select(tables.objective).where(
                    tables.objective.c.project_id == project_id, tables.objective.c.key == key
                )
            ).one_or_none()
            if existing is not None:
                if level is not None and level != existing.level:
                    raise InvalidInput(
                        "level", f"objective {key!r} is {existing.level}; its level stays"
                    )
                values: dict[str, Any] = {}
                if label is not None:
                    values["label"] = label
                if position is not None:
                    values["position"] = position
                if parent is not None:
                    values["parent_id"] = self._parent(conn, project_id, existing.level, parent)
                if values:
                    conn.execute(
                        sa.update(tables.objective)
                        .where(tables.objective.c.id == existing.id)
                        .values(**values)
                    )
                    shown = values.get("label", existing.label)
                    written(self.engine, conn, project, "objective_changed", by, shown)
                return int(existing.id)
            if label is None or level is None:
                raise InvalidInput(
                    "objective", f"a new objective {key!r} needs a label and a level"
                )
            parent_id = self._parent(conn, project_id, level, parent)
            count = conn.execute(
                sa.select(sa.func.count()).where(tables.objective.c.project_id == project_id)
            ).scalar_one()
            written(self.engine, conn, project, "objective_created", by, label)
            return int(
                conn.execute(
                    sa.insert(tables.objective)
                    .values(
                        project_id=project_id,
                        key=key,
                        level=level,
                        parent_id=parent_id,
                        label=label,
                        position=count if position is None else position,
                    )
                    .returning(tables.objective.c.id)
                ).scalar_one()
            )

    def _parent(
        self, conn: sa.Connection, project_id: int, level: str, parent: str | None
    ) -> int | None:
        wanted = _PARENT[level]
        if wanted is None:
            if parent is not None:
                raise InvalidInput("parent", "a general objective has no parent")
            return None
        if parent is None:
            raise InvalidInput(
                "parent",
                f"a {level} objective sits under a {wanted} objective",
                f"input.objective_under_{wanted}",
            )
        row = self.objective_id(conn, project_id, parent, "parent")
        if row.level != wanted:
            raise InvalidInput(
                "parent",
                f"{parent!r} is {row.level}: a {level} objective sits under a {wanted} one",
                f"input.objective_under_{wanted}",
            )
        return int(row.id)

    # -- fiches-actions --------------------------------------------------------------------
    def set_action(self, project_id: int, key: str, change: ActionIn, *, by: str) -> int:
        """Create a fiche-action or change the fields given."""
        by = author(by)
        fields: dict[str, Any] = {
            "label": text_in(change.label, "label", 2000),
            "target_public": text_in(change.target_public, "target_public"),
            "planned": text_in(change.planned, "planned"),
            "realised": text_in(change.realised, "realised"),
            "gap_explanation": text_in(change.gap_explanation, "gap_explanation"),
            "corrective_measure": text_in(change.corrective_measure, "corrective_measure"),
            "corrective_measure_cpom": text_in(
                change.corrective_measure_cpom, "corrective_measure_cpom"
            ),
            "budget_cents": cents_in(change.budget_cents, "budget_cents"),
            "starts_on": change.starts_on,
            "ends_on": change.ends_on,
            "series": change.series,
            "partner_id": change.partner_id,
        }
        if change.etp is not None:
            if not 0 <= change.etp <= MAX_ETP:
                raise InvalidInput(
                    "etp",
                    f"{change.etp:g} ETP is not between 0 and {MAX_ETP:g}",
                    "input.etp_out_of_range",
                    {"etp": change.etp, "max": MAX_ETP},
                )
            fields["etp"] = change.etp
        if fields["label"] == "":
            raise InvalidInput("label", "an action needs a label", "input.required")
        values = {k: v for k, v in fields.items() if v is not None}
        with self.engine.db.begin() as conn:
            project = self._open(conn, project_id)
            if change.objective is not None:
                values["objective_id"] = self.objective_id(
                    conn, project_id, change.objective, "objective"
                ).id
            if change.series is not None:
                definition = self.engine.definition(
                    project.definition_id, project.definition_version
                )
                known = [s.key for s in definition.meetings]
                if change.series not in known:
                    raise InvalidInput(
                        "series",
                        f"unknown meeting series {change.series!r} (known: {', '.join(known)})",
                    )
            if change.partner_id is not None:
                partner = conn.execute(
                    sa.select(tables.partner.c.id).where(
                        tables.partner.c.id == change.partner_id,
                        tables.partner.c.project_id == project_id,
                    )
                ).scalar()
                if partner is None:
                    raise InvalidInput(
                        "partner_id",
                        f"{change.partner_id} is not a partner of project {project_id}",
                    )
            existing = conn.execute(
                sa.select(tables.fiche_action).where(
                    tables.fiche_action.c.project_id == project_id,
                    tables.fiche_action.c.key == key,
                )
            ).one_or_none()
            starts = values.get("starts_on", existing.starts_on if existing else None)
            ends = values.get("ends_on", existing.ends_on if existing else None)
            if starts is not None and ends is not None and ends < starts:
                raise InvalidInput(
                    "ends_on",
                    f"the end {ends} is before the start {starts} (starts_on)",
                    "input.end_before_start",
                    {"end": ends, "start": starts},
                )
            if existing is not None:
                if values:
                    conn.execute(
                        sa.update(tables.fiche_action)
                        .where(tables.fiche_action.c.id == existing.id)
                        .values(**values)
                    )
                    shown = values.get("label", existing.label)
                    written(self.engine, conn, project, "action_changed", by, shown)
                return int(existing.id)
            if "objective_id" not in values or "label" not in values:
                raise InvalidInput("action", f"a new action {key!r} needs an objective and a label")
            count = conn.execute(
                sa.select(sa.func.count()).where(tables.fiche_action.c.project_id == project_id)
            ).scalar_one()
            base = {"target_public": "", "planned": "", "realised": "", "position": count}
            written(self.engine, conn, project, "action_created", by, values["label"])
            return int(
                conn.execute(
                    sa.insert(tables.fiche_action)
                    .values(project_id=project_id, key=key, **{**base, **values})
                    .returning(tables.fiche_action.c.id)
                ).scalar_one()
            )

    # -- what partners' reports say was realised ------------------------------------------------
    def record_realised(
        self,
        conn: sa.Connection,
        project_id: int,
        report_id: int,
        partner_id: int,
        period: str,
        content: dict[str, Any],
    ) -> None:
        """The values a quarterly report carries for the project's fiches-actions (its rows
        with a ``key``) and indicators (``key`` and a numeric ``realised``), replacing those
        of an earlier version of the same report, in the report's transaction."""
        conn.execute(
            sa.delete(tables.realised_value).where(tables.realised_value.c.report_id == report_id)
        )
        actions = dict(
            conn.execute(
                sa.select(tables.fiche_action.c.key, tables.fiche_action.c.id).where(
                    tables.fiche_action.c.project_id == project_id
                )
            ).all()
        )
        indicators = dict(
            conn.execute(
                sa.select(tables.indicator.c.key, tables.indicator.c.id).where(
                    tables.indicator.c.project_id == project_id
                )
            ).all()
        )
        rows: list[dict[str, Any]] = []
        base = {"project_id": project_id, "report_id": report_id, "partner_id": partner_id}
        listed = content.get("actions")
        for a in listed if isinstance(listed, list) else []:
            if isinstance(a, dict) and isinstance(a.get("key"), str) and a["key"] in actions:
                done = a.get("programme")
                answer = done.get("answer") if isinstance(done, dict) else ""
                rows.append(
                    {
                        **base,
                        "period": period,
                        "action_id": actions[a["key"]],
                        "indicator_id": None,
                        "value": None,
                        "comment": str(answer or "")[:16],
                    }
                )
        measured = content.get("indicators")
        for i in measured if isinstance(measured, list) else []:
            value = i.get("realised") if isinstance(i, dict) else None
            if (
                isinstance(i, dict)
                and isinstance(i.get("key"), str)
                and i["key"] in indicators
                and isinstance(value, int | float)
                and not isinstance(value, bool)
            ):
                rows.append(
                    {
                        **base,
                        "period": period,
                        "action_id": None,
                        "indicator_id": indicators[i["key"]],
                        "value": float(value),
                        "comment": "",
                    }
                )
        if rows:
            conn.execute(sa.insert(tables.realised_value), rows)
            partner = conn.execute(
                sa.select(tables.partner).where(tables.partner.c.id == partner_id)
            ).one()
            project = self.engine.project_row(conn, project_id)
            who = partner.contact_name or partner.organisation
            what = f"{partner.organisation} : {period}"
            written(self.engine, conn, project, "realised_reported", who, what)

    # -- meetings' notes ---------------------------------------------------------------------
    def meeting_note(
        self,
        project_id: int,
        meeting_id: int,
        *,
        action: str | None = None,
        cancel_reason: str | None = None,
        gap_explanation: str | None = None,
        corrective_measure: str | None = None,
        by: str,
    ) -> None:
        """Tie a meeting to the action it serves, or state why it was cancelled, its gap and
        the corrective measure (the CPOM report shows them on the action's row)."""
        values: dict[str, Any] = {
            k: v
            for k, v in {
                "cancel_reason": text_in(cancel_reason, "cancel_reason"),
                "gap_explanation": text_in(gap_explanation, "gap_explanation"),
                "corrective_measure": text_in(corrective_measure, "corrective_measure"),
            }.items()
            if v is not None
        }
        by = author(by)
        with self.engine.db.begin() as conn:
            project = self._open(conn, project_id)
            meeting = conn.execute(
                sa.select(tables.meeting).where(
                    tables.meeting.c.id == meeting_id, tables.meeting.c.project_id == project_id
                )
            ).one_or_none()
            if meeting is None:
                raise NotFound("meeting", meeting_id)
            if "cancel_reason" in values and meeting.status != "cancelled":
                raise InvalidInput(
                    "cancel_reason",
                    f"meeting {meeting_id} is {meeting.status}: only a cancelled meeting has a "
                    "cancellation reason (cancel it first)",
                    "input.reason_only_if_cancelled",
                )
            if action is not None:
                values["action_id"] = self.action_row(conn, project_id, action).id
            if values:
                conn.execute(
                    sa.update(tables.meeting)
                    .where(tables.meeting.c.id == meeting_id)
                    .values(**values)
                )
                written(self.engine, conn, project, "meeting_noted", by, meeting.label)
