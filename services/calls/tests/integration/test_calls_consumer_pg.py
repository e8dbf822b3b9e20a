"""The consumer end to end: real RabbitMQ, real PostgreSQL, events published as the customers service does."""
from __future__ import annotations

import pytest
from calls_factories import event, link_data, party_event, snapshot
from crm_shared.broker import Outgoing, Publisher
from crm_shared.config import Settings
from crm_shared.testing.consumers import running_consumer, wait_for
from sqlalchemy import func, select

from crm_calls.adapters.orm import contact_link_replica, customer_replica, messaging
from crm_calls.bootstrap import build_runtime
from crm_calls.domain import events
from crm_calls.entrypoints.consumer import build_consumer


@pytest.fixture
def runtime(fresh_database, amqp_url):
    settings = Settings.from_env("calls", database_url=fresh_database("calls"), amqp_url=amqp_url,
                                 retry_delays_ms=(200,))
    runtime = build_runtime(settings)
    runtime.migrate()
    yield runtime
    runtime.engine.dispose()


@pytest.fixture
def consumer(runtime, amqp_url, unique_name):
    """The service's own consumer on a queue of this test's, so no other consumer takes its messages."""
    queue = unique_name("calls-test.incoming-events")
    with running_consumer(build_consumer(runtime, queue=queue), amqp_url, queue, retry_levels=3) as running:
        yield running


@pytest.fixture
def publish(amqp_url):
    publisher = Publisher(amqp_url)

    def send(*cloud_events):
        publisher.publish([Outgoing(exchange="crm.customers", routing_key=e.type, body=e.to_json(),
                                    message_id=e.id, type=e.type) for e in cloud_events])
    yield send
    publisher.close()


def replica(runtime, party_id):
    with runtime.engine.connect() as conn:
        return conn.execute(select(customer_replica).where(customer_replica.c.party_id == party_id)).first()


def test_published_events_build_the_replica(runtime, consumer, publish):
    party_id = snapshot()["party_id"]
    publish(party_event("registered", party_id=party_id, version=1),
            party_event("updated", party_id=party_id, version=2, display_name="Acme AG"),
            party_event("lifecycle", party_id=party_id, version=3, lifecycle_state="customer", customer_number="C-7",
                        display_name="Acme AG"))
    row = wait_for(lambda: (r := replica(runtime, party_id)) is not None and r.version == 3 and r)
    assert (row.display_name, row.lifecycle_state, row.customer_number) == ("Acme AG", "customer", "C-7")


def test_out_of_order_events_leave_the_newest_version(runtime, consumer, publish):
    party_id = snapshot()["party_id"]
    publish(party_event("deactivated", party_id=party_id, version=4, lifecycle_state="inactive"))
    wait_for(lambda: replica(runtime, party_id) is not None)
    publish(party_event("updated", party_id=party_id, version=2, display_name="stale"),
            party_event("registered", party_id=party_id, version=1))
    marker = party_event("registered")
    publish(marker)  # the queue is FIFO: once this is in, the stale ones have been handled
    wait_for(lambda: replica(runtime, marker.data["party_id"]) is not None)
    row = replica(runtime, party_id)
    assert (row.version, row.deactivated, row.lifecycle_state, row.display_name) == (4, True, "inactive", "Acme GmbH")


def test_a_redelivered_event_is_applied_once(runtime, consumer, publish):
    calls = []
    handler = consumer.handlers[events.CONTACT_LINKED]
    consumer.handlers[events.CONTACT_LINKED] = lambda session, e: (calls.append(e.id), handler(session, e))
    linked = event(events.CONTACT_LINKED, link_data())
    publish(linked)
    publish(linked)
    marker = party_event("registered")
    publish(marker)
    wait_for(lambda: replica(runtime, marker.data["party_id"]) is not None)
    assert calls == [linked.id]
    with runtime.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(messaging.inbox)
                           .where(messaging.inbox.c.event_id == linked.id)) == 1
        link = conn.execute(select(contact_link_replica)).one()
    assert (link.link_id, link.unlinked) == (linked.data["link_id"], False)


def test_contact_unlink_is_replicated(runtime, consumer, publish):
    data = link_data()
    publish(event(events.CONTACT_LINKED, data),
            event(events.CONTACT_UNLINKED, {k: data[k] for k in ("link_id", "person_id", "company_id")}))

    def unlinked():
        with runtime.engine.connect() as conn:
            row = conn.execute(select(contact_link_replica)).first()
        return row is not None and row.unlinked
    wait_for(unlinked)
