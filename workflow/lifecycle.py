"""The state machines: one ``transitions`` machine per definition version, shared by all projects.

The machine is built with ``model=None`` and events are triggered on a throw-away
:class:`ProjectState` per request, so nothing is kept per project: memory stays flat as
projects grow (``add_model`` costs ~16 KB a project, a machine per project ~80 KB).
Exit conditions are evaluated by :mod:`workflow.conditions` beforehand, so that a refusal
lists every unmet condition; the machine only decides whether the step exists from the
current phase and performs the state change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from transitions import Machine, MachineError

from workflow.definition import Definition

__all__ = [
    "ABANDONED",
    "BUILTIN_PHASE_LABELS",
    "BUILTIN_TRIGGERS",
    "SUSPENDED",
    "Lifecycle",
    "ProjectState",
]

SUSPENDED = "suspendu"
ABANDONED = "abandonne"
BUILTIN_PHASE_LABELS = {SUSPENDED: "Suspendu", ABANDONED: "Abandonné"}
BUILTIN_TRIGGERS = ("suspend", "resume", "abandon")


@dataclass
class ProjectState:
    """The lightweight object a machine event runs on."""

    state: str
    unmet: list[str] = field(default_factory=list)


class Lifecycle:
    """A definition's machine plus the structural questions asked of it."""

    def __init__(self, definition: Definition) -> None:
        self.definition = definition
        self.terminal = frozenset([*definition.terminal, ABANDONED])
        active = [p.key for p in definition.phases if p.key not in self.terminal]
        states = [p.key for p in definition.phases] + [SUSPENDED, ABANDONED]
        spec: list[dict[str, Any]] = []
        for t in definition.transitions:
            spec.append(
                {
                    "trigger": t.trigger,
                    "source": list(t.source),
                    "dest": t.dest,
                    "conditions": [_conditions_met],
                }
            )
        spec.append({"trigger": "suspend", "source": active, "dest": SUSPENDED})
        spec.append({"trigger": "abandon", "source": [*active, SUSPENDED], "dest": ABANDONED})
        # ``resume`` returns to the phase the project was suspended from: one internal
        # trigger per phase, chosen by the engine from the stored ``suspended_from``.
        for phase in active:
            spec.append({"trigger": f"resume_to_{phase}", "source": SUSPENDED, "dest": phase})
        self.machine = Machine(
            model=None,
            states=states,
            transitions=spec,
            initial=definition.initial,
            auto_transitions=False,
            send_event=True,
        )

    def triggers_from(self, phase: str) -> list[str]:
        """Triggers a user may call from ``phase`` (``resume_to_*`` shown as ``resume``)."""
        names = []
        for name in self.machine.get_triggers(phase):
            name = "resume" if name.startswith("resume_to_") else name
            if name not in names:
                names.append(name)
        return names

    def fire(self, state: ProjectState, trigger: str) -> bool:
        """Run the event on ``state``; False when the step does not exist from its phase."""
        event = self.machine.events.get(trigger)
        if event is None:
            return False
        try:
            return bool(event.trigger(state))
        except MachineError:
            return False


def _conditions_met(event: Any) -> bool:
    # Second line of defence: the engine has already listed unmet conditions.
    return not event.model.unmet
