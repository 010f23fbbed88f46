"""Every error the engine raises. Messages are built here, full sentences that say what to do."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ConflictError",
    "DefinitionError",
    "NotFound",
    "Problem",
    "StepNotAvailable",
    "TransitionRefused",
    "UnknownTrigger",
    "WorkflowError",
    "InvalidInput",
    "MigrationRefused",
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


class InvalidInput(WorkflowError, ValueError):
    def __init__(self, field: str, message: str) -> None:
        self.field = field
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


class TransitionRefused(WorkflowError):
    def __init__(self, project_id: int, trigger: str, unmet: list[str]) -> None:
        super().__init__(f"Cannot {trigger!r} project {project_id}: " + "; ".join(unmet))
        self.project_id, self.trigger, self.unmet = project_id, trigger, unmet


class ConflictError(WorkflowError):
    """Someone else changed the project between our read and our write."""

    def __init__(self, project_id: int, current_phase: str, detail: str = "") -> None:
        self.project_id, self.current_phase = project_id, current_phase
        super().__init__(
            f"Project {project_id} was changed by someone else meanwhile; it is now in phase "
            f"{current_phase!r}. Reload it and try again if the step still makes sense."
            + (f" ({detail})" if detail else "")
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
