"""Definitions: the shipped ones load and are complete; every kind of wrong file is refused
as a whole, with each problem located by file, line and field."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cli import app
from notifications import Renderer
from workflow.definition import Definition, LabelKind
from workflow.errors import DefinitionError
from workflow.lifecycle import Lifecycle
from workflow.loader import load_definition, parse_definition

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted((ROOT / "definitions").glob("*.yaml"))
MINI = (Path(__file__).parent / "fixtures" / "mini.yaml").read_text(encoding="utf-8")


def test_the_four_programmes_are_shipped() -> None:
    ids = {load_definition(p).id for p in SHIPPED}
    assert {"acia", "cooperative", "aceso", "unapei"} <= ids


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_shipped_definition_is_complete(path: Path) -> None:
    definition = load_definition(path, templates=Renderer().kinds())
    lifecycle = Lifecycle(definition)
    # Every phase is reachable, and the terminal phases are reached.
    reached, frontier = {definition.initial}, [definition.initial]
    while frontier:
        for t in definition.transitions:
            if frontier[0] in t.source and t.dest not in reached:
                reached.add(t.dest)
                frontier.append(t.dest)
        frontier.pop(0)
    assert reached == {p.key for p in definition.phases}
    assert set(definition.terminal) <= reached
    for phase in definition.phases:
        if phase.key not in definition.terminal:
            assert "suspend" in lifecycle.triggers_from(phase.key)
            assert "abandon" in lifecycle.triggers_from(phase.key)
    assert "resume" in lifecycle.triggers_from("suspendu")
    # The source seed is cited.
    assert "seed" in path.read_text(encoding="utf-8")


def test_acia_follows_seed_002() -> None:
    acia = load_definition(ROOT / "definitions" / "acia.yaml")
    assert [v.key for v in acia.variants] == ["axe_1", "axe_2"]
    labels = [o.label for s in acia.meetings for o in s.occurrences]
    for n in range(1, 5):
        assert any(re.search(rf"COPIL {n}\b", label) for label in labels)
    assert len(acia.raci) >= 8
    assert {"cadrage", "deploiement", "bilan"} <= {p.key for p in acia.phases}


def problems_of(text: str) -> list[str]:
    with pytest.raises(DefinitionError) as caught:
        parse_definition(text, "prog.yaml")
    return [str(p) for p in caught.value.problems]


def test_mini_fixture_is_valid() -> None:
    assert parse_definition(MINI, "mini.yaml").id == "mini"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        # YAML syntax
        (
            lambda t: t.replace("title: Programme test", "title: [unclosed"),
            r"prog\.yaml:\d+: \(syntax\): YAML syntax error",
        ),
        # unknown phase in a transition
        (
            lambda t: t.replace("    dest: deploiement\n", "    dest: deploiment\n", 1),
            r"prog\.yaml:32: transitions\[start_deployment\]\.dest: unknown phase 'deploiment'",
        ),
        # a phase no transition reaches
        (
            lambda t: t.replace(
                '  - key: cloture\n    label: Clôturé\n    label_en: "Closed"\n',
                '  - key: cloture\n    label: Clôturé\n    label_en: "Closed"\n'
                "  - key: orpheline\n    label: Orpheline\n    label_en: Orphan\n",
            ),
            r"prog\.yaml:25: phases\[orpheline\]\.key: no transition reaches the phase 'orpheline'",
        ),
        # a terminal phase with exits
        (
            lambda t: t.replace(
                "  - trigger: close_project\n",
                "  - trigger: reopen\n    label: Rouvrir\n    label_en: Reopen\n    source: cloture\n"
                "    dest: bilan\n  - trigger: close_project\n",
            ),
            r"prog\.yaml:\d+: terminal\[0\]: the terminal phase 'cloture' has exits",
        ),
        # a condition naming a milestone that does not exist
        (
            lambda t: t.replace(
                "      - milestone: fiche_cadrage", "      - milestone: fiche_cadrag"
            ),
            r"prog\.yaml:35: transitions\[start_deployment\]\.conditions\[1\]\.milestone: unknown milestone 'fiche_cadrag'",
        ),
        # a condition naming a meeting that does not exist
        (
            lambda t: t.replace("      - meeting: copil_1", "      - meeting: copil_9"),
            r"prog\.yaml:34: transitions\[start_deployment\]\.conditions\[0\]\.meeting: unknown meeting 'copil_9'",
        ),
        # duplicate keys (YAML mapping)
        (
            lambda t: t.replace("version: 1\n", "version: 1\nversion: 2\n"),
            r"prog\.yaml:4: version: duplicate key 'version' \(first given on line 3\)",
        ),
        # duplicate keys (two milestones with one key)
        (
            lambda t: t.replace("  - key: diagnostic\n", "  - key: fiche_cadrage\n"),
            r"prog\.yaml:\d+: milestones\[fiche_cadrage\]: duplicate key 'fiche_cadrage'",
        ),
        # a negative offset
        (
            lambda t: t.replace('offset: "6 weeks"', 'offset: "-6 weeks"'),
            r"prog\.yaml:\d+: milestones\[diagnostic\]\.deadline\.offset: the offset '-6 weeks' is negative",
        ),
        # an unknown role
        (
            lambda t: t.replace("    responsible: partner\n", "    responsible: partenaire\n"),
            r"prog\.yaml:\d+: milestones\[diagnostic\]\.responsible: unknown role 'partenaire'",
        ),
        # an unknown field (a typo)
        (
            lambda t: t.replace("    reporting: true\n", "    reportng: true\n"),
            r"prog\.yaml:\d+: phases\[deploiement\]\.reportng: unknown field 'reportng'",
        ),
    ],
    ids=[
        "syntax",
        "unknown-phase",
        "unreachable",
        "terminal-exits",
        "unknown-milestone",
        "unknown-meeting",
        "duplicate-yaml-key",
        "duplicate-milestone",
        "negative-offset",
        "unknown-role",
        "unknown-field",
    ],
)
def test_bad_definition_is_refused_with_file_line_and_field(change, expected: str) -> None:  # type: ignore[no-untyped-def]
    text = change(MINI)
    assert text != MINI, "the test's edit did not apply"
    found = problems_of(text)
    assert any(re.search(expected, p) for p in found), found


def test_every_problem_is_listed_at_once() -> None:
    text = (
        MINI.replace("    dest: deploiement\n", "    dest: nulle_part\n", 1)
        .replace("    responsible: partner\n", "    responsible: inconnu\n")
        .replace("      - meeting: copil_1", "      - meeting: copil_7")
    )
    found = problems_of(text)
    assert len(found) >= 3
    assert (
        any("nulle_part" in p for p in found)
        and any("inconnu" in p for p in found)
        and any("copil_7" in p for p in found)
    )


def test_unknown_template_is_refused_once_templates_exist() -> None:
    text = (
        MINI
        + "notifications:\n  - {on: enter, phase: bilan, template: phase_chnged, notify: [copil]}\n"
    )
    with pytest.raises(DefinitionError, match="unknown template 'phase_chnged'"):
        parse_definition(text, "prog.yaml", templates=Renderer().kinds())


def test_validate_command_exit_codes(tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(app, ["definitions", "validate", *map(str, SHIPPED)])
    assert ok.exit_code == 0, ok.output
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        MINI.replace("    dest: deploiement\n", "    dest: deploiment\n", 1), encoding="utf-8"
    )
    result = runner.invoke(app, ["definitions", "validate", str(bad)])
    assert result.exit_code == 2
    assert (
        f"{bad}:32: transitions[start_deployment].dest: unknown phase 'deploiment'" in result.output
    )
    assert "Traceback" not in result.output


def test_json_schema_is_published() -> None:
    result = CliRunner().invoke(app, ["definitions", "schema"])
    schema = json.loads(result.output)
    assert schema == Definition.model_json_schema()
    assert {"phases", "transitions", "milestones", "meetings", "raci"} <= set(schema["properties"])
    published = json.loads((ROOT / "definitions" / "schema.json").read_text(encoding="utf-8"))
    assert published == schema, (
        "definitions/schema.json is stale: run `copilote definitions schema > definitions/schema.json`"
    )


def test_mermaid_diagram() -> None:
    result = CliRunner().invoke(app, ["definitions", "show", "acia", "--format", "mermaid"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("stateDiagram-v2")
    assert "cadrage --> deploiement" in result.output


# -- issue 12 point 4: everything a definition names has a French and an English label ---------
COOPERATIVE = (ROOT / "definitions" / "cooperative.yaml").read_text(encoding="utf-8")
ACIA = (ROOT / "definitions" / "acia.yaml").read_text(encoding="utf-8")


def _without_english(text: str, french: str) -> tuple[str, int]:
    """``text`` without the ``label_en`` line that follows ``french``, and ``french``'s line
    (where the loader says the English label is missing)."""
    lines = text.split("\n")
    at = next(i for i, line in enumerate(lines) if line.strip() == french)
    english = (
        at
        + 1
        + next(i for i, line in enumerate(lines[at + 1 :]) if line.strip().startswith("label_en:"))
    )
    del lines[english]
    return "\n".join(lines), at + 1


@pytest.mark.parametrize(
    ("text", "french", "field"),
    [
        (
            COOPERATIVE,
            'label: "Mise en place des instances de gouvernance"',
            "milestones[gouvernance]",
        ),
        (COOPERATIVE, 'label: "Comité de pilotage (COPIL)"', "roles[copil]"),
        (COOPERATIVE, 'label: "Diagnostic local de santé"', "phases[diagnostic]"),
        (COOPERATIVE, 'label: "Bilan trimestriel"', "reports[bilan_trimestriel]"),
        (
            COOPERATIVE,
            'label: "Réunion de préfiguration / d\'élaboration du projet"',
            "meetings[reunion_projet]",
        ),
        (
            COOPERATIVE,
            'label: "Première réunion collective (lancement de la coopérative)"',
            "meetings[reunion_projet].occurrences[reunion_lancement]",
        ),
        (COOPERATIVE, 'label: "Subvention ARS (FIR)"', "funding.instruments[subvention_ars]"),
        (COOPERATIVE, 'label: "Bilans trimestriels"', "raci[bilans_trimestriels]"),
        (ACIA, 'label: "Axe 2 : Construction d\'usages partagés"', "variants[axe_2]"),
        (ACIA, 'label: "Temps inter-structure (temps collectif)"', "meetings[inter_structure]"),
    ],
    ids=[
        "milestone",
        "role",
        "phase",
        "report",
        "series",
        "occurrence",
        "instrument",
        "raci",
        "variant",
        "acia-series",
    ],
)
def test_a_missing_english_label_is_refused_naming_file_line_and_field(
    text: str, french: str, field: str
) -> None:
    changed, line = _without_english(text, french)
    found = problems_of(changed)
    assert f"prog.yaml:{line}: {field}.label_en: Field required" in found, found


def test_a_missing_english_title_or_deliverable_is_refused_naming_its_line() -> None:
    no_title = COOPERATIVE.replace('title_en: "Health promotion cooperative of local actors"\n', "")
    assert f"prog.yaml:{_line_of(no_title, 'title:')}: title_en: Field required" in problems_of(
        no_title
    )
    english = '    deliverable_en: "Partnership agreement signed by the agency (departmental office) and each partner"\n'
    no_deliverable = COOPERATIVE.replace(english, "")
    assert no_deliverable != COOPERATIVE
    line = _line_of(no_deliverable, 'deliverable: "Convention de partenariat signée')
    assert (
        f"prog.yaml:{line}: milestones[convention_signee].deliverable: the deliverable has no "
        "English label: add 'deliverable_en' beside it (English-speaking partners read it)"
    ) in problems_of(no_deliverable)


def _line_of(text: str, start: str) -> int:
    return next(i for i, line in enumerate(text.split("\n"), 1) if line.strip().startswith(start))


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_every_label_of_a_shipped_definition_reads_in_english(path: Path) -> None:
    """What an English reader is shown: the English label of each thing the programme names,
    written for the programme (no French left in it)."""
    d = load_definition(path)
    named: list[tuple[LabelKind, str, Any]] = [
        *(("phase", p.key, p) for p in d.phases),
        *(("role", r.key, r) for r in d.roles),
        *(("variant", v.key, v) for v in d.variants),
        *(("milestone", m.key, m) for m in d.milestones),
        *(("meeting", s.key, s) for s in d.meetings),
        *(("meeting", o.key, o) for s in d.meetings for o in s.occurrences),
        *(("report", r.key, r) for r in d.reports),
        *(("decision", x.key, x) for x in d.decisions),
        *(("instrument", i.key, i) for i in (d.funding.instruments if d.funding else [])),
        *(("raci", r.action, r) for r in d.raci),
    ]
    french_words = re.compile(
        r"(?i)(?<![\w-])(le|la|les|des|du|de|et|réunion|comité|mise)(?![\w-])"
    )
    for kind, key, item in named:
        assert d.label(kind, key) == item.label
        assert d.label(kind, key, "en") == item.label_en
        assert not french_words.search(item.label_en), (kind, key, item.label_en)
    for m in d.milestones:
        if m.deliverable is not None:
            assert d.label("deliverable", m.key, "en") == m.deliverable_en
    assert d.title_in("en") == d.title_en and d.title_in("fr") == d.title
    assert not french_words.search(d.title_en)


def test_label_lookup_falls_back_and_names_meetings() -> None:
    d = parse_definition(MINI, "mini.yaml")
    assert d.phase_label("deploiement", "en") == "Deployment"
    assert d.phase_label("deploiement") == "Déploiement"
    assert (d.phase_label("suspendu", "en"), d.phase_label("abandonne")) == (
        "Suspended",
        "Abandonné",
    )
    assert d.role_label("pilot", "en") == "Project lead"
    # a key an older version named: the stored label, else the key
    assert d.label("milestone", "gone", "en", default="Ancien jalon") == "Ancien jalon"
    assert d.label("milestone", "gone", "en") == "gone"
    assert d.meeting_label("copil", "copil_2", "COPIL 2", "en") == "COPIL 2"
    series = d.series("copil")
    assert d.meeting_label("copil", None, f"{series.label} n°3", "en") == f"{series.label_en} no. 3"
    assert d.meeting_label("copil", None, f"{series.label} n°3") == f"{series.label} n°3"
    assert d.meeting_label("copil", None, series.label, "en") == series.label_en
    # a name a person gave the meeting is nobody's translation to make
    assert (
        d.meeting_label("copil", None, "Réunion exceptionnelle", "en") == "Réunion exceptionnelle"
    )
    assert d.meeting_label("gone", None, "Séminaire n°1", "en") == "Séminaire n°1"


def test_show_in_english_names_everything_in_english() -> None:
    english = CliRunner().invoke(app, ["definitions", "show", "acia", "--lang", "en"])
    assert english.exit_code == 0, english.output
    assert english.output.startswith("ACIA – Innovative collective learning actions (acia v1)")
    assert "phase cadrage: Framing" in english.output
    assert "Steering committee (COPIL)" in english.output and "Project lead" in english.output
    d = load_definition(ROOT / "definitions" / "acia.yaml")
    french = {label for label in d.english_labels() if len(label) > 6}
    assert not [label for label in french if label in english.output]
    assert (
        "phase cadrage: Cadrage" in CliRunner().invoke(app, ["definitions", "show", "acia"]).output
    )
