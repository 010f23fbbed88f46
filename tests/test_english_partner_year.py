"""A programme year for English-speaking people (partner and pilot ``lang="en"``), delivered to a
real SMTP server: their messages hold no French phrase, neither from the templates nor from
what the sweep and the planner put into items; the French-speaking partners of the same year
still read French. Each message is dated (Date header) by the clock of the tick that sent it.

The French phrases are read from the French templates themselves (their literal text between
Jinja tags and HTML tags), so a French line added to a template is checked without editing this
test. What the programmes' definitions say (phase, role, milestone, meeting and report labels)
has an English label beside the French one (``label_en``, ``deliverable_en``, ``title_en``):
English readers get it, and no French label may appear in their messages. The names the test
gives (organisations, contacts, project titles, places) and what a definition says that no
reader is shown are taken out of the text before it is checked.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from functools import cache, partial
from pathlib import Path
from typing import Any

import holidays
import pytest
from babel.dates import get_day_names, get_month_names

from notifications.wording import COUNTED
from tests.e2e_support import System, at, definitions_dir
from tests.plan_support import enter_plan
from tests.smtp_support import SmtpServer
from workflow.definition import Definition
from workflow.engine import NewProject, PartnerIn

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "notifications" / "templates"
_TAGS = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}|<[^>]+>", re.S)
_BREAKS = re.compile(r"[\n:;,.()«»\"!?–—]+|\s-\s|^-\s")

# What the sweep, the planner and the calendar wrote into items before they carried data.
SWEEP_WORDS = (
    "tous les",
    "toutes les",
    "mois",
    "semaines",
    "trimestre",
    "1er",
    "jour férié",
    "samedi",
    "dimanche",
    "Copilote (automatique)",
    "automatique",
    "fin de la fenêtre calendaire",
)


# Fragments of the French templates that are English words too (not read from the English
# templates: a French phrase pasted into an English template must still be caught).
SAME_IN_ENGLISH = frozenset({"Copilote", "Date", "Document", "Invitation", "invitation", "Phase"})


def _fragments(lang: str) -> set[str]:
    """The literal text of ``lang``'s templates, cut at tags, line ends and punctuation."""
    found: set[str] = set()
    for path in sorted((TEMPLATES / lang).rglob("*")):
        if not path.is_file():
            continue
        for piece in _TAGS.split(path.read_text(encoding="utf-8")):
            for fragment in _BREAKS.split(html.unescape(piece)):
                fragment = " ".join(fragment.split()).strip(" -'")
                if re.search(r"[^\W\d_]{2,}", fragment):  # some word, not just a number
                    found.add(fragment)
    return found


@cache
def french_phrases() -> tuple[str, ...]:
    """French phrases an English message must not contain: the French templates' fragments
    (but words spelled the same in English), the words the sweep used to write, and French
    month, day and public holiday names."""
    phrases = _fragments("fr") - SAME_IN_ENGLISH
    phrases.update(SWEEP_WORDS)
    # what is counted ("3 jours de retard") is worded in notifications/wording.py, not in
    # the templates: its French forms are French phrases too
    english = {form for forms in COUNTED["en"].values() for form in forms}
    phrases.update(
        form for forms in COUNTED["fr"].values() for form in forms if form not in english
    )
    phrases.update(get_month_names("wide", locale="fr_FR").values())
    phrases.update(get_day_names("wide", locale="fr_FR").values())
    phrases.update(holidays.country_holidays("FR", years=2026, language="fr").values())
    return tuple(sorted(phrases, key=len, reverse=True))


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list | tuple | set | frozenset):
        for v in value:
            yield from _strings(v)


def _readable(message: EmailMessage) -> str:
    """Subject, plain text and HTML (tags out) of one message; links and addresses out."""
    parts = [str(message["Subject"])]
    for part in message.walk():
        if part.get_content_type() in ("text/plain", "text/html"):
            content = part.get_content()
            if part.get_content_type() == "text/html":
                content = html.unescape(re.sub(r"<[^>]+>", " ", content))
            parts.append(content)
    text = "\n".join(parts)
    return re.sub(r"https?://\S+|[\w.+-]+@[\w.-]+", " ", text)


def _calendar(message: EmailMessage) -> str:
    """The calendar entries a message carries, unfolded and unescaped (RFC 5545)."""
    entries = [
        part.get_content() if isinstance(part.get_content(), str) else part.get_content().decode()
        for part in message.walk()
        if part.get_content_type() == "text/calendar"
    ]
    text = "\n".join(entries).replace("\r\n ", "").replace("\n ", "")
    return re.sub(r"\\([,;\\])", r"\1", text)


def french_in(text: str, allowed: Iterable[str]) -> list[str]:
    """The French phrases found in ``text`` once the ``allowed`` values are taken out."""
    for value in sorted((v for v in allowed if len(v) >= 3), key=len, reverse=True):
        text = re.sub(rf"(?<!\w){re.escape(value)}(?!\w)", " ", text)
    return [p for p in french_phrases() if re.search(rf"(?<!\w){re.escape(p)}(?!\w)", text)]


def test_the_phrase_list_catches_french() -> None:
    """The check can fail: French template lines and the old item words are in the list."""
    phrases = set(french_phrases())
    assert {"Bonjour", "Merci de ne pas répondre à cette adresse", "tous les"} <= phrases
    assert "trimestre" in phrases and "lundi" in phrases and "Lundi de Pâques" in phrases
    assert "jours de retard" in phrases and "message" not in phrases
    assert "Copilote" not in phrases and "Date" not in phrases  # shared with English
    found = set(french_in("The committee is expected to meet tous les 2 mois.", ()))
    assert found == {"tous les", "mois"}
    found = set(french_in("Reminder – Bilan trimestriel (1er trimestre 2026)", ()))
    assert found == {"trimestre", "1er"}
    assert french_in("Reminder – Bilan trimestriel (first quarter of 2026)", ()) == []
    assert french_in("Due on Monday 6 April 2026 (Easter Monday)", ()) == []
    # a definition's label is allowed as a whole value, never a French phrase inside a text
    assert french_in("Phase: Bilan", ["Bilan"]) == []
    found = set(french_in("Bilan: toutes les 2 semaines, au plus tard le lundi", ["Bilan"]))
    assert {"toutes les", "semaines", "au plus tard le", "lundi"} <= found


def french_labels(definition: Definition) -> set[str]:
    """What the definition names in French where its English label differs: these must not
    reach an English reader."""
    pairs: list[tuple[str, str | None]] = [(definition.title, definition.title_en)]
    for group in (
        definition.phases,
        definition.roles,
        definition.variants,
        definition.milestones,
        definition.meetings,
        [o for s in definition.meetings for o in s.occurrences],
        definition.reports,
        definition.decisions,
        definition.transitions,
        definition.raci,
        definition.funding.instruments if definition.funding else [],
    ):
        pairs.extend((x.label, x.label_en) for x in group)
    pairs.extend((m.deliverable, m.deliverable_en) for m in definition.milestones if m.deliverable)
    return {french for french, english in pairs if french != english}


def _definition_values(system: System, definition_id: str) -> set[str]:
    """What the definition says besides its French labels (descriptions, keys, English labels)."""
    definition = system.engine.definition(definition_id)
    return set(_strings(definition.model_dump())) - french_labels(definition)


def _french_labels_in(text: str, labels: Iterable[str]) -> list[str]:
    return [x for x in labels if re.search(rf"(?<!\w){re.escape(x)}(?!\w)", text)]


def _person(org: str, email: str, *roles: str, lang: str = "fr") -> PartnerIn:
    return PartnerIn(org, email, f"Contact {org}", tuple(roles) or ("partner",), lang=lang)


def _check_year(
    s: System,
    english: set[str],
    french: set[str],
    allowed: set[str],
    kinds: set[str],
    labels: set[str],
) -> None:
    assert s.log, "no message was sent"
    # Every message is dated by the clock of the tick that delivered it.
    for mail in s.log:
        assert parsedate_to_datetime(str(mail.message["Date"])) == mail.when, mail.subject
    to_english = [m for m in s.log if m.to in english]
    assert kinds <= {m.kind for m in to_english}, {m.kind for m in to_english}
    problems = {
        (m.kind, m.subject, tuple(found))
        for m in to_english
        if (found := french_in(_readable(m.message), allowed))
    }
    assert not problems, "French in English messages:\n" + "\n".join(map(str, sorted(problems)))
    labels = labels - allowed  # an organisation the test names like a role ("ARS Corse")
    labelled = {
        (m.kind, m.subject, tuple(found))
        for m in to_english
        if (found := _french_labels_in(_readable(m.message) + _calendar(m.message), labels))
    }
    invitations = [m for m in to_english if m.kind == "meeting_invitation"]
    assert all("SUMMARY" in _calendar(m.message) for m in invitations)
    assert not labelled, "French labels in English messages:\n" + "\n".join(
        map(str, sorted(labelled))
    )
    for m in to_english:
        assert "Hello" in _readable(m.message) and m.message["Subject"].startswith("Copilote: ")
    to_french = [m for m in s.log if m.to in french]
    assert to_french
    for m in to_french:
        text = _readable(m.message)
        assert "Bonjour" in text and str(m.message["Subject"]).startswith("Copilote\u202f: ")
        assert french_in(text, allowed), m.subject  # the check does see French
        assert "Hello" not in text


COORD = "coordination@dd93.ars.example"
AGENCY = "programme@ars-idf.example"
PA = "contact@asso-a.example"
PB = "contact@centre-sante-b.example"
PC = "contact@mairie-c.example"


@pytest.fixture
def defs(tmp_path: Path) -> Path:
    return definitions_dir(tmp_path)


@pytest.fixture
def coop(sqlite_url: str, defs: Path, smtp_server: SmtpServer) -> Iterator[System]:
    s = System(sqlite_url, defs, smtp_server, at(date(2026, 3, 2), 8))
    yield s
    s.dispose()


def test_cooperative_year_for_an_english_partner(coop: System) -> None:
    """Quarterly reports (request, reminder, overdue, escalation), a COPIL that falls behind
    its two-monthly cadence, phase changes, partners joining and leaving. The pilot and
    partner B read English; partners A and C and the agency read French."""
    s, records = coop, coop.records
    start = date(2026, 3, 2)
    title = "Coopérative Seine-Saint-Denis Nord"
    pid = s.engine.create_project(
        NewProject(
            definition_id="cooperative",
            title=title,
            start_date=start,
            pilot=_person("DD 93", COORD, "pilot", "copil", lang="en"),
            agency=_person("ARS IDF", AGENCY, "agency"),
        )
    )
    a = records.add_partner(pid, _person("Association A", PA), start)
    records.add_partner(pid, _person("Centre de santé B", PB, lang="en"), start)
    c = records.add_partner(pid, _person("Mairie C", PC), start)

    def set_up() -> None:
        records.meeting_held(pid, occurrence="reunion_lancement")
        for key in ("gouvernance", "orientations_validees"):
            records.milestone_done(pid, key, by="Pilote")
        s.engine.advance(pid, "start_diagnostic", actor="Pilote")
        records.milestone_done(pid, "diagnostic_local_sante", by="Pilote")
        records.meeting_held(pid, series="copil")
        s.engine.advance(pid, "start_action_plan", actor="Pilote")
        for key in ("arbre_objectifs", "fiches_actions", "indicateurs", "convention_signee"):
            records.milestone_done(pid, key, by="Pilote")
        records.meeting_held(pid, series="copil")
        enter_plan(records, pid)  # issue 13: objectives: required
        s.engine.advance(pid, "validate_action_plan", actor="Pilote")
        records.milestone_done(pid, "tableau_de_bord", by="Pilote")

    def report(partner: int, period: str) -> None:
        records.submit_report(pid, partner, "bilan_trimestriel", period, {"actions": "ok"})

    def copil() -> None:
        records.meeting_held(pid, series="copil")

    def leave() -> None:
        records.partner_leaves(pid, c, on=date(2026, 7, 15))

    d = date
    actions: dict[date, list[Callable[[], object]]] = {
        d(2026, 3, 2): [set_up],
        d(2026, 4, 10): [partial(report, a, "2026-Q1")],
        d(2026, 4, 24): [partial(report, c, "2026-Q1")],
        # no COPIL from March to September: the pilot is told the committee is behind
        d(2026, 7, 1): [leave],
        d(2026, 7, 20): [partial(report, a, "2026-Q2")],
        d(2026, 9, 1): [copil],
        d(2026, 10, 15): [copil],
        d(2026, 11, 20): [partial(report, a, "2026-Q3")],
    }
    s.run_days(start, d(2027, 1, 5), actions)

    allowed = _definition_values(s, "cooperative") | {
        title,
        "DD 93",
        "ARS IDF",
        "Association A",
        "Centre de santé B",
        "Mairie C",
        *(f"Contact {org}" for org in ("DD 93", "ARS IDF", "Association A", "Centre de santé B")),
        "Contact Mairie C",
        "Pilote",
    }
    english_kinds = {
        "phase_changed",
        "partner_joined",
        "partner_left",
        "series_behind",
        "report_request",
        "report_reminder",
        "report_overdue",
        "report_escalation",
    }
    labels = french_labels(s.engine.definition("cooperative"))
    _check_year(s, {COORD, PB}, {PA, PC, AGENCY}, allowed, english_kinds, labels)
    # the French readers still read the French labels
    french_text = "\n".join(_readable(m.message) for m in s.log if m.to == PA)
    assert "Bilan trimestriel" in french_text
    english_text = "\n".join(_readable(m.message) for m in s.log if m.to == PB)
    assert "Quarterly report" in english_text
    # the periods and the cadence, in English
    text = "\n".join(_readable(m.message) for m in s.log if m.to == PB)
    assert "first quarter of 2026" in text and "third quarter of 2026" in text
    behind = next(m for m in s.log if m.kind == "series_behind" and m.to == COORD)
    assert "every 2 months" in _readable(behind.message)
    french = "\n".join(_readable(m.message) for m in s.log if m.to == PA)
    assert "1er trimestre 2026" in french and "3e trimestre 2026" in french


PILOT = "pilote@ehpad-tilleuls.example"
ARACT = "aract@aract-corse.example"
ACIA_AGENCY = "ars-dd2a@ars.example"
PARTNER = "direction@asso-partenaire.example"


@pytest.fixture
def acia(sqlite_url: str, defs: Path, smtp_server: SmtpServer) -> Iterator[System]:
    s = System(sqlite_url, defs, smtp_server, at(date(2026, 5, 4), 8))
    yield s
    s.dispose()


def test_acia_year_for_an_english_partner(acia: System) -> None:
    """Milestone reminders, overdue notices, the weekly digest and an escalation, meeting
    invitations and reminders, and two automatic phase changes at the end of their calendar
    windows. The pilot and the partner read English; the ARACT and the agency French."""
    s, records = acia, acia.records
    start = date(2026, 5, 4)
    title = "EHPAD Les Tilleuls – outil numérique"
    pid = s.engine.create_project(
        NewProject(
            definition_id="acia",
            title=title,
            start_date=start,
            variant="axe_1",
            pilot=_person("EHPAD Les Tilleuls", PILOT, "pilot", "copil", lang="en"),
            # English too: the escalation of the pilot's late deliverable goes to the agency
            agency=_person("ARS Corse", ACIA_AGENCY, "agency", lang="en"),
        )
    )
    records.add_partner(pid, _person("ARACT Corse", ARACT, "aract", "copil"), start)
    records.add_partner(
        pid, _person("Association partenaire", PARTNER, "partner", "copil", lang="en"), start
    )

    def schedule(occurrence: str, series: str, day: date) -> None:
        records.schedule_meeting(
            pid, series, at(day, 14), occurrence=occurrence, location="Salle du conseil"
        )

    def held(occurrence: str) -> None:
        records.meeting_held(pid, occurrence=occurrence, minutes_ref=f"CR {occurrence}")

    def done(key: str) -> None:
        records.milestone_done(pid, key, by="Pilote", deliverable_ref=f"{key}.pdf")

    d = date
    actions: dict[date, list[Callable[[], object]]] = {
        d(2026, 5, 11): [partial(schedule, "copil_1", "copil", d(2026, 5, 28))],
        d(2026, 5, 20): [partial(schedule, "inter_structure_1", "inter_structure", d(2026, 6, 10))],
        d(2026, 5, 28): [partial(held, "copil_1")],
        d(2026, 6, 10): [partial(held, "inter_structure_1")],
        d(2026, 7, 16): [
            partial(done, "fiche_cadrage"),
            lambda: s.engine.advance(pid, "start_deployment", actor="Pilote"),
        ],
        d(2026, 9, 1): [partial(held, "copil_2")],
        d(2026, 9, 15): [partial(held, "inter_structure_2")],
        d(2026, 9, 20): [partial(done, "diagnostic")],
        d(2026, 10, 1): [partial(held, "copil_3")],
        d(2026, 10, 20): [partial(held, "inter_structure_3")],
        d(2026, 10, 29): [partial(done, "arbitrage")],
        d(2026, 11, 20): [partial(held, "copil_4")],
        d(2026, 11, 27): [partial(done, "recommandations")],
        d(2027, 2, 10): [partial(held, "inter_structure_4")],
        d(2027, 2, 26): [partial(done, "bilan_actions")],
    }
    s.run_days(start, d(2027, 3, 10), actions)

    orgs = ("EHPAD Les Tilleuls", "ARS Corse", "ARACT Corse", "Association partenaire")
    allowed = _definition_values(s, "acia") | {
        title,
        *orgs,
        *(f"Contact {org}" for org in orgs),
        "Salle du conseil",
        "Pilote",
    }
    english_kinds = {
        "partner_joined",
        "meeting_invitation",
        "meeting_reminder",
        "milestone_reminder",
        "milestone_overdue",
        "milestone_escalation",
        "overdue_digest",
        "phase_changed",
    }
    labels = french_labels(s.engine.definition("acia"))
    _check_year(s, {PILOT, PARTNER, ACIA_AGENCY}, {ARACT}, allowed, english_kinds, labels)
    pilot_text = "\n".join(_readable(m.message) for m in s.log if m.to == PILOT)
    assert "Framing" in pilot_text and "Deployment" in pilot_text
    assert "Cadrage" in "\n".join(_readable(m.message) for m in s.log if m.to == ARACT)
    automatic = [m for m in s.log if m.kind == "phase_changed" and m.to == PARTNER][1:]
    assert len(automatic) == 2
    for mail in automatic:
        assert "Copilote automatically moved the project" in _readable(mail.message)
    for mail in (m for m in s.log if m.kind == "phase_changed" and m.to == ARACT):
        assert "Par\u202f: " in _readable(mail.message)
