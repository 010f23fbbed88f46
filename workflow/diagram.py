"""A definition's lifecycle as a Mermaid state diagram (for the CLI and the HTTP API)."""

from __future__ import annotations

from workflow.definition import Condition, Definition

__all__ = ["describe_condition", "mermaid"]


def describe_condition(condition: Condition, sep: str = " ") -> str:
    """``milestone gouvernance``: the one field a condition sets, and its value."""
    return next(f"{k}{sep}{v}" for k, v in condition.model_dump().items() if v is not None)


def mermaid(d: Definition) -> str:
    """``stateDiagram-v2`` text: phases with their labels, steps with conditions, terminals."""
    lines = ["stateDiagram-v2", f"    [*] --> {d.initial}"]
    for p in d.phases:
        lines.append(f"    {p.key} : {p.label}")
    for t in d.transitions:
        conds = ", ".join(describe_condition(c) for c in t.conditions)
        for src in t.source:
            label = t.label or t.trigger
            lines.append(
                f"    {src} --> {t.dest} : {label}{' [' + conds + ']' if conds else ''}"
                f"{' (auto)' if t.automatic else ''}"
            )
    for key in d.terminal:
        lines.append(f"    {key} --> [*]")
    return "\n".join(lines)
