"""Publishing to RabbitMQ with windowed publisher confirms, and the topology every service uses.

One confirm round-trip per message caps a publisher below 1,000 msg/s; here a whole batch is written and
the confirms are awaited together, so a batch costs one round-trip. The in-process `memory://` transport
(embedded mode only) has no confirms and no TTL/dead-lettering; the same API works on it.
"""
from __future__ import annotations

import logging
import struct
import time
from dataclasses import dataclass, field
from collections.abc import Sequence

import amqp
import kombu

log = logging.getLogger(__name__)
AMQP_SCHEMES = ("amqp", "amqps", "pyamqp")
CONNECTION_ERRORS = (OSError, amqp.exceptions.AMQPError, amqp.exceptions.RecoverableConnectionError)


class PublishFailed(RuntimeError):
    """The broker did not confirm every message of a batch; none may be treated as published."""


def is_amqp(url: str) -> bool:
    return url.split(":", 1)[0] in AMQP_SCHEMES


@dataclass(frozen=True)
class Outgoing:
    exchange: str
    routing_key: str
    body: bytes | str
    message_id: str
    correlation_id: str | None = None
    type: str | None = None
    content_type: str = "application/cloudevents+json"
    headers: dict = field(default_factory=dict)


def topic_exchange(name: str) -> kombu.Exchange:
    return kombu.Exchange(name, type="topic", durable=True)


class Publisher:
    """Publishes batches and returns only when the broker has confirmed all of them (persistent messages)."""

    def __init__(self, url: str, confirm_timeout: float = 15.0):
        self.url = url
        self.confirm_timeout = confirm_timeout
        self._conn: kombu.Connection | None = None
        self._channel = None
        self._declared: set[str] = set()
        self._tag = 0
        self._pending: set[int] = set()
        self._nacked: set[int] = set()

    def publish(self, messages: Sequence[Outgoing]) -> None:
        if not messages:
            return
        try:
            self._ensure_connected()
            self._declare([m.exchange for m in messages])
            if is_amqp(self.url):
                self._publish_confirmed(messages)
            else:
                self._publish_memory(messages)
        except PublishFailed:
            self.close()
            raise
        except CONNECTION_ERRORS as exc:
            self.close()
            raise PublishFailed(f"broker connection failed: {exc}") from exc

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.release()
            except Exception:  # noqa: BLE001 - closing a broken connection may fail in many ways
                pass
        self._conn = None
        self._channel = None
        self._declared.clear()

    def _ensure_connected(self) -> None:
        if self._conn is not None:
            return
        self._conn = kombu.Connection(self.url, connect_timeout=5, heartbeat=0)
        self._conn.connect()
        self._channel = self._conn.channel()
        self._tag = 0
        if is_amqp(self.url):
            self._channel.confirm_select()
            self._channel.events["basic_ack"].add(self._on_ack)
            self._channel.events["basic_nack"].add(self._on_nack)

    def _declare(self, exchanges: Sequence[str]) -> None:
        for name in set(exchanges) - self._declared:
            if name:
                topic_exchange(name).declare(channel=self._channel)
            self._declared.add(name)

    def _publish_confirmed(self, messages: Sequence[Outgoing]) -> None:
        # The whole batch is encoded into one buffer and written with one sendall: py-amqp's basic_publish
        # costs a frame serialisation, a non-blocking read and a socket write per message.
        amqp_conn = self._conn.connection
        frames = encode_publishes(messages, self._channel.channel_id, amqp_conn.frame_max)
        first = self._tag + 1
        self._tag += len(messages)
        self._pending, self._nacked = set(range(first, self._tag + 1)), set()
        deadline = time.monotonic() + self.confirm_timeout
        try:
            # A broker that stops reading (resource alarm) must not block the relay forever.
            with amqp_conn.transport.having_timeout(self.confirm_timeout):
                amqp_conn.transport.write(frames)
        except TimeoutError as exc:
            raise PublishFailed(f"broker did not take {len(messages)} messages within "
                                f"{self.confirm_timeout:.0f}s") from exc
        amqp_conn.bytes_sent += 1  # heartbeat bookkeeping, as py-amqp's own writer does
        while self._pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise PublishFailed(f"{len(self._pending)} of {len(messages)} messages unconfirmed")
            try:
                self._conn.drain_events(timeout=remaining)
            except TimeoutError:
                continue
        if self._nacked:
            raise PublishFailed(f"broker refused {len(self._nacked)} of {len(messages)} messages")

    def _publish_memory(self, messages: Sequence[Outgoing]) -> None:
        producer = kombu.Producer(self._channel)
        for m in messages:
            producer.publish(
                m.body if isinstance(m.body, bytes) else m.body.encode(),
                exchange=m.exchange,
                routing_key=m.routing_key,
                content_type=m.content_type,
                content_encoding="utf-8",
                message_id=m.message_id,
                correlation_id=m.correlation_id,
                type=m.type,
                headers=dict(m.headers),
                delivery_mode=2,
                serializer=None,
            )

    def _settle(self, delivery_tag: int, multiple: bool) -> set[int]:
        if not multiple:
            settled = {delivery_tag} & self._pending
        elif len(self._pending) and delivery_tag >= max(self._pending):
            settled = self._pending
        else:
            settled = {t for t in self._pending if t <= delivery_tag}
        self._pending = self._pending - settled
        return settled

    def _on_ack(self, delivery_tag, multiple):
        self._settle(delivery_tag, multiple)

    def _on_nack(self, delivery_tag, multiple):
        self._nacked |= self._settle(delivery_tag, multiple)


# -- AMQP 0-9-1 framing of basic.publish (method frame, content header frame, body frames) -----------------
_FRAME_END = b"\xce"
_BASIC_PUBLISH = struct.pack(">HHH", 60, 40, 0)  # class basic, method publish, reserved-1 (ticket)
_FLAG_CONTENT_TYPE, _FLAG_DELIVERY_MODE = 1 << 15, 1 << 12
_FLAG_CORRELATION_ID, _FLAG_MESSAGE_ID, _FLAG_TYPE = 1 << 10, 1 << 7, 1 << 5
_pack_frame_header = struct.Struct(">BHI").pack
_pack_content_header = struct.Struct(">HHQ").pack


def _shortstr(value: str) -> bytes:
    raw = value.encode()
    if len(raw) > 255:
        raise PublishFailed(f"AMQP short string longer than 255 bytes: {value[:40]!r}...")
    return bytes((len(raw),)) + raw


def _properties(m: Outgoing) -> bytes:
    """The content header's property flags and list, for the properties `_amqp_message` would send."""
    if m.headers or not isinstance(m.body, bytes):
        # Rare here (retries, parking, tests): let py-amqp serialise the header table and the encoding.
        return _amqp_message(m)._serialize_properties()
    flags = _FLAG_CONTENT_TYPE | _FLAG_DELIVERY_MODE | _FLAG_MESSAGE_ID
    parts = [_shortstr(m.content_type), b"\x02"]
    if m.correlation_id:
        flags |= _FLAG_CORRELATION_ID
        parts.append(_shortstr(m.correlation_id))
    parts.append(_shortstr(m.message_id))
    if m.type:
        flags |= _FLAG_TYPE
        parts.append(_shortstr(m.type))
    return struct.pack(">H", flags) + b"".join(parts)


def encode_publishes(messages: Sequence[Outgoing], channel: int, frame_max: int) -> bytes:
    """The bytes py-amqp would write for `basic_publish` of each message (persistent, not mandatory), in order.
    Bodies longer than a frame are split into frames of at most frame_max - 8 bytes, as the protocol wants."""
    out = []
    append = out.append
    chunk = frame_max - 8
    for m in messages:
        body = m.body if isinstance(m.body, bytes) else m.body.encode()
        method = b"".join((_BASIC_PUBLISH, _shortstr(m.exchange), _shortstr(m.routing_key), b"\x00"))
        header = _pack_content_header(60, 0, len(body)) + _properties(m)
        append(_pack_frame_header(1, channel, len(method)))
        append(method)
        append(_FRAME_END)
        append(_pack_frame_header(2, channel, len(header)))
        append(header)
        append(_FRAME_END)
        for start in range(0, len(body), chunk):
            part = body[start:start + chunk]
            append(_pack_frame_header(3, channel, len(part)))
            append(part)
            append(_FRAME_END)
    return b"".join(out)


def _amqp_message(m: Outgoing) -> amqp.Message:
    # Only properties that carry something. Kept in step with `_properties` (a test compares the bytes).
    properties = {"content_type": m.content_type, "delivery_mode": 2, "message_id": m.message_id}
    if m.headers:
        properties["application_headers"] = dict(m.headers)
    if m.correlation_id:
        properties["correlation_id"] = m.correlation_id
    if m.type:
        properties["type"] = m.type
    if not isinstance(m.body, bytes):
        properties["content_encoding"] = "utf-8"  # what py-amqp adds when it encodes a str body itself
    return amqp.Message(m.body, **properties)
