"""The quarterly report a partner fills in: seed 001's « tableau de suivi des actions par
les acteurs » (fiche « Le suivi de mise en œuvre du projet », au niveau des acteurs).

Per action: were the resources mobilised as planned, were the target groups reached, were
the actions carried out as programmed, were the objectives reached (yes / partly / no, and
why when not fully); what the action contributed to (the seed's four « Est-ce que l'action
a contribué à... » questions: the cooperation, practices, levers on social inequalities in
health, the beneficiaries' health pathway; yes / partly / no and on which aspects; these
may be left unanswered, an early quarter often cannot tell yet); then the project's
indicators (realised value, as of this quarter); then obstacles, levers and improvement
ideas.

Actions: Copilote does not store the fiches-actions themselves (the ``fiches_actions``
milestone only records that they were delivered), so the partner lists *their own* actions
on the form, one row each. The rows start from the partner's previous report, so a quarter
only asks for the titles once. A row left entirely empty is ignored.

What is stored (``Report.content``)::

    {"form": "suivi_actions",
     "actions": [{"title": "...", "resources": {"answer": "yes|partly|no", "why": "..."},
                  "targets": {...}, "programme": {...}, "objectives": {...},
                  "cooperation": {"answer": "yes|partly|no|", "why": "the aspects"},
                  "practices": {...}, "ists": {...}, "pathway": {...}}, ...],
     "indicators": [{"key", "label", "kind", "unit", "planned", "realised"}, ...],
     "obstacles": "...", "levers": "...", "improvements": "..."}

The indicator values are the partner's figures for the report; the project's Indicator rows
are left to the pilot, who consolidates the partners' figures.

Issue 13: when the project has fiches-actions, the form lists the partner's own actions (an
action row then carries its ``key``) and the indicators of those actions for the report's
year, pre-filled with the partner's answers of the previous quarter; the values are recorded
per action and indicator for the period (``workflow.plan``) and added up in the CPOM report.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from web.bounds import storable

__all__ = [
    "ANSWERS",
    "CONTRIBUTIONS",
    "FORM",
    "QUESTIONS",
    "TEXTS",
    "FieldError",
    "ReportForm",
    "action_titles",
]

FORM = "suivi_actions"
MAX_ROWS = 50
MAX_TITLE = 300
MAX_TEXT = 5000


@dataclass(frozen=True)
class Question:
    key: str
    label: str
    why: str


QUESTIONS = (
    Question(
        "resources",
        "Les ressources ont été mobilisées comme prévu",
        "Si non ou en partie : pourquoi ?",
    ),
    Question(
        "targets",
        "Les groupes cibles ont été atteints comme prévu",
        "Si non ou en partie : pourquoi ?",
    ),
    Question(
        "programme",
        "Les actions ont été réalisées et sont conformes à la programmation",
        "Si non ou en partie : pourquoi ?",
    ),
    Question("objectives", "Les objectifs cibles ont été atteints", "Justifiez (éléments clés)"),
)
# Seed 001, same table: what the action contributed to. Optional; the text says on which
# aspects (kept under "why", as for the questions above).
CONTRIBUTIONS = (
    Question(
        "cooperation",
        "L'action a contribué à améliorer la dynamique de coopération",
        "Sur quels aspects ?",
    ),
    Question(
        "practices", "L'action a contribué à l'amélioration des pratiques", "Sur quels aspects ?"
    ),
    Question(
        "ists",
        "L'action a contribué à activer des leviers permettant d'agir sur les ISTS"
        " (intersectorialité, prise en compte des déterminants sociaux, participation des"
        " habitants...)",
        "Lesquels ?",
    ),
    Question(
        "pathway",
        "L'action a contribué à l'amélioration du parcours de santé des bénéficiaires sur le"
        " territoire",
        "Sur quels aspects ?",
    ),
)
ANSWERS = (("yes", "Oui"), ("partly", "En partie"), ("no", "Non"))
TEXTS = (
    ("obstacles", "Freins identifiés"),
    ("levers", "Leviers identifiés"),
    ("improvements", "Pistes d'amélioration"),
)
_ROW = re.compile(r"^a(\d{1,4})_title$")


@dataclass(frozen=True)
class FieldError:
    """One problem, with the form field it is about (its ``name``) and what to do."""

    field: str
    label: str  # French, translated by the page
    message: str  # French, translated by the page
    row: int | None = None  # the action's number on the form


def _blank_row() -> dict[str, str]:
    row = {"title": "", "key": ""}
    for q in (*QUESTIONS, *CONTRIBUTIONS):
        row[q.key] = row[f"{q.key}_why"] = ""
    return row


def _number(raw: str) -> float | None:
    text = raw.strip().replace("\u202f", "").replace("\xa0", "").replace(" ", "")
    if not text:
        return None
    value = float(text.replace(",", "."))  # ValueError for anything else
    if not math.isfinite(value):
        raise ValueError(raw)
    return value


def _stored_text(value: Any) -> str:
    """A stored value as the text of a field: lists one item a line, mappings as key: value."""
    if value is None:
        return ""
    if isinstance(value, Mapping):
        return "\n".join(f"{k} : {_stored_text(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return "\n".join(_stored_text(v) for v in value)
    return str(value)


def _stored_number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return _number(str(value))
    except ValueError:
        return None


def _stored_actions(actions: Any) -> list[Any]:
    """The stored actions as a list: a report recorded through the API or the command line
    may give them as one text ("Ateliers, permanences") or a list of texts."""
    if actions is None:
        return []
    if isinstance(actions, str):
        return [line for line in (part.strip() for part in actions.splitlines()) if line]
    if isinstance(actions, Mapping):
        return [actions]
    if isinstance(actions, list | tuple):
        return list(actions)
    return [actions]


def _stored_row(action: Any) -> dict[str, str]:
    """One stored action as a form row, whatever its shape (a mapping of the form's answers,
    or only a text, then its title)."""
    row = _blank_row()
    if not isinstance(action, Mapping):
        row["title"] = _stored_text(action)[:MAX_TITLE]
        return row
    row["title"] = _stored_text(action.get("title", action.get("label", "")))
    row["key"] = _stored_text(action.get("key"))
    for q in (*QUESTIONS, *CONTRIBUTIONS):
        given = action.get(q.key)
        if isinstance(given, Mapping):
            answer = str(given.get("answer", ""))
            row[q.key] = answer if answer in {value for value, _ in ANSWERS} else ""
            row[f"{q.key}_why"] = _stored_text(given.get("why"))
        elif given is not None:
            row[f"{q.key}_why"] = _stored_text(given)
    return row


def action_titles(content: Mapping[str, Any] | None) -> list[str]:
    """The titles of a stored report's actions (to start the next quarter's form from)."""
    if not content:
        return []
    return [_stored_row(a)["title"] for a in _stored_actions(content.get("actions"))]


def _shown(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if value.is_integer() else str(value).replace(".", ",")


@dataclass
class ReportForm:
    rows: list[dict[str, str]]
    indicators: dict[str, str]  # indicator key -> the value as typed
    texts: dict[str, str]
    errors: list[FieldError] = field(default_factory=list)
    _indicator_rows: Sequence[Any] = ()

    @property
    def error_fields(self) -> set[str]:
        return {e.field for e in self.errors}

    # -- an empty or stored form ---------------------------------------------------------
    @classmethod
    def start(
        cls,
        content: Mapping[str, Any] | None,
        previous_titles: Sequence[str],
        own_actions: Sequence[tuple[str, str]] = (),
        previous: Mapping[str, Any] | None = None,
    ) -> ReportForm:
        """The form as first shown: the stored report (whatever recorded it); else the
        partner's own fiches-actions (``own_actions``, key and label) pre-filled with
        ``previous`` (their report of the quarter before); else the titles of the partner's
        previous actions. Always one empty action row to add one."""
        if content:
            rows = [_stored_row(action) for action in _stored_actions(content.get("actions"))]
            indicators = {}
            for i in content.get("indicators") or []:
                if isinstance(i, Mapping) and i.get("key") is not None:
                    indicators[str(i["key"])] = _shown(_stored_number(i.get("realised")))
            texts = {key: _stored_text(content.get(key)) for key, _ in TEXTS}
            if content.get("form") != FORM:
                # Recorded through the API or the command line: what has no place on the form
                # is kept in sight, under the improvements, so a correction does not lose it.
                extra = [
                    f"{key} : {_stored_text(value)}"
                    for key, value in content.items()
                    if key not in {"actions", "indicators", "form", *texts} and value
                ]
                texts["improvements"] = "\n".join(filter(None, [texts["improvements"], *extra]))
        elif own_actions:
            before = {
                str(a.get("key")): a
                for a in _stored_actions((previous or {}).get("actions"))
                if isinstance(a, Mapping) and a.get("key")
            }
            rows = []
            for key, label in own_actions:
                row = _stored_row(before[key]) if key in before else _blank_row()
                row["key"], row["title"] = key, label
                rows.append(row)
            indicators = {
                str(i.get("key")): _shown(_stored_number(i.get("realised")))
                for i in (previous or {}).get("indicators") or []
                if isinstance(i, Mapping) and isinstance(i.get("realised"), int | float)
            }
            texts = {key: "" for key, _ in TEXTS}
        else:
            rows = [{**_blank_row(), "title": t} for t in previous_titles if t]
            indicators, texts = {}, {key: "" for key, _ in TEXTS}
        form = cls(rows, indicators, texts)
        form.add_row()
        return form

    # -- a draft, saved on the server -----------------------------------------------------
    _BLOCKING = (
        "Caractères non autorisés (caractères de contrôle).",
        "Texte trop long (5000 caractères au plus).",
        "Intitulé trop long (300 caractères au plus).",
        "50 actions au plus.",
    )

    @property
    def draft_errors(self) -> list[FieldError]:
        """The problems that forbid even saving a draft (what could not be stored or shown);
        a missing answer does not: a draft is unfinished by nature."""
        return [e for e in self.errors if e.message in self._BLOCKING]

    def draft(self) -> dict[str, Any]:
        return {"rows": self.rows, "indicators": self.indicators, "texts": self.texts}

    @classmethod
    def from_draft(cls, content: Mapping[str, Any]) -> ReportForm:
        rows = []
        for stored in content.get("rows") or []:
            if isinstance(stored, Mapping):
                row = _blank_row()
                row.update({k: str(v) for k, v in stored.items() if k in row})
                rows.append(row)
        given = content.get("indicators")
        indicators = (
            {str(k): str(v) for k, v in given.items()} if isinstance(given, Mapping) else {}
        )
        texts_in = content.get("texts")
        texts = {
            key: str(texts_in.get(key, "")) if isinstance(texts_in, Mapping) else ""
            for key, _ in TEXTS
        }
        form = cls(rows, indicators, texts)
        if not rows or any(rows[-1].values()):
            form.add_row()
        return form

    def add_row(self) -> None:
        if len(self.rows) < MAX_ROWS:
            self.rows.append(_blank_row())

    # -- a posted form --------------------------------------------------------------------
    @classmethod
    def read(cls, posted: Mapping[str, Any], indicator_rows: Sequence[Any]) -> ReportForm:
        """Read and check a posted form; ``errors`` lists every problem (nothing is stored
        while there is one). Empty rows are dropped and the others numbered 1, 2, ..."""

        def text(name: str) -> str:
            value = posted.get(name, "")
            return value.strip() if isinstance(value, str) else ""

        indices = sorted(int(m.group(1)) for k in posted if (m := _ROW.match(k)))
        rows = []
        for i in indices:
            row = {"title": text(f"a{i}_title")}
            for q in (*QUESTIONS, *CONTRIBUTIONS):
                row[q.key] = text(f"a{i}_{q.key}")
                row[f"{q.key}_why"] = text(f"a{i}_{q.key}_why")
            if any(row.values()):
                row["key"] = text(f"a{i}_key")[:64]  # a fiche-action's, as the form gave it
                rows.append(row)
        form = cls(
            rows,
            {str(ind.key): text(f"ind_{ind.key}") for ind in indicator_rows},
            {key: text(key) for key, _ in TEXTS},
            _indicator_rows=indicator_rows,
        )
        form._check()
        if not form.rows:
            form.add_row()
        return form

    def _check(self) -> None:
        err = self.errors.append
        if len(self.rows) > MAX_ROWS:
            err(FieldError("actions", "Vos actions", "50 actions au plus."))
        if not self.rows:
            err(FieldError("a1_title", "Intitulé de l'action", "Décrivez au moins une action."))
        allowed = {value for value, _ in ANSWERS}
        for n, row in enumerate(self.rows, start=1):
            if not row["title"]:
                err(
                    FieldError(
                        f"a{n}_title", "Intitulé de l'action", "Donnez l'intitulé de l'action.", n
                    )
                )
            elif len(row["title"]) > MAX_TITLE:
                err(
                    FieldError(
                        f"a{n}_title",
                        "Intitulé de l'action",
                        "Intitulé trop long (300 caractères au plus).",
                        n,
                    )
                )
            for q in QUESTIONS:
                answer, why = row[q.key], row[f"{q.key}_why"]
                if answer not in allowed:
                    err(FieldError(f"a{n}_{q.key}", q.label, "Répondez oui, en partie ou non.", n))
                elif answer != "yes" and not why:
                    err(
                        FieldError(
                            f"a{n}_{q.key}_why",
                            q.label,
                            "Dites pourquoi (réponse « non » ou « en partie »).",
                            n,
                        )
                    )
                if len(why) > MAX_TEXT:
                    err(
                        FieldError(
                            f"a{n}_{q.key}_why",
                            q.label,
                            "Texte trop long (5000 caractères au plus).",
                            n,
                        )
                    )
            for q in CONTRIBUTIONS:
                answer, why = row[q.key], row[f"{q.key}_why"]
                if answer and answer not in allowed:
                    err(
                        FieldError(
                            f"a{n}_{q.key}",
                            q.label,
                            "Répondez oui, en partie ou non (ou laissez sans réponse).",
                            n,
                        )
                    )
                if len(why) > MAX_TEXT:
                    err(
                        FieldError(
                            f"a{n}_{q.key}_why",
                            q.label,
                            "Texte trop long (5000 caractères au plus).",
                            n,
                        )
                    )
        for ind in self._indicator_rows:
            try:
                _number(self.indicators[str(ind.key)])
            except ValueError:
                err(
                    FieldError(
                        f"ind_{ind.key}",
                        str(ind.label),
                        "Saisissez un nombre (par exemple 12 ou 3,5).",
                    )
                )
        for key, label in TEXTS:
            if len(self.texts[key]) > MAX_TEXT:
                err(FieldError(key, label, "Texte trop long (5000 caractères au plus)."))
        self._check_characters()

    def _check_characters(self) -> None:
        """No NUL or other control character (a line break only where a text may have
        several lines), no lone surrogate: the database could not store them."""
        fields: list[tuple[str, str, str, bool, int | None]] = []
        for n, row in enumerate(self.rows, start=1):
            fields.append((f"a{n}_title", "Intitulé de l'action", row["title"], False, n))
            fields.append((f"a{n}_key", "Intitulé de l'action", row.get("key", ""), False, n))
            for q in (*QUESTIONS, *CONTRIBUTIONS):
                fields.append((f"a{n}_{q.key}", q.label, row[q.key], False, n))
                fields.append((f"a{n}_{q.key}_why", q.label, row[f"{q.key}_why"], True, n))
        for ind in self._indicator_rows:
            fields.append(
                (f"ind_{ind.key}", str(ind.label), self.indicators[str(ind.key)], False, None)
            )
        fields.extend((key, label, self.texts[key], True, None) for key, label in TEXTS)
        for name, label, value, lines, row_number in fields:
            if not storable(value, lines):
                message = "Caractères non autorisés (caractères de contrôle)."
                self.errors.append(FieldError(name, label, message, row_number))

    def content(self) -> dict[str, Any]:
        if self.errors:
            raise ValueError("a form with errors has no content to store")
        return {
            "form": FORM,
            "actions": [
                {
                    "title": row["title"],
                    **({"key": row["key"]} if row.get("key") else {}),
                    **{
                        q.key: {"answer": row[q.key], "why": row[f"{q.key}_why"]}
                        for q in (*QUESTIONS, *CONTRIBUTIONS)
                    },
                }
                for row in self.rows
            ],
            "indicators": [
                {
                    "key": ind.key,
                    "label": ind.label,
                    "kind": ind.kind,
                    "unit": ind.unit,
                    "planned": ind.planned,
                    "realised": _number(self.indicators[str(ind.key)]),
                }
                for ind in self._indicator_rows
            ],
            **self.texts,
        }
