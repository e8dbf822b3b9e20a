"""Target selection in embedded mode (SQLite): the same criteria select the same parties as on PostgreSQL, and
suppressions and active campaigns behave alike, through the Python fallback of the set-based insert."""
from __future__ import annotations

import json

import pytest
from campaigns_fixtures import add_parties, auth, create_campaign, design_campaign
from crm_shared.config import Settings
from selection_cases import CASES, names_of, participants, populate

from crm_campaigns.bootstrap import build_runtime, uow_factory


@pytest.fixture
def embedded(tmp_path):
    settings = Settings.from_env("campaigns", database_url=f"sqlite:///{tmp_path}/campaigns.db", amqp_url="memory://")
    runtime = build_runtime(settings)
    runtime.migrate()
    yield runtime, runtime.create_app().test_client(), uow_factory(runtime.engine)
    runtime.engine.dispose()


def select_targets(client, headers, campaign_id: str, criteria: dict, dry_run: bool = False) -> dict:
    response = client.post(f"/api/campaigns/campaigns/{campaign_id}/selections",
                           json={"criteria": criteria, "dry_run": dry_run}, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


@pytest.mark.parametrize("criteria, expected", CASES, ids=[json.dumps(c)[:60] for c, _ in CASES])
def test_each_criterion_selects_the_same_parties_as_on_postgresql(embedded, criteria, expected):
    runtime, client, uows = embedded
    headers = auth(runtime)
    ids = populate(runtime.engine, uows)
    campaign_id = create_campaign(client, headers)
    assert select_targets(client, headers, campaign_id, criteria, dry_run=True)["matched"] == len(expected)
    assert select_targets(client, headers, campaign_id, criteria)["added"] == len(expected)
    assert names_of(ids, participants(runtime.engine, campaign_id)) == expected


def test_suppressed_parties_stay_out_and_an_active_campaign_starts_the_rest(embedded):
    runtime, client, _ = embedded
    headers = auth(runtime)
    parties = add_parties(runtime.engine, 3)
    campaign_id = create_campaign(client, headers)
    design_campaign(client, headers, campaign_id)
    client.post(f"/api/campaigns/campaigns/{campaign_id}/launch", headers=headers)
    client.post("/api/campaigns/suppressions", json={"party_id": parties[0], "reason": "objected"}, headers=headers)

    body = select_targets(client, headers, campaign_id, {"kinds": ["company"]})
    assert (body["matched"], body["added"], body["already_in"], body["suppressed"]) == (3, 2, 0, 1)
    enrolled = participants(runtime.engine, campaign_id)
    assert set(enrolled) == set(parties[1:])
    assert {v[:3] for v in enrolled.values()} == {("active", "call", "criteria")}
