"""Cross-reference checks of a definition whose shape is already valid.

Each check yields ``(location, message)``; the loader turns the location into a file line.
"""

from __future__ import annotations

import itertools
from collections import defaultdict, deque
from collections.abc import Collection, Iterator

from workflow.definition import DateRule, Definition, Offset
from workflow.lifecycle import ABANDONED, BUILTIN_TRIGGERS, SUSPENDED
from workflow.routing import ESCALATIONS, KINDS, TOKENS

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


def _listing(keys: Collection[str], limit: int = 20) -> str:
    """At most ``limit`` keys, so a message stays short however big the file is."""
    shown = list(keys)[:limit]
    more = len(keys) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def check_definition(
    d: Definition, templates: Collection[str] | None = None
) -> list[tuple[Loc, str]]:
    """Every cross-reference problem of ``d``; ``templates`` are the known notification templates."""
    return list(_check(d, templates))


def _check(d: Definition, templates: Collection[str] | None) -> Iterator[tuple[Loc, str]]:
    phases = [p.key for p in d.phases]
    phase_set = set(phases)
    roles = {r.key for r in d.roles}
    variants = {v.key for v in d.variants}
    milestones = {m.key for m in d.milestones}
    series = {s.key for s in d.meetings}
    reports = {r.key for r in d.reports}
    decisions = {x.key for x in d.decisions}

    actions = milestones | series | reports | {t.trigger for t in d.transitions}
    actions |= {o.key for s in d.meetings for o in s.occurrences}

    yield from _duplicates([r.key for r in d.roles], "roles")
    yield from _duplicates(phases, "phases")
    yield from _duplicates([v.key for v in d.variants], "variants")
    yield from _duplicates([m.key for m in d.milestones], "milestones")
    yield from _duplicates([s.key for s in d.meetings], "meetings")
    yield from _duplicates([r.key for r in d.reports], "reports")
    yield from _duplicates([x.key for x in d.decisions], "decisions")
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
        if key not in phase_set:
            yield loc, f"unknown phase {key!r} (phases: {_listing(phases)})"

    def role_refs(loc: Loc, keys: list[str]) -> Iterator[tuple[Loc, str]]:
        for i, key in enumerate(keys):
            if key not in roles:
                yield (*loc, i), f"unknown role {key!r} (roles: {_listing(sorted(roles))})"

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
            if c.decision is not None and c.decision not in decisions:
                yield (
                    (*cloc, "decision"),
                    f"undeclared decision {c.decision!r}: declare it under 'decisions' with a "
                    f"label and a label_en (decisions: {', '.join(sorted(decisions)) or 'none'})",
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
        if m.deliverable is not None and not m.deliverable_en:
            yield (
                ("milestones", i, "deliverable"),
                "the deliverable has no English label: add 'deliverable_en' beside it "
                "(English-speaking partners read it)",
            )
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
        if entry.about is not None and entry.about not in actions:
            yield (
                ("raci", i, "about"),
                f"unknown action {entry.about!r}: name a milestone, report, meeting or "
                f"transition of this definition ({_listing(sorted(actions))})",
            )
    yield from _routing(d, roles)
    for i, rule in enumerate(d.notifications):
        yield from phase_ref(("notifications", i, "phase"), rule.phase)
        yield from role_refs(("notifications", i, "notify"), rule.notify)
        if templates is not None and rule.template not in templates:
            yield (
                ("notifications", i, "template"),
                f"unknown template {rule.template!r} (templates: {', '.join(sorted(templates))})",
            )
    yield from _automatic_cycles(d)
    due_in = _due_in_phase(d)
    yield from _calendar_order(d, due_in)
    yield from _offset_order(d, due_in)


def _routing(d: Definition, roles: set[str]) -> Iterator[tuple[Loc, str]]:
    """The ``routing`` section: known kinds, known roles; an escalation goes only to those
    who answer for the work (the pilot, the agency, a role the RACI makes accountable),
    never to the late party's peers or the inhabitants."""
    answerable = {"pilot", "agency"} | {role for e in d.raci for role in e.accountable}
    for kind, targets in d.routing.items():
        if kind not in KINDS:
            yield (
                ("routing", kind),
                f"unknown kind of message {kind!r} (kinds: {_listing(list(KINDS), 30)})",
            )
            continue
        for i, role in enumerate(targets):
            if role not in roles and role not in TOKENS:
                yield (
                    ("routing", kind, i),
                    f"unknown role {role!r} (roles: {_listing(sorted(roles))}; or one of "
                    f"{', '.join(TOKENS)})",
                )
            elif kind in ESCALATIONS and role not in answerable:
                yield (
                    ("routing", kind, i),
                    f"an escalation cannot go to {role!r}: only to the pilot, the agency or a "
                    "role the RACI names accountable (never to the late party's peers)",
                )
        if not targets:
            yield ("routing", kind), "an empty audience: name at least one role"


def _automatic_cycles(d: Definition) -> Iterator[tuple[Loc, str]]:
    """Automatic transitions that lead back to where they started would take a step (and
    mail about it) at every pass, for ever: each loop is refused, naming its steps.

    The loops are the strongly connected parts of the graph of automatic steps (Tarjan's
    algorithm, without recursion: linear in the number of transitions)."""
    steps: dict[str, list[str]] = defaultdict(list)
    for t in d.transitions:
        if t.automatic is not None:
            for src in t.source:
                steps[src].append(t.dest)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    part_of: dict[str, int] = {}
    for root in list(steps):
        if root in index:
            continue
        work = [(root, iter(steps[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        part_of[member] = index[node]
                        if member == node:
                            break
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(steps[child])))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    loops: dict[int, list[int]] = defaultdict(list)
    for ti, t in enumerate(d.transitions):
        if t.automatic is not None:
            for src in t.source:
                if part_of.get(src) is not None and part_of.get(src) == part_of.get(t.dest):
                    loops[part_of[src]].append(ti)
                    break
    for members in loops.values():
        names = ", ".join(repr(d.transitions[i].trigger) for i in members)
        yield (
            ("transitions", members[-1], "automatic"),
            f"the automatic transitions {names} make a loop: the project would go round it at "
            "every pass; make one of them manual",
        )


def _day_of_year(spec: str) -> int:
    """``06-30`` -> its day in a common year (``02-end`` and ``02-29`` are the 59th)."""
    month_text, day_text = spec.split("-")
    month = int(month_text)
    last = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
    day = last[month - 1] if day_text == "end" else min(int(day_text), last[month - 1])
    return sum(last[: month - 1]) + day


_DueIn = dict[str, list[tuple[Loc, str, DateRule]]]


def _due_in_phase(d: Definition) -> _DueIn:
    """What falls due in each phase: its milestones, numbered meetings and automatic exits."""
    due_in: _DueIn = defaultdict(list)
    for i, m in enumerate(d.milestones):
        due_in[m.phase].append(
            (("milestones", i, "deadline"), f"the milestone {m.key!r} is due", m.deadline)
        )
    for si, series in enumerate(d.meetings):
        for oi, o in enumerate(series.occurrences):
            if o.due is not None:
                due_in[o.phase].append(
                    (
                        ("meetings", si, "occurrences", oi, "due"),
                        f"the meeting {o.key!r} is due",
                        o.due,
                    )
                )
    for ti, t in enumerate(d.transitions):
        if t.automatic is not None:
            for src in t.source:
                due_in[src].append(
                    (
                        ("transitions", ti, "automatic", "at"),
                        f"the automatic step {t.trigger!r} is taken",
                        t.automatic.at,
                    )
                )
    return due_in


def _days(offset: Offset) -> tuple[int, int]:
    """The fewest and the most calendar days an offset can last."""
    n = offset.amount
    if offset.unit == "days":
        return n, n
    if offset.unit == "weeks":
        return 7 * n, 7 * n
    if offset.unit == "months":
        return 28 * n, 31 * n
    weeks, rest = divmod(n, 5)
    return 7 * weeks + rest, 7 * weeks + rest + 2 + 12 * (1 + n // 250)  # weekends, holidays


def _offset_order(d: Definition, due_in: _DueIn) -> Iterator[tuple[Loc, str]]:
    """What falls due in a phase, counted from the same start as the phase's planned end,
    cannot come after that end whatever the calendar (6 weeks after entering a phase that is
    planned to end 1 month after entering it)."""
    for p in d.phases:
        end = p.planned_end
        if end is None or end.offset is None:
            continue
        for loc, what, rule in due_in[p.key]:
            if rule.offset is None or rule.after != end.after:
                continue
            if _days(rule.offset)[0] > _days(end.offset)[1]:
                yield (
                    (*loc, "offset"),
                    f"{what} {rule.describe()}, after the planned end of its phase {p.key!r} "
                    f"({end.describe()})",
                )


def _calendar_order(d: Definition, due_in: _DueIn) -> Iterator[tuple[Loc, str]]:
    """Calendar dates (``{date: "06-30"}``) read in the order of the phases: each phase ends
    after the one before it, and what falls due in a phase (its milestones, its numbered
    meetings, its automatic exits) falls between the end of the phase before and its own
    planned end. A programme may run across New Year, but not round the year."""
    # The phases with a calendar end, in order; each ends after the one before, and all of
    # them within one year. When they go round the year, the phase that "went back" is the
    # one furthest from its predecessor (06-10 after 06-30 is 345 days on).
    ends = [
        (i, p.key, p.planned_end.date, _day_of_year(p.planned_end.date))
        for i, p in enumerate(d.phases)
        if p.planned_end is not None and p.planned_end.date is not None
    ]

    def gap(earlier: tuple[int, str, str, int], later: tuple[int, str, str, int]) -> int:
        return (later[3] - earlier[3]) % 365 or 365

    refused: set[int] = set()
    kept = list(ends)
    total = sum(gap(a, b) for a, b in itertools.pairwise(kept))
    while len(kept) > 1 and total > 364 and len(refused) < 20:  # the file is refused anyway
        worst = max(range(1, len(kept)), key=lambda k: gap(kept[k - 1], kept[k]))
        before, late = kept[worst - 1], kept.pop(worst)
        total -= gap(before, late)
        if worst < len(kept):
            total += gap(before, kept[worst]) - gap(late, kept[worst])
        refused.add(late[0])
        yield (
            ("phases", late[0], "planned_end", "date"),
            f"the phase {late[1]!r} ends on {late[2]}, before the phase {before[1]!r} that comes "
            f"before it ends ({before[2]}): {late[1]!r} only begins after {before[2]}",
        )
    previous: dict[str, tuple[int, str, str, int]] = {}
    for earlier, later in itertools.pairwise(kept):
        previous[d.phases[later[0]].key] = earlier
    for end in kept:
        key = d.phases[end[0]].key
        if key not in previous:
            continue
        start = previous[key]
        window = gap(start, end)
        for rule_loc, what, rule in due_in[key]:
            if rule.date is None:
                continue
            loc, spec = (*rule_loc, "date"), rule.date
            day = _day_of_year(spec)
            if 0 < (day - start[3]) % 365 <= window:
                continue
            if (start[3] - day) % 365 <= (day - end[3]) % 365:
                yield (
                    loc,
                    f"{what} on {spec}, in the phase {key!r}, which only begins after the "
                    f"phase {start[1]!r} ends ({start[2]})",
                )
            else:
                yield (
                    loc,
                    f"{what} on {spec}, after the planned end of its phase {key!r} ({end[2]})",
                )
