"""The consumer end to end: real RabbitMQ, real PostgreSQL, suspect_imported published on crm.campaigns as
campaigns' relay does (CloudEvent JSON, routing key = type)."""
from __future__ import annotations

import threading
import uuid

import kombu
import pytest
from crm_shared.config import Settings
from crm_shared.consumer import parking_queue, retry_queue
from crm_shared.events import CloudEvent, new_event
from crm_shared.testing.consumers import wait_for
from sqlalchemy import func, select

from crm_customers.adapters.orm import messaging, parties
from crm_customers.bootstrap import build_runtime
from crm_customers.entrypoints.consumer import build_consumer
from crm_customers.entrypoints.suspect_events import SUSPECT_IMPORTED

CAMPAIGNS = kombu.Exchange("crm.campaigns", type="topic", durable=True)


@pytest.fixture
def runtime(fresh_database, amqp_url):
    settings = Settings.from_env("customers", database_url=fresh_database("customers"), amqp_url=amqp_url,
                                 retry_delays_ms=(200,))
    runtime = build_runtime(settings)
    runtime.migrate()
    yield runtime
    runtime.engine.dispose()


@pytest.fixture
def queue(runtime, amqp_url, unique_name):
    """A running consumer on a queue of its own (bound like customers.incoming-events); yields the queue name."""
    name = unique_name("customers-test.incoming-events")
    stop = threading.Event()
    thread = threading.Thread(target=build_consumer(runtime, queue=name).run_forever, args=(stop,), daemon=True)
    thread.start()
    wait_for(lambda: message_count(amqp_url, parking_queue(name)) is not None)  # declared after the bindings
    yield name
    stop.set()
    thread.join(timeout=10)
    with kombu.Connection(amqp_url) as conn:
        channel = conn.channel()
        for declared in (name, parking_queue(name), retry_queue(name, 1)):
            channel.queue_delete(queue=declared)


def message_count(amqp_url: str, name: str) -> int | None:
    """None while the queue does not exist."""
    with kombu.Connection(amqp_url) as conn:
        try:
            return conn.channel().queue_declare(queue=name, passive=True).message_count
        except Exception:  # noqa: BLE001 - the broker closes the channel when the queue is missing
            return None


@pytest.fixture
def publish(amqp_url):
    with kombu.Connection(amqp_url) as conn:
        producer = conn.Producer()

        def send(*events: CloudEvent) -> None:
            for event in events:
                producer.publish(event.to_json(), exchange=CAMPAIGNS, routing_key=event.type, declare=[CAMPAIGNS],
                                 content_type="application/cloudevents+json", content_encoding="utf-8",
                                 delivery_mode=2, message_id=event.id, type=event.type)
        yield send


def suspect(party_id: str | None = None, **overrides) -> CloudEvent:
    data = {"party_id": party_id or str(uuid.uuid4()), "kind": "company", "company_name": "Acme GmbH",
            "first_name": None, "last_name": None, "line_of_business": "retail",
            "address": {"street": "Hauptstr. 1", "postal_code": "10115", "city": "Berlin", "country": "DE"},
            "phone": "+49 30 1234567", "email": None, "attributes": {},
            "campaign_id": "c-1", "import_id": "imp-1", "row_number": 1, **overrides}
    return new_event(SUSPECT_IMPORTED, "crm.campaigns", data["party_id"], data)


def party_row(runtime, party_id: str):
    with runtime.engine.connect() as conn:
        return conn.execute(select(parties).where(parties.c.id == uuid.UUID(party_id))).first()


def registrations(runtime) -> list[CloudEvent]:
    outbox = messaging.outbox
    with runtime.engine.connect() as conn:
        bodies = conn.scalars(select(outbox.c.body).where(outbox.c.routing_key == "crm.customers.party_registered.v1")
                              .order_by(outbox.c.position)).all()
    return [CloudEvent.from_json(body) for body in bodies]


def test_an_imported_suspect_becomes_a_party_once_with_its_registration_in_the_outbox(runtime, amqp_url, queue,
                                                                                     publish):
    first = suspect()
    same_party_again = suspect(first.data["party_id"], company_name="Renamed AG")
    marker = suspect(company_name="Marker KG")
    publish(first, first, same_party_again, marker)
    wait_for(lambda: party_row(runtime, marker.data["party_id"]))  # FIFO: the ones before it are handled

    # The second event for the party was a quiet no-op, not a failure on its way to the parking queue.
    assert message_count(amqp_url, retry_queue(queue, 1)) == message_count(amqp_url, parking_queue(queue)) == 0

    row = party_row(runtime, first.data["party_id"])
    assert (row.display_name, row.lifecycle_state, row.primary_postal_code) == ("Acme GmbH", "suspect", "10115")
    registered = registrations(runtime)
    assert [e.subject for e in registered] == [first.data["party_id"], marker.data["party_id"]]
    assert registered[0].data["phones"] == [{"kind": "work", "number": "+49 30 1234567"}]
    assert registered[0].causationid == first.id
    with runtime.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(messaging.inbox)
                           .where(messaging.inbox.c.event_id == first.id)) == 1


def test_a_suspect_in_an_unknown_line_of_business_is_parked_and_registers_nothing(runtime, amqp_url, queue,
                                                                                  publish):
    refused = suspect(line_of_business="insurance")
    publish(refused)
    wait_for(lambda: message_count(amqp_url, parking_queue(queue)) == 1)

    assert party_row(runtime, refused.data["party_id"]) is None
    assert registrations(runtime) == []
