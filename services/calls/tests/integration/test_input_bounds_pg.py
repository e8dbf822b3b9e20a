"""Values at the edges of what a day, a month or a 32-bit integer can be, on PostgreSQL: each is refused by the
schema with a problem naming the field (the shared fields of crm_shared.web.fields) instead of failing in the
code's date arithmetic (OverflowError) or in the database ("integer out of range", year 0), and nothing stored
changes."""
from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from planning_fixtures import add_customer, add_team, migrated_runtime
from crm_shared.auth import mint_token
from sqlalchemy import text

PROBLEM = "application/problem+json"
API = "/api/calls"
TODAY = datetime.now(UTC).date()
FIGURES = {"calls_made": 10, "customers_reached": 5, "appointments_booked": 1}
SERVICE_SCRIPT = str(uuid.uuid5(uuid.NAMESPACE_URL, "crm-calls-script:service"))
ANSWERS = {"interested": True}  # the predefined campaign script's required question
TABLES = ("calls", "interference_decisions", "outbox", "agent_day_loads", "agent_targets", "agent_absences")


@pytest.fixture(scope="module")
def runtime(postgres_url, amqp_url):
    with migrated_runtime(postgres_url, amqp_url, "calls_bounds") as runtime:
        yield runtime


@pytest.fixture(scope="module")
def client(runtime):
    return runtime.create_app().test_client()


@pytest.fixture(scope="module")
def team(runtime):
    return add_team(runtime.engine, capacity=50, user_subjects=("anna",))


def auth(runtime, *roles, sub="pat") -> dict:
    return {"Authorization": "Bearer " + mint_token(runtime.settings.jwt, sub, list(roles or ("admin",)), ["*"])}


def stored(runtime) -> dict:
    with runtime.engine.connect() as conn:
        counts = {t: conn.scalar(text(f"SELECT count(*) FROM {t}")) for t in TABLES}
        calls = conn.execute(text("SELECT call_id, status, version, attempts, due_on FROM calls ORDER BY 1")).all()
    return {"counts": counts, "calls": calls}


def assert_refused(response, status: int, field: str, location: str | None = None) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    errors = response.get_json().get("errors") or []
    assert field in [e.get("field") for e in errors], errors
    if location is not None:
        assert location in [e.get("location") for e in errors if e.get("field") == field], errors


@pytest.fixture
def open_call(runtime, client, team):
    """A scheduled campaign call of a new prospect (no other calls), with Anna as its agent."""
    party_id = add_customer(runtime.engine, lifecycle_state="prospect")
    body = {"request_id": f"req-{uuid.uuid4()}", "party_id": party_id, "call_type": "campaign",
            "campaign_id": "bounds", "window_start": (TODAY + timedelta(days=5)).isoformat(),
            "window_end": (TODAY + timedelta(days=20)).isoformat()}
    response = client.post(f"{API}/call-requests", json=body, headers=auth(runtime, "planner"))
    assert response.status_code == 201, response.get_json()
    return response.get_json()["call"]


# -- months --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("month", ["0000-01", "1899-12", "3000-01", "9999-12"])
def test_a_target_for_a_month_outside_1900_to_2999_is_refused(runtime, client, team, month):
    before = stored(runtime)
    response = client.put(f"{API}/agents/{team['responsible']}/targets/{month}", json=FIGURES,
                          headers=auth(runtime, "planner"))
    assert_refused(response, 422, "month", "path")
    assert stored(runtime) == before


@pytest.mark.parametrize("month", ["0000-01", "1899-12", "3000-01", "9999-12"])
def test_performance_of_a_month_outside_1900_to_2999_is_refused(runtime, client, team, month):
    response = client.get(f"{API}/agents/{team['responsible']}/performance", query_string={"month": month},
                          headers=auth(runtime, "planner"))
    assert_refused(response, 422, "month", "query")


def test_the_first_and_last_month_of_the_window_are_accepted(runtime, client, team):
    url = f"{API}/agents/{team['responsible']}"
    for month in ("1900-01", "2999-12"):
        put = client.put(f"{url}/targets/{month}", json=FIGURES, headers=auth(runtime, "planner"))
        assert put.status_code == 200, put.get_json()
        performance = client.get(f"{url}/performance", query_string={"month": month},
                                 headers=auth(runtime, "planner"))
        assert performance.status_code == 200, performance.get_json()
        assert (performance.get_json()["month"], performance.get_json()["target_source"]) == (month, "agent")


# -- days and instants ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("body, field", [
    ({"outcome": "reached", "answers": ANSWERS, "next_contact_on": "9999-12-31"}, "next_contact_on"),
    ({"outcome": "reached", "answers": ANSWERS, "next_contact_on": "3000-01-01"}, "next_contact_on"),
    ({"outcome": "callback_requested", "callback_at": "9999-12-31T23:00:00-05:00"}, "callback_at"),
    ({"outcome": "callback_requested", "callback_at": "9999-12-31T23:59:59+00:00"}, "callback_at"),
    ({"outcome": "appointment_booked", "appointment_at": "9999-12-31T20:00:00-08:00"}, "appointment_at"),
])
def test_an_outcome_with_a_day_or_time_past_2999_is_refused(runtime, client, open_call, body, field):
    before = stored(runtime)
    response = client.post(f"{API}/calls/{open_call['call_id']}/outcome", json=body,
                           headers=auth(runtime, "agent", sub="anna"))
    assert_refused(response, 422, field, "json")
    assert stored(runtime) == before


@pytest.mark.parametrize("overrides, field", [
    ({"window_start": "9999-12-30", "window_end": "9999-12-31"}, "window_start"),
    ({"window_start": "0001-01-01", "window_end": "0001-01-02"}, "window_start"),
])
def test_a_call_request_with_a_window_outside_1900_to_2999_is_refused(runtime, client, overrides, field):
    party_id = add_customer(runtime.engine, lifecycle_state="prospect")
    before = stored(runtime)
    body = {"request_id": f"req-{uuid.uuid4()}", "party_id": party_id, "call_type": "campaign",
            "campaign_id": "bounds", **overrides}
    assert_refused(client.post(f"{API}/call-requests", json=body, headers=auth(runtime, "planner")), 422, field)
    assert stored(runtime) == before


def test_an_absence_ending_in_year_9999_is_refused(runtime, client, team):
    before = stored(runtime)
    response = client.post(f"{API}/agents/{team['responsible']}/absences", headers=auth(runtime, "planner"),
                           json={"kind": "holiday", "first_day": TODAY.isoformat(), "last_day": "9999-12-31"})
    assert_refused(response, 422, "last_day", "json")
    assert stored(runtime) == before


@pytest.mark.parametrize("query, field", [("due_from=9999-12-31", "due_from"), ("due_to=0001-01-01", "due_to")])
def test_a_call_filter_day_outside_1900_to_2999_is_refused(runtime, client, query, field):
    assert_refused(client.get(f"{API}/calls?{query}", headers=auth(runtime)), 422, field, "query")


# -- 32-bit integers -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("version", [2 ** 31, 2 ** 63, 10 ** 30])
def test_a_script_version_beyond_32_bits_is_not_found(runtime, client, version):
    response = client.get(f"{API}/scripts/{SERVICE_SCRIPT}/versions/{version}", headers=auth(runtime))
    assert response.status_code == 404, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM


def test_the_largest_32_bit_script_version_is_looked_up(runtime, client):
    response = client.get(f"{API}/scripts/{SERVICE_SCRIPT}/versions/{2 ** 31 - 1}", headers=auth(runtime))
    assert_refused(response, 404, "version")  # the service looked and found no such version


@pytest.mark.parametrize("path, body, field", [
    ("/contact-policies/bounds", {"min_contacts": 2 ** 31, "min_spacing_days": 1}, "min_contacts"),
    ("/contact-policies/bounds", {"min_contacts": 2, "min_spacing_days": -(2 ** 40)}, "min_spacing_days"),
    ("/planning-rules", {"gap_days": 2 ** 31, "max_attempts": 3, "horizon_days": 365}, "gap_days"),
])
def test_integers_beyond_32_bits_are_refused_by_the_schema(runtime, client, path, body, field):
    response = client.put(f"{API}{path}", json=body, headers=auth(runtime, "planner"))
    assert_refused(response, 422, field, "json")


def test_the_openapi_document_states_the_bounds(client):
    spec = client.get(f"{API}/openapi.json").get_json()
    version = next(p for p in spec["paths"]["/api/calls/scripts/{script_id}/versions/{version}"]["parameters"]
                   if p["name"] == "version")
    assert version["schema"]["maximum"] == 2 ** 31 - 1
    query = spec["paths"]["/api/calls/agents/{agent_id}/performance"]["get"]["parameters"]
    month = next(p for p in query if p["name"] == "month")
    assert month["schema"]["pattern"] == r"^(19[0-9]{2}|2[0-9]{3})-(0[1-9]|1[0-2])$"
    outcome = spec["components"]["schemas"]["Outcome"]["properties"]
    assert (outcome["next_contact_on"]["format"], outcome["next_contact_on"]["x-maximum"]) == ("date", "2999-12-31")
    policy = spec["components"]["schemas"]["ContactPolicyIn"]["properties"]["min_contacts"]
    assert (policy["type"], policy["format"], policy["maximum"]) == ("integer", "int32", 2 ** 31 - 1)


def _numbers(node, path="") -> list[str]:
    """Paths of every `type: number` in an OpenAPI document (non-integers must be decimal strings)."""
    if isinstance(node, dict):
        found = [path] if node.get("type") == "number" else []
        return found + [p for key, value in node.items() for p in _numbers(value, f"{path}/{key}")]
    if isinstance(node, list):
        return [p for index, value in enumerate(node) for p in _numbers(value, f"{path}/{index}")]
    return []


def test_ratios_are_documented_and_sent_as_decimal_strings(runtime, client, team):
    spec = client.get(f"{API}/openapi.json").get_json()
    assert _numbers(spec) == []
    schemas = spec["components"]["schemas"]
    for schema, prop, places in (("Figure", "ratio", 3), ("AnalysisRow", "share", 4),
                                 ("Analysis", "rejection_rate", 4)):
        value = schemas[schema]["properties"][prop]
        assert (value["type"], value["format"], value["x-decimal-places"]) == ("string", "decimal", places)
    url = f"{API}/agents/{team['responsible']}"
    assert client.put(f"{url}/targets/2031-05", json={"calls_made": 3, "customers_reached": 0,
                                                       "appointments_booked": 1}, headers=auth(runtime, "planner"))\
        .status_code == 200
    figures = client.get(f"{url}/performance", query_string={"month": "2031-05"},
                         headers=auth(runtime, "planner")).get_json()["figures"]
    assert figures["calls_made"] == {"target": 3, "actual": 0, "ratio": "0.000"}
    assert figures["customers_reached"]["ratio"] is None
    assert re.fullmatch(schemas["Figure"]["properties"]["ratio"]["pattern"], figures["calls_made"]["ratio"])
