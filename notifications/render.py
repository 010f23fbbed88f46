"""Rendering of notification emails from Jinja2 templates, in French (default) or English.

A message goes to one person and lists one or more *items* (a milestone due, a meeting...):
several items due the same day for one person make one message, not several.

Templates live in ``templates/<lang>/``::

    message.txt, message.html      greeting, the rendered items, the footer
    digest.subject.txt             subject when there are several items
    items/<kind>.subject.txt       subject when the message holds only this item
    items/<kind>.txt, .html        one item
    partials/                      pieces shared by items (deadline note, how to answer)
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.dates import format_date
from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    Template,
    TemplateNotFound,
    UndefinedError,
    pass_context,
    select_autoescape,
)
from jinja2.runtime import Context
from markupsafe import Markup

from . import days
from .calendar import PARIS
from .message import clean_text_line
from .wording import clock_time, count

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "RenderError",
    "Rendered",
    "Renderer",
    "UnknownLanguage",
    "UnknownTemplate",
    "french_spacing",
    "in_language",
]

LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"
_LOCALES = {"fr": "fr_FR", "en": "en_GB"}
_DATE = {"fr": "EEEE d MMMM y", "en": "EEEE d MMMM y"}
_AT = {"fr": " à ", "en": " at "}
# French writes the first of the month as an ordinal: "mercredi 1er avril 2026".
_FIRST = {"fr": ("d MMMM", "d'er' MMMM")}
_ITEM_SUFFIXES = (".subject.txt", ".txt", ".html")
TEMPLATES_DIR = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


class UnknownTemplate(LookupError):
    def __init__(self, kind: str, known: frozenset[str]) -> None:
        super().__init__(
            f"No notification templates for kind {kind!r}: each language needs "
            f"items/{kind}.subject.txt, items/{kind}.txt and items/{kind}.html. "
            f"Known kinds: {', '.join(sorted(known)) or 'none'}."
        )
        self.kind, self.known = kind, known


class UnknownLanguage(LookupError):
    def __init__(self, lang: str) -> None:
        super().__init__(
            f"No notification templates in language {lang!r}; available: {', '.join(LANGUAGES)}."
        )
        self.lang = lang


class RenderError(ValueError):
    """A template used a field the item does not provide (or another template error)."""

    def __init__(self, lang: str, template: str, problem: str) -> None:
        super().__init__(
            f"Cannot render {template!r} in {lang!r}: {problem}. The caller must give every "
            "field the kind documents (None for an absent optional value)."
        )
        self.lang, self.template, self.problem = lang, template, problem


def _paris(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"Expected a timezone-aware datetime, got naive {value!r}.")
    return value.astimezone(PARIS)


# Babel takes ~90 us a date; the messages of a batch mostly share their dates (one COPIL,
# one deadline, one transition for all the partners of a project), so each is formatted once.
@lru_cache(maxsize=4096)
def _format_date(lang: str, value: date | datetime) -> str:
    if isinstance(value, datetime):
        value = _paris(value).date()
    return format_date(value, _first_of_month(lang, value, _DATE[lang]), locale=_LOCALES[lang])


def _first_of_month(lang: str, day: date, pattern: str) -> str:
    if day.day != 1 or lang not in _FIRST:
        return pattern
    plain, ordinal = _FIRST[lang]
    return pattern.replace(plain, ordinal)


@pass_context
def _date_long(context: Context, value: date | datetime) -> str:
    return _format_date(context["lang"], value)


@pass_context
def _datetime_long(context: Context, value: datetime) -> str:
    lang = context["lang"]
    return _format_date(lang, value) + _AT[lang] + clock_time(_paris(value), lang)


@pass_context
def _time(context: Context, value: datetime) -> str:
    return clock_time(_paris(value), context["lang"])


@pass_context
def _quarter(context: Context, period: Any, short: bool = False) -> str:
    """``"2026-Q1"`` -> "1er trimestre 2026" / "first quarter of 2026" (short: "T1 2026")."""
    return days.quarter(period, context["lang"], short=short)


@pass_context
def _cadence(context: Context, value: Mapping[str, Any]) -> str:
    """``{"every": 2, "unit": "months"}`` -> "tous les 2 mois" / "every 2 months"."""
    return days.cadence(value, context["lang"])


@pass_context
def _non_working(context: Context, value: Mapping[str, Any]) -> str:
    """An item's ``non_working_day`` -> "samedi" / "Saturday", "lundi de Pâques" / "Easter Monday"."""
    return days.non_working_day(value, context["lang"])


@pass_context
def _count(context: Context, value: int, unit: str) -> str:
    """ "1 jour de retard", "3 days late": ``value`` things of ``unit`` in the reader's language."""
    return count(value, unit, context["lang"])


_INTERVAL = re.compile(r"tous les (\d+) (mois|semaines)")

NARROW_NBSP = "\u202f"
_AFTER_GUILLEMET = re.compile(r"«[ \u00a0\u202f]*")


def french_spacing(text: str) -> str:
    """French typography, the one rule of every French message: a narrow no-break space
    (U+202F) before ; : ! ? and » and after «, replacing any ordinary space there.

    Only a mark that follows a space, or a guillemet, is touched: "09:00", "https://" and
    "?page=2" are left as they are."""
    text = re.sub(r"[ \u00a0\u202f]+([;:!?])", NARROW_NBSP + r"\1", text)
    text = re.sub(r"[ \u00a0\u202f]*»", NARROW_NBSP + "»", text)
    return _AFTER_GUILLEMET.sub("«" + NARROW_NBSP, text)


def _upgraded(item: Mapping[str, Any]) -> Mapping[str, Any]:
    """An item queued before periods, cadences and non-working days were data (French words
    then) as it is now, so a message waiting in the outbox across the upgrade still renders:
    ``interval_label`` becomes its ``cadence``, a ``non_working_reason`` is left unsaid."""
    if "interval_label" in item and "cadence" not in item:
        found = _INTERVAL.fullmatch(str(item["interval_label"]))
        unit = "months" if found is None or found[2] == "mois" else "weeks"
        item = {**item, "cadence": {"every": int(found[1]) if found else 1, "unit": unit}}
    if "non_working_reason" in item and "non_working_day" not in item:
        item = {**item, "non_working_day": None}
    if item.get("kind") in ("partner_joined", "partner_left") and "partners" not in item:
        item = {**item, "partners": [item.get("partner_name", "")], "welcome": False}
    return item


ENGLISH_SUFFIX = "_en"


def in_language(item: Mapping[str, Any], lang: str) -> Mapping[str, Any]:
    """What ``item`` says to a reader of ``lang``. An item carries what a definition names
    in both languages (``milestone_label`` and ``milestone_label_en``, also inside lists
    such as a digest's ``overdue``); an English reader gets each ``X_en`` under the name
    ``X``, so one template variable serves both languages and no French label reaches an
    English reader. An item queued before it carried English keeps its French."""
    if lang != "en":
        return item
    english: dict[str, Any] = {}
    for name, value in item.items():
        if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
            english[name] = [in_language(v, lang) for v in value]
        elif name.endswith(ENGLISH_SUFFIX) and isinstance(value, str) and value:
            english[name.removesuffix(ENGLISH_SUFFIX)] = value
    return {**item, **english} if english else item


# What an item queued before a field existed is rendered with (its own value wins).
_ITEM_DEFAULTS: dict[str, Any] = {
    "reader": "partner",
    "project_url": None,
    "today": None,
    "welcome": False,
}


class Renderer:
    """Renders messages; one instance can be shared (the Jinja environment is built once).

    Templates are read once per instance: each is compiled the first time it is used and
    the list of kinds is taken on the first call of :meth:`kinds`; a changed or added
    template is seen by a new ``Renderer`` (a restart), not by a running one. Checking the
    files before every message cost more than rendering it (issue 3).
    """

    def __init__(self, templates_dir: Path | None = None) -> None:
        self.templates_dir = templates_dir or TEMPLATES_DIR
        self._kinds: frozenset[str] | None = None
        self.env = Environment(
            loader=FileSystemLoader(self.templates_dir),
            auto_reload=False,
            cache_size=-1,  # every template stays compiled (there are ~140)
            undefined=StrictUndefined,
            autoescape=select_autoescape(
                enabled_extensions=("html",), disabled_extensions=("txt",), default=False
            ),
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )
        self.env.filters["date_long"] = _date_long
        self.env.filters["datetime_long"] = _datetime_long
        self.env.filters["time"] = _time
        self.env.filters["quarter"] = _quarter
        self.env.filters["cadence"] = _cadence
        self.env.filters["non_working"] = _non_working
        self.env.filters["count"] = _count
        # Contexts are handed to Jinja as they are (see _render), so they carry the globals.
        self._globals = dict(self.env.globals)
        self._templates: dict[str, Template] = {}

    def kinds(self) -> frozenset[str]:
        """Kinds that have all three item templates in every language."""
        if self._kinds is None:
            self._kinds = self._find_kinds()
        return self._kinds

    def _find_kinds(self) -> frozenset[str]:
        found: set[str] | None = None
        for lang in LANGUAGES:
            items = self.templates_dir / lang / "items"
            names = {p.name for p in items.iterdir()} if items.is_dir() else set()
            complete = {
                name.removesuffix(".subject.txt")
                for name in names
                if name.endswith(".subject.txt")
                and all(name.removesuffix(".subject.txt") + s in names for s in _ITEM_SUFFIXES)
            }
            found = complete if found is None else found & complete
        return frozenset(found or ())

    def check(self, kind: str) -> None:
        known = self.kinds()
        if kind not in known:
            raise UnknownTemplate(kind, known)

    def render(
        self,
        lang: str,
        recipient_name: str,
        items: Sequence[Mapping[str, Any]],
        base_context: Mapping[str, Any] | None = None,
    ) -> Rendered:
        """Render one message to ``recipient_name`` about ``items`` (at least one).

        Each item is a mapping with ``kind`` and that kind's fields; ``base_context`` is
        merged under every item (an item's own fields win).
        """
        if lang not in LANGUAGES:
            raise UnknownLanguage(lang)
        if not items:
            raise ValueError("A message needs at least one item to render.")
        known = self.kinds()
        items = [in_language(_upgraded(item), lang) for item in items]
        for item in items:
            kind = item.get("kind")
            if not isinstance(kind, str) or kind not in known:
                raise UnknownTemplate(str(kind), known)

        common = {
            **self._globals,
            **_ITEM_DEFAULTS,
            **in_language(base_context or {}, lang),
            "lang": lang,
        }
        common["recipient_name"] = recipient_name
        # Who the message is written for (the same for all its items).
        common["reader"] = items[0].get("reader", common["reader"])
        text_items: list[str] = []
        html_items: list[Markup] = []
        for item in items:
            context = {**common, **item, "lang": lang, "count": len(items)}
            prefix = f"{lang}/items/{item['kind']}"
            text_items.append(self._render(f"{prefix}.txt", context).strip())
            html_items.append(Markup(self._render(f"{prefix}.html", context).strip()))

        if len(items) == 1:  # the item's own context, as its text and html had
            subject = self._render(f"{lang}/items/{items[0]['kind']}.subject.txt", context)
        else:
            context = {**common, "items": list(items), "count": len(items)}
            subject = self._render(f"{lang}/digest.subject.txt", context)

        pilots: list[tuple[str, str]] = []
        for item in items:
            pilot = (str(item.get("pilot_name", "")), str(item.get("pilot_email", "")))
            if pilot[1] and pilot not in pilots:
                pilots.append(pilot)
        message_context = {**common, "count": len(items), "pilots": pilots}
        text = self._render(f"{lang}/message.txt", {**message_context, "items": text_items})
        html = self._render(f"{lang}/message.html", {**message_context, "items": html_items})
        subject, text = clean_text_line(subject), text.strip() + "\n"
        if lang == "fr":
            subject, text, html = (
                french_spacing(subject),
                french_spacing(text),
                french_spacing(html),
            )
        return Rendered(subject=subject, text=text, html=html)

    def _render(self, name: str, context: dict[str, Any]) -> str:
        """Render template ``name`` with ``context`` as its variables.

        Not ``Template.render``: that copies the context twice (merging the globals through
        a ChainMap) and Jinja's lookup checks its cache under a lock; ~20 us a template, a
        message renders five. Jinja never writes to a shared context's variables ({% set %}
        goes to the template's own), so one dict serves the text, html and subject.
        """
        try:
            template = self._templates.get(name)
            if template is None:
                template = self._templates[name] = self.env.get_template(name)
            return "".join(template.root_render_func(template.new_context(context, shared=True)))
        except TemplateNotFound as exc:
            raise RenderError(context["lang"], name, f"template {exc.name!r} is missing") from exc
        except UndefinedError as exc:
            raise RenderError(context["lang"], name, exc.message or "undefined value") from exc
