"""The routing table of a definition in words: which kind of message goes to whom.

Shown by ``copilote definitions show`` and on the project page; the table itself is the
engine's (:func:`workflow.routing.routing_table`), the words are the reader's language's
(:mod:`notifications.wording`): role labels from the definition, never keys.
"""

from __future__ import annotations

from dataclasses import dataclass

from notifications.wording import say
from workflow.definition import Definition
from workflow.routing import ESCALATIONS, ORGANISED, TOKENS, routing_table

__all__ = ["RoutingRow", "routing_rows"]


@dataclass(frozen=True)
class RoutingRow:
    kind: str  # the key, for anchors and tests; people read ``label``
    label: str
    audience: list[str]  # role labels (or what a token means), in order
    overridden: bool  # the definition says so, not the default
    note: str | None  # the escalations' rule, the organiser's


def routing_rows(definition: Definition, lang: str = "fr") -> list[RoutingRow]:
    def who(key: str) -> str:
        if key in TOKENS:
            return say(f"routing.audience.{key}", lang)
        return definition.role_label(key, lang)

    return [
        RoutingRow(
            route.kind,
            say(f"routing.kind.{route.kind}", lang),
            [who(key) for key in route.audience],
            route.overridden,
            say("routing.escalation_rule", lang)
            if route.kind in ESCALATIONS
            else say("routing.organiser_rule", lang)
            if route.kind in ORGANISED
            else None,
        )
        for route in routing_table(definition)
    ]
