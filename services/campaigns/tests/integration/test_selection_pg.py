"""Target selection by criteria on PostgreSQL: each criterion alone and combined, the caller's lines of business,
the suppression list by party, e-mail, phone, campaign and channel, counts that add up, active campaigns starting
their new participants, and invalid requests refused with nothing stored."""
from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from campaigns_fixtures import add_parties, auth, create_campaign, design_campaign
from selection_cases import CASES, names_of, participants, populate
from sqlalchemy import event, func, select, text

from crm_campaigns.adapters import orm
from crm_campaigns.service_layer import selection

ALL_STATES = {"lifecycle_states": ["suspect", "prospect", "customer"]}


def select_targets(client, headers, campaign_id: str, criteria: dict, dry_run: bool = False):
    return client.post(f"/api/campaigns/campaigns/{campaign_id}/selections",
                       json={"criteria": criteria, "dry_run": dry_run}, headers=headers)


def counts(response) -> tuple[int, int, int, int]:
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["matched"] == body["added"] + body["already_in"] + body["suppressed"]
    return body["matched"], body["added"], body["already_in"], body["suppressed"]


def suppress(client, headers, **body) -> dict:
    response = client.post("/api/campaigns/suppressions", json={"reason": "objected", **body}, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def outbox(engine, event_type: str) -> list[dict]:
    table = orm.messaging.outbox
    with engine.connect() as conn:
        bodies = conn.execute(select(table.c.body).where(table.c.routing_key == event_type)).scalars()
        return [json.loads(body)["data"] for body in bodies]


def row_count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(table))


@pytest.mark.parametrize("criteria, expected", CASES, ids=[json.dumps(c)[:60] for c, _ in CASES])
def test_each_criterion_selects_its_parties(runtime, client, uows, criteria, expected):
    headers = auth(runtime)
    ids = populate(runtime.engine, uows)
    campaign_id = create_campaign(client, headers)

    preview = counts(select_targets(client, headers, campaign_id, criteria, dry_run=True))
    assert preview == (len(expected), len(expected), 0, 0)
    assert participants(runtime.engine, campaign_id) == {}

    assert counts(select_targets(client, headers, campaign_id, criteria)) == preview
    enrolled = participants(runtime.engine, campaign_id)
    assert names_of(ids, enrolled) == expected
    assert {value[:3] for value in enrolled.values()} == {("selected", None, "criteria")}


def test_the_callers_lines_of_business_bound_the_selection(runtime, client, uows):
    ids = populate(runtime.engine, uows)
    wholesale_campaign = create_campaign(client, auth(runtime), line_of_business="wholesale")
    retail_campaign = create_campaign(client, auth(runtime), line_of_business="retail")
    wholesaler = auth(runtime, lines=("wholesale",), subject="wholesaler")

    assert counts(select_targets(client, wholesaler, wholesale_campaign, ALL_STATES)) == (1, 1, 0, 0)
    assert names_of(ids, participants(runtime.engine, wholesale_campaign)) == "c"

    outside = select_targets(client, wholesaler, wholesale_campaign, {"lines_of_business": ["retail"]})
    assert outside.status_code == 422 and outside.mimetype == "application/problem+json"
    assert outside.get_json()["errors"][0]["field"] == "criteria.lines_of_business"
    assert select_targets(client, wholesaler, retail_campaign, ALL_STATES).status_code == 404
    assert participants(runtime.engine, retail_campaign) == {}
    assert len(participants(runtime.engine, wholesale_campaign)) == 1


def contact_parties(engine, count: int) -> list[str]:
    """Customers with their own e-mail address and phone number each."""
    return [add_parties(engine, 1, emails=[{"kind": "work", "address": f"person{i}@example.com"}],
                        phones=[{"kind": "work", "number": f"+49 30 55500{i}"}])[0] for i in range(count)]


def test_suppressions_apply_by_party_email_phone_campaign_and_channel(runtime, client):
    headers = auth(runtime)
    p1, p2, p3, p4, p5, p6 = contact_parties(runtime.engine, 6)
    campaigns = {kind: create_campaign(client, headers, name=kind, campaign_type=kind)
                 for kind in ("telemarketing", "email", "letter", "seminar_exhibition")}
    suppress(client, headers, party_id=p1)
    suppress(client, headers, email=" PERSON1@Example.com ", channel="email")
    suppress(client, headers, phone="030 555002", channel="phone")
    suppress(client, headers, party_id=p4, campaign_id=campaigns["telemarketing"])
    suppress(client, headers, party_id=p5, channel="mail")

    kept_out = {"telemarketing": {p1, p3, p4}, "email": {p1, p2}, "letter": {p1, p5},
                "seminar_exhibition": {p1, p2, p3, p5}}
    for kind, campaign_id in campaigns.items():
        found = counts(select_targets(client, headers, campaign_id, {"lifecycle_states": ["customer"]}))
        assert found == (6, 6 - len(kept_out[kind]), 0, len(kept_out[kind])), kind
        assert set(participants(runtime.engine, campaign_id)) == {p1, p2, p3, p4, p5, p6} - kept_out[kind], kind


def test_an_unsubscribe_recorded_by_other_modules_is_honoured_by_later_selections(runtime, client, uows):
    headers = auth(runtime)
    first, second = contact_parties(runtime.engine, 2)
    campaign_id = create_campaign(client, headers, campaign_type="email")
    with uows() as uow:  # what the mailing code does for an unsubscribe link
        uow.suppressions.add(email="person0@example.com", channel="email", reason="unsubscribed",
                             created_by="mailing", now=datetime.now(UTC))
        uow.commit()
    assert counts(select_targets(client, headers, campaign_id, {"kinds": ["company"]})) == (2, 1, 0, 1)
    assert set(participants(runtime.engine, campaign_id)) == {second}


def test_counts_add_up_and_a_repeated_selection_adds_nothing_new(runtime, client):
    headers = auth(runtime)
    parties = contact_parties(runtime.engine, 5)
    campaign_id = create_campaign(client, headers)
    client.post(f"/api/campaigns/campaigns/{campaign_id}/participants", json={"party_ids": parties[:2]},
                headers=headers)
    suppress(client, headers, party_id=parties[1])  # already in and suppressed: counted as already in
    suppress(client, headers, party_id=parties[2])

    assert counts(select_targets(client, headers, campaign_id, ALL_STATES)) == (5, 2, 2, 1)
    assert counts(select_targets(client, headers, campaign_id, ALL_STATES)) == (5, 0, 4, 1)
    newcomers = contact_parties(runtime.engine, 2)
    assert counts(select_targets(client, headers, campaign_id, ALL_STATES)) == (7, 2, 4, 1)
    assert set(participants(runtime.engine, campaign_id)) == set(parties) - {parties[2]} | set(newcomers)
    assert counts(select_targets(client, headers, campaign_id, ALL_STATES, dry_run=True)) == (7, 0, 6, 1)


def test_in_an_active_campaign_the_selected_enter_the_first_stage(runtime, client, monkeypatch):
    monkeypatch.setattr(selection, "START_CHUNK", 2)  # several chunks
    headers = auth(runtime)
    campaign_id = create_campaign(client, headers)
    design_campaign(client, headers, campaign_id)
    assert client.post(f"/api/campaigns/campaigns/{campaign_id}/launch", headers=headers).status_code == 200
    parties = add_parties(runtime.engine, 5)

    assert counts(select_targets(client, headers, campaign_id, ALL_STATES)) == (5, 5, 0, 0)
    enrolled = participants(runtime.engine, campaign_id)
    assert {v[:3] for v in enrolled.values()} == {("active", "call", "criteria")}
    requests = outbox(runtime.engine, "crm.campaigns.campaign_call_requested.v1")
    assert sorted(r["party_id"] for r in requests) == sorted(parties)
    assert {r["request_id"] for r in requests} == {v[3] for v in enrolled.values()}
    moved = outbox(runtime.engine, "crm.campaigns.participant_moved.v1")
    assert sorted(m["party_id"] for m in moved) == sorted(parties)
    assert {m["to_stage"] for m in moved} == {"call"}
    with runtime.engine.connect() as conn:
        entered = conn.scalar(select(func.count()).select_from(orm.stage_history)
                              .where(orm.stage_history.c.campaign_id == campaign_id))
    assert entered == 5


def test_a_large_selection_is_one_statement_and_refreshes_statistics(runtime, client):
    headers = auth(runtime)
    add_parties(runtime.engine, 10_050, lifecycle_state="prospect")
    add_parties(runtime.engine, 30, lifecycle_state="suspect")
    campaign_id = create_campaign(client, headers)
    inserts = []

    def note_insert(_conn, _cursor, statement, *_args):
        if statement.startswith("INSERT INTO participations"):
            inserts.append(statement)
    event.listen(runtime.engine, "before_cursor_execute", note_insert)
    try:
        assert counts(select_targets(client, headers, campaign_id, {"lifecycle_states": ["prospect"]})) == \
            (10_050, 10_050, 0, 0)
    finally:
        event.remove(runtime.engine, "before_cursor_execute", note_insert)
    assert len(inserts) == 1 and "SELECT" in inserts[0]
    with runtime.engine.connect() as conn:
        analyzed = conn.scalar(text("SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'participations'"))
    assert analyzed is not None


def test_a_finished_campaign_takes_no_selection(runtime, client):
    headers = auth(runtime)
    add_parties(runtime.engine, 2)
    campaign_id = create_campaign(client, headers)
    client.post(f"/api/campaigns/campaigns/{campaign_id}/cancel", headers=headers)
    response = select_targets(client, headers, campaign_id, ALL_STATES)
    assert response.status_code == 409 and response.mimetype == "application/problem+json"
    assert participants(runtime.engine, campaign_id) == {}


INVALID = [
    ({}, 422, "criteria"),
    ({"criteria": {}}, 422, "criteria"),
    ({"criteria": {"lifecycle_states": ["inactive"]}}, 422, "criteria.lifecycle_states.0"),
    ({"criteria": {"colour": ["red"]}}, 422, "criteria.colour"),
    ({"criteria": {"postal_ranges": [["20000", "10000"]]}}, 422, "criteria.postal_ranges.0"),
    ({"criteria": {"postal_ranges": [["10000"]]}}, 422, "criteria.postal_ranges.0"),
    ({"criteria": {"last_contact_before": "2024-01-01", "last_contact_after": "2024-02-01"}}, 422,
     "criteria.last_contact_after"),
    ({"criteria": {"attributes": [{"name": "turnover", "op": "gt", "value": 1}]}}, 422, "criteria.attributes.0.name"),
    ({"criteria": {"attributes": [{"name": "employees", "op": "gt", "value": "many"}]}}, 422,
     "criteria.attributes.0.value"),
    ({"criteria": {"attributes": [{"name": "vip", "op": "lt", "value": True}]}}, 422, "criteria.attributes.0.op"),
    ({"criteria": {"attributes": [{"name": "size", "op": "eq", "value": "huge"}]}}, 422,
     "criteria.attributes.0.value"),
    ({"criteria": {"attributes": [{"name": "size", "op": "matches", "value": "s"}]}}, 422,
     "criteria.attributes.0.op"),
    ({"criteria": {"kinds": ["company"]}, "dry_run": "perhaps"}, 422, "dry_run"),
    ({"criteria": {"kinds": ["company"]}, "dry_run": 1}, 422, "dry_run"),
    ({"criteria": {"never_contacted": "yes"}}, 422, "criteria.never_contacted"),
    ({"criteria": {"lines_of_business": ["retail\u0000"]}}, 422, "criteria.lines_of_business.0"),
    ({"criteria": {"postal_ranges": [["1\u0000", "2"]]}}, 422, "criteria.postal_ranges.0.0"),
    ({"criteria": {"attributes": [{"name": "source", "op": "eq", "value": "fair\u0000"}]}}, 422,
     "criteria.attributes.0.value"),
]


@pytest.mark.parametrize("body, status, field", INVALID, ids=[json.dumps(b)[:60] for b, _, _ in INVALID])
def test_invalid_selections_are_refused_and_store_nothing(runtime, client, uows, body, status, field):
    headers = auth(runtime)
    populate(runtime.engine, uows)
    campaign_id = create_campaign(client, headers)
    response = client.post(f"/api/campaigns/campaigns/{campaign_id}/selections", json=body, headers=headers)
    assert response.status_code == status and response.mimetype == "application/problem+json"
    assert field in [e["field"] for e in response.get_json()["errors"]]
    assert row_count(runtime.engine, orm.participations) == 0


def test_selection_requests_outside_the_rules_are_refused(runtime, client):
    headers = auth(runtime)
    add_parties(runtime.engine, 1)
    campaign_id = create_campaign(client, headers)
    bad_path = select_targets(client, headers, "not-a-uuid", ALL_STATES)
    unknown = select_targets(client, headers, str(uuid.uuid4()), ALL_STATES)
    seller = select_targets(client, auth(runtime, roles=("sales",)), campaign_id, ALL_STATES)
    assert [bad_path.status_code, unknown.status_code, seller.status_code] == [404, 404, 403]
    assert all(r.mimetype == "application/problem+json" for r in (bad_path, unknown, seller))
    assert row_count(runtime.engine, orm.participations) == 0


def test_the_party_replica_is_listed_with_filters_in_the_callers_lines(runtime, client, uows):
    ids = populate(runtime.engine, uows)
    headers = auth(runtime)

    def party_names(query: str, given=headers) -> str:
        response = client.get(f"/api/campaigns/parties?{query}", headers=given)
        assert response.status_code == 200, response.get_json()
        return names_of(ids, [p["party_id"] for p in response.get_json()["items"]])

    assert party_names("") == "abce"
    assert party_names("lifecycle_state=prospect&lifecycle_state=suspect") == "bce"
    assert party_names("postal_from=10000&postal_to=29999") == "ab"
    assert party_names("never_contacted=true&kind=person") == "e"
    assert party_names("", auth(runtime, lines=("wholesale",))) == "c"

    first = client.get("/api/campaigns/parties?limit=2", headers=headers).get_json()
    second = client.get(f"/api/campaigns/parties?limit=2&cursor={first['next_cursor']}", headers=headers).get_json()
    seen = [p["party_id"] for p in first["items"] + second["items"]]
    assert len(seen) == 4 and len(set(seen)) == 4 and second["next_cursor"] is None


@pytest.mark.parametrize("query, field", [("postal_from=10000", "postal_to"),
                                          ("postal_from=20000&postal_to=10000", "postal_from"),
                                          ("lifecycle_state=inactive", "lifecycle_state.0"),
                                          ("last_contact_before=2024-01-01&last_contact_after=2024-02-01",
                                           "last_contact_after"),
                                          ("cursor=bm9wZQ", "cursor"),
                                          ("cursor=WyJcdTAwMDAiXQ==", "cursor"),  # ["\u0000"]
                                          ("segment=gold%00", "segment")])
def test_invalid_party_filters_are_refused(runtime, client, query, field):
    response = client.get(f"/api/campaigns/parties?{query}", headers=auth(runtime))
    assert response.status_code in (400, 422) and response.mimetype == "application/problem+json"
    assert field in [e["field"] for e in response.get_json()["errors"]]
