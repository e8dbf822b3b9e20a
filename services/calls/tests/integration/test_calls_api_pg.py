"""The HTTP API on a migrated PostgreSQL database: scoping, pagination and problem+json on bad input."""
from __future__ import annotations

import uuid

import pytest
from planning_fixtures import migrated_runtime
from calls_factories import party_event
from crm_shared.auth import mint_token
from sqlalchemy.orm import Session

from crm_calls.service_layer.handlers import HANDLERS

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def runtime(postgres_url, amqp_url):
    # module scope: one database for all API tests, dropped at the end
    with migrated_runtime(postgres_url, amqp_url, "calls_api") as runtime:
        with Session(runtime.engine) as session, session.begin():
            for i in range(5):
                e = party_event("registered", display_name=f"Insurer {i}", line_of_business="insurance",
                                lifecycle_state="customer" if i % 2 else "prospect")
                HANDLERS[e.type](session, e)
            for i in range(3):
                e = party_event("registered", display_name=f"Bank {i}", line_of_business="banking")
                HANDLERS[e.type](session, e)
            e = party_event("deactivated", display_name="Gone", line_of_business="insurance", version=2)
            HANDLERS[e.type](session, e)
        yield runtime


@pytest.fixture(scope="module")
def client(runtime):
    return runtime.create_app().test_client()


@pytest.fixture(scope="module")
def auth(runtime):
    def headers(lines=("*",), roles=("sales",)):
        token = mint_token(runtime.settings.jwt, "alice", list(roles), list(lines))
        return {"Authorization": f"Bearer {token}"}
    return headers


def items(response):
    assert response.status_code == 200, response.get_json()
    return [item["display_name"] for item in response.get_json()["items"]]


def test_list_is_scoped_to_the_callers_lines(client, auth):
    assert items(client.get("/api/calls/customers", headers=auth(["banking"]))) == ["Bank 0", "Bank 1", "Bank 2"]
    assert len(items(client.get("/api/calls/customers", headers=auth(["*"])))) == 8
    assert len(items(client.get("/api/calls/customers", headers=auth([], roles=["admin"])))) == 8
    assert items(client.get("/api/calls/customers?line_of_business=insurance", headers=auth(["banking"]))) == []


def test_list_filters_and_deactivated(client, auth):
    names = items(client.get("/api/calls/customers?lifecycle_state=customer&line_of_business=insurance",
                             headers=auth()))
    assert names == ["Insurer 1", "Insurer 3"]
    names = items(client.get("/api/calls/customers?include_deactivated=true&line_of_business=insurance",
                             headers=auth()))
    assert names[0] == "Gone" and len(names) == 6


def test_list_pages_with_a_cursor(client, auth):
    seen, cursor = [], None
    while True:
        response = client.get("/api/calls/customers", query_string={"limit": 3, **({"cursor": cursor} if cursor
                                                                                   else {})}, headers=auth())
        seen += items(response)
        cursor = response.get_json()["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(seen) and len(seen) == 8 == len(set(seen))


def test_get_one_customer(client, auth):
    first = client.get("/api/calls/customers?line_of_business=banking", headers=auth()).get_json()["items"][0]
    response = client.get(f"/api/calls/customers/{first['party_id']}", headers=auth(["banking"]))
    assert response.status_code == 200
    body = response.get_json()
    assert (body["display_name"], body["city"], body["phone"], body["version"]) == ("Bank 0", "Berlin",
                                                                                    "+49 30 1234", 1)


@pytest.mark.parametrize("query, field", [
    ("limit=0", "limit"), ("limit=201", "limit"), ("limit=abc", "limit"), ("lifecycle_state=lead", "lifecycle_state"),
    ("cursor=not-a-cursor", "cursor"), ("include_deactivated=maybe", "include_deactivated"),
    ("line_of_business=", "line_of_business"),
])
def test_list_rejects_bad_query_parameters(client, auth, query, field):
    response = client.get(f"/api/calls/customers?{query}", headers=auth())
    assert response.status_code == 400 or response.status_code == 422
    assert response.mimetype == PROBLEM
    assert field in [e["field"] for e in response.get_json()["errors"]]


def test_list_rejects_a_cursor_of_the_wrong_shape(client, auth):
    from crm_shared.web import encode_cursor

    response = client.get("/api/calls/customers", query_string={"cursor": encode_cursor([1, 2])}, headers=auth())
    assert response.status_code == 400 and response.mimetype == PROBLEM


@pytest.mark.parametrize("path", ["/api/calls/customers", f"/api/calls/customers/{uuid.uuid4()}"])
@pytest.mark.parametrize("header", [None, "Bearer nonsense", "Basic abc"])
def test_every_endpoint_needs_a_valid_token(client, path, header):
    response = client.get(path, headers={"Authorization": header} if header else {})
    assert response.status_code == 401 and response.mimetype == PROBLEM


def test_get_unknown_customer_is_404(client, auth):
    response = client.get(f"/api/calls/customers/{uuid.uuid4()}", headers=auth())
    assert response.status_code == 404 and response.mimetype == PROBLEM


def test_get_customer_outside_the_callers_lines_is_404(client, auth):
    first = client.get("/api/calls/customers?line_of_business=banking", headers=auth()).get_json()["items"][0]
    response = client.get(f"/api/calls/customers/{first['party_id']}", headers=auth(["insurance"]))
    assert response.status_code == 404 and response.mimetype == PROBLEM


def test_get_with_a_malformed_id_is_404_like_an_unknown_one(client, auth):
    response = client.get("/api/calls/customers/not-a-uuid", headers=auth())
    assert response.status_code == 404 and response.mimetype == PROBLEM


def test_health_and_openapi(client):
    assert client.get("/health/live").status_code == 200
    assert client.get("/health/ready").status_code == 200
    spec = client.get("/api/calls/openapi.json").get_json()
    assert "/api/calls/customers" in spec["paths"] and "/api/calls/customers/{party_id}" in spec["paths"]
