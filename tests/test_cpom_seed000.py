"""Seed 000 rebuilt as a user would: ACESO's 2018 CPOM report entered through the command
line (project, partners, meetings with their attendance, the cancelled « Guide du routard »
meeting, objectives, fiches-actions, yearly indicators, the budget by general objective), then
taken as of 31 August 2018 as XLSX, CSV and the printable page.

The XLSX is printed row by row into ``tests/artifacts/cpom-xlsx.txt`` and the printable page
is photographed by Chromium (desktop width) into ``tests/artifacts/cpom_print.png``. The
programme's report (issue 14, point 4) puts ACESO beside a second project of the programme.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from typer.testing import CliRunner

from cli import app
from service import Copilote, Settings
from tests.web.conftest import PASSWORD, sign_in
from workflow.clock import FixedClock

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
PARIS = ZoneInfo("Europe/Paris")
PILOT = "coordination@impatients.example"

# Seed 000, COPIL of 14 February 2018: 13 participants from 12 structures (two from Cordia).
COPIL_FEB = [
    "Muriel Londres ([im]patients, chroniques & associés)",
    "Mairina Dorsa (Pôle ETP Île-de-France)",
    "Anne Bernard (Association Cordia)",
    "Paul Martin (Association Cordia)",
    "Léa Petit (AFD 75)",
    "Hugo Roux (France Rein)",
    "Inès Moreau (Maison de santé Belleville)",
    "Jean Fournier (LEPS Université Paris 13)",
    "Sara Girard (Réseau Paris Diabète)",
    "Nora Lambert (Association François Aupetit)",
    "Omar Faure (UTEP Avicenne)",
    "Chloé Blanc (Ligue contre le cancer 93)",
    "Rémi Garnier (Centre social Espace 19)",
]
COPIL_APR = COPIL_FEB[:7]

GENERAL = [
    (
        "mise_en_evidence",
        "Mise en évidence et analyse critique des différentes formes d'accompagnements "
        "existantes et mise en œuvre par les partenaires",
        ["Rédaction d'une charte de partenariat", "Réalisation d'une typologie"],
    ),
    (
        "co_construction",
        "Co-construction des modalités d'accompagnement innovantes adaptatives et pérennes",
        ["Analyse des offres répondant à des besoins transversaux"],
    ),
    (
        "outils",
        "Elaboration de nouveaux outils et supports contributifs aux nouveaux programmes "
        "d'accompagnements",
        ["Conception d'outils et supports co-construits"],
    ),
    (
        "evaluation",
        "Elaboration d'un cadre commun (critères) d'évaluation des résultats et impacts",
        ["Identification des indicateurs et critères valides et utiles"],
    ),
    (
        "diffusion",
        "Partage et diffusion des savoirs et des savoir-faire issus du projet",
        ["Appui à l'essaimage des pratiques d'accompagnement"],
    ),
]

BUDGET = [  # planned, spent to 31/08, forecast to 31/12 (seed 000's budget table)
    ("mise_en_evidence", "31 419,35", "12 290,15", "15 036,26"),
    ("co_construction", "24 315,35", "11 412,53", "9 036,26"),
    ("outils", "23 035,35", "15 262,53", "6 133,76"),
    ("evaluation", "30 013,35", "12 070,74", "16 133,76"),
    ("diffusion", "45 063,35", "13 557,13", "29 385,67"),
]


@pytest.fixture(scope="module")
def aceso(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The ACESO project with its 2018 as entered through the command line."""
    tmp = tmp_path_factory.mktemp("seed000")
    with pytest.MonkeyPatch.context() as patch:  # the invitations are written there
        patch.setenv("COPILOTE_MAIL_DIR", str(tmp / "mail"))
        yield _entered(tmp)


def _entered(tmp: Path) -> tuple[str, Path]:
    db = f"sqlite:///{tmp / 'aceso.db'}"
    runner = CliRunner()

    def run(*args: str, now: str, code: int = 0) -> str:
        # The plan d'actions and the budget are entered by the pilot (in the history).
        planned = args[0] in ("objective", "action", "indicator", "budget") or args[:2] == (
            "meeting",
            "note",
        )
        argv = [*args, *(("--by", "Muriel") if planned else ()), "--db", db, "--now", now]
        result = runner.invoke(app, argv)
        assert result.exit_code == code, f"{argv}: {result.output}"
        return result.output

    run(
        "project", "create", "--definition", "aceso", "--title", "ACESO",
        "--start", "2017-01-02", "--pilot-email", PILOT,
        "--pilot-org", "[im] patients, chroniques & associés",
        "--pilot-name", "LONDRES Muriel, DORSA Mairina", "--territory", "Île-de-France",
        now="2017-01-02T09:00",
    )  # fmt: skip
    # 2017: the first step closed (charter, framework, a COPIL), so the working groups of
    # the second step open; the two « Glossaire » meetings stay expected, never scheduled.
    run("milestone", "done", "1", "charte_partenariat", "--by", "Muriel", now="2017-06-01T10:00")
    run("milestone", "done", "1", "cadre_description", "--by", "Muriel", now="2017-11-01T10:00")
    run("meeting", "held", "1", "--series", "copil", "--on", "2017-11-20", now="2017-11-21T10:00")
    run("project", "advance", "1", "start_practice_analysis", "--actor", "Muriel",
        now="2017-12-01T10:00")  # fmt: skip
    # 2018's meetings, as seed 000 reports them.
    for day, people in (("2018-02-14", COPIL_FEB), ("2018-04-26", COPIL_APR)):
        attendees = [a for p in people for a in ("--attendee", p)]
        run("meeting", "held", "1", "--series", "copil", "--on", day, *attendees,
            now=f"{day}T18:00")  # fmt: skip
    run("meeting", "schedule", "1", "copil", "--at", "2018-10-10T14:00", now="2018-05-02T10:00")
    out = run("meeting", "schedule", "1", "groupes_thematiques", "--occurrence", "guide_routard",
              "--at", "2018-03-15T14:00", now="2018-02-01T10:00")  # fmt: skip
    routard = out.split()[1]
    run("meeting", "cancel", "1", routard, "--reason",
        "La réunion prévue pour le 1er semestre 2018 a été annulée par des problèmes "
        "d'agenda des participants", now="2018-03-10T10:00")  # fmt: skip
    run("meeting", "note", "1", routard, "--corrective",
        "Une autre date sera fixé pour le 2eme semestre", now="2018-03-10T10:05")  # fmt: skip
    seminar = [a for p in COPIL_FEB for a in ("--attendee", p)]
    run("meeting", "held", "1", "--series", "seminaire", "--on", "2018-06-06", *seminar,
        now="2018-06-07T10:00")  # fmt: skip
    run("meeting", "schedule", "1", "seminaire", "--at", "2018-11-07T09:00",
        now="2018-06-07T10:05")  # fmt: skip
    run("meeting", "held", "1", "--series", "bourse_situations", "--on", "2018-09-05",
        now="2018-09-06T10:00")  # fmt: skip
    # The objectives as entered, the fiches-actions, the indicators of their year.
    now = "2018-09-10T10:00"
    for key, label, specific in GENERAL:
        run("objective", "set", "1", key, "--level", "general", "--label", label, now=now)
        for n, text in enumerate(specific, 1):
            run("objective", "set", "1", f"{key}_{n}", "--level", "specific",
                "--parent", key, "--label", text, now=now)  # fmt: skip
    actions = [
        ("coordination", "mise_en_evidence", "Travail de coordination/ animation du projet",
         ["--planned", "10h par semaine de travail conjoint entre ICA et Pôle ETP",
          "--realised", "17,5h par semaine depuis janvier 2018 (525 heures)", "--etp", "0.5"]),
        ("copil", "mise_en_evidence", "Comité de pilotage", ["--series", "copil"]),
        ("guide_routard", "mise_en_evidence_1", 'Groupe de travail "Guide du routard"', []),
        ("visites", "mise_en_evidence_2", "Visites d'étonnement",
         ["--planned", "7 visites", "--realised", "7 visites"]),
        ("bourse", "mise_en_evidence", 'Groupe "Bourse de situations"',
         ["--series", "bourse_situations"]),
        ("seminaire", "co_construction", "Séminaire de co-construction",
         ["--series", "seminaire", "--corrective",
          "Le prochain séminaire aura lieu le 7 novembre 2018"]),
        ("cadre_evaluatif", "evaluation", "Construction du cadre évaluatif",
         ["--planned", "févr-17", "--realised", "En cours", "--corrective-cpom",
          "Critères et indicateurs construits avec le groupe « Évaluation » d'ici la fin "
          "de la 3e année"]),
    ]  # fmt: skip
    for key, objective, label, extra in actions:
        run("action", "set", "1", key, "--objective", objective, "--label", label, "--partner",
            "1", "--start", "2018-01-01", "--end", "2018-12-31", *extra, now=now)  # fmt: skip
    run("meeting", "note", "1", routard, "--action", "guide_routard", now=now)
    run("indicator", "1", "cadre_2018", "--label", "Cadre évaluatif construit", "--kind",
        "result", "--action", "cadre_evaluatif", "--year", "2018", "--planned", "1",
        "--realised", "0", "--gap", "L'échéance a été prévue sans considérer le mode "
        "collaboratif de construction du cadre évaluatif.", "--corrective",
        "Les critères et indicateurs seront construits à partir du lancement du groupe de "
        "travail « Evaluation »", now=now)  # fmt: skip
    run("indicator", "1", "cadre_2017", "--label", "Principes de l'évaluation", "--kind",
        "process", "--action", "cadre_evaluatif", "--year", "2017", "--planned", "1",
        "--gap", "Explication de 2017", now=now)  # fmt: skip
    run("indicator", "1", "visites_2018", "--label", "Structures visitées", "--kind",
        "activity", "--action", "visites", "--year", "2018", "--planned", "7", "--realised",
        "7", "--unit", "visites", "--source", "kits de découverte", now=now)  # fmt: skip
    for objective, planned, spent, forecast in BUDGET:
        run("budget", "set", "1", "--year", "2018", "--objective", objective, "--label",
            "Salaires, frais généraux, indemnisation des participants", "--planned", planned,
            "--spent", spent, "--forecast", forecast, now=now)  # fmt: skip
    run("budget", "set", "1", "--line", "1", "--comment",
        "les salaires des 2 coordinatrices ont été un peu plus importantes que prévues "
        "(+878 €)", now=now)  # fmt: skip
    return db, tmp


def test_seed_000_report_of_2018_as_of_31_august(aceso: tuple[str, Path]) -> None:
    db, tmp = aceso
    xlsx = tmp / "aceso-2018.xlsx"
    out = CliRunner().invoke(
        app,
        ["report", "annual", "1", "--as-of", "2018-08-31", "-o", str(xlsx), "--db", db,
         "--now", "2018-09-10T10:00"],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    assert "annual report 2018 as of 2018-08-31" in out.output
    book = openpyxl.load_workbook(xlsx)
    printed = []
    for sheet in book.worksheets:
        printed.append(f"== {sheet.title}")
        for n, row in enumerate(sheet.iter_rows(values_only=True), 1):
            cells = ["" if v is None else str(v) for v in row]
            while cells and cells[-1] == "":
                cells.pop()
            printed.append(f"{n:>3}: " + " | ".join(cells))
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "cpom-xlsx.txt").write_text("\n".join(printed) + "\n", encoding="utf-8")
    rows = [list(r) for r in book["Actions"].iter_rows(values_only=True)]
    header = next(i for i, r in enumerate(rows) if r[0] == "Objectif général")
    # Seed 000's ten columns, as its table names them (accents on the capitals).
    assert rows[header] == [
        "Objectif général",
        "Objectifs spécifiques",
        "Actions mises en œuvre en 2018",
        "Échéance prévue",
        "Échéance réalisée à la date du 31/08/2018",
        "Indicateur d'activité (pour mesurer l'atteinte des objectifs spécifiques) PRÉVISIONNEL",
        "Indicateur d'activité (pour mesurer l'atteinte des objectifs spécifiques) RÉALISÉ",
        "Explication des écarts",
        "Mesure corrective effectuée à la date du 31 août 2018",
        "Mesure corrective soumise à l'agence pour la fin de la 3ème année du CPOM",
    ]
    assert rows[header][9] == (
        "Mesure corrective soumise à l'agence pour la fin de la 3ème année du CPOM"
    )
    by_label = {r[2]: r for r in rows[header + 1 :] if r[2]}
    objectives = [r[0] for r in rows[header + 1 :] if r[0]]
    assert objectives == [label for _, label, _ in GENERAL]  # as entered, in order
    copil = by_label["Comité de pilotage"]
    assert copil[3:5] == ["3 réunions", "2 réunions"]
    assert "13 participants représentant 12 structures" in copil[6]
    assert "le 14 février 2018 (13 participants)" in copil[6]
    assert "le 26 avril 2018 (7 participants)" in copil[6]
    assert copil[7] == "Pas d'écarts (prochaine réunion le 10 octobre 2018)"
    seminar = by_label["Séminaire de co-construction"]
    assert seminar[3:5] == ["2 réunions", "1 réunion"]
    assert seminar[8] == "Le prochain séminaire aura lieu le 7 novembre 2018"
    routard = by_label['Groupe de travail "Guide du routard"']
    assert routard[3] == "1 réunion" and routard[4] is None  # planned, and cancelled
    assert routard[7] == (
        "Réunion du 15 mars 2018 (Groupe « Guide du routard ») annulée : La réunion prévue "
        "pour le 1er semestre 2018 a été annulée par des problèmes d'agenda des participants"
    )
    assert routard[8] == "Une autre date sera fixé pour le 2eme semestre"
    # held on 5 September: after the report's date, so still to come on 31 August
    assert by_label['Groupe "Bourse de situations"'][7] == (
        "Pas d'écarts (prochaine réunion le 5 septembre 2018)"
    )
    assert not any("Glossaire" in str(c) for r in rows for c in r)  # never scheduled
    cadre = by_label["Construction du cadre évaluatif"]
    assert cadre[3:5] == ["févr-17", "En cours"]
    assert "Cadre évaluatif construit : 1 en 2018" in cadre[5]
    assert "mode collaboratif" in cadre[7] and "Explication de 2017" not in cadre[7]
    assert "Principes de l'évaluation" not in cadre[5]  # the 2017 indicator stays in 2017
    assert cadre[9].startswith("Critères et indicateurs construits")
    visits = by_label["Visites d'étonnement"]
    assert visits[1] == "Réalisation d'une typologie"  # the specific objective it serves
    assert "Structures visitées : 7 visites en 2018 (kits de découverte)" in visits[5]
    budget = [list(r) for r in book["Budget"].iter_rows(values_only=True)]
    assert budget[0] == [
        "Objectif général",
        "Objectifs spécifiques",
        "Budget prévisionnel 2018",
        "Dépenses au 31/08/2018",
        "Dépenses prévisionnelles du 1er septembre au 31 décembre 2018",
        "Écart entre le budget alloué et les dépenses engagées ou à venir en 2018",
        "Commentaires",
    ]
    assert budget[1][0] == GENERAL[0][1] and budget[1][6].startswith("les salaires")
    assert budget[-1][:6] == ["Total", None, 153846.75, 64593.08, 75725.71, 13527.96]


def test_seed_000_report_as_csv_and_printable_page(aceso: tuple[str, Path]) -> None:
    db, tmp = aceso
    target = tmp / "aceso-2018.csv"
    out = CliRunner().invoke(
        app,
        ["report", "annual", "1", "--as-of", "2018-08-31", "--format", "csv", "-o",
         str(target), "--db", db, "--now", "2018-09-10T10:00"],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    rows = list(csv.reader(io.StringIO(target.read_text("utf-8-sig")), delimiter=";"))
    assert ["", "Total", "153846,75", "64593,08", "75725,71", "13527,96", ""] in rows
    # A year already over: nothing left to forecast, and no "du 01/01/2019 au 31/12/2018".
    past = CliRunner().invoke(
        app,
        ["report", "annual", "1", "--year", "2017", "--format", "csv", "-o", str(target),
         "--db", db, "--now", "2018-09-10T10:00"],
    )  # fmt: skip
    assert past.exit_code == 0, past.output
    text = target.read_text("utf-8-sig")
    assert "Dépenses prévisionnelles (exercice 2017 clos)" in text and "2019" not in text
    listed = CliRunner().invoke(
        app, ["budget", "list", "1", "--year", "2018", "--db", db, "--now", "2018-09-10T10:00"]
    )
    assert listed.exit_code == 0, listed.output
    total = listed.output.replace("\u202f", " ").replace("\xa0", " ").splitlines()[-1]
    assert (
        total.split(None, 1)[0] == "Total"
        and "153 846,75 € | 64 593,08 € | 75 725,71 € | 13 527,96 €" in total
    )
    refused = CliRunner().invoke(
        app,
        ["report", "annual", "1", "--year", "2018", "--as-of", "2017-12-31", "-o", str(target),
         "--db", db, "--now", "2018-09-10T10:00"],
    )  # fmt: skip
    assert refused.exit_code == 2 and "before the year starts" in refused.output

    settings = Settings(
        database_url=db, definitions_dir=ROOT / "definitions", scheduler=False, secret_key="t"
    )
    c = Copilote(settings, FixedClock(datetime(2018, 9, 10, 10, 0, tzinfo=PARIS)))
    try:
        c.accounts.create_user(PILOT, PASSWORD, role="pilot", name="Muriel")
        from fastapi.testclient import TestClient

        client = TestClient(c.app(), base_url="http://127.0.0.1:8000")
        sign_in(client, PILOT, PASSWORD)
        page = client.get("/projects/1/report/annual?as_of=2018-08-31")
        assert page.status_code == 200
        html = page.text
        for amount in ("153 846,75 €", "64 593,08 €", "75 725,71 €", "13 527,96 €"):
            assert amount in html.replace("\u202f", " ").replace("\xa0", " ")
        assert 'name="as_of" value="2018-08-31"' in html
        assert "Guide du routard" in html and "problèmes d&#39;agenda" in html
        assert client.get("/projects/1/report/annual?as_of=31-08-2018").status_code == 422
    finally:
        c.db.dispose()
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing")
        pytest.skip(f"{CHROMIUM} is missing: no screenshot of the printable page")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM))
        try:
            tab = browser.new_page(viewport={"width": 1400, "height": 900})
            tab.set_content(html)
            tab.screenshot(path=str(ARTIFACTS / "cpom_print.png"), full_page=True)
            tab.emulate_media(media="print")
            assert tab.locator("form.as-of").is_hidden()  # the print leaves the form out
        finally:
            browser.close()


def test_a_programmes_report_puts_every_project_in_a_column_of_its_own(
    aceso: tuple[str, Path],
) -> None:
    db, tmp = aceso
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(app, [*args, "--db", db, "--now", "2018-09-10T10:00"])
        assert result.exit_code == code, result.output
        return result.output

    run("project", "create", "--definition", "aceso", "--title", "ACESO Nord",
        "--start", "2018-03-01", "--pilot-email", "nord@exemple.fr", "--pilot-org",
        "Maison de santé Nord", "--territory", "Hauts-de-France")  # fmt: skip
    pid = "2"
    run("objective", "set", pid, "relais", "--level", "general", "--label", "Relais locaux",
        "--by", "Nadia")  # fmt: skip
    run("action", "set", pid, "ateliers", "--objective", "relais", "--label", "Ateliers relais",
        "--planned", "4 ateliers", "--realised", "2 ateliers", "--by", "Nadia")  # fmt: skip
    run("budget", "set", pid, "--year", "2018", "--objective", "relais", "--label", "Animation",
        "--planned", "10 000", "--spent", "2 500,50", "--forecast", "6 000", "--by", "Nadia")  # fmt: skip
    xlsx = tmp / "aceso-programme.xlsx"
    out = run("report", "annual", "--programme", "aceso", "--year", "2018", "--as-of",
              "2018-08-31", "-o", str(xlsx))  # fmt: skip
    assert "programme aceso: annual report 2018 as of 2018-08-31 of 2 project(s)" in out
    book = openpyxl.load_workbook(xlsx)
    assert book.sheetnames == ["Actions", "Budget"]
    rows = [list(r) for r in book["Actions"].iter_rows(values_only=True)]
    assert rows[0][:2] == [
        "Programme",
        "ACESO – Accompagnement évolutif et solidaire (recherche-action)",
    ]
    assert rows[2][:2] == ["À la date du", "31/08/2018"]
    header = next(i for i, r in enumerate(rows) if r[0] == "Projet")
    assert rows[header][:3] == ["Projet", "Structure", "Objectif général"]
    assert rows[header][11] == (
        "Mesure corrective soumise à l'agence pour la fin de la 3ème année du CPOM"
    )
    body = rows[header + 1 :]
    assert {r[0] for r in body} == {"ACESO", "ACESO Nord"}
    assert [r[0] for r in body] == sorted((r[0] for r in body), key=["ACESO", "ACESO Nord"].index)
    copil = next(r for r in body if r[0] == "ACESO" and r[4] == "Comité de pilotage")
    assert copil[5:7] == ["3 réunions", "2 réunions"]
    assert "13 participants représentant 12 structures" in copil[8]
    nord = next(r for r in body if r[0] == "ACESO Nord" and r[4] == "Ateliers relais")
    assert nord[1] == "Maison de santé Nord" and nord[5:7] == ["4 ateliers", "2 ateliers"]
    budget = [list(r) for r in book["Budget"].iter_rows(values_only=True)]
    assert budget[0][:2] == ["Projet", "Structure"]
    assert budget[0][5] == "Dépenses au 31/08/2018"
    totals = [r for r in budget if r[3] == "Total"]
    assert [r[0] for r in totals] == ["ACESO", "ACESO Nord"]
    assert totals[0][4:8] == [153846.75, 64593.08, 75725.71, 13527.96]
    assert totals[1][4:7] == [10000.0, 2500.5, 6000.0]

    target = tmp / "aceso-programme.csv"
    run("report", "annual", "--programme", "aceso", "--year", "2018", "--as-of", "2018-08-31",
        "--format", "csv", "-o", str(target))  # fmt: skip
    lines = list(csv.reader(io.StringIO(target.read_text("utf-8-sig")), delimiter=";"))
    structure = "[im] patients, chroniques & associés"
    assert ["ACESO", structure, "", "Total", "153846,75", "64593,08", "75725,71",
            "13527,96", ""] in lines  # fmt: skip
    assert any(line[:2] == ["ACESO Nord", "Maison de santé Nord"] for line in lines)
    # A project started after the day the report is taken on is not in it yet.
    early = run("report", "annual", "--programme", "aceso", "--as-of", "2018-02-15",
                "--format", "csv", "-o", str(target))  # fmt: skip
    assert "of 1 project(s)" in early
    none = run("report", "annual", "--programme", "acia", "--year", "2018", "--format", "csv",
               "-o", str(target))  # fmt: skip
    assert "of 0 project(s)" in none  # the headers still name the year and the day
    assert "Dépenses au 10/09/2018" in target.read_text("utf-8-sig")
    before = run("report", "annual", "--programme", "aceso", "--year", "2018", "--as-of",
                 "2017-12-31", "-o", str(target), code=2)  # fmt: skip
    assert "before the year starts" in before
    unknown = run("report", "annual", "--programme", "acsso", "-o", str(target), code=2)
    assert "no programme 'acsso'" in unknown and "aceso" in unknown
    both = run("report", "annual", "1", "--programme", "aceso", "-o", str(target), code=2)
    assert "give a project id or --programme, not both" in both
    run("report", "annual", "-o", str(target), code=2)

    settings = Settings(
        database_url=db, definitions_dir=ROOT / "definitions", scheduler=False, secret_key="t"
    )
    c = Copilote(settings, FixedClock(datetime(2018, 9, 10, 10, 0, tzinfo=PARIS)))
    try:
        c.accounts.create_user("ars@exemple.fr", PASSWORD, role="agency", name="ARS")
        c.accounts.create_user("nord@exemple.fr", PASSWORD, role="pilot", name="Nadia")
        from fastapi.testclient import TestClient

        agency = TestClient(c.app(), base_url="http://127.0.0.1:8000")
        sign_in(agency, "ars@exemple.fr", PASSWORD)
        url = "/programmes/aceso/export/annual"
        got = agency.get(f"{url}.xlsx?year=2018&as_of=2018-08-31")
        assert got.status_code == 200
        assert "rapport-annuel-aceso-2018-20180831.xlsx" in got.headers["content-disposition"]
        sheets = openpyxl.load_workbook(io.BytesIO(got.content))
        assert sheets["Budget"].max_row == len(budget)
        as_csv = agency.get(f"{url}.csv?as_of=2018-08-31")
        assert as_csv.status_code == 200 and "ACESO Nord" in as_csv.content.decode("utf-8-sig")
        assert agency.get(f"{url}.csv?as_of=31-08-2018").status_code == 422
        assert agency.get("/programmes/inconnu/export/annual.csv").status_code == 422
        pilot = TestClient(c.app(), base_url="http://127.0.0.1:8000")
        sign_in(pilot, "nord@exemple.fr", PASSWORD)
        assert pilot.get(f"{url}.csv").status_code == 403  # the agency's, not a pilot's
    finally:
        c.db.dispose()
