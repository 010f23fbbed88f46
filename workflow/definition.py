"""The definition format: one programme lifecycle, as plain data.

A definition is what a programme officer writes in ``definitions/*.yaml``. These models
only describe its *shape*; the cross-references (a transition naming an unknown phase, a
condition naming a milestone that does not exist...) are checked by
:mod:`workflow.validation`, which reports every problem with its file, line and field.

The JSON Schema published for editors is generated from :class:`Definition`
(``copilote definitions schema``).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "AnnualReview",
    "Automatic",
    "Condition",
    "ConventionPolicy",
    "DateRule",
    "Definition",
    "Funding",
    "FundingInstrument",
    "LabelKind",
    "MeetingOccurrence",
    "MeetingSeries",
    "Milestone",
    "NonWorkingDayRule",
    "NotificationRule",
    "Offset",
    "Phase",
    "RaciEntry",
    "ReminderPolicy",
    "ReportSchedule",
    "Role",
    "Transition",
    "Variant",
    "in_language",
    "meeting_number",
    "parse_months",
    "parse_offset",
]

Key = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]

_UNITS = {
    "day": "days",
    "days": "days",
    "jour": "days",
    "jours": "days",
    "week": "weeks",
    "weeks": "weeks",
    "semaine": "weeks",
    "semaines": "weeks",
    "month": "months",
    "months": "months",
    "mois": "months",
    "working day": "working_days",
    "working days": "working_days",
    "working_days": "working_days",
    "jour ouvré": "working_days",
    "jours ouvrés": "working_days",
}
_OFFSET_RE = re.compile(r"^\s*(-?\d{1,12})\s+([a-zA-Zéû_ ]+?)\s*$")
MAX_OFFSET = {"days": 3660, "weeks": 520, "months": 120, "working_days": 2600}
"""The longest offset of each unit: ten years, as long as any programme runs."""
MAX_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
MAX_VERSION = 1_000_000
MAX_REMINDER_DAYS = 366
MAX_CADENCE = {"weeks": 52, "months": 24}


class Offset(BaseModel):
    """A duration such as ``6 weeks``, ``2 months`` or ``10 working days``.

    Working days skip weekends and French public holidays.
    """

    model_config = ConfigDict(frozen=True)
    amount: int
    unit: Literal["days", "weeks", "months", "working_days"]

    def __str__(self) -> str:
        return f"{self.amount} {self.unit.replace('_', ' ')}"


def parse_offset(value: object) -> Offset:
    """Parse ``"6 weeks"`` (English or French units) into an :class:`Offset`."""
    if isinstance(value, Offset):
        return value
    if not isinstance(value, str):
        raise ValueError(f"an offset is written like '6 weeks' or '10 jours ouvrés', not {value!r}")
    match = _OFFSET_RE.match(value)
    if not match or match.group(2).strip().lower() not in _UNITS:
        raise ValueError(
            f"cannot read the offset {value!r}: write a number and a unit "
            "(days, weeks, months, working days; or jours, semaines, mois, jours ouvrés)"
        )
    amount = int(match.group(1))
    if amount < 0:
        raise ValueError(f"the offset {value!r} is negative: offsets count forward in time")
    unit = _UNITS[match.group(2).strip().lower()]
    if amount > MAX_OFFSET[unit]:
        raise ValueError(
            f"the offset {value!r} is too long: at most {MAX_OFFSET[unit]} "
            f"{unit.replace('_', ' ')} (ten years)"
        )
    return Offset(amount=amount, unit=unit)  # type: ignore[arg-type]


OffsetField = Annotated[Offset, Field(json_schema_extra={"type": "string"})]

_MONTHS_RE = re.compile(r"^\s*(\d{1,4})\s+([a-zA-Zéè]+)\s*$")
_MONTH_UNITS = {
    "month": 1,
    "months": 1,
    "mois": 1,
    "year": 12,
    "years": 12,
    "an": 12,
    "ans": 12,
    "année": 12,
    "années": 12,
}
MAX_CONVENTION_MONTHS = 120
"""The longest convention period or notice: ten years, as long as any programme runs."""


def parse_months(value: object) -> int:
    """Parse ``"1 year"``, ``"12 mois"`` or ``"1 month"`` into a number of months."""
    if isinstance(value, int) and not isinstance(value, bool):
        months = value
    elif isinstance(value, str) and (match := _MONTHS_RE.match(value)) is not None:
        unit = _MONTH_UNITS.get(match.group(2).lower())
        if unit is None:
            raise ValueError(
                f"cannot read the duration {value!r}: the unit is month(s), year(s), mois, an(s)"
            )
        months = int(match.group(1)) * unit
    else:
        raise ValueError(
            f"a duration is written like '1 year', '18 months' or '1 mois', not {value!r}"
        )
    if months > MAX_CONVENTION_MONTHS:
        raise ValueError(f"the duration {value!r} is too long: at most ten years")
    return months


Months = Annotated[int, Field(json_schema_extra={"type": ["string", "integer"]})]
NonWorkingDayRule = Literal["next", "previous", "keep"]
"""What a deadline falling on a weekend or a French public holiday becomes: moved to the next
working day, to the previous one, or kept where it falls."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DateRule(_Strict):
    """When something falls due. Exactly one of the three forms:

    - ``{after: phase_start, offset: "6 weeks"}``: counted from entering the phase;
    - ``{after: project_start, offset: "2 months"}``: counted from the project's start date;
    - ``{date: "06-30"}`` or ``{date: "02-end"}``: a calendar date in the programme's year,
      the first such date on or after the project's start.
    """

    after: Literal["phase_start", "project_start"] | None = None
    offset: OffsetField | None = None
    date: (
        Annotated[str, Field(pattern=r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01]|end)$")] | None
    ) = None

    @field_validator("offset", mode="before")
    @classmethod
    def _parse_offset(cls, value: object) -> Offset | None:
        return None if value is None else parse_offset(value)

    @field_validator("date")
    @classmethod
    def _real_day(cls, value: str | None) -> str | None:
        if value is not None and not value.endswith("-end"):
            month, day = (int(x) for x in value.split("-"))
            if day > MAX_DAYS_IN_MONTH[month - 1]:
                raise ValueError(
                    f"{value!r} is not a date: month {month} has at most "
                    f"{MAX_DAYS_IN_MONTH[month - 1]} days (write '{month:02d}-end' for its last day)"
                )
        return value

    @model_validator(mode="after")
    def _one_form(self) -> DateRule:
        if self.date is not None and (self.after is not None or self.offset is not None):
            raise ValueError("give either 'date' or 'after' with 'offset', not both")
        if self.date is None and (self.after is None or self.offset is None):
            raise ValueError("give 'date' (e.g. '06-30'), or 'after' and 'offset' together")
        return self

    def describe(self) -> str:
        if self.date is not None:
            month, day = self.date.split("-")
            return f"on {'the last day' if day == 'end' else 'day ' + day} of month {month}"
        where = "entering the phase" if self.after == "phase_start" else "the project's start"
        return f"{self.offset} after {where}"


class Role(_Strict):
    key: Key
    label: str
    label_en: str
    description: str | None = None


class Variant(_Strict):
    """A variant of the programme chosen per project (e.g. ACIA axis 1 or axis 2)."""

    key: Key
    label: str
    label_en: str


class Phase(_Strict):
    key: Key
    label: str
    label_en: str
    description: str | None = None
    planned_end: DateRule | None = None
    reporting: bool = False
    """Whether partners owe periodic reports while the project is in this phase."""


class Condition(_Strict):
    """One exit condition; exactly one field is set."""

    milestone: Key | None = None
    meeting: Key | None = None
    decision: Key | None = None
    min_partners: Annotated[int, Field(ge=1, le=1000)] | None = None
    report: Key | None = None
    # Issue 13: the plan d'actions needs its objectives and fiches-actions recorded (at least
    # one general objective and one action serving an objective) before the step is taken.
    objectives: Literal["required"] | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Condition:
        set_fields = [name for name in type(self).model_fields if getattr(self, name) is not None]
        if len(set_fields) != 1:
            raise ValueError(
                "a condition has exactly one of milestone, meeting, decision, min_partners, "
                f"report, objectives (found {', '.join(set_fields) or 'none'})"
            )
        return self


class Automatic(_Strict):
    """A transition that happens by itself at a moment, when its conditions hold then."""

    at: DateRule


class Transition(_Strict):
    trigger: Key
    label: str
    label_en: str
    source: list[Key]
    dest: Key
    conditions: list[Condition] = []
    automatic: Automatic | None = None
    comment_required: bool = False

    @field_validator("source", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value


class DecisionSpec(_Strict):
    """A decision a step waits for (``decision: KEY`` in a condition), with its labels."""

    key: Key
    label: str
    label_en: str


class Milestone(_Strict):
    key: Key
    label: str
    label_en: str
    phase: Key
    # The deliverable's label; ``deliverable: file`` says a document must be filed (the
    # milestone's label names it), as ``deliverable_file: true`` does beside a label.
    deliverable: str | None = None
    deliverable_en: str | None = None
    """The deliverable's English label, required beside a ``deliverable`` label (checked
    by :mod:`workflow.validation`, which names the line)."""
    deliverable_file: bool = False
    responsible: Key
    deadline: DateRule
    move_to_working_day: bool | None = None
    on_non_working_day: NonWorkingDayRule | None = None
    """Overrides the programme's rule (``reminders.on_non_working_day``) for this milestone."""
    variants: list[Key] | None = None

    @model_validator(mode="before")
    @classmethod
    def _file_deliverable(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("deliverable") == "file":
            return {**data, "deliverable": None, "deliverable_file": True}
        return data

    @model_validator(mode="after")
    def _one_rule(self) -> Milestone:
        if self.move_to_working_day is not None and self.on_non_working_day is not None:
            raise ValueError(
                "give 'on_non_working_day' (next, previous or keep) or the older "
                "'move_to_working_day', not both"
            )
        return self


class MeetingOccurrence(_Strict):
    key: Key
    label: str
    label_en: str
    phase: Key
    due: DateRule | None = None
    variants: list[Key] | None = None


class Cadence(_Strict):
    every: Annotated[int, Field(ge=1)]
    unit: Literal["weeks", "months"]

    @model_validator(mode="after")
    def _bounded(self) -> Cadence:
        if self.every > MAX_CADENCE[self.unit]:
            raise ValueError(
                f"every {self.every} {self.unit} is too rare: at most {MAX_CADENCE[self.unit]} "
                f"{self.unit}"
            )
        return self

    def describe(self) -> str:
        return f"every {self.every} {self.unit}"


class MeetingSeries(_Strict):
    """COPIL, COTECH, inter-structure meetings, working groups.

    Either a ``cadence`` (every N weeks or months, while the project is in ``phases``) or a
    numbered list of ``occurrences`` tied to phases (COPIL 1 to 4 in ACIA), or both.
    """

    key: Key
    label: str
    label_en: str
    duration_minutes: Annotated[int, Field(ge=15, le=24 * 60)] = 120
    attendees: list[Key]
    cadence: Cadence | None = None
    phases: list[Key] | None = None
    occurrences: list[MeetingOccurrence] = []

    @model_validator(mode="after")
    def _cadence_or_list(self) -> MeetingSeries:
        if self.cadence is None and not self.occurrences:
            raise ValueError("a meeting series needs a 'cadence' or a list of 'occurrences'")
        return self


class ReportSchedule(_Strict):
    key: Key
    label: str
    label_en: str
    frequency: Literal["quarterly"] = "quarterly"
    owed_by: Key
    sent_to: Key
    due_after_period: OffsetField = Offset(amount=30, unit="days")
    on_non_working_day: NonWorkingDayRule | None = None
    """Overrides the programme's rule (``reminders.on_non_working_day``) for this report."""

    @field_validator("due_after_period", mode="before")
    @classmethod
    def _parse_offset(cls, value: object) -> Offset:
        return parse_offset(value)


class AnnualReview(_Strict):
    """The annual review meeting, held ahead of the convention's anniversary (seed 001, 4.4)."""

    months_before_anniversary: Annotated[int, Field(ge=0, le=11)] = 2
    attendees: list[Key]


class ConventionPolicy(_Strict):
    """The partnership convention, when the programme has one (seed 001, "Contractualisation"):
    it takes effect when the last party signs, lasts ``duration``, is renewed expressly (or
    not at all), and a party leaves ``notice`` after its letter is received. Reminders go out
    ``reminders_before`` its end unless it is renewed."""

    duration: Months = 12
    renewal: Literal["express", "none"] = "express"
    notice: Months = 1
    reminders_before: Annotated[list[Months], Field(max_length=5)] = [3, 1]

    @field_validator("duration", "notice", mode="before")
    @classmethod
    def _months(cls, value: object) -> int:
        return parse_months(value)

    @field_validator("reminders_before", mode="before")
    @classmethod
    def _each_months(cls, value: object) -> object:
        return [parse_months(v) for v in value] if isinstance(value, list) else value

    @model_validator(mode="after")
    def _bounded(self) -> ConventionPolicy:
        if self.duration < 1:
            raise ValueError("a convention lasts at least one month")
        for months in self.reminders_before:
            if not 1 <= months < self.duration:
                raise ValueError(
                    f"a reminder {months} month(s) before the end does not fall within a "
                    f"{self.duration}-month convention"
                )
        return self


class FundingInstrument(_Strict):
    """One way the programme is funded (a CPOM, the FSE, a grant...), with its label."""

    key: Key
    label: str
    label_en: str


class Funding(_Strict):
    """How the programme is funded: its instruments and, when it is funded over several
    years (ACESO 2017-2021, Unapei 2018-2020), how many calendar years from the project's
    start ("année N sur M")."""

    instruments: Annotated[list[FundingInstrument], Field(max_length=20)] = []
    years: Annotated[int, Field(ge=1, le=10)] | None = None


class RaciEntry(_Strict):
    """Who is Responsible, Accountable, Consulted, Informed for one action of a phase.

    ``about``: the milestone, report, meeting series or occurrence, or transition the
    action is (its ``action`` key when that names one already); the routing of messages
    about that item follows this entry (:mod:`workflow.routing`)."""

    action: Key
    label: str
    label_en: str
    about: Key | None = None
    phase: Key
    variants: list[Key] | None = None
    responsible: list[Key]
    accountable: list[Key] = []
    consulted: list[Key] = []
    informed: list[Key] = []


class NotificationRule(_Strict):
    on: Literal["enter", "leave"]
    phase: Key
    template: Key
    notify: list[Key]


_ReminderDays = Annotated[int, Field(ge=1, le=MAX_REMINDER_DAYS)]


class ReminderPolicy(_Strict):
    """Default timings of reminders; a definition overrides any of them."""

    milestone_before_days: Annotated[list[_ReminderDays], Field(max_length=10)] = [14, 3]
    overdue_after_days: Annotated[int, Field(ge=0, le=MAX_REMINDER_DAYS)] = 1
    escalate_after_days: _ReminderDays = 14
    digest_every_days: _ReminderDays = 7
    meeting_before_days: Annotated[list[_ReminderDays], Field(max_length=10)] = [2]
    report_before_days: Annotated[list[_ReminderDays], Field(max_length=10)] = [7]
    send_at: Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")] = "09:00"
    move_to_working_day: bool = False
    # The notice budget (workflow.outbox.NoticeBudget): at most this many notices of one kind
    # caused by people's actions (suspended, resumed, phase changed, partner joined, partner
    # left) to one person about one project within the window; the ones beyond go out
    # together, in one message, at the window's end.
    notices_per_window: Annotated[int, Field(ge=1, le=20)] = 3
    notice_window_hours: Annotated[int, Field(ge=1, le=24)] = 24
    on_non_working_day: NonWorkingDayRule | None = None
    """The programme's rule for deadlines on non-working days. Unset: ``next`` for what a
    partner owes (its milestones, its reports), ``keep`` for the rest, unless the older
    ``move_to_working_day: true`` asks ``next`` for everything."""
    weeks_before_escalation: Annotated[int, Field(ge=1, le=52)] = 4
    """An overdue item unchanged this many weeks is escalated once to the accountable, then
    listed only in the monthly digest."""
    calendar_reminds_within_days: Annotated[int, Field(ge=1, le=MAX_REMINDER_DAYS)] | None = 31
    """A meeting of a frequent series (one that meets at least every this many days: the
    fortnightly project meetings, a monthly working group) whose invitation or change is sent
    at most this many days before it gets no email reminder: the invitation's calendar entry
    reminds the day before (its VALARM), and a person invited every fortnight does not need a
    second email for each meeting. Rarer meetings (a COPIL every two months, numbered
    occurrences without a cadence) and meetings invited further ahead keep their reminders
    (``meeting_before_days``). ``null``: every meeting gets its email reminders."""

    @model_validator(mode="after")
    def _one_rule(self) -> ReminderPolicy:
        if self.move_to_working_day and self.on_non_working_day is not None:
            raise ValueError(
                "give 'on_non_working_day' (next, previous or keep) or the older "
                "'move_to_working_day', not both"
            )
        return self

    def calendar_reminds(self, series: MeetingSeries, notice_ahead: timedelta) -> bool:
        """Whether a meeting of ``series`` whose invitation (or change) goes out
        ``notice_ahead`` before it is reminded by that invitation's calendar entry alone, so
        that no email reminder is planned. The one home of that rule."""
        limit = self.calendar_reminds_within_days
        if limit is None or series.cadence is None:
            return False
        cadence = series.cadence
        every_days = cadence.every * (7 if cadence.unit == "weeks" else 30)
        return every_days <= limit and notice_ahead <= timedelta(days=limit)

    def deadline_rule(
        self, owed_by: str, explicit: NonWorkingDayRule | None = None, legacy: bool | None = None
    ) -> NonWorkingDayRule:
        """The one rule for a deadline on a non-working day: the item's own ``explicit`` rule
        (or its older ``legacy`` flag), else the programme's, else ``next`` for what a partner
        owes and ``keep`` for the rest."""
        if explicit is not None:
            return explicit
        if legacy is not None:
            return "next" if legacy else "keep"
        if self.on_non_working_day is not None:
            return self.on_non_working_day
        if self.move_to_working_day:
            return "next"
        return "next" if owed_by == "partner" else "keep"


class Definition(_Strict):
    """One programme lifecycle (``definitions/<id>.yaml``)."""

    id: Key
    version: Annotated[int, Field(ge=1, le=MAX_VERSION)]
    title: str
    title_en: str
    source: str | None = None
    description: str | None = None
    roles: list[Role]
    variants: list[Variant] = []
    phases: list[Phase]
    initial: Key
    terminal: list[Key]
    transitions: list[Transition]
    decisions: list[DecisionSpec] = []
    milestones: list[Milestone] = []
    meetings: list[MeetingSeries] = []
    reports: list[ReportSchedule] = []
    annual_review: AnnualReview | None = None
    convention: ConventionPolicy | None = None
    funding: Funding | None = None
    raci: list[RaciEntry] = []
    notifications: list[NotificationRule] = []
    routing: dict[Key, list[Key]] = {}
    """Per kind of message, the roles it goes to instead of the RACI's default
    (:mod:`workflow.routing`); a list may also say ``responsible``, ``attendees``, ``informed``."""
    reminders: ReminderPolicy = ReminderPolicy()

    # Convenience look-ups (definitions are frozen, so these are cheap to recompute).
    def phase(self, key: str) -> Phase:
        return next(p for p in self.phases if p.key == key)

    def phase_label(self, key: str, lang: str = "fr") -> str:
        return self.label("phase", key, lang)

    def milestone(self, key: str) -> Milestone:
        return next(m for m in self.milestones if m.key == key)

    def occurrences(self) -> dict[str, tuple[MeetingSeries, MeetingOccurrence]]:
        return {o.key: (s, o) for s in self.meetings for o in s.occurrences}

    def series(self, key: str) -> MeetingSeries:
        return next(s for s in self.meetings if s.key == key)

    def decision_label(self, key: str, lang: str = "fr") -> str:
        return self.label("decision", key, lang)

    def role_label(self, key: str, lang: str = "fr") -> str:
        return self.label("role", key, lang)

    def title_in(self, lang: str = "fr") -> str:
        """The programme's title in ``lang``."""
        return in_language(self.title, self.title_en, lang)

    def label(self, kind: LabelKind, key: str, lang: str = "fr", default: str | None = None) -> str:
        """The label of the ``kind`` named ``key`` in ``lang`` ("fr", or "en" for an English
        reader): the one home of "what a person reads for this key", used by pages, emails,
        exports and the command line. A meeting key is a series or a numbered occurrence.
        An unknown key (a project still on an older version that named it) gives
        ``default`` when one is given, else the key itself."""
        from workflow.lifecycle import BUILTIN_PHASE_LABELS, BUILTIN_PHASE_LABELS_EN

        found = self._labels().get((kind, key))
        if found is None:
            if kind == "phase" and key in BUILTIN_PHASE_LABELS:
                return in_language(BUILTIN_PHASE_LABELS[key], BUILTIN_PHASE_LABELS_EN[key], lang)
            return key if default is None else default
        return in_language(found[0], found[1], lang)

    def label_fields(
        self, name: str, kind: LabelKind, key: str, default: str | None = None
    ) -> dict[str, str]:
        """A message item's fields for the label of ``key``: ``name`` in French and
        ``name + "_en"`` in English; the renderer gives English readers the second under the
        first's name (:func:`notifications.render`), so a template says ``milestone_label``
        in both languages and an English reader never reads the French label."""
        return {
            name: self.label(kind, key, "fr", default),
            f"{name}_en": self.label(kind, key, "en", default),
        }

    def meeting_fields(self, series: str, occurrence: str | None, stored: str) -> dict[str, str]:
        """A message item's ``meeting_label`` and ``series_label`` in French and English."""
        return {
            "meeting_label": stored,
            "meeting_label_en": self.meeting_label(series, occurrence, stored, "en"),
            **self.label_fields("series_label", "meeting", series),
        }

    def meeting_label(
        self, series: str, occurrence: str | None, stored: str, lang: str = "fr"
    ) -> str:
        """What a meeting of a project is called in ``lang``: its occurrence's label, or the
        series' label and its number when the engine named it ("COPIL n°2" / "COPIL no. 2"),
        else the name a person gave it (``stored``), which is nobody's translation to make."""
        if occurrence is not None and ("meeting", occurrence) in self._labels():
            return self.label("meeting", occurrence, lang)
        labels = self._labels().get(("meeting", series))
        if labels is not None:
            numbered = re.fullmatch(re.escape(labels[0]) + r" n°(\d+)", stored)
            if numbered is not None:
                return meeting_number(in_language(labels[0], labels[1], lang), numbered[1], lang)
            if stored == labels[0]:
                return in_language(labels[0], labels[1], lang)
        return stored

    def english_labels(self) -> dict[str, str]:
        """Each French label of this programme and its English label, where they differ:
        what a page written from French values shows an English reader instead (a read
        model's ``phase_label``, ``label``, ``programme``: see :mod:`web.i18n`)."""
        pairs = [(self.title, self.title_en), *self._labels().values()]
        pairs += [
            (f"{self.title} — {v.label}", f"{self.title_en} — {v.label_en}") for v in self.variants
        ]
        return {fr: en for fr, en in pairs if en and fr != en}

    def _labels(self) -> dict[tuple[str, str], tuple[str, str | None]]:
        cached: dict[tuple[str, str], tuple[str, str | None]] | None = self.__dict__.get(
            "_label_index"
        )
        if cached is None:
            cached = {}
            named: list[tuple[LabelKind, list[Any]]] = [
                ("phase", self.phases),
                ("role", self.roles),
                ("variant", self.variants),
                ("milestone", self.milestones),
                ("meeting", self.meetings),
                ("meeting", [o for s in self.meetings for o in s.occurrences]),
                ("report", self.reports),
                ("decision", self.decisions),
                ("instrument", self.funding.instruments if self.funding else []),
            ]
            for kind, items in named:
                for item in items:
                    cached[(kind, item.key)] = (item.label, item.label_en)
            for t in self.transitions:
                cached.setdefault(("transition", t.trigger), (t.label, t.label_en))
            for r in self.raci:
                cached[("raci", r.action)] = (r.label, r.label_en)
            for m in self.milestones:
                if m.deliverable is not None:
                    cached[("deliverable", m.key)] = (m.deliverable, m.deliverable_en)
            # frozen model: the index is derived data, kept beside the fields
            object.__setattr__(self, "_label_index", cached)
        return cached


LabelKind = Literal[
    "phase",
    "role",
    "variant",
    "milestone",
    "meeting",
    "report",
    "decision",
    "transition",
    "instrument",
    "raci",
    "deliverable",
]
"""What a definition names, each with a French ``label`` and an English ``label_en``."""


def in_language(label: str, label_en: str | None, lang: str) -> str:
    """``label_en`` for an English reader (when there is one), else the French ``label``."""
    return label_en if lang == "en" and label_en else label


def meeting_number(series_label: str, number: int | str, lang: str = "fr") -> str:
    """The engine's name for the Nth meeting of a series: "COPIL n°2" / "COPIL no. 2"."""
    return f"{series_label} no. {number}" if lang == "en" else f"{series_label} n°{number}"
