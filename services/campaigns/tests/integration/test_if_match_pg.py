"""If-Match on campaigns' versioned resources (campaigns, cost items, templates): every GET and change answers
`ETag: "<version>"`; a stale If-Match is 412 problem+json naming the header and changes nothing; a fresh one
applies the change and answers the new ETag. The body's `version` (409) still works, deprecated."""
from __future__ import annotations

import pytest
from campaigns_fixtures import auth, create_campaign

API = "/api/campaigns"
TEMPLATE = {"name": "Spring offer mail", "channel": "email", "subject": "Hello {{ first_name }}",
            "body": "{{ salutation }},\nour offer.\nUnsubscribe: {{ unsubscribe_url }}", "line_of_business": "retail"}


@pytest.fixture
def headers(runtime):
    return auth(runtime)


def assert_precondition_failed(response):
    assert response.status_code == 412, response.get_json()
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["errors"][0]["field"] == "If-Match"


def test_a_campaign_patch_with_a_stale_if_match_is_412_and_changes_nothing(client, headers):
    campaign_id = create_campaign(client, headers)
    url = f"{API}/campaigns/{campaign_id}"
    read = client.get(url, headers=headers)
    assert read.headers["ETag"] == '"1"'
    assert_precondition_failed(client.patch(url, json={"name": "New"}, headers={**headers, "If-Match": '"7"'}))
    unchanged = client.get(url, headers=headers)
    assert (unchanged.get_json()["name"], unchanged.headers["ETag"]) == ("Spring offer", '"1"')

    changed = client.patch(url, json={"name": "New"}, headers={**headers, "If-Match": read.headers["ETag"]})
    assert changed.status_code == 200 and changed.headers["ETag"] == '"2"' == f'"{changed.get_json()["version"]}"'
    assert client.get(url, headers=headers).headers["ETag"] == '"2"'
    assert_precondition_failed(client.patch(url, json={"name": "Newer"}, headers={**headers, "If-Match": 'W/"1"'}))
    assert client.patch(url, json={"name": "X"}, headers={**headers, "If-Match": "1"}).status_code == 422
    assert client.patch(url, json={"name": "X", "version": 1}, headers=headers).status_code == 409  # deprecated


def test_a_cost_item_change_or_removal_with_a_stale_if_match_is_412(client, headers):
    campaign_id = create_campaign(client, headers)
    created = client.post(f"{API}/campaigns/{campaign_id}/cost-items", json={"name": "Print", "planned_amount": "10"},
                          headers=headers)
    assert created.status_code == 201 and created.headers["ETag"] == '"1"'
    url = f"{API}/campaigns/{campaign_id}/cost-items/{created.get_json()['cost_item_id']}"
    assert_precondition_failed(client.patch(url, json={"name": "Ink"}, headers={**headers, "If-Match": '"2"'}))
    assert_precondition_failed(client.delete(url, headers={**headers, "If-Match": '"2"'}))
    listed = client.get(f"{API}/campaigns/{campaign_id}/cost-items", headers=headers).get_json()["items"]
    assert [(i["name"], i["version"]) for i in listed] == [("Print", 1)]

    changed = client.patch(url, json={"name": "Ink"}, headers={**headers, "If-Match": '"1"'})
    assert changed.status_code == 200 and changed.headers["ETag"] == '"2"'
    assert_precondition_failed(client.delete(url, headers={**headers, "If-Match": '"1"'}))
    assert client.delete(url, headers={**headers, "If-Match": '"2"'}).status_code == 204


def test_a_template_put_with_a_stale_if_match_is_412_and_changes_nothing(client, headers):
    created = client.post(f"{API}/templates", json=TEMPLATE, headers=headers)
    assert created.status_code == 201 and created.headers["ETag"] == '"1"'
    url = f"{API}/templates/{created.get_json()['template_id']}"
    assert_precondition_failed(client.put(url, json={**TEMPLATE, "subject": "Hi"}, headers={**headers,
                                                                                            "If-Match": '"5"'}))
    read = client.get(url, headers=headers)
    assert (read.get_json()["subject"], read.headers["ETag"]) == (TEMPLATE["subject"], '"1"')
    changed = client.put(url, json={**TEMPLATE, "subject": "Hi"}, headers={**headers, "If-Match": '"1"'})
    assert changed.status_code == 200 and changed.headers["ETag"] == '"2"'
    assert client.get(url, headers=headers).headers["ETag"] == '"2"'
