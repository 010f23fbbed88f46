"""Documents on the pages: upload, versions, download, dedup, partners' attachments from
their link, minutes mailed to the attendees, and the refusals (rights, links, limits, types)."""

from __future__ import annotations

import hashlib
import html
import io
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from tests.smtp_support import SmtpServer
from tests.web.conftest import AGENCY, PILOT_A, PILOT_B, Site, csrf_of
from workflow import tables
from workflow.engine import PartnerIn

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PDF_2 = PDF + b"% version 2\n"
ALPHA = "alpha@asso.example"
BETA = "beta@centre.example"


@pytest.fixture
def any_site(db_url: str, smtp_server: SmtpServer, tmp_path: Path) -> Iterator[Site]:
    s = Site(db_url, smtp_server)
    yield s
    s.c.db.dispose()


def upload(client: TestClient, path: str, name: str, data: bytes, **fields: str) -> tuple[int, str]:
    page = client.get(path.removesuffix("/documents") + "/documents")
    response = client.post(
        path,
        data={"csrf_token": csrf_of(page.text), **fields},
        files={"file": (name, data, "application/octet-stream")},
        follow_redirects=False,
    )
    return response.status_code, response.headers.get("location", "") or response.text


def count(site: Site, table: sa.Table) -> int:
    with site.c.db.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def partners(site: Site) -> tuple[int, int]:
    records = site.c.records
    alpha = records.add_partner(
        site.project_a, PartnerIn("Association Alpha", ALPHA, "Alice", ("partner", "copil"))
    )
    beta = records.add_partner(site.project_a, PartnerIn("Centre Beta", BETA, "Bruno"))
    return alpha, beta


def report_path(site: Site, partner_id: int) -> str:
    token = site.c.links.token("report", site.project_a, partner_id, "bilan_trimestriel:2026-Q2")
    return f"/answer/{token}/documents"


def test_a_pilot_files_versions_and_everyone_entitled_downloads(any_site: Site) -> None:
    site, pid = any_site, any_site.project_a
    pilot = site.client(PILOT_A)
    base = f"/projects/{pid}/documents"
    status, where = upload(pilot, base, "Fiche de cadrage.pdf", PDF, title="Fiche de cadrage")
    assert status == 303, where
    doc = int(re.search(r"#doc-(\d+)$", where).group(1))  # type: ignore[union-attr]
    status, _ = upload(pilot, base, "cadrage v2.pdf", PDF_2, document_id=str(doc))
    assert status == 303

    page = pilot.get(base).text
    assert "Fiche de cadrage" in page and "cadrage v2.pdf" in page
    assert "Versions précédentes" in page and "Fiche de cadrage.pdf" in page
    assert "Déposé par Pia" in page

    latest = pilot.get(f"{base}/{doc}/2")
    assert latest.status_code == 200 and latest.content == PDF_2
    assert latest.headers["content-type"] == "application/pdf"
    assert latest.headers["x-content-type-options"] == "nosniff"
    assert latest.headers["content-disposition"].startswith('attachment; filename="cadrage v2.pdf"')
    assert pilot.get(f"{base}/{doc}/1").content == PDF  # the old version is kept

    # The agency reads it (and sees it on the project page); the pilot of B does not.
    agency = site.client(AGENCY)
    assert agency.get(f"{base}/{doc}/1").content == PDF
    assert "Fiche de cadrage" in agency.get(f"/projects/{pid}").text
    other = site.client(PILOT_B)
    assert other.get(f"{base}/{doc}/1").status_code == 403
    assert other.get(base).status_code == 403
    assert upload(other, base, "x.pdf", PDF)[0] == 403
    assert upload(agency, base, "x.pdf", PDF)[0] == 403  # the agency reads, pilots file
    assert site.client().get(f"{base}/{doc}/1", follow_redirects=False).status_code == 303

    # The same bytes filed again, elsewhere: one more document, the bytes stored once.
    assert upload(pilot, base, "copie.pdf", PDF, target="convention:")[0] == 303
    assert count(site, tables.document) == 2
    assert count(site, tables.document_version) == 3
    assert count(site, tables.blob) == 2


@pytest.fixture
def directory_site(sqlite_url: str, smtp_server: SmtpServer, tmp_path: Path) -> Iterator[Site]:
    s = Site(sqlite_url, smtp_server, storage="directory", storage_dir=tmp_path / "files")
    yield s
    s.c.db.dispose()


def test_a_milestone_deliverable_is_filed_and_marks_it_done(
    directory_site: Site, tmp_path: Path
) -> None:
    """On the directory backend: the bytes are files there, nothing in the database."""
    site = directory_site
    pid = site.project_a
    pilot = site.client(PILOT_A)
    base = f"/projects/{pid}/documents"
    status, _ = upload(
        pilot, base, "gouvernance.pdf", PDF, target="milestone:gouvernance", mark_done="on"
    )
    assert status == 303
    with site.c.db.connect() as conn:
        row = conn.execute(
            sa.select(tables.milestone).where(
                tables.milestone.c.project_id == pid, tables.milestone.c.key == "gouvernance"
            )
        ).one()
        meeting = conn.execute(
            sa.select(tables.meeting.c.id).where(tables.meeting.c.project_id == pid)
        ).scalar()
    assert row.done_on is not None and row.deliverable_ref == "gouvernance.pdf"
    assert pilot.get(f"{base}/1/1").content == PDF
    stored = [p.name for p in (tmp_path / "files").rglob("*") if p.is_file()]
    assert stored == [hashlib.sha256(PDF).hexdigest()]
    assert count(site, tables.blob) == 0

    assert upload(pilot, base, "x.pdf", PDF_2, target="milestone:nope")[0] == 422
    # Minutes wait for their meeting to be held.
    status, text = upload(pilot, base, "cr.pdf", PDF_2, target=f"minutes:{meeting}")
    assert status == 422 and "held" in text
    assert len([p for p in (tmp_path / "files").rglob("*") if p.is_file()]) == 1


def test_partners_attach_to_their_report_and_read_only_what_they_may(any_site: Site) -> None:
    site, pid = any_site, any_site.project_a
    alpha, beta = partners(site)
    pilot = site.client(PILOT_A)
    base = f"/projects/{pid}/documents"
    assert upload(pilot, base, "privé.pdf", PDF_2)[0] == 303  # not shared
    status, where = upload(pilot, base, "partagé.pdf", PDF, shared_set="1", shared="on")
    shared_doc = int(where.rsplit("-", 1)[1])

    path = report_path(site, alpha)
    partner = site.client()  # no account
    status, where = upload(partner, path, "Annexe bilan.pdf", PDF + b"% alpha\n")
    assert (status, where) == (303, path)
    status, text = upload(partner, path, "bilan.pdf", b"<html>not a pdf</html>")
    assert status == 422 and "Fichier refusé" in text and "Association Alpha" in text
    page = partner.get(path)
    assert page.status_code == 200 and "Annexe bilan.pdf" in page.text
    assert "partagé.pdf" in page.text and "privé.pdf" not in page.text
    own = int(re.search(r"/documents/(\d+)/1\"[^>]*>Annexe", page.text).group(1))  # type: ignore[union-attr]
    assert partner.get(f"{path}/{own}/1").content == PDF + b"% alpha\n"
    assert partner.get(f"{path}/{shared_doc}/1").status_code == 200
    assert partner.get(f"{path}/{shared_doc - 1}/1").status_code == 404  # the private one

    # The pilot sees the attachment, with who filed it.
    listing = pilot.get(base).text
    assert "Annexe bilan.pdf" in listing and "Association Alpha" in listing
    assert pilot.get(f"{base}/{own}/1").status_code == 200

    # Another partner neither lists nor opens it; an altered or expired link opens nothing.
    other = report_path(site, beta)
    assert "Annexe bilan.pdf" not in partner.get(other).text
    assert partner.get(f"{other}/{own}/1").status_code == 404
    token = path.split("/")[2]
    altered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    assert partner.get(f"/answer/{altered}/documents/{own}/1").status_code == 403
    # A report link lasts until the report's due date plus the margin (at least 60 days):
    # half a year later it has expired.
    site.clock.advance(timedelta(days=200))
    assert partner.get(f"{path}/{own}/1").status_code == 403
    assert "expired" in partner.get(path).text


def test_minutes_reach_the_attendees_with_a_link_and_no_attachment(site: Site) -> None:
    pid = site.project_a
    alpha, _ = partners(site)
    meeting = site.c.records.meeting_held(pid, occurrence="reunion_lancement")
    pilot = site.client(PILOT_A)
    base = f"/projects/{pid}/documents"
    assert upload(pilot, base, "CR lancement.pdf", PDF, target=f"minutes:{meeting}")[0] == 303
    assert upload(pilot, base, "émargement.pdf", PDF_2, target=f"attendance:{meeting}")[0] == 303
    assert upload(pilot, base, "CR v2.pdf", PDF + b"%2\n", target=f"minutes:{meeting}")[0] == 303
    site.c.tick(site.clock.now())
    mails = [
        got
        for got in site.server.handler.received
        if "compte rendu disponible" in str(got.message["subject"])
    ]
    assert sorted(r for got in mails for r in got.rcpt_tos) == [ALPHA, BETA, PILOT_A]  # once each
    message = next(got.message for got in mails if ALPHA in got.rcpt_tos)
    assert not [part for part in message.iter_attachments()]
    body = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "CR lancement.pdf" in body
    path = re.search(r"https?://[^\s/]+(/shared/[A-Za-z0-9_.\-]+)", body).group(1)  # type: ignore[union-attr]
    partner = site.client()
    page = partner.get(path)
    assert page.status_code == 200 and "CR v2.pdf" in page.text  # the latest version
    assert "émargement" not in page.text  # the attendance sheet is not shared
    minutes = int(re.search(r"/shared/[^/]+/(\d+)/2", page.text).group(1))  # type: ignore[union-attr]
    assert partner.get(f"{path}/{minutes}/2").content == PDF + b"%2\n"
    assert partner.get(f"{path}/{minutes + 1}/1").status_code == 404
    site.clock.advance(timedelta(days=61))
    assert partner.get(path).status_code == 403


@pytest.fixture
def small_site(sqlite_url: str, smtp_server: SmtpServer) -> Iterator[Site]:
    s = Site(sqlite_url, smtp_server, upload_max_bytes=5_000)
    yield s
    s.c.db.dispose()


def test_the_limits_refuse_and_store_nothing(small_site: Site) -> None:
    site, base = small_site, f"/projects/{small_site.project_a}/documents"
    pilot = site.client(PILOT_A)
    status, text = upload(pilot, base, "gros.pdf", PDF + b"0" * 6_000)
    assert status == 413 and "limit of 0.005 MB" in text
    status, text = upload(pilot, base, "énorme.pdf", PDF + b"0" * 200_000)  # stopped mid-stream
    assert status == 413
    status, text = upload(pilot, base, "rapport.pdf", b"<!DOCTYPE html><script>alert(1)</script>")
    assert status == 422 and "markup" in text
    assert "Fichier refusé : rien n&#39;a été enregistré." in text
    assert "n&#39;est pas d&#39;un type accepté" in text
    status, text = upload(pilot, base, "archive.pdf", b"MZ\x90\x00binary")
    assert status == 422
    assert count(site, tables.blob) == count(site, tables.document) == 0

    status, _ = upload(pilot, base, "../../etc/\x07bilan\n2026.pdf", PDF)
    assert status == 303
    with site.c.db.connect() as conn:
        name = conn.execute(sa.select(tables.document_version.c.filename)).scalar_one()
    assert name == "bilan2026.pdf"


@pytest.fixture
def file_site(sqlite_url: str, smtp_server: SmtpServer, tmp_path: Path) -> Iterator[Site]:
    """The site with a programme whose framing sheet must be filed (``deliverable: file``)."""
    definitions = tmp_path / "definitions"
    definitions.mkdir()
    root = Path(__file__).resolve().parents[2]
    (definitions / "cooperative.yaml").write_bytes(
        (root / "definitions/cooperative.yaml").read_bytes()
    )
    mini = (root / "tests/fixtures/mini.yaml").read_text()
    (definitions / "mini_file.yaml").write_text(
        mini.replace("id: mini", "id: mini_file").replace(
            "deliverable: fiche de cadrage", "deliverable: file"
        )
    )
    s = Site(sqlite_url, smtp_server, definitions_dir=definitions)
    yield s
    s.c.db.dispose()


def test_a_milestone_that_needs_a_file_names_it_and_links_to_the_upload(file_site: Site) -> None:
    from datetime import date

    from workflow.engine import NewProject

    site, c = file_site, file_site.c
    assert c.registry.get("mini_file", 1).milestone("fiche_cadrage").deliverable_file
    pid = c.engine.create_project(
        NewProject(
            definition_id="mini_file",
            title="Projet à fiche",
            start_date=date(2026, 5, 4),
            pilot=PartnerIn("Structure A", PILOT_A, "Pia", ("pilot", "copil")),
        )
    )
    for n in (1, 2):
        c.records.add_partner(pid, PartnerIn(f"Partenaire {n}", f"p{n}@asso.example", ""))
    c.records.meeting_held(pid, occurrence="copil_1")
    c.records.milestone_done(pid, "fiche_cadrage", by="Pia")  # done, but no file filed
    [missing] = c.engine.check(pid, "start_deployment")
    assert (missing.kind, missing.subject, missing.fix) == (
        "deliverable_file_missing",
        "fiche_cadrage",
        "upload_deliverable",
    )
    pilot = site.client(PILOT_A)
    page = pilot.get(f"/projects/{pid}")
    refused = pilot.post(
        f"/projects/{pid}/advance",
        data={"csrf_token": csrf_of(page.text), "trigger": "start_deployment"},
    )
    assert refused.status_code == 409
    assert "Fiche de cadrage : document « Fiche de cadrage » non déposé" in refused.text
    link = f"/projects/{pid}/documents?target=milestone:fiche_cadrage#deposer"
    assert link in refused.text
    form = pilot.get(link.split("#")[0]).text
    assert 'value="milestone:fiche_cadrage" selected' in form
    assert (
        upload(
            pilot, f"/projects/{pid}/documents", "fiche.pdf", PDF, target="milestone:fiche_cadrage"
        )[0]
        == 303
    )
    assert c.engine.check(pid, "start_deployment") == []


def test_a_filed_deliverable_shows_on_the_tableau_de_bord_and_in_the_cpom_report(
    site: Site,
) -> None:
    pid = site.project_a
    pilot = site.client(PILOT_A)
    status, _ = upload(
        pilot, f"/projects/{pid}/documents", "gouvernance.pdf", PDF, target="milestone:gouvernance"
    )
    assert status == 303
    row = re.search(
        r'<tr class="task[^"]*">\s*<td class="indent">Mise en place des instances de gouvernance'
        r".*?</tr>",
        pilot.get(f"/projects/{pid}").text,
        re.S,
    )
    assert row is not None
    assert 'gouvernance.pdf</a> <span class="ok">déposé le 04/05/2026' in row.group(0)
    csv = pilot.get(f"/projects/{pid}/export/annual.csv?year=2026").content.decode("utf-8-sig")
    line = next(x for x in csv.splitlines() if "Mise en place des instances de gouvernance" in x)
    assert "document gouvernance.pdf déposé le 04/05/2026" in line

    # The API lists and downloads, for those who may read the project.
    assert upload(pilot, f"/projects/{pid}/documents", "v2.pdf", PDF_2, document_id="1")[0] == 303
    token = site.c.accounts.create_token(site.agency.id)
    api = site.client()
    api.headers["Authorization"] = f"Bearer {token}"
    listed = api.get(f"/api/projects/{pid}/documents").json()
    assert [(d["attached_to"], d["title"]) for d in listed] == [("milestone", "gouvernance.pdf")]
    versions = listed[0]["versions"]
    assert [v["number"] for v in versions] == [2, 1] and versions[1][
        "filename"
    ] == "gouvernance.pdf"
    got = api.get(versions[1]["download"])
    assert got.content == PDF and got.headers["content-type"] == "application/pdf"
    assert got.headers["content-disposition"].startswith("attachment;")
    other = site.client()
    other.headers["Authorization"] = f"Bearer {site.c.accounts.create_token(site.pilot_b.id)}"
    assert other.get(f"/api/projects/{pid}/documents").status_code == 403
    assert other.get(versions[0]["download"]).status_code == 403
    assert api.get(f"/api/projects/{pid}/documents/1/9").status_code == 404


def test_a_partner_files_the_deliverable_their_role_is_responsible_for(site: Site) -> None:
    pid, records, engine = site.project_a, site.c.records, site.c.engine
    alpha, beta = partners(site)
    records.meeting_held(pid, occurrence="reunion_lancement")
    for key in ("gouvernance", "orientations_validees"):
        records.milestone_done(pid, key, by="Pia")
    engine.advance(pid, "start_diagnostic", actor="Pia")
    records.milestone_done(pid, "diagnostic_local_sante", by="Pia")
    records.meeting_held(pid, series="copil")
    engine.advance(pid, "start_action_plan", actor="Pia")  # opens « fiches_actions » (partner)

    path, partner = report_path(site, alpha), site.client()
    page = partner.get(path).text
    assert 'value="milestone:fiches_actions"' in page
    assert 'value="milestone:gouvernance"' not in page  # the pilot's to file
    status, _ = upload(
        partner, path, "fiche action Alpha.pdf", PDF, target="milestone:fiches_actions"
    )
    assert status == 303
    assert upload(partner, path, "x.pdf", PDF_2, target="milestone:gouvernance")[0] == 422
    other = report_path(site, beta)
    assert (
        upload(partner, other, "fiche Beta.pdf", PDF_2, target="milestone:fiches_actions")[0] == 303
    )
    assert "fiche action Alpha.pdf" in partner.get(path).text
    assert "fiche action Alpha.pdf" not in partner.get(other).text  # each partner's own
    listing = site.client(PILOT_A).get(f"/projects/{pid}/documents").text
    assert "fiche action Alpha.pdf" in listing and "fiche Beta.pdf" in listing
    assert count(site, tables.document) == 2 and count(site, tables.document_version) == 2


def test_a_signed_convention_is_filed_against_its_own_record(site: Site) -> None:
    """The signed copy belongs to one of the project's conventions (issue 15 beside issue 13's
    records): the conventions page links to its upload, the documents page names it, and a
    convention of another project or none at all is refused with nothing stored."""
    from workflow.conventions import PartyIn
    from workflow.errors import InvalidInput

    alpha, _ = partners(site)
    cid = site.c.conventions.create(site.project_a, [PartyIn(alpha, 5_000_00)], by="Pia")
    pilot = site.client(PILOT_A)
    conventions_page = pilot.get(f"/projects/{site.project_a}/conventions").text
    link = f"/projects/{site.project_a}/documents?target=convention:{cid}#deposer"
    assert link.replace("&", "&amp;") in conventions_page or link in conventions_page
    form = pilot.get(link.split("#")[0]).text
    assert f'value="convention:{cid}" selected' in form
    status, _ = upload(
        pilot,
        f"/projects/{site.project_a}/documents",
        "Convention signée.pdf",
        PDF,
        target=f"convention:{cid}",
    )
    assert status == 303
    listing = pilot.get(f"/projects/{site.project_a}/documents").text
    assert "Convention signée.pdf" in listing
    stored = count(site, tables.document_version)
    with pytest.raises(InvalidInput) as refused:
        site.c.documents.attach(
            site.project_a,
            io.BytesIO(PDF),
            "autre.pdf",
            by="Pia",
            attached_to="convention",
            subject=str(cid + 1),
        )
    assert refused.value.field == "subject"
    assert count(site, tables.document_version) == stored


def test_an_upload_sent_twice_files_one_version(site: Site) -> None:
    """The documents page's form carries an idempotency token (web/forms.py): the second POST
    of the same form goes to what the first produced, with the banner saying so."""
    pilot = site.client(PILOT_A)
    base = f"/projects/{site.project_a}/documents"
    page = pilot.get(base).text
    token = re.search(r'name="form_token" value="([^"]+)"', page)
    assert token
    data = {"csrf_token": csrf_of(page), "form_token": token.group(1), "title": "Charte"}

    def send() -> Any:
        return pilot.post(
            base, data=data, files={"file": ("charte.pdf", PDF, "application/pdf")},
            follow_redirects=False,
        )  # fmt: skip

    first, second = send(), send()
    assert first.status_code == second.status_code == 303
    assert re.search(r"#doc-\d+$", first.headers["location"])
    assert second.headers["location"] == first.headers["location"]
    assert count(site, tables.document_version) == 1
    shown = html.unescape(pilot.get(second.headers["location"]).text)
    assert "Document déposé." in shown and "il n'a pas été répété" in shown
