"""Idempotency-Key on campaigns' POSTs: the same key and request replay the first answer and do nothing twice
(a campaign created once, a launch done once, an upload imported once even with a new multipart boundary);
the same key with another request is 422 naming the header."""
from __future__ import annotations

import io
import json

from campaigns_fixtures import add_parties, auth, create_campaign, design_campaign, use_settings
from sqlalchemy import func, select

from crm_campaigns.adapters.import_tables import address_imports

BASE = "/api/campaigns/campaigns"
BODY = {"name": "Spring offer", "campaign_type": "telemarketing", "line_of_business": "retail"}


def test_the_same_key_and_body_replay_the_first_campaign_and_create_nothing_twice(runtime, client):
    headers = {**auth(runtime), "Idempotency-Key": "create-spring-1"}
    first = client.post(BASE, json=BODY, headers=headers)
    again = client.post(BASE, json=BODY, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json() and again.headers["Idempotent-Replayed"] == "true"
    assert [c["campaign_id"] for c in client.get(BASE, headers=auth(runtime)).get_json()["items"]] == \
        [first.get_json()["campaign_id"]]

    other = client.post(BASE, json={**BODY, "name": "Autumn offer"}, headers=headers)
    assert other.status_code == 422 and other.mimetype == "application/problem+json"
    assert other.get_json()["errors"][0]["field"] == "Idempotency-Key"
    assert len(client.get(BASE, headers=auth(runtime)).get_json()["items"]) == 1


def test_a_retried_launch_replays_its_answer_instead_of_a_409(runtime, client):
    headers = auth(runtime)
    campaign_id = create_campaign(client, headers)
    design_campaign(client, headers, campaign_id)
    client.post(f"{BASE}/{campaign_id}/participants", json={"party_ids": add_parties(runtime.engine, 2)},
                headers=headers)
    keyed = {**headers, "Idempotency-Key": "launch-1"}
    first = client.post(f"{BASE}/{campaign_id}/launch", headers=keyed)
    again = client.post(f"{BASE}/{campaign_id}/launch", headers=keyed)
    assert first.status_code == again.status_code == 200, first.get_json()
    assert again.get_json() == first.get_json() == {"campaign_id": campaign_id, "status": "active",
                                                    "participants": 2}
    assert client.post(f"{BASE}/{campaign_id}/launch", headers=headers).status_code == 409  # without a key


def test_a_retried_upload_with_a_new_boundary_is_imported_once(monkeypatch, runtime, client):
    use_settings(monkeypatch, runtime, client, imports_inline=True)
    headers = {**auth(runtime), "Idempotency-Key": "upload-1"}
    campaign_id = create_campaign(client, headers | {"Idempotency-Key": "create-for-upload"})
    content = "Firma;PLZ;Ort;Sparte\nMüller GmbH;10115;Berlin;retail\n".encode()
    mapping = json.dumps({"Firma": "company_name", "PLZ": "postal_code", "Ort": "city", "Sparte": "line_of_business"})

    def upload(name="liste.csv"):
        # the test client draws a new random multipart boundary for every request, as real clients do
        return client.post(f"{BASE}/{campaign_id}/imports", headers=headers, content_type="multipart/form-data",
                           data={"file": (io.BytesIO(content), name, "text/csv"), "mapping": mapping})

    first, again = upload(), upload()
    assert first.status_code == again.status_code == 202, first.get_json()
    assert again.get_json()["import_id"] == first.get_json()["import_id"]
    assert again.headers["Location"] == first.headers["Location"]
    assert upload("other.csv").status_code == 422   # another file name: another request
    with runtime.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(address_imports)).scalar() == 1
