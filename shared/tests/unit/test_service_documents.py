"""Every service's OpenAPI document, as the service builds it, documents its errors as they are sent:
application/problem+json with the Problem schema, a 401 on every operation that needs a token, a default."""
import re

import pytest

from crm_shared.testing.services import SERVICE_PACKAGES, build_service_app, openapi_document

SERVICES = list(SERVICE_PACKAGES)
PROBLEM = "application/problem+json"
METHODS = ("get", "put", "post", "patch", "delete")


def operations(spec: dict):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def resolved(spec: dict, response: dict) -> dict:
    if "$ref" in response:
        return spec["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    return response


@pytest.mark.parametrize("service", list(SERVICES))
def test_every_error_response_is_problem_json(service):
    spec = openapi_document(service)
    problem = spec["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "instance", "errors"} <= set(problem["properties"])
    detail = spec["components"]["schemas"]["ProblemDetail"]["properties"]
    assert {"location", "field", "message"} <= set(detail)
    wrong, count = [], 0
    for path, method, operation in operations(spec):
        count += 1
        responses = operation["responses"]
        if operation.get("security") != []:
            if "401" not in responses:
                wrong.append((method, path, "no 401"))
        if "default" not in responses:
            wrong.append((method, path, "no default"))
        for status, response in responses.items():
            if status == "default" or status[0] in "45":
                content = resolved(spec, response).get("content", {})
                if list(content) != [PROBLEM] or content[PROBLEM]["schema"] != {"$ref": "#/components/schemas/Problem"}:
                    wrong.append((method, path, status, list(content)))
    assert count > 0 and wrong == []
    assert not any(name.startswith("Problem") and name not in ("Problem", "ProblemDetail")
                   for name in spec["components"]["schemas"])
    assert "Error" not in spec["components"]["schemas"]



@pytest.mark.parametrize("service", list(SERVICES))
def test_path_ids_are_documented_as_uuids(service):
    spec = openapi_document(service)
    wrong = []
    for path, item in spec["paths"].items():
        for parameter in item.get("parameters", []):
            if parameter["in"] == "path" and parameter["name"].endswith("_id") and parameter["name"] != "request_id":
                if parameter["schema"].get("format") != "uuid":
                    wrong.append((path, parameter["name"], parameter["schema"]))
    assert wrong == []


@pytest.mark.parametrize("service", list(SERVICES))
def test_no_operation_is_reached_without_a_token_unless_it_is_public(service):
    """Every documented operation, with its path ids filled in, or with a path segment that a suffix test
    would once have taken for a document ("docs", "openapi.json"), answers 401 without a token."""
    app = build_service_app(service)
    client = app.test_client()
    spec = client.get(f"/api/{service}/openapi.json").json
    reached = []
    for path, method, operation in operations(spec):
        if operation.get("security") == []:
            continue
        for filler in ("0f8fad5b-d9cb-469f-a165-70867728950e", "docs", "openapi.json"):
            url = re.sub(r"\{[^}]+\}", filler, path)
            response = client.open(url, method=method.upper(), json={})
            if response.status_code != 401 or response.mimetype != PROBLEM:
                reached.append((method, url, response.status_code))
    assert reached == []


def test_the_contact_policy_named_docs_needs_a_token():
    client = build_service_app("calls").test_client()
    response = client.put("/api/calls/contact-policies/docs", json={})
    assert response.status_code == 401 and response.mimetype == PROBLEM
