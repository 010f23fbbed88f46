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

from workflow.definition import (
    Definition,
    MeetingOccurrence,
    MeetingSeries,
    Milestone,
    Transition,
)

__all__ = [
    "ABANDONED",
    "BUILTIN_PHASE_LABELS",
    "BUILTIN_PHASE_LABELS_EN",
    "BUILTIN_TRIGGERS",
    "SUSPENDED",
    "Lifecycle",
    "ProjectState",
]

Expected = tuple[MeetingSeries, MeetingOccurrence]  # a meeting a phase expects
Opened = tuple[tuple[Milestone, ...], tuple[Expected, ...]]  # what entering a phase opens

SUSPENDED = "suspendu"
ABANDONED = "abandonne"
BUILTIN_PHASE_LABELS = {SUSPENDED: "Suspendu", ABANDONED: "Abandonné"}
BUILTIN_PHASE_LABELS_EN = {SUSPENDED: "Suspended", ABANDONED: "Abandoned"}
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
        # The machine and the definition never change once built: answers are kept.
        self.known_triggers = frozenset(
            [*(t.trigger for t in definition.transitions), *BUILTIN_TRIGGERS]
        )
        self._triggers: dict[str, tuple[str, ...]] = {}
        self._transitions: dict[tuple[str, str], Transition | None] = {}
        self._outcomes: dict[tuple[str, str], object] = {}
        self._opened: dict[tuple[str, str | None], Opened] = {}
        self._automatic = {
            phase: next(
                (t for t in definition.transitions if t.automatic and phase in t.source), None
            )
            for phase in states
        }

    def triggers_from(self, phase: str) -> list[str]:
        """Triggers a user may call from ``phase`` (``resume_to_*`` shown as ``resume``)."""
        names = self._triggers.get(phase)
        if names is None:
            found: list[str] = []
            for name in self.machine.get_triggers(phase):
                name = "resume" if name.startswith("resume_to_") else name
                if name not in found:
                    found.append(name)
            names = self._triggers[phase] = tuple(found)
        return list(names)

    def transition(self, trigger: str, phase: str) -> Transition | None:
        """The definition's transition ``trigger`` from ``phase`` (None for the built-in ones)."""
        key = (trigger, phase)
        try:
            return self._transitions[key]
        except KeyError:
            found = next(
                (
                    t
                    for t in self.definition.transitions
                    if t.trigger == trigger and phase in t.source
                ),
                None,
            )
            self._transitions[key] = found
            return found

    def automatic_from(self, phase: str) -> Transition | None:
        """The transition that happens by itself out of ``phase``, if any."""
        return self._automatic.get(phase)

    def opened_in(self, phase: str, variant: str | None) -> Opened:
        """The milestones and the expected meetings (series, occurrence) of ``phase``."""
        key = (phase, variant)
        found = self._opened.get(key)
        if found is None:
            d = self.definition
            found = self._opened[key] = (
                tuple(
                    m
                    for m in d.milestones
                    if m.phase == phase and (not m.variants or variant in m.variants)
                ),
                tuple(
                    (s, o)
                    for s in d.meetings
                    for o in s.occurrences
                    if o.phase == phase and (not o.variants or variant in o.variants)
                ),
            )
        return found

    def fire(self, state: ProjectState, trigger: str) -> bool:
        """Run the event on ``state``; False when the step does not exist from its phase.

        The machine has no callbacks but the conditions check, so with the conditions met
        its answer for a phase and a trigger never changes: the event is run once on a
        throw-away state and its outcome kept (running it costs ~80 calls inside
        ``transitions``, ~12 us an advance).
        """
        if state.unmet:
            return self._run(state, trigger)
        key = (state.state, trigger)
        dest = self._outcomes.get(key, _NOT_RUN)
        if dest is _NOT_RUN:
            probe = ProjectState(state.state)
            dest = self._outcomes[key] = probe.state if self._run(probe, trigger) else None
        if dest is None:
            return False
        state.state = dest  # type: ignore[assignment]
        return True

    def _run(self, state: ProjectState, trigger: str) -> bool:
        event = self.machine.events.get(trigger)
        if event is None:
            return False
        try:
            return bool(event.trigger(state))
        except MachineError:
            return False


_NOT_RUN = object()


def _conditions_met(event: Any) -> bool:
    # Second line of defence: the engine has already listed unmet conditions.
    return not event.model.unmet
