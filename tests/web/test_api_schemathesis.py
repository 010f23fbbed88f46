"""The OpenAPI schema exercised by schemathesis: no generated input makes a 500, and every
response is one the schema documents (status code, content type, body).

One system for the module: SQLite, the two projects of the web fixtures, and on A two partners,
a planned meeting, an indicator and a budget line, so that generated ids hit real rows. Reads
are sent as the agency, who sees every project, and writes as the pilot of project A.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from service import Settings
from tests.smtp_support import SmtpServer, start_server
from tests.web.conftest import PARIS, PILOT_A, Site, csrf_of
from web.app import create_app
from web.bounds import MAX_ID
from web.pages import answer, conventions, dashboard, exports, project
from workflow.engine import PartnerIn

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


class FuzzedSite(Site):
    def __init__(self, database_url: str, server: SmtpServer) -> None:
        super().__init__(database_url, server)
        a = self.project_a
        self.partners = [
            self.c.records.add_partner(
                a, PartnerIn(f"Asso {n}", f"asso{n}@exemple.fr", "", ("partner",))
            )
            for n in (1, 2)
        ]
        self.c.records.schedule_meeting(
            a, "reunion_projet", datetime(2026, 5, 12, 14, tzinfo=PARIS)
        )
        self.c.records.set_indicator(a, "participants", label="Participants", kind="activity")
        self.c.records.add_budget_line(a, "Animation", planned_cents=100_000)
        self.tokens = {
            "agency": self.c.accounts.create_token(self.agency.id, "fuzz"),
            "pilot": self.c.accounts.create_token(self.pilot_a.id, "fuzz"),
        }
        assert self.partners == [3, 4] and self.c.engine.today() == date(2026, 5, 4)


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzedSite]:
    server = start_server()
    path: Path = tmp_path_factory.mktemp("fuzz") / "copilote.db"
    site = FuzzedSite(f"sqlite:///{path}", server)
    try:
        yield site
    finally:
        site.c.db.dispose()
        server.stop()


# The schema is loaded when the module is collected, before any fixture exists, from an app
# built on settings alone (routes are all a schema needs); the cases are then sent to the
# module's real system. (``schemathesis.pytest.from_fixture`` fails under pytest 9.)
SCHEMA_APP = create_app(SimpleNamespace(settings=Settings(secret_key="schema-only")))
schema = schemathesis.openapi.from_asgi("/openapi.json", SCHEMA_APP)


def towards_real_rows(path_parameters: dict[str, Any]) -> dict[str, Any]:
    """Most generated ids would be unknown: fold the valid ones onto a few real rows and one
    missing row. Projects and meetings: 1-4 (1 is A, 2 is B). Partners: 3-5 (A's two partners,
    then none), never the pilots' own rows (1, 2), whose leaving would end the pilot's rights
    for the rest of the run. Invalid ids (0, -1, "abc"...) are kept as generated."""
    return {
        name: _fold(value, 3, 3) if name == "partner_id" else _fold(value, 1, 4)
        for name, value in path_parameters.items()
    }


def _fold(value: Any, first: int, count: int) -> Any:
    if isinstance(value, str) and value.isascii() and value.isdigit() and int(value) >= 1:
        return str(first + int(value) % count)
    if isinstance(value, int) and value >= 1:
        return first + value % count
    return value


def test_the_fuzzed_schema_is_the_served_one(fuzzed: FuzzedSite) -> None:
    served = fuzzed.client().get("/openapi.json")
    assert served.status_code == 200 and served.json() == SCHEMA_APP.openapi()
    assert len(served.json()["paths"]) >= 25


@schema.parametrize()
@settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_no_generated_input_makes_a_server_error(
    case: schemathesis.Case[Any], fuzzed: FuzzedSite
) -> None:
    case.path_parameters = towards_real_rows(case.path_parameters)
    # Reads as the agency (who sees every project), writes as the pilot of A (who acts on it):
    # the calls that get furthest into the code. The refusals are tested in test_api_rights.
    token = fuzzed.tokens["agency" if case.method.upper() == "GET" else "pilot"]
    case.call_and_validate(
        app=fuzzed.app, headers={"Authorization": f"Bearer {token}"}, checks=CHECKS
    )


# -- the page routes (issue 10, finding 21) ----------------------------------------------------
# The pages are left out of the served schema (they are not an API), so their schema is built
# here from their own routers: path, query and form parameters with their bounds. Cases are
# sent signed in as the pilot of A with the session's CSRF token, so that forms get past the
# token check; only "no server error" is checked (a page answers HTML, not a documented body).
PAGES_APP = FastAPI()
for _pages in (dashboard, project, answer, exports, conventions):
    PAGES_APP.include_router(_pages.router)
pages_schema = schemathesis.openapi.from_asgi("/openapi.json", PAGES_APP)


@pytest.fixture(scope="module")
def signed_in(fuzzed: FuzzedSite) -> tuple[str, str]:
    """The session cookie and CSRF token of the pilot of A."""
    client = fuzzed.client(PILOT_A)
    cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
    return cookie, csrf_of(client.get(f"/projects/{fuzzed.project_a}").text)


def test_the_page_schema_covers_the_page_routes() -> None:
    paths = PAGES_APP.openapi()["paths"]
    assert "/projects/{project_id}" in paths and "/answer/{token}" in paths
    assert len(paths) >= 10


def _beyond(value: Any) -> bool:
    text = str(value)
    return text.isascii() and text.isdigit() and int(text[:12]) > MAX_ID


@pages_schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_no_generated_page_request_makes_a_server_error(
    case: schemathesis.Case[Any], fuzzed: FuzzedSite, signed_in: tuple[str, str]
) -> None:
    cookie, csrf = signed_in
    # ids beyond a 32-bit column are kept as generated: they made the pages answer 500
    case.path_parameters = {
        name: value if _beyond(value) else towards_real_rows({name: value})[name]
        for name, value in (case.path_parameters or {}).items()
    }
    if isinstance(case.body, dict) and "csrf_token" in case.body:
        case.body = {**case.body, "csrf_token": csrf}
    case.call_and_validate(app=fuzzed.app, headers={"Cookie": cookie}, checks=[not_a_server_error])
