"""The relay writes basic.publish frames itself (one write per batch); they must be the bytes py-amqp writes."""
from types import SimpleNamespace

import pytest
from amqp import spec
from amqp.method_framing import frame_writer
from amqp.serialization import dumps

from crm_shared.broker import Outgoing, PublishFailed, _amqp_message, encode_publishes

FRAME_MAX = 4096

MESSAGES = [
    Outgoing("crm.customers", "crm.customers.party_registered.v1", b'{"id":"1"}', "id-1",
             type="crm.customers.party_registered.v1"),
    Outgoing("crm.customers", "crm.customers.party_updated.v1", b"{}", "id-2", correlation_id="corr-9"),
    Outgoing("", "calls.customer-events.retry.1", b"x" * 100, "id-3", type="t", correlation_id="c",
             content_type="application/octet-stream", headers={"x-crm-attempts": 2, "x-crm-last-error": "boom"}),
    Outgoing("crm.customers", "k", "Grüße, a str body", "id-4"),
    Outgoing("crm.customers", "k", b"", "id-5"),
    Outgoing("crm.customers", "big", bytes(range(256)) * 40, "id-6", type="big"),  # 10,240 bytes: 3 body frames
    Outgoing("crm.customers", "edge", b"e" * (FRAME_MAX - 8), "id-7"),  # one full body frame
    Outgoing("crm.sörvice", "crm.x.y_z.v1", "ünïcode".encode(), "ïd-8", type="crm.x.y_z.v1"),
]


def py_amqp_bytes(messages, channel=7):
    written = []
    connection = SimpleNamespace(frame_max=FRAME_MAX, bytes_sent=0)
    write_frame = frame_writer(connection, SimpleNamespace(write=lambda data: written.append(bytes(data))))
    for m in messages:
        args = dumps("Bssbb", (0, m.exchange, m.routing_key, False, False))
        write_frame(1, channel, spec.Basic.Publish, args, _amqp_message(m))
    return b"".join(written)


@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: m.message_id)
def test_each_message_is_framed_exactly_as_py_amqp_frames_it(message):
    assert encode_publishes([message], 7, FRAME_MAX) == py_amqp_bytes([message])


def test_a_batch_is_the_concatenation_of_its_messages():
    assert encode_publishes(MESSAGES, 3, FRAME_MAX) == py_amqp_bytes(MESSAGES, channel=3)


def test_a_name_longer_than_a_short_string_fails_the_publish():
    with pytest.raises(PublishFailed):
        encode_publishes([Outgoing("x" * 256, "k", b"", "id")], 1, FRAME_MAX)
