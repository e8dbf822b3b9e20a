"""End to end through nginx: a two-stage call campaign across customers, campaigns and calls (local mode).

Customers registered in the customers service reach the campaigns replica, a campaign designed and launched
through the gateway asks calls for campaign calls, outcomes recorded by the agent in calls move the participants
on (to the second call, or out with a failure code), and an outside system bound to the campaigns exchange sees
the launch and the moves. Bad designs and foreign parties are refused with problem+json and change nothing.
"""
from __future__ import annotations

import json
import time
import uuid

import pytest
import requests
from e2e_stack import GATEWAY, auth, bound_queue, eventually

pytestmark = pytest.mark.e2e
CAMPAIGNS = f"{GATEWAY}/api/campaigns/campaigns"
CALLS = f"{GATEWAY}/api/calls"
PROBLEM = "application/problem+json"
LAUNCHED, MOVED = "crm.campaigns.campaign_launched.v1", "crm.campaigns.participant_moved.v1"
MARKETING = {"roles": ("marketing",), "lines": ("retail",)}
EVERY_DAY = {d: ["08:00", "16:30"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
FAILURE_CODES = {"not_interested": "Said no on the phone", "unreachable": "Never reached"}
TWO_CALLS = [
    {"key": "first_call", "name": "First call", "action": "call", "probability": "0.5", "call_window_days": 30,
     "rules": [{"when": {"kind": "call_outcome", "value": "reached"}, "then": "advance", "target_stage": "close"},
               {"when": {"kind": "call_outcome", "value": "rejected"}, "then": "fail",
                "failure_code": "not_interested"},
               {"when": {"kind": "call_outcome"}, "then": "fail", "failure_code": "unreachable"}]},
    {"key": "close", "name": "Closing call", "action": "call", "probability": "0.3", "call_window_days": 60,
     "rules": [{"when": {"kind": "call_outcome", "value": "appointment_booked"}, "then": "succeed"},
               {"when": {"kind": "call_outcome"}, "then": "fail", "failure_code": "not_interested"}]},
]


@pytest.fixture
def campaigns_consumer(amqp_url):
    """An outside system listening to the campaigns exchange."""
    with bound_queue(amqp_url, "crm.campaigns") as consumer:
        yield consumer


# -- steps through the gateway ----------------------------------------------------------------------------
def staff_call_centre(agent_subject: str) -> str:
    """One agent (linked to the subject of the agent's token) with a territory for the customers' postal codes."""
    planner = auth(roles=("planner",))
    agent = requests.post(f"{CALLS}/agents", headers=planner, timeout=10, json={
        "name": "Campaign Agent", "role": "call_centre", "daily_capacity": 50, "working_hours": EVERY_DAY,
        "user_subject": agent_subject})
    assert agent.status_code == 201, agent.text
    territory = requests.post(f"{CALLS}/territories", headers=planner, timeout=10, json={
        "name": "Munich campaigns", "line_of_business": "retail", "postal_ranges": [["80000", "80999"]],
        "agent_id": agent.json()["agent_id"]})
    assert territory.status_code == 201, territory.text
    return agent.json()["agent_id"]


def register_customer(name: str, line: str = "retail") -> str:
    headers = auth(lines=(line,))
    created = requests.post(f"{GATEWAY}/api/customers/parties", headers=headers, timeout=10, json={
        "kind": "company", "company_name": name, "line_of_business": line,
        "primary_address": {"street": "Marienplatz 8", "postal_code": "80331", "city": "Munich", "country": "DE"}})
    assert created.status_code == 201, created.text
    party_id = created.json()["party_id"]
    for state in ("prospect", "customer"):
        moved = requests.post(f"{GATEWAY}/api/customers/parties/{party_id}/lifecycle", headers=headers,
                              json={"state": state}, timeout=10)
        assert moved.status_code == 200, moved.text
    return party_id


def create_campaign(name: str) -> str:
    created = requests.post(CAMPAIGNS, headers=auth(**MARKETING), timeout=10, json={
        "name": name, "campaign_type": "telemarketing", "line_of_business": "retail", "goal": "Book appointments"})
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "draft"
    return created.json()["campaign_id"]


def design(campaign_id: str) -> None:
    for code, description in FAILURE_CODES.items():
        added = requests.post(f"{CAMPAIGNS}/{campaign_id}/failure-codes", headers=auth(**MARKETING), timeout=10,
                              json={"code": code, "description": description})
        assert added.status_code == 201, added.text
    stages = requests.put(f"{CAMPAIGNS}/{campaign_id}/stages", headers=auth(**MARKETING), timeout=10,
                          json={"stages": TWO_CALLS})
    assert stages.status_code == 200, stages.text
    assert [s["key"] for s in stages.json()["stages"]] == ["first_call", "close"]


def add_once_replicated(campaign_id: str, party_ids: list[str], headers: dict) -> requests.Response:
    """Adds the parties by hand, retried while the campaigns replica does not know them yet (422 unknown)."""
    def answer():
        response = requests.post(f"{CAMPAIGNS}/{campaign_id}/participants", headers=headers, timeout=10,
                                 json={"party_ids": party_ids})
        waiting = response.status_code == 422 and "unknown parties" in response.json().get("detail", "")
        return None if waiting else response

    return eventually(answer, timeout=60)


def participants(campaign_id: str) -> dict[str, dict]:
    response = requests.get(f"{CAMPAIGNS}/{campaign_id}/participants", headers=auth(**MARKETING), timeout=10)
    assert response.status_code == 200, response.text
    return {p["party_id"]: p for p in response.json()["items"]}


def participant_when(campaign_id: str, party_id: str, **wanted) -> dict:
    def fetch():
        found = participants(campaign_id).get(party_id, {})
        return found if all(found.get(k) == v for k, v in wanted.items()) else None

    return eventually(fetch, timeout=60)


def campaign_call(party_id: str, request_id: str) -> dict:
    """The campaign call calls planned for this request, once it has."""
    def fetch():
        response = requests.get(f"{CALLS}/calls", params={"party_id": party_id, "call_type": "campaign"},
                                headers=auth(), timeout=10)
        assert response.status_code == 200, response.text
        return next((c for c in response.json()["items"] if c["request_id"] == request_id), None)

    return eventually(fetch, timeout=60)


def record_outcome(call_id: str, agent_subject: str, body: dict) -> dict:
    recorded = requests.post(f"{CALLS}/calls/{call_id}/outcome", timeout=10, json=body,
                             headers=auth(roles=("agent",), subject=agent_subject))
    assert recorded.status_code == 200, recorded.text
    return recorded.json()["call"]


def campaign_events(channel, queue: str, campaign_id: str, types: set[str], wanted: int,
                    timeout: float = 30.0) -> list[dict]:
    """The campaign's events of these types as the outside system receives them, until `wanted` arrived."""
    received = []
    deadline = time.monotonic() + timeout
    for method, properties, body in channel.consume(queue, inactivity_timeout=1):
        if method is not None:
            channel.basic_ack(method.delivery_tag)
            event = json.loads(body)
            if event["type"] in types and campaign_id in (event["subject"], event["data"].get("campaign_id")):
                assert properties.message_id == event["id"] and properties.type == event["type"]
                received.append(event)
        if len(received) >= wanted or time.monotonic() > deadline:
            break
    channel.cancel()
    return received


def stage_to(key: str, target: str) -> dict:
    return {"key": key, "name": key.upper(), "action": "call", "rules": [
        {"when": {"kind": "call_outcome", "value": "reached"}, "then": "advance", "target_stage": target}]}


# -- tests --------------------------------------------------------------------------------------------------
def test_a_two_call_campaign_runs_across_customers_campaigns_and_calls(stack, campaigns_consumer):
    channel, queue = campaigns_consumer
    agent_subject = f"e2e-agent-{uuid.uuid4().hex[:8]}"
    agent_id = staff_call_centre(agent_subject)
    keen, reluctant = register_customer("Keen Kitchens GmbH"), register_customer("Reluctant Retail AG")
    campaign_id = create_campaign("Spring kitchen offer")
    design(campaign_id)

    added = add_once_replicated(campaign_id, [keen, reluctant], auth(**MARKETING))
    assert added.status_code == 200 and added.json() == {"added": 2, "already_in": 0}, added.text
    assert {p["status"] for p in participants(campaign_id).values()} == {"selected"}
    launched = requests.post(f"{CAMPAIGNS}/{campaign_id}/launch", headers=auth(**MARKETING), timeout=10)
    assert launched.status_code == 200 and launched.json()["participants"] == 2, launched.text

    started = participants(campaign_id)
    for party_id in (keen, reluctant):
        assert started[party_id]["status"] == "active" and started[party_id]["stage_key"] == "first_call"
        assert started[party_id]["request_id"] == f"{started[party_id]['participation_id']}:first_call"
    first_calls = {p: campaign_call(p, started[p]["request_id"]) for p in (keen, reluctant)}
    for call in first_calls.values():
        assert call["campaign_id"] == campaign_id and call["status"] == "scheduled"
        assert call["agent_id"] == agent_id

    record_outcome(first_calls[keen]["call_id"], agent_subject, {"outcome": "reached",
                                                                 "answers": {"interested": True}})
    moved_on = participant_when(campaign_id, keen, stage_key="close")
    assert moved_on["status"] == "active"
    assert moved_on["request_id"] == f"{moved_on['participation_id']}:close"
    second_call = campaign_call(keen, moved_on["request_id"])
    assert second_call["call_id"] != first_calls[keen]["call_id"] and second_call["campaign_id"] == campaign_id
    assert second_call["status"] == "scheduled"

    closed = record_outcome(first_calls[reluctant]["call_id"], agent_subject,
                            {"outcome": "rejected", "rejection_reason": "no_interest"})
    assert closed["outcome"] == "rejected"
    failed = participant_when(campaign_id, reluctant, status="failed")
    assert failed["failure_code"] == "not_interested" and failed["stage_key"] == "first_call"
    assert participants(campaign_id)[keen]["stage_key"] == "close"  # the rejection moved only its participant

    # launch, both enter the first call, keen enters the closing call, reluctant fails
    events = campaign_events(channel, queue, campaign_id, {LAUNCHED, MOVED}, wanted=5)
    types = [e["type"] for e in events]
    assert types.count(LAUNCHED) == 1, types
    moves = {(e["data"]["party_id"], e["data"]["to_stage"], e["data"]["result"], e["data"]["failure_code"])
             for e in events if e["type"] == MOVED}
    assert moves == {(keen, "first_call", None, None), (reluctant, "first_call", None, None),
                     (keen, "close", None, None), (reluctant, None, "failed", "not_interested")}
    launch = next(e for e in events if e["type"] == LAUNCHED)
    assert launch["source"] == "crm.campaigns" and launch["specversion"] == "1.0"
    assert launch["data"]["participants"] == 2 and launch["data"]["line_of_business"] == "retail"


def test_campaign_error_paths_through_the_gateway_are_problem_json(stack):
    campaign_id = create_campaign("Refused designs")
    marketing = auth(**MARKETING)
    cycle = [stage_to("a", "b"), stage_to("b", "a")]
    refused = requests.put(f"{CAMPAIGNS}/{campaign_id}/stages", headers=marketing, json={"stages": cycle}, timeout=10)
    assert refused.status_code == 422 and refused.headers["Content-Type"] == PROBLEM
    assert "cycle" in refused.json()["detail"] and [e["field"] for e in refused.json()["errors"]] == ["stages"]

    improbable = [{**TWO_CALLS[1], "key": "only", "probability": "1.5", "rules": []}]
    refused = requests.put(f"{CAMPAIGNS}/{campaign_id}/stages", headers=marketing, json={"stages": improbable},
                           timeout=10)
    assert refused.status_code == 422 and refused.headers["Content-Type"] == PROBLEM
    assert [e["field"] for e in refused.json()["errors"]] == ["stages.0.probability"]
    stages = requests.get(f"{CAMPAIGNS}/{campaign_id}/stages", headers=marketing, timeout=10)
    assert stages.status_code == 200 and stages.json() == {"stages": []}

    no_token = requests.get(CAMPAIGNS, timeout=10)
    assert no_token.status_code == 401 and no_token.headers["Content-Type"] == PROBLEM
    unknown = requests.get(f"{CAMPAIGNS}/{uuid.uuid4()}", headers=marketing, timeout=10)
    assert unknown.status_code == 404 and unknown.headers["Content-Type"] == PROBLEM
    other_line = requests.get(f"{CAMPAIGNS}/{campaign_id}", timeout=10,
                              headers=auth(roles=("marketing",), lines=("wholesale",)))
    assert other_line.status_code == 404 and other_line.headers["Content-Type"] == PROBLEM

    foreign = register_customer("Wholesale Only KG", line="wholesale")
    refused = add_once_replicated(campaign_id, [foreign], marketing)
    assert refused.status_code == 422 and refused.headers["Content-Type"] == PROBLEM
    assert "outside your lines of business" in refused.json()["detail"]
    assert participants(campaign_id) == {}
