"""End to end through nginx: every service as its own processes on PostgreSQL and RabbitMQ (local mode).

A customer created through the gateway with a token reaches the calls service's replica, and its events
reach an outside system's plain pika consumer bound to the customers exchange. A customer also gets its call
cycle planned by calls, and a call requested through the gateway is announced on the calls exchange.
"""
from __future__ import annotations

import json
import time
import uuid

import pytest
import requests
from e2e_stack import GATEWAY, PORTS, auth, eventually

pytestmark = pytest.mark.e2e


def test_a_customer_created_at_the_gateway_reaches_calls_and_outside_consumers(stack, outside_consumer):
    channel, queue = outside_consumer
    request_id = str(uuid.uuid4())
    created = requests.post(f"{GATEWAY}/api/customers/parties", headers={**auth(), "X-Request-ID": request_id},
                            json={"kind": "company", "company_name": "Gateway Test GmbH", "line_of_business": "retail",
                                  "primary_address": {"street": "Hauptstr. 1", "postal_code": "80331",
                                                      "city": "Munich", "country": "DE"}}, timeout=10)
    assert created.status_code == 201, created.text
    party_id = created.json()["party_id"]
    promoted = requests.post(f"{GATEWAY}/api/customers/parties/{party_id}/lifecycle", headers=auth(),
                             json={"state": "prospect"}, timeout=10)
    assert promoted.status_code == 200, promoted.text
    promoted = requests.post(f"{GATEWAY}/api/customers/parties/{party_id}/lifecycle", headers=auth(),
                             json={"state": "customer"}, timeout=10)
    assert promoted.status_code == 200, promoted.text
    number = promoted.json()["customer_number"]
    assert number

    def replica():
        response = requests.get(f"{GATEWAY}/api/calls/customers/{party_id}", headers=auth(), timeout=10)
        body = response.json() if response.status_code == 200 else {}
        return body if body.get("lifecycle_state") == "customer" else None

    replicated = eventually(replica)
    assert replicated["customer_number"] == number and replicated["postal_code"] == "80331"

    received = []
    for method, properties, body in channel.consume(queue, inactivity_timeout=10):
        if method is None:
            break
        event = json.loads(body)
        channel.basic_ack(method.delivery_tag)
        if event.get("subject") == party_id:
            received.append(event)
            assert properties.message_id == event["id"] and properties.delivery_mode == 2
        if len(received) == 3:
            break
    channel.cancel()
    types = [e["type"] for e in received]
    assert types == ["crm.customers.party_registered.v1", "crm.customers.party_lifecycle_changed.v1",
                     "crm.customers.party_lifecycle_changed.v1"]
    assert received[0]["correlationid"] == request_id
    assert received[0]["specversion"] == "1.0" and received[0]["source"] == "crm.customers"
    assert received[2]["data"]["customer_number"] == number


def test_gateway_error_paths_are_problem_json(stack):
    no_token = requests.get(f"{GATEWAY}/api/customers/parties", timeout=10)
    assert no_token.status_code == 401 and no_token.headers["Content-Type"] == "application/problem+json"
    bad = requests.post(f"{GATEWAY}/api/customers/parties", headers=auth(), json={"kind": "robot"}, timeout=10)
    assert bad.status_code == 422 and bad.headers["Content-Type"] == "application/problem+json"
    assert any(e["field"] == "kind" for e in bad.json()["errors"])
    unknown_line = requests.post(f"{GATEWAY}/api/customers/parties", headers=auth(roles=("admin",), lines=("*",)),
                                 json={"kind": "company", "company_name": "X", "line_of_business": "nope"},
                                 timeout=10)
    assert unknown_line.status_code == 422 and unknown_line.headers["Content-Type"] == "application/problem+json"
    missing = requests.get(f"{GATEWAY}/api/calls/customers/{uuid.uuid4()}", headers=auth(), timeout=10)
    assert missing.status_code == 404 and missing.headers["Content-Type"] == "application/problem+json"
    nowhere = requests.get(f"{GATEWAY}/api/nowhere", timeout=10)
    assert nowhere.status_code == 404


def test_every_service_is_ready_and_documented_behind_the_gateway(stack):
    for service in PORTS:
        spec = requests.get(f"{GATEWAY}/api/{service}/openapi.json", timeout=10)
        assert spec.status_code == 200 and spec.json()["openapi"].startswith("3.")
        assert requests.get(f"http://127.0.0.1:{PORTS[service]}/health/ready", timeout=10).status_code == 200


def test_a_customer_gets_a_call_cycle_and_a_requested_call_is_announced(stack, calls_consumer):
    channel, queue = calls_consumer
    planner = auth(roles=("planner",))
    spec = requests.get(f"{GATEWAY}/api/calls/openapi.json", timeout=10).json()
    staffed = "/api/calls/agents" in spec["paths"] and "/api/calls/territories" in spec["paths"]
    if staffed:  # the resources API: one agent, and a territory for the customer's postal codes
        every_day = {d: ["08:00", "16:30"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
        agent = requests.post(f"{GATEWAY}/api/calls/agents", headers=planner, timeout=10, json={
            "name": "E2E Agent", "role": "call_centre", "daily_capacity": 50, "working_hours": every_day})
        assert agent.status_code == 201, agent.text
        territory = requests.post(f"{GATEWAY}/api/calls/territories", headers=planner, timeout=10, json={
            "name": "Munich e2e", "line_of_business": "retail", "postal_ranges": [["80000", "80999"]],
            "agent_id": agent.json()["agent_id"]})
        assert territory.status_code == 201, territory.text

    created = requests.post(f"{GATEWAY}/api/customers/parties", headers=auth(), timeout=10, json={
        "kind": "company", "company_name": "Cycle Test GmbH", "line_of_business": "retail",
        "primary_address": {"street": "Marienplatz 1", "postal_code": "80331", "city": "Munich", "country": "DE"}})
    assert created.status_code == 201, created.text
    party_id = created.json()["party_id"]
    for state in ("prospect", "customer"):
        moved = requests.post(f"{GATEWAY}/api/customers/parties/{party_id}/lifecycle", headers=auth(),
                              json={"state": state}, timeout=10)
        assert moved.status_code == 200, moved.text

    def replicated():
        response = requests.get(f"{GATEWAY}/api/calls/customers/{party_id}", headers=auth(), timeout=10)
        return response.json() if response.status_code == 200 and \
            response.json()["lifecycle_state"] == "customer" else None

    assert eventually(replicated)["postal_code"] == "80331"
    if not staffed:  # no agent to plan with: only the replica can be checked
        return

    def planned():
        response = requests.get(f"{GATEWAY}/api/calls/customers/{party_id}/cycle", headers=auth(), timeout=10)
        body = response.json() if response.status_code == 200 else {}
        return body if len(body.get("planned", [])) >= 2 else None

    cycle = eventually(planned)
    assert cycle["satisfied"] is True
    first = cycle["planned"][0]
    request_id = f"e2e-{uuid.uuid4()}"
    requested = requests.post(f"{GATEWAY}/api/calls/call-requests", headers=planner, timeout=10, json={
        "request_id": request_id, "party_id": party_id, "call_type": "campaign", "campaign_id": "e2e-campaign",
        "window_start": first["window_start"], "window_end": first["window_end"]})
    assert requested.status_code == 201, requested.text
    result = requested.json()
    assert result["decision"] in ("accepted", "took_over", "shifted"), result

    wanted = {"crm.calls.interference_resolved.v1", "crm.calls.call_scheduled.v1"}
    received = {}
    deadline = time.monotonic() + 30
    for method, properties, body in channel.consume(queue, inactivity_timeout=1):
        if method is not None:
            channel.basic_ack(method.delivery_tag)
            event = json.loads(body)
            if event["subject"] == party_id and event["data"].get("request_id") == request_id:
                assert properties.message_id == event["id"] and properties.type == event["type"]
                received[event["type"]] = event
        if wanted <= set(received) or time.monotonic() > deadline:
            break
    channel.cancel()
    assert set(received) >= wanted, list(received)
    resolved = received["crm.calls.interference_resolved.v1"]
    assert resolved["source"] == "crm.calls" and resolved["data"]["decision"] == result["decision"]
    assert resolved["data"]["call_id"] == result["call"]["call_id"]
    assert received["crm.calls.call_scheduled.v1"]["data"]["call_id"] == result["call"]["call_id"]

    # the call API's error paths through the gateway
    bad_window = requests.post(f"{GATEWAY}/api/calls/call-requests", headers=planner, timeout=10, json={
        "request_id": f"e2e-{uuid.uuid4()}", "party_id": party_id, "call_type": "campaign", "campaign_id": "c",
        "window_start": first["window_end"], "window_end": first["window_start"]})
    assert bad_window.status_code == 422 and bad_window.headers["Content-Type"] == "application/problem+json"
    assert [e["field"] for e in bad_window.json()["errors"]] == ["window_end"]
    bad_status = requests.get(f"{GATEWAY}/api/calls/calls", params={"status": "ringing"}, headers=auth(),
                              timeout=10)
    assert bad_status.status_code == 422 and bad_status.headers["Content-Type"] == "application/problem+json"
    bad_id = requests.get(f"{GATEWAY}/api/calls/calls/not-a-uuid", headers=auth(), timeout=10)
    assert bad_id.status_code == 404 and bad_id.headers["Content-Type"] == "application/problem+json"
    not_allowed = requests.post(f"{GATEWAY}/api/calls/call-requests", headers=auth(), timeout=10, json={
        "request_id": f"e2e-{uuid.uuid4()}", "party_id": party_id, "call_type": "campaign", "campaign_id": "c",
        "window_start": first["window_start"], "window_end": first["window_end"]})
    assert not_allowed.status_code == 403 and not_allowed.headers["Content-Type"] == "application/problem+json"
    refused = requests.post(f"{GATEWAY}/api/calls/call-requests", headers=planner, timeout=10, json={
        "request_id": f"e2e-{uuid.uuid4()}", "party_id": party_id, "call_type": "telemarketing",
        "window_start": first["window_start"], "window_end": first["window_end"]})
    assert refused.status_code == 409 and refused.headers["Content-Type"] == "application/problem+json"
