"""Every service's OpenAPI document, as the service builds it, bounds what it takes as the shared fields do
(crm_shared.web.fields): so a new endpoint cannot take a day, a date-time, an integer or a decimal that the
database or the date arithmetic fails on, and no document calls anything a JSON number (binary float)."""

import pytest

from crm_shared.web.fields import INT32_MAX, INT32_MIN
from crm_shared.testing.services import SERVICE_PACKAGES, openapi_document

SERVICES = list(SERVICE_PACKAGES)
METHODS = ("get", "put", "post", "patch", "delete")


def schemas_in(spec: dict, node, path: str, seen: set):
    """(path, schema) of every schema reachable from `node`, following $refs once each."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            name = ref.rsplit("/", 1)[1]
            if name not in seen:
                seen.add(name)
                yield from schemas_in(spec, spec["components"]["schemas"][name], name, seen)
            return
        if "type" in node or "format" in node:
            yield path, node
        for key, value in node.items():
            if key not in ("example", "default", "enum"):
                yield from schemas_in(spec, value, f"{path}.{key}", seen)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from schemas_in(spec, value, f"{path}.{index}", seen)


def request_schemas(spec: dict):
    """(where, schema) of every schema a request's parameters or body is read with; `where` names a
    parameter as `<method> <route> <in>:<name>`."""
    seen: set = set()
    for route, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            for parameter in item.get("parameters", []) + operation.get("parameters", []):
                where = f"{method} {route} {parameter.get('in')}:{parameter.get('name')}"
                yield from schemas_in(spec, parameter.get("schema", {}), where, seen)
            yield from schemas_in(spec, operation.get("requestBody", {}), f"{method} {route} body", seen)


def wrong_inputs(spec: dict) -> list:
    wrong = []
    for path, schema in request_schemas(spec):
        kind, form = schema.get("type"), schema.get("format")
        if kind == "integer" and not (INT32_MIN <= schema.get("minimum", INT32_MIN - 1)
                                      and schema.get("maximum", INT32_MAX + 1) <= INT32_MAX):
            wrong.append((path, "an integer without 32-bit bounds: use Int32"))
        elif kind == "integer" and form != "int32" and not in_path(path):
            wrong.append((path, "an integer not read by Int32 (a plain Integer truncates 2.5 to 2)"))
        if form in ("date", "date-time") and not ("x-minimum" in schema and "x-maximum" in schema):
            wrong.append((path, f"a {form} without bounds: use Day or Instant"))
    return wrong


def in_path(where: str) -> bool:
    """A path parameter: the URL converter matches digits only, so it cannot truncate a fraction."""
    return " path:" in where


def numbers(spec: dict) -> list:
    return [path for path, schema in schemas_in(spec, spec, "", set()) if schema.get("type") == "number"]


@pytest.mark.parametrize("service", list(SERVICES))
def test_every_input_is_bounded_as_the_shared_fields_bound_it(service):
    assert wrong_inputs(openapi_document(service)) == []


@pytest.mark.parametrize("service", list(SERVICES))
def test_no_document_has_a_json_number(service):
    assert numbers(openapi_document(service)) == []


def test_the_checks_find_what_they_look_for():
    spec = {"paths": {"/x": {"post": {
        "parameters": [{"in": "query", "name": "n", "schema": {"type": "integer"}},
                       {"in": "path", "name": "v", "schema": {"type": "integer", "minimum": 1, "maximum": 9}}],
        "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/In"}}}}}}},
        "components": {"schemas": {"In": {"type": "object", "properties": {
            "on": {"type": "string", "format": "date"}, "at": {"type": "string", "format": "date-time"},
            "ok": {"type": "integer", "minimum": 0, "maximum": 10}, "rate": {"type": "number"}}}}}}
    assert sorted(message.split(":")[0].split(" (")[0] for _, message in wrong_inputs(spec)) == [
        "a date without bounds", "a date-time without bounds", "an integer not read by Int32",
        "an integer without 32-bit bounds"]
    found = numbers(spec)
    assert found and all(path.endswith(".rate") for path in found)
