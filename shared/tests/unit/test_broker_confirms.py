"""The relay's publisher on pika: a batch is done only when the broker has acked every delivery tag of it; a nack,
a timeout or a broker that never answers is PublishFailed. The confirm bookkeeping runs here on pika's real
ioloop with a channel that answers as a broker would (the integration tests use the real broker)."""
from __future__ import annotations

import socket
import threading
import time
from types import SimpleNamespace

import pytest
from pika.adapters.select_connection import IOLoop
from pika.spec import Basic

from crm_shared.broker import (KombuPublisher, Outgoing, PikaPublisher, PublishFailed, Publisher, pika_parameters,
                               settle)
from crm_shared.consumer import KombuSession, open_session


class FakeChannel:
    """Records basic_publish and answers each batch, on the ioloop, the way `answer(tags)` says."""

    def __init__(self, ioloop, publisher, answer):
        self.ioloop, self.publisher, self.answer = ioloop, publisher, answer
        self.published, self.batch = [], []

    def basic_publish(self, exchange, routing_key, body, properties):
        self.published.append((exchange, routing_key, body, properties))
        self.batch.append(len(self.published))
        if len(self.batch) == 1:
            self.ioloop.call_later(0.01, self._confirm)

    def _confirm(self):
        tags, self.batch = self.batch, []
        for method in self.answer(tags):
            self.publisher._on_confirm(SimpleNamespace(method=method))


def publisher_answering(answer, confirm_timeout=2.0):
    ioloop = IOLoop()
    publisher = PikaPublisher("amqp://guest:guest@127.0.0.1:5672//", confirm_timeout)
    publisher._conn = SimpleNamespace(ioloop=ioloop, is_open=True)
    publisher._channel = FakeChannel(ioloop, publisher, answer)
    publisher._confirming = True
    publisher._declared = {"crm.test"}
    return publisher


BATCH = [Outgoing("crm.test", "crm.test.thing_happened.v1", f'{{"i":{i}}}'.encode(), f"id-{i}") for i in range(5)]


def test_a_batch_returns_once_every_tag_is_acked_whether_one_by_one_or_multiple():
    one_by_one = publisher_answering(lambda tags: [Basic.Ack(delivery_tag=t) for t in tags])
    one_by_one.publish(BATCH)
    assert [p[2] for p in one_by_one._channel.published] == [m.body for m in BATCH]  # in order
    multiple = publisher_answering(lambda tags: [Basic.Ack(delivery_tag=tags[1], multiple=True),
                                                 Basic.Ack(delivery_tag=tags[-1], multiple=True)])
    multiple.publish(BATCH)
    multiple.publish(BATCH)  # the tags of a second batch continue the channel's count
    assert multiple._tag == 10 and multiple._pending == set()


def test_messages_are_persistent_and_carry_their_properties():
    publisher = publisher_answering(lambda tags: [Basic.Ack(delivery_tag=tags[-1], multiple=True)])
    publisher.publish([Outgoing("crm.test", "k", "Grüße", "id-1", correlation_id="c-1", type="t",
                                headers={"x-crm-attempts": 2}), Outgoing("crm.test", "k", b"{}", "id-2")])
    (_, _, body, props), (_, _, _, plain) = publisher._channel.published
    assert body == "Grüße".encode() and props.content_encoding == "utf-8"
    assert (props.delivery_mode, props.message_id, props.correlation_id, props.type, props.headers) == (
        2, "id-1", "c-1", "t", {"x-crm-attempts": 2})
    assert props.content_type == "application/cloudevents+json"
    assert (plain.delivery_mode, plain.correlation_id, plain.type, plain.headers, plain.content_encoding) == (
        2, None, None, None, None)


def test_one_nack_fails_the_whole_batch():
    publisher = publisher_answering(lambda tags: [Basic.Ack(delivery_tag=tags[2], multiple=True),
                                                  Basic.Nack(delivery_tag=tags[3]),
                                                  Basic.Ack(delivery_tag=tags[4])])
    with pytest.raises(PublishFailed, match="refused 1 of 5"):
        publisher.publish(BATCH)


def test_a_batch_not_confirmed_within_the_timeout_fails():
    publisher = publisher_answering(lambda tags: [Basic.Ack(delivery_tag=tags[-2], multiple=True)],
                                    confirm_timeout=0.3)
    started = time.monotonic()
    with pytest.raises(PublishFailed, match="1 of 5 messages unconfirmed"):
        publisher.publish(BATCH)
    assert 0.25 < time.monotonic() - started < 2


def test_settle_takes_one_tag_or_every_tag_up_to_a_multiple_one():
    assert settle({1, 2, 3}, 2, False) == {2}
    assert settle({1, 2, 3}, 2, True) == {1, 2}
    assert settle({4, 5}, 9, True) == {4, 5}
    assert settle({4, 5}, 3, True) == set() and settle({4, 5}, 3, False) == set()


def test_a_broker_that_never_answers_fails_the_publish_within_the_timeout():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    accepted = []
    threading.Thread(target=lambda: accepted.append(server.accept()), daemon=True).start()
    publisher = Publisher(f"amqp://guest:guest@127.0.0.1:{server.getsockname()[1]}//", confirm_timeout=0.5)
    started = time.monotonic()
    with pytest.raises(PublishFailed):
        publisher.publish(BATCH)
    assert time.monotonic() - started < 3
    server.close()


def test_a_refused_connection_is_publish_failed():
    with pytest.raises(PublishFailed, match="cannot connect"):
        Publisher("amqp://guest:guest@127.0.0.1:1//").publish(BATCH)


@pytest.mark.parametrize("field", ["exchange", "routing_key", "message_id", "type", "correlation_id"])
def test_a_name_longer_than_a_short_string_fails_before_anything_is_sent(field):
    values = {"exchange": "e", "routing_key": "k", "body": b"", "message_id": "id", field: "x" * 256}
    with pytest.raises(PublishFailed, match="short string"):  # not "cannot connect": nothing was tried
        Publisher("amqp://guest:guest@127.0.0.1:1//").publish([Outgoing(**values)])


def test_the_transport_is_chosen_by_the_url_scheme():
    assert isinstance(Publisher("amqp://guest:guest@h:5672//")._transport, PikaPublisher)
    assert isinstance(Publisher("amqps://guest:guest@h:5671//")._transport, PikaPublisher)
    assert isinstance(Publisher("memory://")._transport, KombuPublisher)
    session = open_session("memory://")
    try:
        assert isinstance(session, KombuSession)
    finally:
        session.close()


def test_pika_parameters_read_the_urls_the_services_are_configured_with():
    default = pika_parameters("amqp://guest:secret@rabbit:5673//", heartbeat=30)
    assert (default.host, default.port, default.virtual_host, default.heartbeat) == ("rabbit", 5673, "/", 30)
    assert (default.credentials.username, default.credentials.password) == ("guest", "secret")
    assert pika_parameters("pyamqp://u:p@h/crm").virtual_host == "crm"
    assert pika_parameters("amqp://u:p@h:5672/%2F").virtual_host == "/"
    assert pika_parameters("amqp://u:p@h:5672").virtual_host == "/"
    assert pika_parameters("amqps://u:p@h:5671/prod").ssl_options is not None
    assert pika_parameters("amqp://u:p@h:5672/").connection_attempts == 1
