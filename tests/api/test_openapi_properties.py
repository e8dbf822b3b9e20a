"""Property-based API tests: schemathesis generates requests from every service's OpenAPI document (valid and
invalid ones, bounded, with a fixed seed) and sends them through nginx to the whole stack on PostgreSQL and
RabbitMQ, once with an admin token and once with a token of one line and every non-admin role. Every check
runs: no 5xx, every status code and content type documented, every response body valid against its documented
schema, invalid input refused with a 4xx, valid input not refused as malformed (a 422 from a rule the schema
cannot state is accepted), no answer without authentication,
405 with the `Allow` header. Every other valid example of an operation with path ids names real objects of
the scoped token's line, so that generated bodies and queries get past the 404 of a random id.

A new operation is tested by being in its service's document. `KNOWN_FAILURES` marks items whose defect is
open (issue 9): they must fail until the fix lands, then the entry has to go.
"""
from __future__ import annotations

import itertools

import pytest
import requests
import schemathesis
from e2e_stack import GATEWAY, auth
from hypothesis import HealthCheck, Phase, settings
from lob_objects import PATH_KINDS, build
from openapi_docs import SERVICES, document

pytestmark = pytest.mark.e2e

MAX_EXAMPLES = 12  # per operation and generation phase; the whole module stays within a few minutes on 2 cores
TOKENS = {
    "admin": {"roles": ("admin",), "lines": ("*",), "subject": "api-tests-admin"},
    "scoped": {"roles": ("sales", "marketing", "planner", "supervisor", "agent"), "lines": ("retail",),
               "subject": "api-tests-scoped"},
}


def _schema(service: str):
    schema = schemathesis.openapi.from_dict(document(service))
    schema.config.update(base_url=GATEWAY, request_timeout=30)
    schema.config.generation.update(modes=["positive", "negative"], max_examples=MAX_EXAMPLES,
                                    deterministic=True, database="none", no_shrink=True,
                                    with_security_parameters=False)  # the token is ours, ignored_auth tries none
    # Valid by the schema but refused by a rule the schema cannot state (a reference to a line, attribute or
    # object that does not exist, a rule across fields) is a 422 and right; a schema-valid request refused as
    # malformed (400, 415) or with a 5xx is still a failure. 412 is a stale If-Match, which only state decides.
    schema.config.checks.positive_data_acceptance.expected_statuses = [
        "2xx", "3xx", "401", "403", "404", "409", "412", "422", "429"]
    # Invalid input refused by the gateway for its size (a problem+json 413 or 414) is refused all the same.
    schema.config.checks.negative_data_rejection.expected_statuses = [
        *schema.config.checks.negative_data_rejection.expected_statuses, "413", "414"]
    return schema


def _settings(test):
    return settings(max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck), print_blob=False,
                    phases=(Phase.explicit, Phase.generate))(test)


@pytest.fixture(scope="module", params=list(TOKENS))
def headers(request, stack):
    return auth(**TOKENS[request.param])


@pytest.fixture(scope="module")
def objects(stack):
    """Real objects of the line the scoped token has: every other valid example names them in its path, so that
    generated bodies and queries reach past the 404 of a random id."""
    return build(GATEWAY, "retail")


@pytest.fixture(scope="module")
def http(stack):
    with requests.Session() as session:
        yield session


_alternate = itertools.count()


def _run(case, headers, http, objects):
    if case.meta is not None and case.meta.generation.mode.is_positive and case.query:
        # A page cursor is opaque and issued by the server: no generated one is valid (400 is right for it).
        case.query.pop("cursor", None)
    if case.meta is not None and case.meta.generation.mode.is_positive and case.path_parameters \
            and next(_alternate) % 2:
        service = case.operation.path.split("/")[2]
        for name in case.path_parameters:
            kind = PATH_KINDS.get((service, name), "=")
            if not kind.startswith("="):
                case.path_parameters[name] = objects[kind]
    case.call_and_validate(headers=headers, session=http)


customers = _schema("customers")
calls = _schema("calls")
campaigns = _schema("campaigns")
service_desk = _schema("service-desk")
reporting = _schema("reporting")


@customers.parametrize()
@_settings
def test_customers(case, headers, http, objects):
    _run(case, headers, http, objects)


@calls.parametrize()
@_settings
def test_calls(case, headers, http, objects):
    _run(case, headers, http, objects)


@campaigns.parametrize()
@_settings
def test_campaigns(case, headers, http, objects):
    _run(case, headers, http, objects)


@service_desk.parametrize()
@_settings
def test_service_desk(case, headers, http, objects):
    _run(case, headers, http, objects)


@reporting.parametrize()
@_settings
def test_reporting(case, headers, http, objects):
    _run(case, headers, http, objects)


@pytest.mark.parametrize("service", SERVICES)
def test_the_gateway_serves_the_documents_tested_here(stack, service):
    served = requests.get(f"{GATEWAY}/api/{service}/openapi.json", timeout=10)
    assert served.status_code == 200 and served.json() == document(service)


def test_the_gateway_refuses_trace_as_the_api_does(stack):
    """nginx answers TRACE itself: 405 with `Allow` and a problem+json body, like an undeclared method the
    services refuse themselves (the property tests send it too, this one says so by name)."""
    response = requests.request("TRACE", f"{GATEWAY}/api/customers/parties", headers=auth(), timeout=10)
    assert response.status_code == 405
    assert response.headers.get("Content-Type") == "application/problem+json", response.text[:200]
    assert "GET" in response.headers.get("Allow", "")


@pytest.mark.parametrize("length", [3000, 5000, 7000, 9000, 20000])
def test_a_long_request_line_is_refused_as_problem_json(stack, length):
    """nginx and the services' gunicorn both limit the request line; whichever refuses it, the answer is a
    problem, never an HTML page."""
    response = requests.get(f"{GATEWAY}/api/customers/parties", params={"cursor": "v" * length}, headers=auth(),
                            timeout=10)
    assert 400 <= response.status_code < 500, response.status_code
    assert response.headers.get("Content-Type") == "application/problem+json", response.text[:200]


KNOWN_FAILURES: dict[str, str] = {}
