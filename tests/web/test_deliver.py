"""A partner sends the deliverable they owe from the personal link of its milestone's emails
(issue 11: "every message links to where they do it"): a file, or a declaration with a
comment; the milestone is then recorded done in the partner's name."""

from __future__ import annotations

import html
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from tests.smtp_support import SmtpServer
from tests.web.conftest import PILOT_A, Site, csrf_of
from workflow import tables
from workflow.database import read
from workflow.engine import NewProject, PartnerIn

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
BASE = "http://127.0.0.1:8000"


@pytest.fixture
def site(sqlite_url: str, smtp_server: SmtpServer, tmp_path: Path) -> Iterator[Site]:
    """Two programmes whose framing sheet a partner owes: one as a label, one as a file."""
    definitions = tmp_path / "definitions"
    definitions.mkdir()
    root = Path(__file__).resolve().parents[2]
    (definitions / "cooperative.yaml").write_bytes(
        (root / "definitions/cooperative.yaml").read_bytes()
    )
    mini = (root / "tests/fixtures/mini.yaml").read_text()
    owed = mini.replace(
        "deliverable_en: framing sheet\n    responsible: pilot",
        "deliverable_en: framing sheet\n    responsible: partner",
    )
    assert "responsible: partner" in owed
    (definitions / "mini_owed.yaml").write_text(owed.replace("id: mini", "id: mini_owed"))
    (definitions / "mini_owed_file.yaml").write_text(
        owed.replace("id: mini", "id: mini_owed_file").replace(
            "deliverable: fiche de cadrage\n    deliverable_en: framing sheet", "deliverable: file"
        )
    )
    s = Site(sqlite_url, smtp_server, definitions_dir=definitions)
    yield s
    s.c.db.dispose()


def _project(site: Site, definition: str) -> tuple[int, int, int]:
    """A project of ``definition``, its partner owing the framing sheet, and a peer partner."""
    c = site.c
    pid = c.engine.create_project(
        NewProject(
            definition_id=definition,
            title="Projet à fiche",
            start_date=date(2026, 5, 4),
            pilot=PartnerIn("Structure A", PILOT_A, "Pia", ("pilot", "copil")),
        )
    )
    owing = c.records.add_partner(pid, PartnerIn("Asso Alpha", "alpha@asso.example", "Alix"))
    other = c.records.add_partner(
        pid, PartnerIn("Centre Beta", "beta@asso.example", "", ("agency",))
    )
    return pid, owing, other


def _path(site: Site, pid: int, partner: int, key: str = "fiche_cadrage") -> str:
    return site.c.links.make("milestone", pid, partner, key).removeprefix(BASE)


def _done(site: Site, pid: int) -> tuple[object, object, object]:
    with read(site.c.db) as conn:
        row = conn.execute(
            sa.select(
                tables.milestone.c.done_on,
                tables.milestone.c.done_by,
                tables.milestone.c.deliverable_ref,
            ).where(tables.milestone.c.project_id == pid, tables.milestone.c.key == "fiche_cadrage")
        ).one()
    return row.done_on, row.done_by, row.deliverable_ref


def test_a_partner_declares_the_deliverable_sent_with_a_comment(site: Site) -> None:
    pid, owing, _ = _project(site, "mini_owed")
    path = _path(site, pid, owing)
    client = TestClient(site.app, base_url=BASE)  # no account: the link is the key
    page = client.get(path)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    text = html.unescape(page.text)
    assert "Livrable à transmettre : fiche de cadrage" in text
    assert "Asso Alpha" in text and "Déclarer transmis" in text and "Envoyer le fichier" in text
    token = csrf_of(page.text)
    empty = client.post(path, data={"csrf_token": token, "comment": "  "})
    assert empty.status_code == 422 and 'data-field="comment"' in empty.text
    long = client.post(path, data={"csrf_token": token, "comment": "x" * 2001})
    assert long.status_code == 422
    assert _done(site, pid) == (None, None, None)  # nothing recorded
    sent = client.post(
        path,
        data={"csrf_token": token, "comment": "Envoyée par courrier au pilote le 4 mai"},
        follow_redirects=False,
    )
    assert sent.status_code == 303 and sent.headers["location"] == f"{path}?done=1"
    done_on, done_by, _ = _done(site, pid)
    assert done_on is not None and done_by == "Asso Alpha"  # the partner's name in the history
    with read(site.c.db) as conn:
        comment = conn.execute(sa.select(tables.milestone_completion.c.comment)).scalar_one()
    assert comment == "Envoyée par courrier au pilote le 4 mai"
    thanks = html.unescape(client.get(sent.headers["location"]).text)
    assert "Merci ! Le livrable est enregistré comme transmis le" in thanks
    assert "Déclarer transmis" not in thanks  # nothing left to send
    again = client.post(
        path, data={"csrf_token": token, "comment": "encore"}, follow_redirects=False
    )
    assert again.status_code == 303  # the first record stands
    assert _done(site, pid)[1] == "Asso Alpha"


def test_a_file_deliverable_is_sent_as_a_file_and_only_so(site: Site) -> None:
    pid, owing, _ = _project(site, "mini_owed_file")
    path = _path(site, pid, owing)
    client = TestClient(site.app, base_url=BASE)
    page = client.get(path)
    assert "Déclarer transmis" not in html.unescape(page.text)  # the file itself is owed
    token = csrf_of(page.text)
    refused = client.post(path, data={"csrf_token": token, "comment": "envoyé"})
    assert refused.status_code == 422 and _done(site, pid)[0] is None
    bad = client.post(
        f"{path}/file",
        data={"csrf_token": token, "comment": "\x00"},
        files={"file": ("fiche.pdf", PDF, "application/pdf")},
    )
    assert bad.status_code == 422 and _done(site, pid)[0] is None
    sent = client.post(
        f"{path}/file",
        data={"csrf_token": token, "comment": "version validée en COPIL"},
        files={"file": ("fiche.pdf", PDF, "application/pdf")},
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text
    assert _done(site, pid)[1:] == ("Asso Alpha", "fiche.pdf")
    with read(site.c.db) as conn:
        doc = conn.execute(sa.select(tables.document)).one()
    assert (doc.attached_to, doc.subject, doc.partner_id) == ("milestone", "fiche_cadrage", owing)
    # the pilot files nothing more: the phase's file condition is met
    assert not [
        u for u in site.c.engine.check(pid, "start_deployment") if u.kind.startswith("deliverable")
    ]
    shown = html.unescape(client.get(path).text)
    assert "fiche.pdf" in shown


def test_a_link_opens_only_for_its_partner_and_its_deliverable(site: Site) -> None:
    pid, owing, other = _project(site, "mini_owed")
    client = TestClient(site.app, base_url=BASE)
    assert client.get(_path(site, pid, other)).status_code == 403  # not theirs to send
    assert client.get(_path(site, pid, owing, "diagnostic_x")).status_code == 403
    assert client.get(_path(site, pid + 99, owing)).status_code == 403
    report = site.c.links.make("report", pid, owing, "bilan:2026-Q2").removeprefix(BASE)
    assert client.get(report.replace("/answer/", "/deliver/")).status_code == 403
    # a partner who left can no longer use theirs
    site.c.records.partner_leaves(pid, owing, on=site.c.engine.today())
    assert client.get(_path(site, pid, owing)).status_code == 403


def test_nothing_is_sent_while_the_project_is_suspended(site: Site) -> None:
    pid, owing, _ = _project(site, "mini_owed")
    path = _path(site, pid, owing)
    client = TestClient(site.app, base_url=BASE)
    token = csrf_of(client.get(path).text)  # the page was opened before the suspension
    site.c.engine.advance(pid, "suspend", actor="Pia", comment="Pause estivale")
    page = client.get(path)
    assert "Ce projet est suspendu" in html.unescape(page.text)
    declared = client.post(path, data={"csrf_token": token, "comment": "envoyé"})
    assert declared.status_code == 422
    filed = client.post(
        f"{path}/file",
        data={"csrf_token": token},
        files={"file": ("fiche.pdf", PDF, "application/pdf")},
    )
    assert filed.status_code == 422
    assert _done(site, pid)[0] is None
