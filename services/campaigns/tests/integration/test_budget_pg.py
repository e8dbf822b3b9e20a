"""Cost items and revenue attribution on PostgreSQL: CRUD, validation (nothing stored on a 4xx), the rules of
what revenue a campaign caused, and the consumer handlers for order and deal events."""
from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from campaigns_fixtures import add_parties, auth, create_campaign, design_campaign, use_settings
from crm_shared.events import CloudEvent
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_campaigns.adapters import orm
from crm_campaigns.domain.attribution import MalformedRevenue
from crm_campaigns.service_layer.handlers import make_handlers
from crm_campaigns.service_layer.progress import ConditionMet, apply_conditions

API = "/api/campaigns/campaigns"
TODAY = datetime.now(UTC).date()


def count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def attributions(engine) -> list[dict]:
    with engine.connect() as conn:
        rows = conn.execute(select(orm.revenue_attributions).order_by(orm.revenue_attributions.c.reference,
                                                                      orm.revenue_attributions.c.kind))
        return [r._asdict() for r in rows]


def assert_problem(response, status: int, field: str | None = None) -> None:
    assert response.status_code == status, response.get_json()
    assert response.mimetype == "application/problem+json"
    if field is not None:
        assert field in str(response.get_json())


def active_campaign(runtime, client, headers, parties: int = 1, **fields) -> tuple[str, list[str]]:
    campaign_id = create_campaign(client, headers, **fields)
    design_campaign(client, headers, campaign_id)
    party_ids = add_parties(runtime.engine, parties)
    client.post(f"{API}/{campaign_id}/participants", json={"party_ids": party_ids}, headers=headers)
    assert client.post(f"{API}/{campaign_id}/launch", headers=headers).status_code == 200
    return campaign_id, party_ids


def participation_id(engine, campaign_id: str, party_id: str) -> str:
    p = orm.participations.c
    with engine.connect() as conn:
        return conn.execute(select(p.participation_id).where(p.campaign_id == campaign_id,
                                                             p.party_id == party_id)).scalar_one()


def succeed(runtime, uows, campaign_id: str, party_id: str) -> None:
    """call → offer → close → succeeded, through the stage rules."""
    pid = participation_id(runtime.engine, campaign_id, party_id)
    for kind, value in (("call_outcome", "interest_noted"), ("mailing_reaction", "replied"), ("manual", "won")):
        with uows() as uow:
            done = apply_conditions(uow, [ConditionMet(kind, value, value, participation_id=pid)], datetime.now(UTC))
            uow.commit()
        assert done.ignored == 0


# -- cost items ---------------------------------------------------------------------------------------------
def test_cost_items_are_added_listed_changed_and_removed(runtime, client):
    headers = auth(runtime)
    campaign_id = create_campaign(client, headers)
    design_campaign(client, headers, campaign_id)
    created = client.post(f"{API}/{campaign_id}/cost-items", headers=headers,
                          json={"name": "Call centre", "planned_amount": "1200.50", "stage_key": "call"})
    assert created.status_code == 201, created.get_json()
    item = created.get_json()
    assert (item["planned_amount"], item["actual_amount"], item["stage_key"], item["version"]) == \
        ("1200.50", None, "call", 1)
    client.post(f"{API}/{campaign_id}/cost-items", json={"name": "Brochures", "planned_amount": "300"},
                headers=headers)
    listed = client.get(f"{API}/{campaign_id}/cost-items", headers=headers).get_json()["items"]
    assert [(i["name"], i["stage_key"]) for i in listed] == [("Brochures", None), ("Call centre", "call")]

    url = f"{API}/{campaign_id}/cost-items/{item['cost_item_id']}"
    changed = client.patch(url, json={"actual_amount": "1100", "stage_key": None, "version": 1}, headers=headers)
    assert changed.status_code == 200, changed.get_json()
    assert (changed.get_json()["actual_amount"], changed.get_json()["stage_key"], changed.get_json()["version"]) == \
        ("1100.00", None, 2)
    stale = client.patch(url, json={"name": "Renamed", "version": 1}, headers=headers)
    assert_problem(stale, 409, "version")
    assert client.delete(f"{url}?version=1", headers=headers).status_code == 409
    assert client.delete(f"{url}?version=2", headers=headers).status_code == 204
    assert client.patch(url, json={"name": "Gone"}, headers=headers).status_code == 404
    assert [i["name"] for i in client.get(f"{API}/{campaign_id}/cost-items", headers=headers).get_json()["items"]] \
        == ["Brochures"]


@pytest.mark.parametrize("body, field", [
    ({"name": "Print", "planned_amount": "-1"}, "planned_amount"),
    ({"name": "Print", "planned_amount": "10", "actual_amount": "-0.50"}, "actual_amount"),
    ({"name": "Print", "planned_amount": "10", "stage_key": "nowhere"}, "stage_key"),
    ({"name": "", "planned_amount": "10"}, "name"),
    ({"name": "Print"}, "planned_amount"),
    ({"name": "Print", "planned_amount": "NaN"}, "planned_amount"),
])
def test_invalid_cost_items_are_refused_and_nothing_is_stored(runtime, client, body, field):
    headers = auth(runtime)
    campaign_id = create_campaign(client, headers)
    design_campaign(client, headers, campaign_id)
    assert_problem(client.post(f"{API}/{campaign_id}/cost-items", json=body, headers=headers), 422, field)
    assert count(runtime.engine, orm.cost_items) == 0


def test_cost_item_changes_are_validated(runtime, client):
    headers = auth(runtime)
    campaign_id = create_campaign(client, headers)
    design_campaign(client, headers, campaign_id)
    item = client.post(f"{API}/{campaign_id}/cost-items", json={"name": "Print", "planned_amount": "10"},
                       headers=headers).get_json()
    url = f"{API}/{campaign_id}/cost-items/{item['cost_item_id']}"
    assert_problem(client.patch(url, json={"stage_key": "nowhere"}, headers=headers), 422, "stage_key")
    assert_problem(client.patch(url, json={"planned_amount": "-5"}, headers=headers), 422, "planned_amount")
    assert_problem(client.patch(f"{API}/{campaign_id}/cost-items/not-a-uuid", json={}, headers=headers), 404)
    assert client.get(f"{API}/{campaign_id}/cost-items", headers=headers).get_json()["items"] == [item]


def test_cost_items_of_another_line_of_business_are_not_found(runtime, client):
    campaign_id = create_campaign(client, auth(runtime))
    item = client.post(f"{API}/{campaign_id}/cost-items", json={"name": "Print", "planned_amount": "10"},
                       headers=auth(runtime)).get_json()
    outsider = auth(runtime, lines=("wholesale",))
    assert_problem(client.get(f"{API}/{campaign_id}/cost-items", headers=outsider), 404)
    assert_problem(client.post(f"{API}/{campaign_id}/cost-items", json={"name": "X", "planned_amount": "1"},
                               headers=outsider), 404)
    assert_problem(client.patch(f"{API}/{campaign_id}/cost-items/{item['cost_item_id']}",
                                json={"actual_amount": "9"}, headers=outsider), 404)
    assert_problem(client.delete(f"{API}/{campaign_id}/cost-items/{item['cost_item_id']}", headers=outsider), 404)
    agent = auth(runtime, roles=("agent",))
    assert_problem(client.post(f"{API}/{campaign_id}/cost-items", json={"name": "X", "planned_amount": "1"},
                               headers=agent), 403)
    assert count(runtime.engine, orm.cost_items) == 1


def test_a_completed_campaign_still_takes_actual_amounts(runtime, client):
    headers = auth(runtime)
    campaign_id, _ = active_campaign(runtime, client, headers)
    item = client.post(f"{API}/{campaign_id}/cost-items", json={"name": "Print", "planned_amount": "10"},
                       headers=headers).get_json()
    assert client.post(f"{API}/{campaign_id}/complete", headers=headers).status_code == 200
    url = f"{API}/{campaign_id}/cost-items/{item['cost_item_id']}"
    late = client.patch(url, json={"actual_amount": "12.30"}, headers=headers)
    assert late.status_code == 200 and late.get_json()["actual_amount"] == "12.30"
    assert_problem(client.patch(url, json={"planned_amount": "20"}, headers=headers), 409, "planned_amount")
    assert_problem(client.post(f"{API}/{campaign_id}/cost-items", json={"name": "New", "planned_amount": "1"},
                               headers=headers), 409)
    assert_problem(client.delete(url, headers=headers), 409)
    assert client.get(f"{API}/{campaign_id}/cost-items", headers=headers).get_json()["items"][0]["planned_amount"] \
        == "10.00"


# -- revenue through the API ----------------------------------------------------------------------------------
def revenue_body(party_id: str, **overrides) -> dict:
    return {"party_id": party_id, "kind": "order", "reference": f"SO-{uuid.uuid4().hex[:8]}", "amount": "250.00",
            "occurred_on": TODAY.isoformat(), **overrides}


def test_revenue_of_a_participant_is_credited_once(runtime, client):
    headers = auth(runtime)
    campaign_id, [party] = active_campaign(runtime, client, headers)
    body = revenue_body(party, reference="SO-1")
    created = client.post(f"{API}/{campaign_id}/revenue", json=body, headers=headers)
    assert created.status_code == 201, created.get_json()
    assert (created.get_json()["stage_key"], created.get_json()["amount"], created.get_json()["source"]) == \
        ("call", "250.00", "api")  # the participant's stage
    assert_problem(client.post(f"{API}/{campaign_id}/revenue", json=body, headers=headers), 409, "reference")
    other_campaign, [other_party] = active_campaign(runtime, client, headers, name="Other")
    assert_problem(client.post(f"{API}/{other_campaign}/revenue", json=revenue_body(other_party, reference="SO-1"),
                               headers=headers), 409)
    deal = client.post(f"{API}/{campaign_id}/revenue", headers=headers,
                       json=revenue_body(party, kind="deal", reference="SO-1", stage_key="close"))
    assert deal.status_code == 201 and deal.get_json()["stage_key"] == "close"  # a deal is not an order
    assert sorted((a["kind"], a["campaign_id"]) for a in attributions(runtime.engine)) == \
        [("deal", campaign_id), ("order", campaign_id)]


def test_revenue_the_campaign_did_not_cause_is_refused(runtime, client):
    headers = auth(runtime)
    campaign_id, [party] = active_campaign(runtime, client, headers)
    [stranger] = add_parties(runtime.engine, 1)
    post = lambda body: client.post(f"{API}/{campaign_id}/revenue", json=body, headers=headers)  # noqa: E731
    assert_problem(post(revenue_body(stranger)), 422, "not a participant")
    yesterday = (TODAY - timedelta(days=1)).isoformat()
    assert_problem(post(revenue_body(party, occurred_on=yesterday)), 422, "before the party entered")
    assert_problem(post(revenue_body(party, stage_key="nowhere")), 422, "stage_key")
    assert_problem(post(revenue_body(party, amount="0")), 422, "amount")
    assert_problem(post(revenue_body(party, kind="lead")), 422, "kind")
    assert_problem(post(revenue_body(party, occurred_on="02.05.2024")), 422, "occurred_on")
    draft = create_campaign(client, headers, name="Draft")
    design_campaign(client, headers, draft)
    [selected] = add_parties(runtime.engine, 1)
    client.post(f"{API}/{draft}/participants", json={"party_ids": [selected]}, headers=headers)
    assert_problem(client.post(f"{API}/{draft}/revenue", json=revenue_body(selected), headers=headers), 422,
                   "not entered")
    assert_problem(client.post(f"{API}/{campaign_id}/revenue", json=revenue_body(party),
                               headers=auth(runtime, lines=("wholesale",))), 404)
    assert count(runtime.engine, orm.revenue_attributions) == 0


def test_revenue_is_listed_page_by_page(runtime, client):
    headers = auth(runtime)
    campaign_id, [party] = active_campaign(runtime, client, headers)
    for days in (2, 0, 1):
        client.post(f"{API}/{campaign_id}/revenue", headers=headers,
                    json=revenue_body(party, occurred_on=(TODAY + timedelta(days=days)).isoformat()))
    first = client.get(f"{API}/{campaign_id}/revenue?limit=2", headers=headers).get_json()
    second = client.get(f"{API}/{campaign_id}/revenue?limit=2&cursor={first['next_cursor']}",
                        headers=headers).get_json()
    days = [i["occurred_on"] for i in first["items"] + second["items"]]
    assert days == sorted((TODAY + timedelta(days=d)).isoformat() for d in (0, 1, 2))
    assert second["next_cursor"] is None
    assert_problem(client.get(f"{API}/{campaign_id}/revenue?cursor=bad", headers=headers), 400, "cursor")


# -- revenue from other services' events ------------------------------------------------------------------------
def order_event(party_id: str, order_id: str, occurred_on: date, campaign_id: str | None = None,
                currency: str = "EUR", amount: str = "400.00") -> CloudEvent:
    data = {"order_id": order_id, "party_id": party_id, "amount": amount, "currency": currency,
            "occurred_on": occurred_on.isoformat()}
    if campaign_id is not None:
        data["campaign_id"] = campaign_id
    return CloudEvent(type="crm.service-desk.order_placed.v1", source="crm.service-desk", subject=order_id,
                      data=data)


def deal_event(party_id: str, opportunity_id: str, won_on: date, campaign_id: str | None = None) -> CloudEvent:
    return CloudEvent(type="crm.customers.opportunity_won.v1", source="crm.customers", subject=opportunity_id,
                      data={"opportunity_id": opportunity_id, "party_id": party_id, "amount": "7000",
                            "currency": "EUR", "won_on": won_on.isoformat(), "campaign_id": campaign_id})


def handle(runtime, *events: CloudEvent) -> None:
    """As the consumer does (entrypoints/consumer.py): with the handlers made for the runtime's settings."""
    handlers = make_handlers(runtime.settings.attribution_window_days)
    with Session(runtime.engine) as session:
        for event in events:
            handlers[event.type](session, event)
        session.commit()


def test_an_order_naming_its_campaign_is_credited_to_it_if_the_party_takes_part(runtime, client):
    headers = auth(runtime)
    campaign_id, [party] = active_campaign(runtime, client, headers)
    [stranger] = add_parties(runtime.engine, 1)
    handle(runtime, order_event(party, "SO-1", TODAY, campaign_id),
           order_event(party, "SO-1", TODAY, campaign_id),  # the same order again
           order_event(stranger, "SO-2", TODAY, campaign_id),
           order_event(party, "SO-3", TODAY - timedelta(days=1), campaign_id),
           order_event(party, "SO-4", TODAY, campaign_id, currency="USD"),
           order_event(party, "SO-5", TODAY, str(uuid.uuid4())))
    assert [(a["reference"], a["campaign_id"], a["stage_key"], a["source"], str(a["amount"]))
            for a in attributions(runtime.engine)] == [("SO-1", campaign_id, "call", "event", "400.00")]


def test_an_order_without_campaign_goes_to_the_latest_success_in_the_window(runtime, client, uows, monkeypatch):
    headers = auth(runtime)
    older, [party] = active_campaign(runtime, client, headers, name="Older")
    succeed(runtime, uows, older, party)
    newer = create_campaign(client, headers, name="Newer")
    design_campaign(client, headers, newer)
    client.post(f"{API}/{newer}/participants", json={"party_ids": [party]}, headers=headers)
    client.post(f"{API}/{newer}/launch", headers=headers)
    succeed(runtime, uows, newer, party)
    [loner] = add_parties(runtime.engine, 1)
    handle(runtime, order_event(party, "SO-1", TODAY + timedelta(days=30)),
           deal_event(party, "D-1", TODAY + timedelta(days=90)),
           order_event(party, "SO-2", TODAY + timedelta(days=91)),   # outside the 90 days
           order_event(party, "SO-3", TODAY - timedelta(days=1)),    # before the success
           order_event(loner, "SO-4", TODAY))
    assert [(a["kind"], a["reference"], a["campaign_id"], a["stage_key"]) for a in attributions(runtime.engine)] == \
        [("deal", "D-1", newer, "close"), ("order", "SO-1", newer, "close")]
    use_settings(monkeypatch, runtime, client, attribution_window_days=10)
    handle(runtime, order_event(party, "SO-5", TODAY + timedelta(days=11)),
           order_event(party, "SO-6", TODAY + timedelta(days=10)))
    assert [a["reference"] for a in attributions(runtime.engine)] == ["D-1", "SO-1", "SO-6"]


def test_a_malformed_order_event_fails_so_the_consumer_parks_it(runtime, client):
    headers = auth(runtime)
    campaign_id, [party] = active_campaign(runtime, client, headers)
    with pytest.raises(MalformedRevenue):
        handle(runtime, order_event(party, "SO-1", TODAY, campaign_id, amount="a lot"))
    assert count(runtime.engine, orm.revenue_attributions) == 0
