"""The publisher and the consumer on the real broker through pika: what reaches the broker is what was
published (properties, large and non-ASCII bodies, order), a nack fails the batch, exchanges are durable topic
exchanges, and the consumer takes at most its prefetch, acks a batch only after its transaction committed."""
from __future__ import annotations

import threading
import time
import uuid

import pika
import pika.exceptions
import pytest
from sqlalchemy import func, select

from crm_shared.broker import Outgoing, PublishFailed, Publisher, pika_parameters
from crm_shared.consumer import Delivery
from crm_shared.testing.pipeline import Running


@pytest.fixture
def channel(amqp_url):
    connection = pika.BlockingConnection(pika_parameters(amqp_url))
    yield connection.channel()
    connection.close()


def queue_bound_to(channel, exchange: str) -> str:
    name = f"watch.{uuid.uuid4().hex[:8]}"
    channel.exchange_declare(exchange, exchange_type="topic", durable=True)
    channel.queue_declare(name, exclusive=True)
    channel.queue_bind(name, exchange, routing_key="#")
    return name


def test_what_reaches_the_broker_is_what_was_published_in_order(amqp_url, channel):
    exchange = f"crm.sörvice-{uuid.uuid4().hex[:6]}"
    watch = queue_bound_to(channel, exchange)
    messages = [
        Outgoing(exchange, "crm.customers.party_registered.v1", b'{"id":"1"}', "id-1",
                 type="crm.customers.party_registered.v1"),
        Outgoing(exchange, "crm.customers.party_updated.v1", b"{}", "id-2", correlation_id="corr-9"),
        Outgoing(exchange, "retry", b"x" * 100, "id-3", type="t", correlation_id="c",
                 content_type="application/octet-stream", headers={"x-crm-attempts": 2, "x-crm-last-error": "boom"}),
        Outgoing(exchange, "k", "Grüße, a str body", "id-4"),
        Outgoing(exchange, "k", b"", "id-5"),
        Outgoing(exchange, "big", bytes(range(256)) * 1200, "id-6", type="big"),  # 307,200 bytes: > frame_max
        Outgoing(exchange, "crm.x.y_z.v1", "ünïcode".encode(), "ïd-8", type="crm.x.y_z.v1"),
    ]
    publisher = Publisher(amqp_url)
    try:
        publisher.publish(messages)
    finally:
        publisher.close()
    received = []
    while (got := channel.basic_get(watch, auto_ack=True))[0] is not None:
        received.append(Delivery.from_pika(*got))
    assert [d.message_id for d in received] == [m.message_id for m in messages]
    for sent, got in zip(messages, received, strict=True):
        assert got.body == sent.payload
        assert (got.routing_key, got.exchange, got.type, got.correlation_id, got.content_type, got.headers) == (
            sent.routing_key, exchange, sent.type, sent.correlation_id, sent.content_type, sent.headers)
    publisher = Publisher(amqp_url)
    publisher.publish([messages[3]])  # once more, to read pika's own view of the properties
    publisher.close()
    _method, properties, _body = channel.basic_get(watch, auto_ack=True)
    assert properties.delivery_mode == 2 and properties.content_encoding == "utf-8"
    channel.exchange_delete(exchange)


def test_exchanges_are_declared_durable_and_of_type_topic(amqp_url, channel):
    exchange = f"crm.t-{uuid.uuid4().hex[:6]}"
    Publisher(amqp_url).publish([Outgoing(exchange, "k", b"{}", "id")])
    channel.exchange_declare(exchange, exchange_type="topic", durable=True, passive=False)  # equivalent: fine
    with pytest.raises(pika.exceptions.ChannelClosedByBroker, match="PRECONDITION_FAILED"):
        channel.exchange_declare(exchange, exchange_type="topic", durable=False)
    connection = pika.BlockingConnection(pika_parameters(amqp_url))
    connection.channel().exchange_delete(exchange)
    connection.close()


def test_a_batch_the_broker_nacks_is_publish_failed_and_the_publisher_recovers(amqp_url, channel):
    full = f"full.{uuid.uuid4().hex[:8]}"
    channel.queue_declare(full, durable=True, arguments={"x-max-length": 0, "x-overflow": "reject-publish"})
    ok = f"ok.{uuid.uuid4().hex[:8]}"
    channel.queue_declare(ok, durable=True)
    publisher = Publisher(amqp_url)
    try:
        with pytest.raises(PublishFailed, match="refused 1 of 3"):
            publisher.publish([Outgoing("", ok, b"1", "a"), Outgoing("", full, b"2", "b"),
                               Outgoing("", ok, b"3", "c")])
        publisher.publish([Outgoing("", ok, b"4", "d")])
    finally:
        publisher.close()
        channel.queue_delete(full)
    bodies = []
    while (got := channel.basic_get(ok, auto_ack=True))[0] is not None:
        bodies.append(got[2])
    channel.queue_delete(ok)
    assert bodies == [b"1", b"3", b"4"]  # nothing claims "1" and "3" were published: the relay sends them again


def test_the_consumer_takes_at_most_its_prefetch_and_acks_every_batch_it_applied(messaging_pipeline, channel):
    pipeline = messaging_pipeline
    release, entered = threading.Event(), threading.Event()

    def held(session, event):
        entered.set()
        release.wait(20)

    consumer = pipeline.consumer(handler=held, batch_size=20)
    pipeline.produce(300)
    with Running(pipeline.relay(), consumer):
        assert entered.wait(15)

        def ready() -> int:
            return channel.queue_declare(pipeline.queue, passive=True).method.message_count
        deadline = time.monotonic() + 10
        while ready() != 260 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ready() == 260  # 300 published, 2 x batch_size delivered and unacked while the batch is held
        assert pipeline.effect_count() == 0
        release.set()
        assert pipeline.wait_for_effects(300) == 300
    # The consumer's connection is closed now: an unacked delivery would be back in the queue.
    time.sleep(0.3)
    assert ready() == 0
    with pipeline.consumer_engine.connect() as conn:
        inbox = pipeline.consumer_tables.inbox
        assert conn.execute(select(func.count()).select_from(inbox)).scalar_one() == 300
    assert pipeline.effect_count() == 300 and pipeline.distinct_effect_count() == 300
