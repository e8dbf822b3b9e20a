"""A miniature producer and consumer on real PostgreSQL and RabbitMQ: tests, fault tests and benchmarks of
the plumbing alone use it."""
from __future__ import annotations

import random
import string
import threading
import time
from dataclasses import dataclass

import pika
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select

from crm_shared.broker import Publisher, pika_parameters
from crm_shared.consumer import EventConsumer, Subscription, batch_handler, parking_queue, retry_queue
from crm_shared.db import make_engine
from crm_shared.events import exchange_for, new_event
from crm_shared.messaging_tables import add_messaging_tables
from crm_shared.outbox import OutboxRelay, write_events


def letters(n=8):
    return "".join(random.choices(string.ascii_lowercase, k=n))


@dataclass
class Pipeline:
    service: str
    producer_engine: object
    consumer_engine: object
    producer_tables: object
    consumer_tables: object
    effects: Table
    amqp_url: str
    queue: str

    @property
    def event_type(self):
        return f"crm.{self.service}.thing_happened.v1"

    def produce(self, count: int, start: int = 0, **extra) -> list[str]:
        events = [new_event(self.event_type, f"crm.{self.service}", str(i), {"seq": i, **extra})
                  for i in range(start, start + count)]
        with self.producer_engine.begin() as conn:
            write_events(conn, self.producer_tables.outbox, self.service, events)
        return [e.id for e in events]

    def relay(self, publisher_url=None, batch_size=500) -> OutboxRelay:
        return OutboxRelay(self.producer_engine, self.producer_tables.outbox,
                           Publisher(publisher_url or self.amqp_url), self.service, batch_size=batch_size)

    def consumer(self, handler=None, retry_delays_ms=(50, 50), batch_size=200,
                 delay_per_event: float = 0.0) -> EventConsumer:
        """Applies events in batches (one multi-row INSERT), or one by one when a `handler` is given."""
        def apply_one(session, event):
            if delay_per_event:
                time.sleep(delay_per_event)
            if handler:
                handler(session, event)
            session.execute(insert(self.effects).values(event_id=event.id, seq=event.data["seq"]))

        @batch_handler
        def apply_batch(session, events):
            if delay_per_event:
                time.sleep(delay_per_event * len(events))
            session.execute(insert(self.effects), [{"event_id": e.id, "seq": e.data["seq"]} for e in events])

        apply = apply_one if handler else apply_batch
        consumer = EventConsumer(url=self.amqp_url, engine=self.consumer_engine,
                                 inbox=self.consumer_tables.inbox, queue=self.queue,
                                 subscriptions=[Subscription(exchange_for(self.service), ["#"])],
                                 handlers={self.event_type: apply}, retry_delays_ms=retry_delays_ms,
                                 batch_size=batch_size)
        consumer.declare()
        return consumer

    def effect_count(self) -> int:
        with self.consumer_engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(self.effects)).scalar_one()

    def distinct_effect_count(self) -> int:
        with self.consumer_engine.connect() as conn:
            return conn.execute(select(func.count(func.distinct(self.effects.c.event_id)))).scalar_one()

    def outbox_count(self) -> int:
        with self.producer_engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(self.producer_tables.outbox)).scalar_one()

    def wait_for_effects(self, expected: int, timeout: float = 30.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if (count := self.effect_count()) >= expected:
                return count
            time.sleep(0.05)
        return self.effect_count()


class Running:
    """Runs `target.run_forever(stop)` in a thread for the duration of a with-block."""

    def __init__(self, *targets):
        self.targets, self.stop, self.threads = targets, threading.Event(), []

    def __enter__(self):
        for target in self.targets:
            thread = threading.Thread(target=target.run_forever, args=(self.stop,), daemon=True)
            thread.start()
            self.threads.append(thread)
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=10)


def build_pipeline(producer_url: str, consumer_url: str, amqp_url: str, service: str | None = None,
                   create: bool = True) -> Pipeline:
    """`create=False` attaches to a pipeline another process built (same service name)."""
    service = service or letters()
    producer_meta, consumer_meta = MetaData(), MetaData()
    producer_tables = add_messaging_tables(producer_meta)
    consumer_tables = add_messaging_tables(consumer_meta)
    # No unique key on event_id on purpose: an event applied twice must show up as a count, not an error.
    effects = Table("effects", consumer_meta, Column("id", Integer, primary_key=True, autoincrement=True),
                    Column("event_id", String(64), nullable=False, index=True),
                    Column("seq", Integer, nullable=False))
    producer_engine = make_engine(producer_url)
    consumer_engine = make_engine(consumer_url)
    if create:
        producer_meta.create_all(producer_engine)
        consumer_meta.create_all(consumer_engine)
    return Pipeline(service, producer_engine, consumer_engine, producer_tables, consumer_tables, effects,
                    amqp_url, f"test.{service}-events")


def tear_down(pipeline: Pipeline) -> None:
    pipeline.producer_engine.dispose()
    pipeline.consumer_engine.dispose()
    connection = pika.BlockingConnection(pika_parameters(pipeline.amqp_url))
    try:
        channel = connection.channel()
        queue = pipeline.queue
        for name in [queue, parking_queue(queue), retry_queue(queue, 1), retry_queue(queue, 2)]:
            channel.queue_delete(name)
        channel.exchange_delete(exchange_for(pipeline.service))
    finally:
        connection.close()
