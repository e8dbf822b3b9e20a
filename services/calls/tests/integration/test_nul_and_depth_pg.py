"""On PostgreSQL, a NUL character anywhere in the input, or JSON nested 10,000 deep, is a 4xx problem naming
where it was, and nothing is stored (they were 500: "invalid byte sequence"/"unsupported Unicode escape
sequence" from the database, RecursionError from the parser)."""
from __future__ import annotations

import pytest
from planning_fixtures import migrated_runtime
from sqlalchemy import func, select

from crm_calls.adapters import orm
from crm_shared.auth import mint_token

WEEK = {d: ["08:00", "16:00"] for d in ("mon", "tue", "wed", "thu", "fri")}


@pytest.fixture(scope="module")
def runtime(postgres_url, amqp_url):
    with migrated_runtime(postgres_url, amqp_url, "calls_nul") as runtime:
        yield runtime


@pytest.fixture(scope="module")
def client(runtime):
    return runtime.create_app().test_client()


@pytest.fixture(scope="module")
def planner(runtime):
    return {"Authorization": f"Bearer {mint_token(runtime.settings.jwt, 'paula', ['planner'], ['*'])}"}


def agents(runtime) -> int:
    with runtime.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(orm.agents)).scalar()


@pytest.mark.parametrize("body, field", [
    ({"name": "Ann\u0000", "role": "call_centre", "daily_capacity": 5, "working_hours": WEEK}, "name"),
    ({"name": "Ann", "role": "call_centre", "daily_capacity": 5, "working_hours": WEEK, "user_subject": "\u0000"},
     "user_subject"),
    ({"name": "Ann", "role": "call_centre", "daily_capacity": 5, "working_hours": {"mon\u0000": ["08:00", "16:00"]}},
     "working_hours.mon\\u0000"),
])
def test_nul_in_a_body_is_a_422_and_nothing_is_stored(runtime, client, planner, body, field):
    response = client.post("/api/calls/agents", json=body, headers=planner)
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert {"location": "json", "field": field, "message": "must not contain NUL characters"} in \
        response.json["errors"]
    assert agents(runtime) == 0


def test_nul_in_the_query_or_path_is_a_422(client, planner):
    response = client.get("/api/calls/territories?name=x%00", headers=planner)
    assert response.status_code == 422 and response.json["errors"][0]["location"] == "query"
    response = client.put("/api/calls/contact-policies/gold%00", json={}, headers=planner)
    assert response.status_code == 422 and response.json["errors"][0] == {
        "location": "path", "field": "segment", "message": "must not contain NUL characters"}


def test_json_nested_10000_deep_is_a_400(runtime, client, planner):
    response = client.post("/api/calls/agents", data="[" * 10_000 + "]" * 10_000, content_type="application/json",
                           headers=planner)
    assert response.status_code == 400 and response.mimetype == "application/problem+json"
    assert agents(runtime) == 0
