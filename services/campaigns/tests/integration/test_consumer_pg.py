"""The campaigns consumer end to end: real RabbitMQ, real PostgreSQL, events published with pika as the customers
and calls services publish them. Party snapshots keep the replica at its newest version, attribute definitions
arrive, a deactivated party leaves its campaigns, a call outcome moves its participant; a redelivered event is
handled once and a malformed one is parked without changing anything."""
from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pika
import pytest
from campaigns_fixtures import add_parties, auth, create_campaign, design_campaign, snapshot
from crm_shared.config import Settings
from crm_shared.consumer import batch_handler, parking_queue
from crm_shared.testing.consumers import running_consumer, wait_for
from crm_shared.events import CloudEvent, new_event
from sqlalchemy import func, select

from crm_campaigns.adapters import orm
from crm_campaigns.bootstrap import build_runtime, uow_factory
from crm_campaigns.domain import events
from crm_campaigns.entrypoints.consumer import build_consumer

CUSTOMERS, CALLS = "crm.customers", "crm.calls"


@pytest.fixture
def runtime(fresh_database, amqp_url):
    settings = Settings.from_env("campaigns", database_url=fresh_database("crm_campaigns"), amqp_url=amqp_url,
                                 retry_delays_ms=(200,))
    built = build_runtime(settings)
    built.migrate()
    yield built
    built.engine.dispose()


@pytest.fixture
def client(runtime):
    return runtime.create_app().test_client()


@pytest.fixture
def uows(runtime):
    return uow_factory(runtime.engine)


@pytest.fixture
def consumer(runtime, amqp_url, unique_name):
    """The service's own consumer on a queue of this test's, so no other consumer takes its messages."""
    queue = unique_name("campaigns-test.incoming-events")
    with running_consumer(build_consumer(runtime, queue=queue), amqp_url, queue, retry_levels=1) as running:
        yield running


@pytest.fixture
def broker(amqp_url):
    """A plain pika channel, as an outside publisher would use."""
    url = amqp_url[:-1] + "%2F" if amqp_url.endswith("//") else amqp_url  # pika spells the default vhost so
    connection = pika.BlockingConnection(pika.URLParameters(url))
    yield connection.channel()
    connection.close()


def publish(channel, exchange: str, *cloud_events: CloudEvent) -> None:
    for event in cloud_events:
        send_raw(channel, exchange, event.type, event.to_json(), event.id)


def send_raw(channel, exchange: str, routing_key: str, body: str, message_id: str) -> None:
    channel.basic_publish(exchange=exchange, routing_key=routing_key, body=body.encode(),
                          properties=pika.BasicProperties(message_id=message_id, type=routing_key, delivery_mode=2,
                                                          content_type="application/cloudevents+json"))


def party_event(kind: str, **fields) -> CloudEvent:
    data = snapshot(**fields)
    return new_event(f"crm.customers.party_{kind}.v1", CUSTOMERS, data["party_id"], data)


def outcome_event(participant: tuple, campaign_id: str, outcome: str, **changes) -> CloudEvent:
    party_id, request_id = participant
    data = {"call_id": "call-1", "party_id": party_id, "campaign_id": campaign_id, "request_id": request_id,
            "outcome": outcome, "final": True, "contact_made": True, "completed_on": "2025-03-04", **changes}
    return new_event(events.CALL_OUTCOME_RECORDED, CALLS, party_id, data)


def replica(runtime, party_id: str):
    with runtime.engine.connect() as conn:
        return conn.execute(select(orm.party_replica).where(orm.party_replica.c.party_id == party_id)).first()


def state(runtime, campaign_id: str, party_id: str) -> tuple:
    p = orm.participations.c
    with runtime.engine.connect() as conn:
        return tuple(conn.execute(select(p.status, p.stage_key, p.request_id)
                                  .where(p.campaign_id == campaign_id, p.party_id == party_id)).one())


def handled_marker(runtime, channel) -> None:
    """Publishes a fresh party and waits for it: the queue is FIFO, so what was published before is handled."""
    marker = party_event("registered")
    publish(channel, CUSTOMERS, marker)
    wait_for(lambda: replica(runtime, marker.data["party_id"]) is not None)


def running_campaign(runtime, client, count: int) -> tuple[str, list[tuple[str, str]]]:
    """An active campaign whose participants wait for their first call: [(party_id, request_id)]."""
    headers = auth(runtime)
    parties = add_parties(runtime.engine, count)
    campaign_id = create_campaign(client, headers)
    design_campaign(client, headers, campaign_id)
    client.post(f"/api/campaigns/campaigns/{campaign_id}/participants", json={"party_ids": parties}, headers=headers)
    client.post(f"/api/campaigns/campaigns/{campaign_id}/launch", headers=headers)
    return campaign_id, [(p, state(runtime, campaign_id, p)[2]) for p in parties]


def test_party_snapshots_keep_the_newest_version(runtime, consumer, broker):
    registered = party_event("registered", lifecycle_state="suspect", display_name="Acme")
    party_id = registered.data["party_id"]
    newer = party_event("updated", party_id=party_id, version=2, lifecycle_state="prospect", display_name="Acme AG",
                        attributes={"segment": "gold"})
    stale = party_event("updated", party_id=party_id, version=1, lifecycle_state="suspect", display_name="Stale")
    publish(broker, CUSTOMERS, registered, newer)
    wait_for(lambda: (row := replica(runtime, party_id)) is not None and row.version == 2)
    publish(broker, CUSTOMERS, stale)
    handled_marker(runtime, broker)
    row = replica(runtime, party_id)
    assert (row.version, row.display_name, row.lifecycle_state, row.segment) == (2, "Acme AG", "prospect", "gold")


def test_attribute_definitions_are_replicated(runtime, consumer, broker, uows):
    publish(broker, CUSTOMERS, new_event(events.ATTRIBUTE_DEFINED, CUSTOMERS, "size",
                                         {"name": "size", "type": "choice", "choices": ["small", "large"]}))

    def defined():
        with uows() as uow:
            return uow.replica.attribute_types().get("size")
    row = wait_for(defined)
    assert (row.type, row.choices) == ("choice", ["small", "large"])


def test_a_line_of_business_customers_defines_becomes_usable_for_campaigns(runtime, consumer, broker, client):
    body = {"name": "Power deals", "campaign_type": "telemarketing", "line_of_business": "energy"}
    refused = client.post("/api/campaigns/campaigns", json=body, headers=auth(runtime))
    assert refused.status_code == 422 and [e["field"] for e in refused.get_json()["errors"]] == ["line_of_business"]
    defined = new_event(events.LINE_OF_BUSINESS_DEFINED, CUSTOMERS, "energy", {"code": "energy", "label": "Energy"})
    publish(broker, CUSTOMERS, defined, defined)  # delivered twice: stored once

    def known():
        with runtime.engine.connect() as conn:
            return conn.execute(select(orm.lines_of_business).where(orm.lines_of_business.c.code == "energy")).all()
    assert [tuple(r) for r in wait_for(known)] == [("energy", "Energy")]
    assert client.post("/api/campaigns/campaigns", json=body, headers=auth(runtime)).status_code == 201


def test_a_deactivated_participant_leaves_its_campaign(runtime, consumer, broker, client):
    campaign_id, [(party_id, request_id), (other, _)] = running_campaign(runtime, client, 2)
    publish(broker, CUSTOMERS, party_event("deactivated", party_id=party_id, version=2, lifecycle_state="inactive"))
    wait_for(lambda: state(runtime, campaign_id, party_id)[0] == "excluded")
    assert replica(runtime, party_id).deactivated is True
    assert state(runtime, campaign_id, other)[:2] == ("active", "call")
    assert request_id in outbox_data(runtime, events.CAMPAIGN_CALL_WITHDRAWN, "request_id")


def outbox_data(runtime, event_type: str, field: str) -> list:
    outbox = orm.messaging.outbox
    with runtime.engine.connect() as conn:
        bodies = conn.execute(select(outbox.c.body).where(outbox.c.routing_key == event_type)).scalars()
        return [json.loads(body)["data"][field] for body in bodies]


def test_a_call_outcome_moves_its_participant_once_even_when_delivered_twice(runtime, consumer, broker, client):
    campaign_id, [participant] = running_campaign(runtime, client, 1)
    seen = []
    handler = consumer.handlers[events.CALL_OUTCOME_RECORDED]

    @batch_handler
    def counting(session, batch):
        seen.extend(e.id for e in batch)
        handler(session, batch)
    consumer.handlers[events.CALL_OUTCOME_RECORDED] = counting
    outcome = outcome_event(participant, campaign_id, "interest_noted")
    publish(broker, CALLS, outcome, outcome)
    wait_for(lambda: state(runtime, campaign_id, participant[0])[1] == "offer")
    handled_marker(runtime, broker)

    assert seen == [outcome.id]
    assert state(runtime, campaign_id, participant[0])[:2] == ("active", "offer")
    assert replica(runtime, participant[0]).last_contact_on == date(2025, 3, 4)
    with runtime.engine.connect() as conn:
        inbox = orm.messaging.inbox
        assert conn.scalar(select(func.count()).select_from(inbox).where(inbox.c.event_id == outcome.id)) == 1
    moves = [m for m in outbox_data(runtime, events.PARTICIPANT_MOVED, "to_stage") if m == "offer"]
    assert moves == ["offer"]


def test_malformed_events_are_parked_and_change_nothing(runtime, consumer, broker, client):
    campaign_id, [participant] = running_campaign(runtime, client, 1)
    before = state(runtime, campaign_id, participant[0])
    send_raw(broker, CALLS, events.CALL_OUTCOME_RECORDED, "{not json", "broken-1")
    without_outcome = outcome_event(participant, campaign_id, "rejected")
    del without_outcome.data["outcome"]
    publish(broker, CALLS, without_outcome)

    parked = wait_for(lambda: parked_ids(broker, consumer.queue, 2))
    assert sorted(parked) == sorted(["broken-1", without_outcome.id])
    handled_marker(runtime, broker)
    assert state(runtime, campaign_id, participant[0]) == before
    assert replica(runtime, participant[0]).last_contact_on is None


def parked_ids(channel, queue: str, expected: int) -> list[str] | None:
    """The message ids in the parking queue once it holds `expected` messages (taking them out)."""
    if channel.queue_declare(parking_queue(queue), passive=True).method.message_count < expected:
        return None
    return [channel.basic_get(parking_queue(queue), auto_ack=True)[1].message_id for _ in range(expected)]


def test_a_stale_snapshot_of_a_participant_does_not_revive_it(runtime, consumer, broker, client):
    campaign_id, [(party_id, _)] = running_campaign(runtime, client, 1)
    publish(broker, CUSTOMERS, party_event("deactivated", party_id=party_id, version=3, lifecycle_state="inactive"))
    wait_for(lambda: state(runtime, campaign_id, party_id)[0] == "excluded")
    publish(broker, CUSTOMERS, party_event("updated", party_id=party_id, version=2, lifecycle_state="customer",
                                           occurred_at=datetime.now(UTC).isoformat()))
    handled_marker(runtime, broker)
    row = replica(runtime, party_id)
    assert (row.version, row.deactivated, row.lifecycle_state) == (3, True, "inactive")
