"""Embedded mode's transport (kombu `memory://`) behind the same Publisher and EventConsumer as pika's: events
are applied once, a failing one is retried on the main queue (no TTL queues here) and then parked."""
from __future__ import annotations

import uuid

from prometheus_client import REGISTRY
from sqlalchemy import MetaData, create_engine, func, select, text

from crm_shared.broker import Outgoing, Publisher
from crm_shared.consumer import EventConsumer, Subscription
from crm_shared.events import CloudEvent
from crm_shared.messaging_tables import add_messaging_tables
from crm_shared.parking import list_parked
from crm_shared.testing.consumers import wait_for
from crm_shared.testing.pipeline import Running

EVENT = "crm.memtest.thing_happened.v1"


def test_events_flow_once_and_a_poison_one_is_parked_on_the_memory_transport(tmp_path):
    metadata = MetaData()
    tables = add_messaging_tables(metadata)
    engine = create_engine(f"sqlite:///{tmp_path}/c.db")
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE seen (event_id TEXT, n INTEGER)"))

    def apply(session, event):
        if event.data.get("poison"):
            raise ValueError("cannot apply this one")
        session.execute(text("INSERT INTO seen VALUES (:id, :n)"), {"id": event.id, "n": event.data["n"]})

    queue, exchange = f"mem.{uuid.uuid4().hex[:8]}", f"crm.memtest-{uuid.uuid4().hex[:6]}"
    consumer = EventConsumer(url="memory://", engine=engine, inbox=tables.inbox, queue=queue,
                             subscriptions=[Subscription(exchange, ["#"])], handlers={EVENT: apply},
                             retry_delays_ms=(10, 10))
    consumer.declare()
    events = [CloudEvent(type=EVENT, source="crm.memtest", subject=str(i), data={"n": i, "poison": i == 7})
              for i in range(20)]
    publisher = Publisher("memory://")
    publisher.publish([Outgoing(exchange, e.type, e.to_json(), e.id) for e in events])
    publisher.publish([Outgoing(exchange, events[0].type, events[0].to_json(), events[0].id)])  # a redelivery

    def seen() -> int:
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(text("seen"))).scalar_one()

    def parked_count() -> float:
        return REGISTRY.get_sample_value("crm_consumer_parked_total", {"consumer": queue}) or 0

    with Running(consumer):
        wait_for(lambda: seen() == 19 and parked_count() == 1)
    assert REGISTRY.get_sample_value("crm_consumer_retried_total", {"consumer": queue}) == 2
    # (on the memory transport a listing takes the messages it lists: read it once, after the consumer stopped)
    parked = list_parked("memory://", queue)
    assert [p.message_id for p in parked] == [events[7].id]
    assert parked[0].attempts == 3 and "cannot apply this one" in parked[0].reason
    assert seen() == 19
