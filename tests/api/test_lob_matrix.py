"""The line-of-business matrix: objects of two lines in every service, then a token of one line (every role
short of admin) tries every operation of every service's OpenAPI document on the other line's objects.

- An operation whose path names another line's object answers 404 or 403 (422 too when the body refers to
  another line's object).
- An operation that names none (lists, creates, settings) never shows an id of the other line's objects,
  with no filter and with each filter set to the other line's id; a create that refers to them is refused.
- A read the admin token may do succeeds on the same ids (so the 404 is about the line, not a wrong id).

An operation joins the matrix by being in its document. A path parameter with no entry in `PATH_KINDS` and a
write without an entry in `BODIES` fail the test: someone has to say what they refer to.
`KNOWN_FAILURES` marks the operations whose defect is open (issue 9): they must fail until it is fixed.
"""
from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
import requests
from e2e_stack import GATEWAY, auth
from lob_objects import LINE_KINDS, PATH_KINDS, VALUES, build
from openapi_docs import SERVICES, operations

pytestmark = pytest.mark.e2e

OWN, OTHER = "retail", "wholesale"
ROLES = ("sales", "marketing", "planner", "supervisor", "agent")
ADMIN = {"roles": ("admin",), "lines": ("*",), "subject": "lob-matrix-admin"}

# Query filters tried with the other line's ids (a list must stay free of them); others are left out.
QUERY_KINDS = {"party_id": "party", "campaign_id": "campaign", "request_id": "request", "agent_id": "agent",
               "template_id": "template", "line_of_business": "line", "company_id": "party"}

_today = date.today()
_window = {"window_start": (_today + timedelta(days=5)).isoformat(),
           "window_end": (_today + timedelta(days=25)).isoformat()}


def _stages(o, m):
    return {"stages": [{"key": "letter", "name": "Letter", "action": "mailing"}]}


# A minimal valid body for every write, from the other line's objects `o` (and `mine`, the own line's).
BODIES = {
    ("post", "/api/customers/parties"): lambda o, m: {
        "kind": "company", "company_name": "Matrix Intruder", "line_of_business": OTHER},
    ("patch", "/api/customers/parties/{party_id}"): lambda o, m: {"company_name": "Renamed"},
    ("post", "/api/customers/parties/{party_id}/lifecycle"): lambda o, m: {"state": "prospect"},
    ("post", "/api/customers/parties/{party_id}/contacts"): lambda o, m: {"company_id": o["party"], "role": "x"},
    ("post", "/api/customers/attributes"): lambda o, m: {"name": "matrix_note", "type": "text"},
    ("post", "/api/customers/lines-of-business"): lambda o, m: {"code": "matrix", "label": "Matrix"},
    ("post", "/api/calls/calls/{call_id}/outcome"): lambda o, m: {"outcome": "not_reached"},
    ("post", "/api/calls/call-requests"): lambda o, m: {
        "request_id": o["request"], "party_id": m["party"], "call_type": "follow_up", **_window},
    ("post", "/api/calls/contacts"): lambda o, m: {
        "party_id": o["party"], "kind": "visit", "contacted_on": _today.isoformat()},
    ("post", "/api/calls/agents"): lambda o, m: {
        "name": "Matrix Agent", "role": "call_centre", "daily_capacity": 5,
        "working_hours": {"mon": ["08:00", "12:00"]}},
    ("patch", "/api/calls/agents/{agent_id}"): lambda o, m: {"daily_capacity": 9},
    ("post", "/api/calls/agents/{agent_id}/absences"): lambda o, m: {
        "kind": "training", "first_day": (_today + timedelta(days=60)).isoformat(),
        "last_day": (_today + timedelta(days=60)).isoformat()},
    ("put", "/api/calls/agents/{agent_id}/targets/{month}"): lambda o, m: {
        "calls_made": 1, "customers_reached": 1, "appointments_booked": 1},
    ("post", "/api/calls/territories"): lambda o, m: {
        "name": "Matrix Territory", "line_of_business": OTHER, "postal_ranges": [["10000", "10999"]],
        "agent_id": o["agent"]},
    ("put", "/api/calls/territories/{territory_id}"): lambda o, m: {
        "name": "Matrix Territory moved", "line_of_business": OWN, "postal_ranges": [["80000", "80999"]],
        "agent_id": m["agent"]},
    ("put", "/api/calls/role-quotas/{role}"): lambda o, m: {
        "calls_made": 1, "customers_reached": 1, "appointments_booked": 1},
    ("put", "/api/calls/contact-policies/{segment}"): lambda o, m: {"min_contacts": 2, "min_spacing_days": 30},
    ("put", "/api/calls/planning-rules"): lambda o, m: {"gap_days": 14, "max_attempts": 3, "horizon_days": 60},
    ("post", "/api/calls/scripts"): lambda o, m: {
        "name": "Matrix Script", "campaign_id": o["campaign"], "steps": [{"prompt": "Hello"}]},
    ("put", "/api/calls/scripts/{script_id}"): lambda o, m: {"name": "Matrix Script", "steps": [{"prompt": "Hi"}]},
    ("post", "/api/calls/rejection-reasons"): lambda o, m: {"code": "matrix_reason", "label": "Matrix"},
    ("patch", "/api/calls/rejection-reasons/{code}"): lambda o, m: {"label": "No interest"},
    ("post", "/api/campaigns/campaigns"): lambda o, m: {
        "name": "Matrix Intruder", "campaign_type": "email", "line_of_business": OTHER},
    ("patch", "/api/campaigns/campaigns/{campaign_id}"): lambda o, m: {"description": "changed"},
    ("put", "/api/campaigns/campaigns/{campaign_id}/stages"): _stages,
    ("post", "/api/campaigns/campaigns/{campaign_id}/failure-codes"): lambda o, m: {
        "code": "matrix", "description": "Matrix"},
    ("put", "/api/campaigns/campaigns/{campaign_id}/chains"): lambda o, m: {"chains": []},
    ("post", "/api/campaigns/campaigns/{campaign_id}/participants"): lambda o, m: {"party_ids": [o["party"]]},
    ("post", "/api/campaigns/campaigns/{campaign_id}/participants/{party_id}/decisions"): lambda o, m: {
        "decision": "exclude"},
    ("post", "/api/campaigns/campaigns/{campaign_id}/selections"): lambda o, m: {
        "criteria": {"lines_of_business": [OTHER]}, "dry_run": True},
    ("post", "/api/campaigns/suppressions"): lambda o, m: {
        "party_id": o["party"], "channel": "email", "reason": "matrix"},
    ("post", "/api/campaigns/campaigns/{campaign_id}/cost-items"): lambda o, m: {
        "name": "Matrix", "planned_amount": "1.00"},
    ("patch", "/api/campaigns/campaigns/{campaign_id}/cost-items/{cost_item_id}"): lambda o, m: {"name": "x"},
    ("post", "/api/campaigns/campaigns/{campaign_id}/revenue"): lambda o, m: {
        "party_id": o["party"], "kind": "order", "reference": "matrix-1", "amount": "10.00",
        "occurred_on": _today.isoformat()},
    ("post", "/api/campaigns/campaigns/{campaign_id}/evaluation"): lambda o, m: None,
    ("post", "/api/campaigns/campaigns/{campaign_id}/imports"): "multipart",
    ("post", "/api/campaigns/templates"): lambda o, m: {
        "name": "Matrix", "channel": "letter", "body": "Hello", "line_of_business": OTHER},
    ("put", "/api/campaigns/templates/{template_id}"): lambda o, m: {
        "name": "Matrix", "channel": "letter", "body": "Hello", "line_of_business": OWN},
    ("post", "/api/campaigns/campaigns/{campaign_id}/mailings"): lambda o, m: {
        "stage_key": "letter", "template_id": o["template"]},
    ("post", "/api/campaigns/mailings/{mailing_id}/recipients/{recipient_id}/reactions"): lambda o, m: {
        "kind": "opened"},
    ("post", "/api/campaigns/unsubscribe/{token}"): lambda o, m: None,
}
# Writes whose body names the other line's objects: refusing them with 422 (a reference) is right too.
REFERS_TO_OTHER = {("post", "/api/customers/parties/{party_id}/contacts"),
                   ("post", "/api/calls/contacts"), ("post", "/api/calls/territories"),
                   ("post", "/api/calls/scripts"), ("post", "/api/campaigns/campaigns"),
                   ("post", "/api/campaigns/campaigns/{campaign_id}/participants"),
                   ("post", "/api/campaigns/campaigns/{campaign_id}/selections"),
                   ("post", "/api/campaigns/suppressions"), ("post", "/api/campaigns/templates"),
                   ("post", "/api/campaigns/campaigns/{campaign_id}/revenue"),
                   ("post", "/api/campaigns/campaigns/{campaign_id}/mailings"),
                   ("post", "/api/customers/parties")}
# Creates that must be refused (they would put something into, or take something from, the other line).
MUST_REFUSE = REFERS_TO_OTHER - {("post", "/api/campaigns/campaigns/{campaign_id}/selections")}
# Reads the admin control may not find (the fixture object has nothing to show there), with the reason.
CONTROL_EXEMPT = {"GET /api/campaigns/mailings/{mailing_id}/document.pdf": "an e-mail mailing has no document"}
# Writes that carry another line's id where any caller may choose one (a request's own id): the answer must
# be what an unused id would get, never a refusal because of it (which would confirm that it exists).
# The second item withdraws what the request created under that id for the own line, so that the DELETE of
# the other line's id, later, can find only theirs.
MUST_NOT_NAME = {("post", "/api/calls/call-requests"): ("request_id", "/api/calls/call-requests/{request}")}
METHOD_ORDER = {"get": 0, "head": 0, "post": 1, "put": 1, "patch": 1, "delete": 2}  # deletions last


def _all_operations():
    found = []
    for service in SERVICES:
        for method, path, operation, shared in operations(service):
            found.append((service, method, path, operation, shared))
    found.sort(key=lambda op: METHOD_ORDER.get(op[1], 1))
    return found


OPERATIONS = _all_operations()


def _param_kind(service: str, name: str) -> str:
    kind = PATH_KINDS.get((service, name))
    assert kind is not None, (f"path parameter {name!r} of {service} is not in the matrix: add what it refers to "
                              "to PATH_KINDS (and a fixture object of that kind to lob_objects.build)")
    return kind


@pytest.fixture(scope="module")
def lines(stack):
    built = {OWN: build(GATEWAY, OWN), OTHER: build(GATEWAY, OTHER)}
    # A contact link across the lines: the own line's person at the other line's company.
    cross = requests.post(f"{GATEWAY}/api/customers/parties/{built[OWN]['person']}/contacts", headers=auth(**ADMIN),
                          json={"company_id": built[OTHER]["party"], "role": "buyer"}, timeout=30)
    assert cross.status_code == 201, cross.text
    built[OWN]["cross_link"] = cross.json()["id"]
    return built


@pytest.fixture(scope="module")
def scoped(lines):
    return auth(roles=ROLES, lines=(OWN,), subject=lines[OWN]["agent_subject"])


def _foreign_ids(other: dict) -> set[str]:
    return {value for kind, value in other.items() if kind in LINE_KINDS}


def _strings(value):
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, str):
        yield value


def _leaked(response: requests.Response, foreign: set[str]) -> set[str]:
    """The other line's ids in the answer, less those the request itself carried (an echo reveals nothing)."""
    sent = response.request.url + (response.request.body.decode(errors="replace")
                                   if isinstance(response.request.body, bytes) else str(response.request.body or ""))
    foreign = {f for f in foreign if f not in sent}
    if "json" not in response.headers.get("Content-Type", ""):
        return {f for f in foreign if f in response.text}
    return foreign & set(_strings(response.json())) if response.content else set()


def _request(method, url, headers, body_spec, objects, mine, params=None):
    kwargs = {"headers": headers, "params": params, "timeout": 30}
    if body_spec == "multipart":
        kwargs["files"] = {"file": ("list.csv", b"company\nMatrix AG\n", "text/csv")}
        kwargs["data"] = {"mapping": json.dumps({"company": "company_name"})}
    elif body_spec is not None:
        body = body_spec(objects, mine)
        if body is not None:
            kwargs["json"] = body
    return requests.request(method.upper(), url, **kwargs)


CONTROL_LISTS = ["/api/customers/parties", "/api/calls/customers", "/api/calls/calls", "/api/calls/territories",
                 "/api/calls/scripts", "/api/campaigns/campaigns", "/api/campaigns/suppressions",
                 "/api/campaigns/templates", "/api/campaigns/parties", "/api/calls/interference-decisions"]


@pytest.mark.parametrize("path", CONTROL_LISTS)
def test_the_admin_token_sees_the_other_lines_objects_in_the_lists_the_matrix_checks(lines, path):
    response = requests.get(f"{GATEWAY}{path}", headers=auth(**ADMIN), params={"limit": 200}, timeout=30)
    assert response.status_code == 200, response.text[:300]
    assert _leaked(response, _foreign_ids(lines[OTHER])), f"the leak check cannot fail for {path}"


@pytest.mark.parametrize(("service", "method", "path", "operation", "shared"), OPERATIONS,
                         ids=[f"{m.upper()} {p}" for _s, m, p, _o, _sh in OPERATIONS])
def test_other_lines_objects_are_out_of_reach(lines, scoped, service, method, path, operation, shared):
    other, mine = lines[OTHER], lines[OWN]
    foreign = _foreign_ids(other)
    parameters = [*shared, *operation.get("parameters", [])]
    filled, line_scoped = path, False
    for parameter in (p for p in parameters if p["in"] == "path"):
        kind = _param_kind(service, parameter["name"])
        value = VALUES[kind[1:]] if kind.startswith("=") else other[kind]
        line_scoped |= kind in LINE_KINDS
        filled = filled.replace("{" + parameter["name"] + "}", value)
    body_spec = None
    if "requestBody" in operation:
        assert (method, path) in BODIES, f"{method.upper()} {path} has no body in BODIES: add a minimal valid one"
        body_spec = BODIES[(method, path)]
    url = f"{GATEWAY}{filled}"

    response = _request(method, url, scoped, body_spec, other, mine)
    described = f"{method.upper()} {filled} -> {response.status_code} {response.text[:300]}"
    assert response.status_code < 500, described
    assert not _leaked(response, foreign), f"foreign ids {_leaked(response, foreign)} in {described}"
    if line_scoped:
        allowed = {403, 404} | ({422} if (method, path) in REFERS_TO_OTHER else set())
        assert response.status_code in allowed, f"another line's object was reachable: {described}"
        if method == "get":  # the same read with the admin token finds it: the id is right
            control = requests.get(url, headers=auth(**ADMIN), timeout=30)
            assert control.status_code == 200 or f"GET {path}" in CONTROL_EXEMPT, \
                f"admin control {control.status_code} {control.text[:300]}"
    elif (method, path) in MUST_REFUSE:
        assert response.status_code in {403, 404, 422}, f"a write into another line was accepted: {described}"
    elif (method, path) in MUST_NOT_NAME:
        field, undo = MUST_NOT_NAME[(method, path)]
        named = response.status_code >= 400 and "json" in response.headers.get("Content-Type", "") and any(
            error.get("field") == field for error in response.json().get("errors") or [])
        assert not named, f"the answer confirms that another line's {field} exists: {described}"
        if response.status_code in (200, 201):
            requests.delete(GATEWAY + undo.format(**other), headers=scoped, timeout=30)
    if method == "get" and not line_scoped:
        for parameter in (p for p in parameters if p["in"] == "query" and p["name"] in QUERY_KINDS):
            kind = QUERY_KINDS[parameter["name"]]
            value = OTHER if kind == "line" else other[kind]
            filtered = requests.get(url, headers=scoped, params={parameter["name"]: value}, timeout=30)
            what = f"GET {filled}?{parameter['name']}={value} -> {filtered.status_code} {filtered.text[:300]}"
            assert filtered.status_code < 500, what
            assert not _leaked(filtered, foreign), f"foreign ids {_leaked(filtered, foreign)} in {what}"


# The own line's object a read is tried on: the person, who has the link to the other line's company.
OWN_KINDS = {("customers", "party_id"): "person"}
READS = [op for op in OPERATIONS if op[1] == "get" and any(p["in"] == "path" for p in [*op[4], *op[3].get(
    "parameters", [])])]


@pytest.mark.parametrize(("service", "method", "path", "operation", "shared"), READS,
                         ids=[f"{m.upper()} {p}" for _s, m, p, _o, _sh in READS])
def test_the_own_lines_objects_show_nothing_of_the_other_line(lines, scoped, service, method, path, operation,
                                                               shared):
    mine = lines[OWN]
    filled = path
    for parameter in (p for p in [*shared, *operation.get("parameters", [])] if p["in"] == "path"):
        kind = OWN_KINDS.get((service, parameter["name"])) or _param_kind(service, parameter["name"])
        filled = filled.replace("{" + parameter["name"] + "}", VALUES[kind[1:]] if kind[0] == "=" else mine[kind])
    response = requests.get(f"{GATEWAY}{filled}", headers=scoped, timeout=30)
    described = f"GET {filled} -> {response.status_code} {response.text[:300]}"
    assert response.status_code < 500, described
    assert not _leaked(response, _foreign_ids(lines[OTHER])), f"foreign ids in {described}"


def test_a_contact_link_to_the_other_lines_company_cannot_be_removed_from_the_own_persons_side(lines, scoped):
    mine, admin = lines[OWN], auth(**ADMIN)
    url = f"{GATEWAY}/api/customers/parties/{mine['person']}/contacts"
    removed = requests.delete(f"{url}/{mine['cross_link']}", headers=scoped, timeout=30)
    assert removed.status_code in (403, 404), removed.text[:300]
    links = requests.get(url, headers=admin, timeout=30).json()
    assert mine["cross_link"] in set(_strings(links)), "the link was removed all the same"


def test_every_operation_is_in_the_matrix():
    """Without a stack: every path parameter of every document says what it refers to, every write has a body,
    and every service has operations (a document listing none would be a wiring fault)."""
    assert {service for service, *_ in OPERATIONS} == set(SERVICES)
    unmapped = [f"{service} {method.upper()} {path}: {p['name']}" for service, method, path, operation, shared
                in OPERATIONS for p in [*shared, *operation.get("parameters", [])]
                if p["in"] == "path" and (service, p["name"]) not in PATH_KINDS]
    assert not unmapped, f"add these path parameters to lob_objects.PATH_KINDS: {unmapped}"
    bodiless = [f"{method.upper()} {path}" for _s, method, path, operation, _sh in OPERATIONS
                if "requestBody" in operation and (method, path) not in BODIES]
    assert not bodiless, f"add a minimal valid body to BODIES for: {bodiless}"
    stale = [key for key in BODIES if key not in {(m, p) for _s, m, p, _o, _sh in OPERATIONS}]
    assert not stale, f"BODIES names operations no document has: {stale}"


KNOWN_FAILURES: dict[str, str] = {}
