"""Every error the engine raises. Messages are built here, full sentences that say what to do."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

__all__ = [
    "AlreadyRecorded",
    "ConflictError",
    "DefinitionError",
    "DefinitionGone",
    "InvalidInput",
    "MigrationRefused",
    "NotFound",
    "Problem",
    "StepNotAvailable",
    "TransitionRefused",
    "UnknownTrigger",
    "Unmet",
    "WorkflowError",
]


class WorkflowError(Exception):
    """Base of the engine's errors."""


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.message}"


class DefinitionError(WorkflowError, ValueError):
    def __init__(self, file: str, problems: list[Problem]) -> None:
        self.file, self.problems = file, problems
        count = len(problems)
        super().__init__(
            f"{file}: the definition is refused ({count} problem{'s' if count > 1 else ''}):\n"
            + "\n".join(f"  {p}" for p in problems)
        )


class NotFound(WorkflowError, LookupError):
    def __init__(self, what: str, key: object) -> None:
        self.what, self.key = what, key
        super().__init__(
            f"No {what} {key!r}: check the identifier (list them to see the known ones)."
        )


class DefinitionGone(NotFound):
    """A project's definition version is no longer loaded (its file was changed in place)."""

    def __init__(self, project_id: int, definition_id: str, version: int) -> None:
        LookupError.__init__(
            self,
            f"project {project_id} runs programme definition {definition_id!r} version {version},"
            " which is no longer loaded: restore that version's file, or move the project to a"
            f" loaded version (copilote project migrate {project_id})",
        )
        self.what, self.key = "programme definition", f"{definition_id} v{version}"
        self.project_id, self.definition_id, self.version = project_id, definition_id, version


class InvalidInput(WorkflowError, ValueError):
    """``phrase`` (a key of notifications/wording.py, ``input.*``) and ``params`` say the
    same as ``message`` as data, for the pages to word it in the reader's language."""

    def __init__(
        self,
        field: str,
        message: str,
        phrase: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        self.field, self.phrase, self.params = field, phrase, dict(params or {})
        super().__init__(f"{field}: {message}")


class UnknownTrigger(WorkflowError, ValueError):
    def __init__(self, project_id: int, trigger: str, phase: str, allowed: list[str]) -> None:
        self.project_id, self.trigger, self.phase, self.allowed = (
            project_id,
            trigger,
            phase,
            allowed,
        )
        choices = ", ".join(allowed) if allowed else "none"
        super().__init__(
            f"Cannot {trigger!r} project {project_id}: no such step from phase {phase!r} "
            f"(possible from here: {choices})."
        )


@dataclass(frozen=True)
class Unmet:
    """One condition of a step that does not hold, as data.

    ``kind``: a stable key (one of :data:`Unmet.KINDS`); ``subject``: the definition key it is
    about (milestone, meeting occurrence or series, decision, report schedule, role, step);
    ``params``: what a sentence about it needs (labels from the definition, counts,
    organisation names); ``fix``: the key of the action that meets it (one of
    :data:`Unmet.FIXES`). The words for a reader are ``refusal.<kind>`` and ``fix.<fix>`` in
    ``notifications/wording.py``; ``str()`` is the developer's sentence for logs and errors.
    """

    kind: str
    subject: str
    params: dict[str, Any] = field(default_factory=dict, hash=False)
    fix: str = ""

    KINDS = (
        "milestone_not_done",
        "deliverable_not_delivered",
        "occurrence_not_held",
        "series_not_held",
        "decision_not_recorded",
        "too_few_partners",
        "reports_missing",
        "no_partner_to_report",
        "comment_required",
        "deliverable_file_missing",
        "objectives_missing",
        "actions_missing",
    )
    FIXES = (
        "record_milestone",
        "record_meeting",
        "record_decision",
        "add_partner",
        "submit_reports",
        "give_comment",
        "upload_deliverable",
        "record_objectives",
    )

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "subject": self.subject,
            "params": dict(self.params),
            "fix": self.fix,
        }

    def __str__(self) -> str:
        p, kind = self.params, self.kind
        if kind == "milestone_not_done":
            return f"{p['label']} not done"
        if kind == "deliverable_not_delivered":
            return f"{p['label']} not delivered"
        if kind == "occurrence_not_held":
            return f"{p['label']} not held"
        if kind == "series_not_held":
            return f"no {p['label']} held in this phase yet"
        if kind == "decision_not_recorded":
            return f"decision {self.subject!r} not recorded"
        if kind == "too_few_partners":
            return f"{p['active']} active partner(s), at least {p['needed']} needed"
        if kind == "reports_missing":
            return f"{p['label']} not received from {', '.join(p['organisations'])}"
        if kind == "no_partner_to_report":
            return f"{p['label']}: no active partner to report"
        if kind == "deliverable_file_missing":
            return f"{p['label']}: no document filed"
        if kind == "comment_required":
            if self.subject in ("suspend", "abandon"):
                return f"a comment saying why is required to {self.subject} a project"
            return "a comment saying why is required for this step"
        return f"{kind} ({self.subject})"


class TransitionRefused(WorkflowError):
    """A step whose conditions do not all hold; ``unmet`` lists each one as data."""

    def __init__(self, project_id: int, trigger: str, unmet: Sequence[Unmet]) -> None:
        fixes = ", ".join(dict.fromkeys(f"{u.fix} {u.subject}" for u in unmet))
        super().__init__(
            f"Cannot {trigger!r} project {project_id}: "
            + "; ".join(str(u) for u in unmet)
            + (f" (to do first: {fixes})" if fixes else "")
        )
        self.project_id, self.trigger, self.unmet = project_id, trigger, list(unmet)


class ConflictError(WorkflowError):
    """Someone else changed the project between our read and our write."""

    def __init__(self, project_id: int, current_phase: str, detail: str = "") -> None:
        self.project_id, self.current_phase = project_id, current_phase
        super().__init__(
            f"Project {project_id} was changed by someone else meanwhile; it is now in phase "
            f"{current_phase!r}. Reload it and try again if the step still makes sense."
            + (f" ({detail})" if detail else "")
        )


class AlreadyRecorded(ConflictError):
    """A milestone recorded done once is not recorded again: a later record would silently
    replace who did it and when. A correction is explicit and says why."""

    def __init__(
        self,
        project_id: int,
        current_phase: str,
        milestone: str,
        done_on: date,
        done_by: str,
        recorded_at: datetime | None = None,
    ) -> None:
        self.project_id, self.current_phase = project_id, current_phase
        self.milestone, self.done_on, self.done_by, self.recorded_at = (
            milestone,
            done_on,
            done_by,
            recorded_at,
        )
        # Not ConflictError's sentence (nobody raced us): say who recorded it, and how to correct.
        WorkflowError.__init__(
            self,
            f"Milestone {milestone!r} of project {project_id} was already recorded done on "
            f"{done_on.isoformat()} by {done_by or 'someone unnamed'}; it is not recorded again. "
            "If that record is wrong, record a correction with a comment saying why.",
        )


class StepNotAvailable(ConflictError):
    """The step exists in the programme, but not from the phase the project is in now."""

    def __init__(
        self, project_id: int, trigger: str, current_phase: str, allowed: list[str]
    ) -> None:
        super().__init__(
            project_id,
            current_phase,
            f"{trigger!r} is not possible from {current_phase!r}; possible from here: "
            + (", ".join(allowed) or "none"),
        )
        self.trigger, self.allowed = trigger, allowed


class MigrationRefused(WorkflowError):
    def __init__(self, project_id: int, reason: str) -> None:
        self.project_id = project_id
        super().__init__(f"Cannot migrate project {project_id}: {reason}")
