"""Database trouble (issue 10, finding 17): a locked SQLite database or an unreachable
PostgreSQL server gives a JSON 503 with Retry-After on the API and a French page with the
same status on pages, never a plain-text 500."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
import sqlalchemy as sa

from tests.web.conftest import AGENCY, Site
from web.app import DATABASE_RETRY_AFTER_SECONDS


def break_database(site: Site, error: Exception) -> None:
    """Every new connection fails with ``error`` (the open ones are dropped first)."""

    def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise error

    site.c.db.dispose()
    sa.event.listen(site.c.db, "do_connect", refuse)


TROUBLES = [
    sqlite3.OperationalError("database is locked"),
    sqlite3.OperationalError(
        'connection to server at "127.0.0.1", port 5432 failed: Connection refused'
    ),
]


@pytest.mark.parametrize("error", TROUBLES, ids=["locked", "unreachable"])
def test_the_api_answers_503_json_with_retry_after(site: Site, error: Exception) -> None:
    client = site.client(AGENCY)
    assert client.get("/api/projects").status_code == 200
    break_database(site, error)
    response = client.get("/api/projects")
    assert response.status_code == 503
    assert response.headers["retry-after"] == str(DATABASE_RETRY_AFTER_SECONDS)
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"] == "DatabaseUnavailable"
    assert "database" in response.json()["detail"]


@pytest.mark.parametrize("error", TROUBLES, ids=["locked", "unreachable"])
def test_pages_answer_a_french_503_page(site: Site, error: Exception) -> None:
    client = site.client(AGENCY)
    assert client.get("/projects").status_code == 200
    break_database(site, error)
    response = client.get("/projects")
    assert response.status_code == 503
    assert response.headers["retry-after"] == str(DATABASE_RETRY_AFTER_SECONDS)
    assert response.headers["content-type"].startswith("text/html")
    assert "Service momentanément indisponible" in response.text
    assert "La base de données ne répond pas" in response.text
    english = client.get("/projects?lang=en")
    assert english.status_code == 503
    assert "The database is not answering" in english.text
