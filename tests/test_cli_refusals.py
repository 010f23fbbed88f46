"""The command line on a refused step (each condition worded, and how to meet it) and on a
milestone recorded twice: refused with exit 3 naming who and when, kept on correction."""

from __future__ import annotations

from tests.test_cli import run  # noqa: F401  (the fixture)

CREATE = (
    "project",
    "create",
    "--definition",
    "acia",
    "--title",
    "EHPAD Les Tilleuls",
    "--start",
    "2026-03-02",
    "--variant",
    "axe_1",
    "--pilot-email",
    "pilote@tilleuls.fr",
    "--pilot-org",
    "EHPAD Les Tilleuls",
    "--agency-email",
    "ars@ars-corse.fr",
)


def test_a_refused_advance_words_each_condition_and_its_fix(run) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    run(*CREATE, now="2026-03-02T09:00")
    advance = ("project", "advance", "1", "start_deployment", "--actor", "Marie")
    french = run(*advance, now="2026-03-20T10:00", code=3)
    copil = "COPIL 1 – création du comité de pilotage et cadrage"
    assert f"copilote: Cannot 'start_deployment' project 1: {copil} not held;" in french
    assert f"\n  - {copil} : réunion non tenue\n" in french
    assert f"\n    Pour y remédier : tenir la réunion « {copil} » puis l'enregistrer" in french
    assert "\n  - Temps inter-structure 1 : réunion non tenue\n" in french
    assert "\n      $ copilote meeting held 1 --occurrence copil_1\n" in french
    assert "\n      $ copilote milestone done 1 fiche_cadrage --by NAME\n" in french
    english = run(*advance, "--lang", "en", now="2026-03-20T10:00", code=3)
    copil_en = "COPIL 1 – creation of the steering committee and framing"  # its label_en
    assert f"\n  - {copil_en}: meeting not held\n" in english
    assert f"\n    To fix it: hold the meeting “{copil_en}”, then record it as held\n" in english
    assert "création du comité" not in english.split("\n", 1)[1]  # the developer line aside


def test_a_done_milestone_is_refused_then_corrected_keeping_both(run) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    run(*CREATE, now="2026-03-02T09:00")
    done = ("milestone", "done", "1", "fiche_cadrage")
    assert "milestone fiche_cadrage done" in run(*done, "--by", "Anne", now="2026-04-01T10:00")
    refused = run(*done, "--by", "Bob", now="2026-04-20T10:00", code=3)
    assert "already recorded done on 2026-04-01 by Anne" in refused
    no_comment = run(*done, "--by", "Bob", "--correct", now="2026-04-20T10:00", code=2)
    assert "comment" in no_comment
    corrected = run(
        *done, "--by", "Bob", "--correct", "--comment", "remise le 20", now="2026-04-20T10:00"
    )
    assert "milestone fiche_cadrage corrected" in corrected
    again = run(*done, "--by", "Chloé", now="2026-04-21T10:00", code=3)
    assert "already recorded done on 2026-04-20 by Bob" in again
