"""Definitions that cannot hurt (issue 10, findings 3, 4, 5 and 13): hostile or malformed
files are refused quickly, each with ``file:line: field: message`` and exit 2; numbers are
bounded, impossible dates and loops of automatic steps refused; calendar dates that
contradict the order of the phases are refused naming both ends."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from workflow.errors import DefinitionError
from workflow.loader import MAX_FILE_BYTES, load_directory, parse_definition

ROOT = Path(__file__).resolve().parent.parent
MINI = (Path(__file__).parent / "fixtures" / "mini.yaml").read_text(encoding="utf-8")
ACIA = (ROOT / "definitions" / "acia.yaml").read_text(encoding="utf-8")

ALIAS_BOMB = (
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
    "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
    "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
    "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
    "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n"
)


def problems_of(text: str) -> list[str]:
    with pytest.raises(DefinitionError) as caught:
        parse_definition(text, "prog.yaml")
    return [str(p) for p in caught.value.problems]


def validate(tmp_path: Path, text: str) -> tuple[int, str]:
    path = tmp_path / "prog.yaml"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(app, ["definitions", "validate", str(path)])
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


# -- finding 3: aliases ------------------------------------------------------------------------
def test_alias_bomb_is_refused_at_once_with_its_line(tmp_path: Path) -> None:
    code, output = validate(tmp_path, ALIAS_BOMB)  # refused at the anchor, never expanded
    assert code == 2
    assert re.search(r"prog\.yaml:1: .*: anchors \(&a\) are not allowed", output), output


def test_an_alias_in_a_definition_is_refused_with_its_line() -> None:
    text = MINI.replace("attendees: [copil, pilot]", "attendees: &who [copil, pilot]").replace(
        "  attendees: [pilot, partner]", "  attendees: *who"
    )
    assert text.count("who") == 2
    found = problems_of(text)
    assert any(re.search(r"prog\.yaml:79: .*anchors \(&who\) are not allowed", p) for p in found)


def test_alias_bomb_in_the_definitions_folder_is_refused_not_expanded(tmp_path: Path) -> None:
    (tmp_path / "mini.yaml").write_text(MINI, encoding="utf-8")
    (tmp_path / "bomb.yaml").write_text(ALIAS_BOMB, encoding="utf-8")
    with pytest.raises(DefinitionError) as caught:
        load_directory(tmp_path)
    assert [p.file for p in caught.value.problems] == [str(tmp_path / "bomb.yaml")]
    assert "anchors (&a) are not allowed" in str(caught.value)


# -- finding 4: malformed files ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[" * 100_000, r"prog\.yaml:1: .*nested deeper than \d+ levels"),
        (
            "{k: " * 3000 + "v" + "}" * 3000 + "\n",
            r"prog\.yaml:\d+: .*nested deeper than \d+ levels",
        ),
        (
            MINI.replace("title: Programme test", "title: !!python/object/apply:os.system [id]"),
            r"prog\.yaml:4: title: the tag 'tag:yaml\.org,2002:python/object/apply:os\.system' is not allowed",
        ),
        (
            MINI.replace("title: Programme test", "title: Programme test\n? [a, b]\n: c"),
            r"prog\.yaml:5: .*a key is a plain word",
        ),
        (MINI.replace("version: 1", "version: " + "9" * 5000), r"prog\.yaml:1: .*cannot be read"),
    ],
    ids=["nested-lists", "nested-mappings", "python-tag", "complex-key", "huge-integer"],
)
def test_malformed_file_is_refused_with_file_line_and_exit_2(
    tmp_path: Path, text: str, expected: str
) -> None:
    code, output = validate(tmp_path, text)
    assert code == 2
    assert re.search(expected, output), output


def test_a_file_over_the_size_limit_is_refused_unread(tmp_path: Path) -> None:
    text = MINI + "\n" + "# padding\n" * (MAX_FILE_BYTES // 10 + 1)
    code, output = validate(tmp_path, text)
    assert code == 2
    assert "prog.yaml:1: (file): the file is" in output
    assert f"at most {MAX_FILE_BYTES:,} bytes" in output
    with pytest.raises(DefinitionError, match="at most"):
        parse_definition(text, "prog.yaml")


# -- finding 5: bounds, impossible dates, loops -----------------------------------------------
@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            'offset: "6 weeks"',
            'offset: "99999999999 days"',
            r"milestones\[diagnostic\]\.deadline\.offset: the offset '99999999999 days' is too long: at most 3660 days",
        ),
        (
            'offset: "6 weeks"',
            'offset: "' + "1" + "0" * 26 + ' months"',
            r"milestones\[diagnostic\]\.deadline\.offset: cannot read the offset",
        ),
        (
            'offset: "6 weeks"',
            'offset: "99999999 jours ouvrés"',
            r"milestones\[diagnostic\]\.deadline\.offset: the offset '99999999 jours ouvrés' is too long",
        ),
        (
            "version: 1\n",
            "version: 99999999999999999999999\n",
            r"prog\.yaml:3: version: Input should be less than or equal to 1000000",
        ),
        (
            'deadline: {date: "06-30"}',
            'deadline: {date: "02-30"}',
            r"prog\.yaml:67: milestones\[fiche_cadrage\]\.deadline\.date: '02-30' is not a date: month 2 has at most 29 days",
        ),
        (
            'at: {date: "11-30"}',
            'at: {date: "11-31"}',
            r"transitions\[start_assessment\]\.automatic\.at\.date: '11-31' is not a date",
        ),
        (
            "annual_review:",
            "reminders:\n  digest_every_days: 99999999\nannual_review:",
            r"reminders\.digest_every_days: Input should be less than or equal to 366",
        ),
        (
            "annual_review:",
            "reminders:\n  milestone_before_days: [14, 100000]\nannual_review:",
            r"reminders\.milestone_before_days\[1\]: Input should be less than or equal to 366",
        ),
        (
            "    occurrences:\n",
            "    cadence: {every: 999, unit: weeks}\n    occurrences:\n",
            r"meetings\[copil\]\.cadence: Value error, every 999 weeks is too rare|meetings\[copil\]\.cadence: every 999 weeks is too rare",
        ),
        (
            "      - min_partners: 2",
            "      - min_partners: 99999999",
            r"conditions\[2\]\.min_partners: Input should be less than or equal to 1000",
        ),
    ],
    ids=[
        "days",
        "months-26-digits",
        "working-days",
        "version",
        "february-30",
        "november-31",
        "digest",
        "milestone-reminder",
        "cadence",
        "min-partners",
    ],
)
def test_out_of_bounds_value_is_refused_naming_its_field(old: str, new: str, expected: str) -> None:
    text = MINI.replace(old, new, 1)
    assert text != MINI
    found = problems_of(text)
    assert any(re.search(expected, p) for p in found), found


def test_february_29_and_month_ends_stay_allowed() -> None:
    for day in ("02-29", "02-end", "04-30", "12-31"):
        assert parse_definition(
            MINI.replace('deadline: {date: "06-30"}', f'deadline: {{date: "{day}"}}'), "p.yaml"
        )


def test_automatic_transitions_in_a_loop_are_refused() -> None:
    text = MINI.replace(
        "  - trigger: reopen_framing\n    label: Rouvrir le cadrage\n"
        "    label_en: Reopen the framing\n    source: deploiement\n    dest: cadrage\n"
        "    comment_required: true\n",
        "  - trigger: reopen_framing\n    label: Rouvrir le cadrage\n"
        "    label_en: Reopen the framing\n    source: deploiement\n    dest: cadrage\n"
        '    automatic: {at: {after: phase_start, offset: "0 days"}}\n'
        "  - trigger: flip\n    label: Basculer\n    label_en: Flip\n"
        "    source: cadrage\n    dest: deploiement\n"
        '    automatic: {at: {after: phase_start, offset: "0 days"}}\n',
    )
    found = problems_of(text)
    assert any(
        re.search(
            r"prog\.yaml:\d+: transitions\[flip\]\.automatic: the automatic transitions "
            r"'reopen_framing', 'flip' make a loop",
            p,
        )
        for p in found
    ), found


def test_a_chain_of_automatic_transitions_without_a_loop_is_accepted() -> None:
    text = MINI.replace(
        "    dest: cloture\n",
        '    dest: cloture\n    automatic: {at: {after: phase_start, offset: "0 days"}}\n',
    )
    assert parse_definition(text, "p.yaml").transitions[-1].automatic is not None


# -- finding 13: calendar dates against the order of the phases -------------------------------
def acia_with(old: str, new: str) -> str:
    text = ACIA.replace(old, new, 1)
    assert text != ACIA
    return text


def test_a_phase_ending_before_the_phase_before_it_is_refused_naming_both() -> None:
    found = problems_of(acia_with('planned_end: {date: "11-30"}', 'planned_end: {date: "06-10"}'))
    assert any(
        re.search(
            r"prog\.yaml:102: phases\[deploiement\]\.planned_end\.date: the phase 'deploiement' "
            r"ends on 06-10, before the phase 'cadrage' that comes before it ends \(06-30\)",
            p,
        )
        for p in found
    ), found


def test_a_milestone_due_before_its_phase_begins_is_refused_naming_both() -> None:
    found = problems_of(acia_with('deadline: {date: "09-30"}', 'deadline: {date: "06-10"}'))
    assert any(
        re.search(
            r"milestones\[diagnostic\]\.deadline\.date: the milestone 'diagnostic' is due on "
            r"06-10, in the phase 'deploiement', which only begins after the phase 'cadrage' "
            r"ends \(06-30\)",
            p,
        )
        for p in found
    ), found


def test_an_automatic_date_outside_its_phase_is_refused_naming_both() -> None:
    before = problems_of(
        acia_with('automatic: {at: {date: "11-30"}}', 'automatic: {at: {date: "06-10"}}')
    )
    assert any(
        "the automatic step 'start_assessment' is taken on 06-10, in the phase 'deploiement', "
        "which only begins after the phase 'cadrage' ends (06-30)" in p
        for p in before
    ), before
    after = problems_of(
        acia_with('automatic: {at: {date: "11-30"}}', 'automatic: {at: {date: "12-15"}}')
    )
    assert any(
        "the automatic step 'start_assessment' is taken on 12-15, after the planned end of its "
        "phase 'deploiement' (11-30)" in p
        for p in after
    ), after


def test_a_milestone_after_its_phase_planned_end_is_refused() -> None:
    found = problems_of(acia_with('deadline: {date: "10-31"}', 'deadline: {date: "12-20"}'))
    assert any(
        "the milestone 'cahier_des_charges' is due on 12-20, after the planned end of its phase "
        "'deploiement' (11-30)" in p
        for p in found
    ), found


def test_serve_refuses_an_alias_bomb_in_the_definitions_folder_with_its_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "definitions"
    folder.mkdir()
    (folder / "acia.yaml").write_text(ACIA, encoding="utf-8")
    (folder / "bomb.yaml").write_text(ALIAS_BOMB, encoding="utf-8")
    monkeypatch.setenv("COPILOTE_DEFINITIONS_DIR", str(folder))
    result = CliRunner().invoke(app, ["serve", "--db", f"sqlite:///{tmp_path / 's.db'}"])
    assert result.exit_code == 2, result.output
    assert f"{folder / 'bomb.yaml'}:1: (file): anchors (&a) are not allowed" in result.output
    assert "Traceback" not in result.output


def test_a_milestone_counted_past_its_phase_planned_end_is_refused() -> None:
    def with_end(offset: str) -> str:
        return MINI.replace(
            "    reporting: true\n",
            f'    reporting: true\n    planned_end: {{after: phase_start, offset: "{offset}"}}\n',
        )

    found = problems_of(with_end("1 month"))
    assert any(
        re.search(
            r"prog\.yaml:74: milestones\[diagnostic\]\.deadline\.offset: the milestone "
            r"'diagnostic' is due 6 weeks after entering the phase, after the planned end of its "
            r"phase 'deploiement' \(1 months after entering the phase\)",
            p,
        )
        for p in found
    ), found
    assert parse_definition(with_end("2 months"), "p.yaml")
    assert parse_definition(with_end("30 working days"), "p.yaml")
