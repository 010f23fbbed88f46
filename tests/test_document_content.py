"""Uploads are recognised from their content, never their name; names are cleaned."""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pytest

from workflow.documents import FileRefused, FileTooLarge, clean_filename, inspect_file

LIMIT = 1_000_000


def zipped(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def xlsx() -> bytes:
    out = io.BytesIO()
    book = openpyxl.Workbook()
    book.active.append(["Indicateur", "Prévu"])
    book.save(out)
    return out.getvalue()


DOCX_TYPES = (
    b'<Types><Override ContentType="application/vnd.openxmlformats-officedocument.'
    b'wordprocessingml.document.main+xml"/></Types>'
)


@pytest.mark.parametrize(
    ("name", "data", "media_type", "served_as"),
    [
        ("bilan.pdf", b"%PDF-1.7\n...", "application/pdf", "bilan.pdf"),
        ("photo.png", b"\x89PNG\r\n\x1a\n....", "image/png", "photo.png"),
        ("photo.jpeg", b"\xff\xd8\xff\xe0....", "image/jpeg", "photo.jpeg"),
        ("scan.pdf", b"\xff\xd8\xff\xe0....", "image/jpeg", "scan.jpg"),  # named after its content
        (
            "cr.odt",
            zipped({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b""}),
            "application/vnd.oasis.opendocument.text",
            "cr.odt",
        ),
        (
            "suivi.ods",
            zipped({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet"}),
            "application/vnd.oasis.opendocument.spreadsheet",
            "suivi.ods",
        ),
        (
            "cr.docx",
            zipped({"[Content_Types].xml": DOCX_TYPES, "word/document.xml": b""}),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "cr.docx",
        ),
        (
            "budget.xlsx",
            xlsx(),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "budget.xlsx",
        ),
        ("émargement.csv", "Nom;Structure\nÉmilie;Alpha\n".encode(), "text/csv", "émargement.csv"),
        ("ancien.csv", "Nom;Année\né;1\n".encode("cp1252"), "text/csv", "ancien.csv"),
    ],
)
def test_accepted_types_are_read_from_the_content(
    name: str, data: bytes, media_type: str, served_as: str
) -> None:
    checked = inspect_file(io.BytesIO(data), name, LIMIT)
    assert (checked.media_type, checked.filename, checked.size) == (
        media_type,
        served_as,
        len(data),
    )


@pytest.mark.parametrize(
    ("name", "data", "why"),
    [
        ("rapport.pdf", b"<!DOCTYPE html><html><script>x</script>", "markup"),
        ("liste.csv", b"  <svg onload=alert(1)>", "markup"),
        ("notes.pdf", b"plain words", "plain text"),
        ("a.csv", b"col\x00umn", "not one of them"),
        ("prog.pdf", b"MZ\x90\x00\x03", "not one of them"),
        ("a.docx", zipped({"evil.exe": b"MZ"}), "zip archive"),
        ("a.odt", zipped({"mimetype": b"application/x-evil"}), "archive of type"),
        ("a.docx", zipped({"[Content_Types].xml": b"<Types/>"}), "not DOCX nor XLSX"),
        ("a.docx", b"PK\x03\x04broken", "damaged"),
        ("vide.pdf", b"", "empty"),
    ],
)
def test_other_content_is_refused_whatever_its_name(name: str, data: bytes, why: str) -> None:
    with pytest.raises(FileRefused, match=why):
        inspect_file(io.BytesIO(data), name, LIMIT)


def test_the_size_limit_is_exact() -> None:
    assert inspect_file(io.BytesIO(b"%PDF-" + b"0" * 95), "a.pdf", 100).size == 100
    with pytest.raises(FileTooLarge, match="larger than the limit"):
        inspect_file(io.BytesIO(b"%PDF-" + b"0" * 96), "a.pdf", 100)


@pytest.mark.parametrize(
    ("name", "clean"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("..\\..\\windows\\cr.pdf", "cr.pdf"),
        ("bi\x00lan\r\n\x1b[31m.pdf", "bilan[31m.pdf"),
        ("..", "document.pdf"),
        ('a<b>c:"d|e?*.pdf', "a_b_c__d_e__.pdf"),
        ("page.html", "page.pdf"),
        ("x" * 300 + ".pdf", "x" * 146 + ".pdf"),
        ("\u202etxt.exe", "txt.pdf"),
    ],
)
def test_names_are_cleaned(name: str, clean: str) -> None:
    assert clean_filename(name, "application/pdf") == clean
