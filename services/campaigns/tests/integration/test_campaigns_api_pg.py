"""The campaign endpoints' validation and access rules: every bad input is a 4xx problem+json that stores
nothing."""
from __future__ import annotations

import uuid

import pytest
from campaigns_fixtures import THREE_STAGES, add_parties, auth, create_campaign, design_campaign

BASE = "/api/campaigns/campaigns"


def problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_json()
    assert response.mimetype == "application/problem+json"
    return response.get_json()


@pytest.fixture
def headers(runtime):
    return auth(runtime)


@pytest.mark.parametrize("body, field", [
    ({"campaign_type": "email", "line_of_business": "retail"}, "name"),
    ({"name": "x", "campaign_type": "carrier_pigeon", "line_of_business": "retail"}, "campaign_type"),
    ({"name": "", "campaign_type": "email", "line_of_business": "retail"}, "name"),
    ({"name": "x", "campaign_type": "email", "line_of_business": "retail", "expected_conversion_rate": "1.5"},
     "expected_conversion_rate"),
    ({"name": "x", "campaign_type": "email", "line_of_business": "retail", "planned_start": "2026-13-01"},
     "planned_start"),
    ({"name": "x", "campaign_type": "email", "line_of_business": "retail", "planned_start": "2026-12-01",
      "planned_end": "2026-11-01"}, "planned_end"),
])
def test_a_bad_campaign_is_refused_and_not_stored(client, headers, body, field):
    body_text = str(problem(client.post(BASE, json=body, headers=headers), 422))
    assert field in body_text
    assert client.get(BASE, headers=headers).get_json()["items"] == []


def test_roles_and_lines_of_business_guard_campaigns(runtime, client, headers):
    agent = auth(runtime, roles=("agent",))
    problem(client.post(BASE, json={"name": "x", "campaign_type": "email", "line_of_business": "retail"},
                        headers=agent), 403)
    wholesale_only = auth(runtime, lines=("wholesale",))
    problem(client.post(BASE, json={"name": "x", "campaign_type": "email", "line_of_business": "retail"},
                        headers=wholesale_only), 422)
    campaign_id = create_campaign(client, headers)
    problem(client.get(f"{BASE}/{campaign_id}", headers=wholesale_only), 404)
    assert client.get(BASE, headers=wholesale_only).get_json()["items"] == []
    problem(client.get(f"{BASE}/not-a-uuid", headers=headers), 404)
    problem(client.get(f"{BASE}/{uuid.uuid4()}", headers=headers), 404)
    problem(client.get(BASE), 401)


def test_patch_checks_version_and_what_an_active_campaign_may_change(client, headers, runtime):
    campaign_id = create_campaign(client, headers)
    problem(client.patch(f"{BASE}/{campaign_id}", json={"name": "New", "version": 7}, headers=headers), 409)
    changed = client.patch(f"{BASE}/{campaign_id}", json={"name": "New", "version": 1}, headers=headers)
    assert changed.status_code == 200 and changed.get_json()["version"] == 2
    same = client.patch(f"{BASE}/{campaign_id}", json={"name": "New"}, headers=headers)
    assert same.get_json()["version"] == 2
    design_campaign(client, headers, campaign_id)
    client.post(f"{BASE}/{campaign_id}/launch", headers=headers)
    problem(client.patch(f"{BASE}/{campaign_id}", json={"campaign_type": "email"}, headers=headers), 409)
    assert client.get(f"{BASE}/{campaign_id}", headers=headers).get_json()["campaign_type"] == "telemarketing"


def test_stage_graph_errors_store_nothing(client, headers):
    campaign_id = create_campaign(client, headers)
    design_campaign(client, headers, campaign_id, stages=[THREE_STAGES[2]])
    cycle = [{"key": "a", "name": "A", "action": "call", "rules": [
                 {"when": {"kind": "manual", "value": "go"}, "then": "advance", "target_stage": "b"}]},
             {"key": "b", "name": "B", "action": "task", "rules": [
                 {"when": {"kind": "manual", "value": "back"}, "then": "advance", "target_stage": "a"}]}]
    assert "cycle" in problem(client.put(f"{BASE}/{campaign_id}/stages", json={"stages": cycle}, headers=headers),
                              422)["detail"]
    odds = [{**THREE_STAGES[2], "probability": "1.5"}]
    assert "probability" in str(problem(client.put(f"{BASE}/{campaign_id}/stages", json={"stages": odds},
                                                   headers=headers), 422))
    problem(client.put(f"{BASE}/{campaign_id}/stages", json={"stages": "nope"}, headers=headers), 422)
    stored = client.get(f"{BASE}/{campaign_id}/stages", headers=headers).get_json()["stages"]
    assert [s["key"] for s in stored] == ["close"]


def test_failure_codes_chains_and_launch_rules(client, headers):
    campaign_id = create_campaign(client, headers)
    problem(client.post(f"{BASE}/{campaign_id}/launch", headers=headers), 409)  # no stages yet
    problem(client.post(f"{BASE}/{campaign_id}/failure-codes", json={"code": "bad code", "description": "x"},
                        headers=headers), 422)
    design_campaign(client, headers, campaign_id)
    problem(client.post(f"{BASE}/{campaign_id}/failure-codes", json={"code": "no_interest", "description": "x"},
                        headers=headers), 409)
    codes = client.get(f"{BASE}/{campaign_id}/failure-codes", headers=headers).get_json()["items"]
    assert sorted(c["code"] for c in codes) == ["no_interest", "no_reaction", "unreachable"]
    problem(client.put(f"{BASE}/{campaign_id}/chains", json={"chains": [
        {"trigger": "failed:unknown", "next_campaign_id": campaign_id}]}, headers=headers), 422)
    problem(client.put(f"{BASE}/{campaign_id}/chains", json={"chains": [
        {"trigger": "succeeded", "next_campaign_id": str(uuid.uuid4())}]}, headers=headers), 422)
    problem(client.put(f"{BASE}/{campaign_id}/chains", json={"chains": [
        {"trigger": "succeeded", "next_campaign_id": campaign_id}]}, headers=headers), 422)
    assert client.get(f"{BASE}/{campaign_id}/chains", headers=headers).get_json() == {"chains": []}
    assert client.post(f"{BASE}/{campaign_id}/launch", headers=headers).status_code == 200
    problem(client.post(f"{BASE}/{campaign_id}/launch", headers=headers), 409)
    problem(client.put(f"{BASE}/{campaign_id}/stages", json={"stages": THREE_STAGES}, headers=headers), 409)
    assert client.post(f"{BASE}/{campaign_id}/cancel", headers=headers).status_code == 200
    problem(client.post(f"{BASE}/{campaign_id}/complete", headers=headers), 409)


def test_participant_endpoints_refuse_bad_input(runtime, client, headers):
    campaign_id = create_campaign(client, headers)
    design_campaign(client, headers, campaign_id)
    [party] = add_parties(runtime.engine, 1)
    [foreign] = add_parties(runtime.engine, 1, line_of_business="wholesale")
    retail_only = auth(runtime, lines=("retail",))
    url = f"{BASE}/{campaign_id}/participants"
    problem(client.post(url, json={"party_ids": [str(uuid.uuid4())]}, headers=headers), 422)
    problem(client.post(url, json={"party_ids": ["nope"]}, headers=headers), 422)
    problem(client.post(url, json={"party_ids": []}, headers=headers), 422)
    problem(client.post(url, json={"party_ids": [foreign]}, headers=retail_only), 422)
    assert client.get(url, headers=headers).get_json()["items"] == []
    assert client.post(url, json={"party_ids": [party, party]}, headers=headers).get_json() == {
        "added": 1, "already_in": 0}
    problem(client.post(f"{url}/{party}/decisions", json={"decision": "won"}, headers=headers), 409)  # draft
    client.post(f"{BASE}/{campaign_id}/launch", headers=headers)
    problem(client.post(f"{url}/{party}/decisions", json={"decision": "won"}, headers=headers), 422)  # no rule
    problem(client.post(f"{url}/{party}/decisions", json={}, headers=headers), 422)
    problem(client.delete(f"{url}/{uuid.uuid4()}", headers=headers), 404)
    assert client.delete(f"{url}/{party}?reason=asked%20us", headers=headers).status_code == 204
    problem(client.delete(f"{url}/{party}", headers=headers), 409)
    listed = client.get(f"{url}?status=excluded", headers=headers).get_json()["items"]
    assert [(p["party_id"], p["status"]) for p in listed] == [(party, "excluded")]
    problem(client.get(f"{url}?status=sleeping", headers=headers), 422)
    problem(client.get(f"{url}?cursor=zzz", headers=headers), 400)


def test_participants_page_through_in_order(runtime, client, headers):
    campaign_id = create_campaign(client, headers)
    parties = add_parties(runtime.engine, 5)
    client.post(f"{BASE}/{campaign_id}/participants", json={"party_ids": parties}, headers=headers)
    seen, cursor = [], None
    while True:
        page = client.get(f"{BASE}/{campaign_id}/participants?limit=2" + (f"&cursor={cursor}" if cursor else ""),
                          headers=headers).get_json()
        seen += [p["party_id"] for p in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(parties) and len(seen) == 5
