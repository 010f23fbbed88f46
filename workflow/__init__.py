"""Copilote's engine: programme definitions, state machines, records, due work.

Imports nothing from ``notifications`` or ``service``; time comes from an injected clock.
"""

from workflow.clock import Clock, FixedClock, SystemClock
from workflow.definition import Definition
from workflow.engine import AdvanceResult, Engine, NewProject, PartnerIn, StepNotAvailable
from workflow.errors import (
    AlreadyRecorded,
    ConflictError,
    DefinitionError,
    InvalidInput,
    MigrationRefused,
    NotFound,
    Problem,
    TransitionRefused,
    UnknownTrigger,
    Unmet,
    WorkflowError,
)
from workflow.loader import DefinitionRegistry, load_definition, load_directory, parse_definition
from workflow.records import Records

__all__ = [
    "AdvanceResult",
    "AlreadyRecorded",
    "Clock",
    "ConflictError",
    "Definition",
    "DefinitionError",
    "DefinitionRegistry",
    "Engine",
    "FixedClock",
    "InvalidInput",
    "MigrationRefused",
    "NewProject",
    "NotFound",
    "PartnerIn",
    "Problem",
    "Records",
    "StepNotAvailable",
    "SystemClock",
    "TransitionRefused",
    "UnknownTrigger",
    "Unmet",
    "WorkflowError",
    "load_definition",
    "load_directory",
    "parse_definition",
]
