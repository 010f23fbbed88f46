"""The OpenAPI schema exercised by schemathesis, with every check it has: no generated input
makes a 500, every response is one the schema documents (status code, content type, headers,
body), schema-valid input is accepted and invalid input refused, the Allow header of a 405
lists the path's methods, and so on; case by case, then in sequences of calls along the links
between operations (stateful), over the API and over the page routes.

One system for the module: SQLite, the two projects of the web fixtures, and on A two partners,
a planned meeting, an indicator and a budget line, so that generated ids hit real rows. Reads
are sent as the agency, who sees every project, and writes as the pilot of A.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.checks import CHECKS as REGISTERED
from schemathesis.checks import CheckContext, CheckFunction, load_all_checks
from schemathesis.specs.openapi.checks import positive_data_acceptance

from service import Settings
from tests.smtp_support import SmtpServer, start_server
from tests.web.conftest import PARIS, PILOT_A, Site, csrf_of
from web.app import create_app
from web.bounds import MAX_ID, MULTI_LINE
from web.pages import (
    answer,
    answer_links,
    conventions,
    dashboard,
    documents,
    exports,
    objectives,
    preferences,
    project,
)
from workflow.engine import PartnerIn


def positive_data_accepted_by_the_schema_layer(
    ctx: CheckContext, response: schemathesis.Response, case: schemathesis.Case[Any]
) -> bool | None:
    """schemathesis's ``positive_data_acceptance``, where a refusal by the domain is not a
    failure. The schema states the form of a request (types, bounds, patterns); it cannot state
    what a project's programme or its current state refuses (a meeting series the programme
    does not have, a meeting already held, a partner leaving before joining, an address no
    mail system delivers): those are 422s naming the field (``InvalidInput``), tested one by
    one in the other files. A schema-valid request refused by request validation itself
    (``RequestValidationError``) is a schema that promises more than the API takes, and
    fails, as the built-in check does: it found ``3191.0`` (a JSON integer) refused as an id.
    """
    if response.status_code == 422:
        if not case.operation.path.startswith("/api/"):
            # A page's 422 is a page naming the field, whatever refused it: its inputs are
            # texts the page reads itself (web.bounds), so they are all the domain's refusals.
            return None
        if response.json().get("error") == "InvalidInput":
            return None
    return positive_data_acceptance(ctx, response, case)


load_all_checks()
# Every check schemathesis has (all functions in this version), the one above standing for
# positive_data_acceptance.
CHECKS: list[CheckFunction] = [
    check
    for check in REGISTERED.get_all()
    if inspect.isfunction(check) and check is not positive_data_acceptance
] + [positive_data_accepted_by_the_schema_layer]
assert len(CHECKS) == len(REGISTERED.get_all()) >= 14, "a check schemathesis added is a class"


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
        self.c.records.set_indicator(
            a, "participants", label="Participants", kind="activity", by="Claire (DD 93)"
        )
        self.c.records.add_budget_line(a, "Animation", planned_cents=100_000, by="Claire (DD 93)")
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
    case.call_and_validate(checks=CHECKS, **api_call(case, fuzzed))


# -- the page routes (issue 10, finding 21) ----------------------------------------------------
# The pages are left out of the served schema (they are not an API), so their schema is built
# here from their own routers: path, query and form parameters with their bounds, and what
# each answers (web.pages.responses: HTML, a redirect, a refusal page; files for the exports).
# Cases are sent signed in as the pilot of A with the session's CSRF token, so that forms get
# past the token check, and checked with every check (those about a response's JSON schema or
# about authentication find nothing to check on a page, and say so by passing).
PAGES_APP = FastAPI()
for _pages in (
    dashboard,
    project,
    answer,
    answer_links,
    exports,
    conventions,
    objectives,
    documents,
    preferences,
):
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


def test_what_schemathesis_found_stays_fixed(fuzzed: FuzzedSite) -> None:
    """A 405 lists every method of its path (pages included, not only the first route's);
    a JSON integer written 12.0 is an integer; a report's content refuses what its schema
    says it refuses."""
    client = fuzzed.client()
    for path, methods in (
        ("/answer/abc", "GET, POST"),
        (f"/api/projects/{fuzzed.project_a}/partners", "GET, POST"),
        (f"/projects/{fuzzed.project_a}/meetings", "POST"),
    ):
        answer = client.options(path)
        assert answer.status_code == 405 and answer.headers["allow"] == methods, path
    api = fuzzed.client()
    api.headers["Authorization"] = f"Bearer {fuzzed.tokens['pilot']}"
    budget = f"/api/projects/{fuzzed.project_a}/budget"
    assert api.post(budget, json={"label": "Frais", "planned_cents": 1200.0}).status_code == 201
    assert api.post(budget, json={"label": "Frais", "planned_cents": 12.5}).status_code == 422
    content = SCHEMA_APP.openapi()["components"]["schemas"]["ReportValue"]
    assert {"type": "string", "pattern": MULTI_LINE} in content["anyOf"]


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
    case.call_and_validate(checks=CHECKS, **page_call(case, fuzzed, signed_in))


def page_call(
    case: schemathesis.Case[Any], fuzzed: FuzzedSite, signed_in: tuple[str, str]
) -> dict[str, Any]:
    """Ready ``case`` to be sent to a page; how to send it."""
    cookie, csrf = signed_in
    # ids beyond a 32-bit column are kept as generated: they made the pages answer 500
    case.path_parameters = {
        name: value if _beyond(value) else towards_real_rows({name: value})[name]
        for name, value in (case.path_parameters or {}).items()
    }
    if isinstance(case.body, dict) and "csrf_token" in case.body:
        case.body = {**case.body, "csrf_token": csrf}
    return {"app": fuzzed.app, "headers": {"Cookie": cookie}}


def api_call(case: schemathesis.Case[Any], fuzzed: FuzzedSite) -> dict[str, Any]:
    """Ready ``case`` to be sent to the API; how to send it. Reads as the agency (who sees
    every project), writes as the pilot of A (who acts on it): the calls that get furthest
    into the code. The refusals are tested in test_api_rights."""
    case.path_parameters = towards_real_rows(case.path_parameters or {})
    token = fuzzed.tokens["agency" if case.method.upper() == "GET" else "pilot"]
    return {"app": fuzzed.app, "headers": {"Authorization": f"Bearer {token}"}}


# -- stateful: sequences of calls along the links (issue 10, "how it is checked") ---------------
# schemathesis infers the links between operations from the schemas (an id a response returns,
# used in another operation's path or body: 86 in the API's, 3 in the pages'), and chains calls
# along them: create a project then advance it, add a partner then make it leave, schedule a
# meeting then move, hold or cancel it... every response checked with every check. Last in the
# module: they change the module's system (a sequence may suspend project A, close a meeting).
SEQUENCES = settings(
    max_examples=15,
    stateful_step_count=5,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
    database=None,
)


def run_sequences(
    machine: type[Any], prepare: Callable[[schemathesis.Case[Any]], dict[str, Any]]
) -> None:
    """Run ``machine`` (a schema's state machine), each case readied and sent by ``prepare``."""

    class Sequences(machine):  # type: ignore[misc]
        def get_call_kwargs(self, case: schemathesis.Case[Any]) -> dict[str, Any]:
            return prepare(case)

        def validate_response(
            self, response: schemathesis.Response, case: schemathesis.Case[Any], **kwargs: Any
        ) -> None:
            case.validate_response(
                response, checks=CHECKS, headers=kwargs.get("headers"), transport_kwargs=kwargs
            )

    Sequences.run(settings=SEQUENCES)


def test_stateful_sequences_of_page_requests_pass_every_check(
    fuzzed: FuzzedSite, signed_in: tuple[str, str]
) -> None:
    machine = pages_schema.as_state_machine()
    assert pages_schema.statistic.transitions.total >= 3
    run_sequences(machine, lambda case: page_call(case, fuzzed, signed_in))


def test_stateful_sequences_of_api_calls_pass_every_check(fuzzed: FuzzedSite) -> None:
    machine = schema.as_state_machine()
    assert schema.statistic.transitions.total >= 50
    run_sequences(machine, lambda case: api_call(case, fuzzed))
