"""The dashboard's portfolio exported (issue 14, point 4): CSV (UTF-8 with BOM, ``;``, ISO
dates, plain numbers, formulas neutralised) and XLSX (typed cells, bold header, widths,
frozen header), the dashboard's filters and order, agency only."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

from openpyxl import load_workbook

from tests.web.conftest import AGENCY, PARIS, PILOT_A, Site
from web.pages import exports
from workflow.engine import NewProject, PartnerIn
from workflow.read_models.portfolio import DASHBOARD_SORT, Filters, Sort, portfolio

HEADER = [
    "Identifiant",
    "Projet",
    "Programme",
    "Territoire",
    "Phase",
    "En cours",
    "Prochaine échéance",
    "Intitulé de l'échéance",
    "Éléments en retard",
]
COOP = "Coopérative d'acteurs en promotion de la santé"


def with_formula_title(site: Site) -> int:
    return site.c.engine.create_project(
        NewProject(
            definition_id="cooperative",
            title="=SOMME(A1:A9)",
            start_date=date(2026, 5, 4),
            territory="Paris",
            pilot=PartnerIn("Structure C", "c@exemple.fr", "Cléo", ("pilot", "copil")),
        )
    )


def test_the_csv_is_the_filtered_portfolio_in_the_page_order(site: Site) -> None:
    formula = with_formula_title(site)
    site.clock.set(datetime(2026, 9, 1, 9, tzinfo=PARIS))
    agency = site.client(AGENCY)
    response = agency.get("/dashboard/export.csv")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert (
        (response.headers["content-disposition"])
        == 'attachment; filename="portefeuille-2026-09-01.csv"'
    )
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == HEADER
    page = portfolio(site.c.engine, site.c.engine.today(), Filters(), sort=DASHBOARD_SORT).rows
    assert [int(r[0]) for r in rows[1:]] == [p.id for p in page]  # the dashboard's order
    by_id = {int(r[0]): r for r in rows[1:]}
    a = next(p for p in page if p.id == site.project_a)
    assert by_id[site.project_a] == [
        str(site.project_a),
        "Coopérative A",
        COOP,
        "Paris",
        "Préfiguration",
        "oui",
        a.next_deadline.isoformat() if a.next_deadline else "",
        a.next_deadline_label or "",
        str(a.overdue),
    ]
    assert a.overdue > 0
    assert by_id[formula][1] == "'=SOMME(A1:A9)"  # text, never a formula

    paris_only = agency.get("/dashboard/export.csv", params={"territory": "Paris"})
    lines = paris_only.content.decode("utf-8-sig").splitlines()
    assert len(lines) == 3 and all(";Paris;" in line for line in lines[1:])

    english = agency.get("/dashboard/export.csv", params={"lang": "en"})
    assert english.content.decode("utf-8-sig").splitlines()[0].startswith("Id;Project;")


def test_the_csv_is_written_in_pages_when_the_portfolio_is_long(
    site: Site, monkeypatch: object
) -> None:
    for n in range(3):
        site.c.engine.create_project(
            NewProject(
                definition_id="cooperative",
                title=f"Coopérative Z{n}",
                start_date=date(2026, 5, 4),
                pilot=PartnerIn(f"S{n}", f"z{n}@exemple.fr", "Zoé", ("pilot", "copil")),
            )
        )
    import pytest

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    monkeypatch.setattr(exports, "EXPORT_PAGE", 2)  # 5 projects: three pages
    rows = site.client(AGENCY).get("/dashboard/export.csv").content.decode("utf-8-sig")
    titles = [line.split(";")[1] for line in rows.splitlines()[1:]]
    assert titles == sorted(titles) and len(titles) == 5


def test_the_xlsx_has_typed_cells_a_bold_frozen_header_and_widths(site: Site) -> None:
    formula = with_formula_title(site)  # on 4 May 2026: every project has a deadline ahead
    response = site.client(AGENCY).get("/dashboard/export.xlsx", params={"territory": "Paris"})
    assert response.status_code == 200
    assert response.headers["content-type"] == exports.XLSX_TYPE
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    assert sheet.title == "Portefeuille"
    assert [c.value for c in sheet[1]] == HEADER
    assert all(c.font.bold for c in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["B"].width == 40
    assert sheet.max_row == 3  # header, Coopérative A and the formula-titled one (Paris)
    page = portfolio(site.c.engine, site.c.engine.today(), Filters(territory="Paris")).rows
    for row, line in zip(sheet.iter_rows(min_row=2), page, strict=True):
        cells = [c.value for c in row]
        assert cells[0] == line.id and isinstance(cells[0], int)
        assert cells[3] == "Paris" and cells[5] == "oui"
        assert line.next_deadline is not None
        assert isinstance(cells[6], datetime) and cells[6].date() == line.next_deadline
        assert row[6].number_format == "yyyy-mm-dd"
        assert cells[8] == line.overdue and isinstance(cells[8], int)
    titles = {c.value for c in sheet["B"]}
    assert "'=SOMME(A1:A9)" in titles and "Coopérative A" in titles
    assert formula in {c.value for c in sheet["A"]}


def test_only_the_agency_exports_the_portfolio(site: Site) -> None:
    pilot = site.client(PILOT_A)
    assert pilot.get("/dashboard/export.csv").status_code == 403
    assert pilot.get("/dashboard/export.xlsx").status_code == 403
    assert site.client().get("/dashboard/export.csv", follow_redirects=False).status_code in (
        303,
        401,
    )


def test_the_exports_follow_the_pages_sort_and_its_late_only_list(site: Site) -> None:
    """What the agency sorted or narrowed to the late projects is what it downloads; the
    dashboard's export links carry those parameters, and a chosen programme adds its CPOM
    annual report."""
    site.clock.set(datetime(2026, 9, 1, 9, tzinfo=PARIS))
    site.c.engine.create_project(  # starts today: nothing of it is late yet
        NewProject(
            definition_id="cooperative",
            title="Coopérative D",
            start_date=date(2026, 9, 1),
            territory="Paris",
            pilot=PartnerIn("Structure D", "d@exemple.fr", "Dora", ("pilot", "copil")),
        )
    )
    agency = site.client(AGENCY)
    today = site.c.engine.today()

    def ids(params: dict[str, str]) -> list[int]:
        body = agency.get("/dashboard/export.csv", params=params).content.decode("utf-8-sig")
        return [int(r[0]) for r in list(csv.reader(io.StringIO(body), delimiter=";"))[1:]]

    by_title = portfolio(site.c.engine, today, Filters(), sort=Sort("title", True)).rows
    assert ids({"sort": "-title"}) == [p.id for p in by_title]
    late = portfolio(site.c.engine, today, Filters(), sort=DASHBOARD_SORT, late_only=True)
    assert ids({"show": "late"}) == [p.id for p in late.rows]
    assert 0 < len(late.rows) < len(by_title)
    assert ids({"sort": "nonsense"}) == ids({})  # an unknown order is the page's default

    page = agency.get("/dashboard", params={"sort": "-title", "show": "late"}).text
    assert "/dashboard/export.xlsx?sort=-title&amp;show=late" in page
    assert "/programmes/" not in page
    chosen = agency.get("/dashboard", params={"programme": "cooperative"}).text
    assert 'href="/programmes/cooperative/export/annual.xlsx"' in chosen
