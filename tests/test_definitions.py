"""Definitions: the shipped ones load and are complete; every kind of wrong file is refused
as a whole, with each problem located by file, line and field."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from notifications import Renderer
from workflow.definition import Definition
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
            r"prog\.yaml:27: transitions\[start_deployment\]\.dest: unknown phase 'deploiment'",
        ),
        # a phase no transition reaches
        (
            lambda t: t.replace(
                "  - key: cloture\n    label: Clôturé\n",
                "  - key: cloture\n    label: Clôturé\n  - key: orpheline\n    label: Orpheline\n",
            ),
            r"prog\.yaml:20: phases\[orpheline\]\.key: no transition reaches the phase 'orpheline'",
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
            r"prog\.yaml:30: transitions\[start_deployment\]\.conditions\[1\]\.milestone: unknown milestone 'fiche_cadrag'",
        ),
        # a condition naming a meeting that does not exist
        (
            lambda t: t.replace("      - meeting: copil_1", "      - meeting: copil_9"),
            r"prog\.yaml:29: transitions\[start_deployment\]\.conditions\[0\]\.meeting: unknown meeting 'copil_9'",
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
        f"{bad}:27: transitions[start_deployment].dest: unknown phase 'deploiment'" in result.output
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
