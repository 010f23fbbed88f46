"""Cross-reference checks of a definition whose shape is already valid.

Each check yields ``(location, message)``; the loader turns the location into a file line.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Collection, Iterator

from workflow.definition import Definition
from workflow.lifecycle import ABANDONED, BUILTIN_TRIGGERS, SUSPENDED

__all__ = ["REQUIRED_ROLES", "check_definition"]

Loc = tuple[str | int, ...]
REQUIRED_ROLES = ("pilot", "partner", "agency", "copil")


def _duplicates(items: list[str], where: str) -> Iterator[tuple[Loc, str]]:
    first: dict[str, int] = {}
    for index, key in enumerate(items):
        if key in first:
            yield (where, index), f"duplicate key {key!r} (already used by item {first[key] + 1})"
        else:
            first[key] = index


def check_definition(
    d: Definition, templates: Collection[str] | None = None
) -> list[tuple[Loc, str]]:
    """Every cross-reference problem of ``d``; ``templates`` are the known notification templates."""
    return list(_check(d, templates))


def _check(d: Definition, templates: Collection[str] | None) -> Iterator[tuple[Loc, str]]:
    phases = [p.key for p in d.phases]
    roles = {r.key for r in d.roles}
    variants = {v.key for v in d.variants}
    milestones = {m.key for m in d.milestones}
    series = {s.key for s in d.meetings}
    reports = {r.key for r in d.reports}

    yield from _duplicates([r.key for r in d.roles], "roles")
    yield from _duplicates(phases, "phases")
    yield from _duplicates([v.key for v in d.variants], "variants")
    yield from _duplicates([m.key for m in d.milestones], "milestones")
    yield from _duplicates([s.key for s in d.meetings], "meetings")
    yield from _duplicates([r.key for r in d.reports], "reports")
    yield from _duplicates([r.action for r in d.raci], "raci")
    seen_occ: set[str] = set()
    for si, s in enumerate(d.meetings):
        for oi, o in enumerate(s.occurrences):
            if o.key in seen_occ or o.key in series:
                yield ("meetings", si, "occurrences", oi, "key"), f"duplicate meeting key {o.key!r}"
            seen_occ.add(o.key)

    for missing in [r for r in REQUIRED_ROLES if r not in roles]:
        yield (
            ("roles",),
            f"the role {missing!r} is required by the engine (declare it with a label)",
        )

    def phase_ref(loc: Loc, key: str) -> Iterator[tuple[Loc, str]]:
        if key not in phases:
            yield loc, f"unknown phase {key!r} (phases: {', '.join(phases)})"

    def role_refs(loc: Loc, keys: list[str]) -> Iterator[tuple[Loc, str]]:
        for i, key in enumerate(keys):
            if key not in roles:
                yield (*loc, i), f"unknown role {key!r} (roles: {', '.join(sorted(roles))})"

    def variant_refs(loc: Loc, keys: list[str] | None) -> Iterator[tuple[Loc, str]]:
        for i, key in enumerate(keys or []):
            if key not in variants:
                yield (
                    (*loc, i),
                    f"unknown variant {key!r} (variants: {', '.join(sorted(variants)) or 'none declared'})",
                )

    for i, p in enumerate(d.phases):
        if p.key in (SUSPENDED, ABANDONED):
            yield (
                ("phases", i, "key"),
                f"{p.key!r} is a phase every programme gets; do not declare it",
            )
    yield from phase_ref(("initial",), d.initial)
    for i, key in enumerate(d.terminal):
        yield from phase_ref(("terminal", i), key)
    if d.initial in d.terminal:
        yield ("initial",), "the initial phase cannot be terminal"

    exits: dict[str, list[int]] = defaultdict(list)
    graph: dict[str, set[str]] = defaultdict(set)
    pairs: dict[tuple[str, str], int] = {}
    for ti, t in enumerate(d.transitions):
        loc: Loc = ("transitions", ti)
        if t.trigger in BUILTIN_TRIGGERS or t.trigger.startswith("resume_to_"):
            yield (
                (*loc, "trigger"),
                f"{t.trigger!r} is a step every programme gets; do not declare it",
            )
        for si, src in enumerate(t.source):
            yield from phase_ref((*loc, "source", si), src)
            exits[src].append(ti)
            graph[src].add(t.dest)
            if (t.trigger, src) in pairs:
                yield (
                    (*loc, "trigger"),
                    (
                        f"trigger {t.trigger!r} from {src!r} is already defined by transition "
                        f"{pairs[(t.trigger, src)] + 1}"
                    ),
                )
            pairs[(t.trigger, src)] = ti
        yield from phase_ref((*loc, "dest"), t.dest)
        for ci, c in enumerate(t.conditions):
            cloc: Loc = (*loc, "conditions", ci)
            if c.milestone is not None and c.milestone not in milestones:
                yield (
                    (*cloc, "milestone"),
                    f"unknown milestone {c.milestone!r} (milestones: {', '.join(sorted(milestones)) or 'none'})",
                )
            if c.meeting is not None and c.meeting not in series and c.meeting not in seen_occ:
                yield (
                    (*cloc, "meeting"),
                    f"unknown meeting {c.meeting!r} (meetings: {', '.join(sorted(series | seen_occ)) or 'none'})",
                )
            if c.report is not None and c.report not in reports:
                yield (
                    (*cloc, "report"),
                    f"unknown report schedule {c.report!r} (reports: {', '.join(sorted(reports)) or 'none'})",
                )

    for i, key in enumerate(d.terminal):
        if exits.get(key):
            yield (
                ("terminal", i),
                f"the terminal phase {key!r} has exits (transition {exits[key][0] + 1}): a terminal phase ends the project",
            )
    reached = {d.initial}
    queue = deque([d.initial])
    while queue:
        for nxt in graph[queue.popleft()]:
            if nxt not in reached:
                reached.add(nxt)
                queue.append(nxt)
    for i, p in enumerate(d.phases):
        if p.key not in reached:
            yield (
                ("phases", i, "key"),
                f"no transition reaches the phase {p.key!r} from the initial phase {d.initial!r}",
            )
        elif p.key not in d.terminal and not exits.get(p.key):
            yield ("phases", i, "key"), f"the phase {p.key!r} has no way out and is not terminal"

    for i, m in enumerate(d.milestones):
        yield from phase_ref(("milestones", i, "phase"), m.phase)
        if m.responsible not in roles:
            yield (
                ("milestones", i, "responsible"),
                f"unknown role {m.responsible!r} (roles: {', '.join(sorted(roles))})",
            )
        yield from variant_refs(("milestones", i, "variants"), m.variants)
    for si, s in enumerate(d.meetings):
        yield from role_refs(("meetings", si, "attendees"), s.attendees)
        for pi, key in enumerate(s.phases or []):
            yield from phase_ref(("meetings", si, "phases", pi), key)
        for oi, o in enumerate(s.occurrences):
            yield from phase_ref(("meetings", si, "occurrences", oi, "phase"), o.phase)
            yield from variant_refs(("meetings", si, "occurrences", oi, "variants"), o.variants)
    for i, r in enumerate(d.reports):
        yield from role_refs(("reports", i, "owed_by"), [r.owed_by])
        yield from role_refs(("reports", i, "sent_to"), [r.sent_to])
    if d.annual_review is not None:
        yield from role_refs(("annual_review", "attendees"), d.annual_review.attendees)
    for i, entry in enumerate(d.raci):
        yield from phase_ref(("raci", i, "phase"), entry.phase)
        yield from variant_refs(("raci", i, "variants"), entry.variants)
        for letter in ("responsible", "accountable", "consulted", "informed"):
            yield from role_refs(("raci", i, letter), getattr(entry, letter))
    for i, rule in enumerate(d.notifications):
        yield from phase_ref(("notifications", i, "phase"), rule.phase)
        yield from role_refs(("notifications", i, "notify"), rule.notify)
        if templates is not None and rule.template not in templates:
            yield (
                ("notifications", i, "template"),
                f"unknown template {rule.template!r} (templates: {', '.join(sorted(templates))})",
            )
