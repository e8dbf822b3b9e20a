"""Publishing to RabbitMQ with windowed publisher confirms, and the topology every service uses.

One confirm round-trip per message caps a publisher below 1,000 msg/s; here a whole batch is written and
the confirms are awaited together, so a batch costs one round-trip. The in-process `memory://` transport
(embedded mode only) has no confirms and no TTL/dead-lettering; the same API works on it.
"""
from __future__ import annotations

import logging
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
        # py-amqp reads incoming frames inside basic_publish, so a tag must be pending before it is sent.
        self._pending, self._nacked = set(), set()
        for m in messages:
            self._tag += 1
            self._pending.add(self._tag)
            self._channel.basic_publish(_amqp_message(m), exchange=m.exchange, routing_key=m.routing_key)
        deadline = time.monotonic() + self.confirm_timeout
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
        settled = {t for t in self._pending if t <= delivery_tag} if multiple else {delivery_tag}
        self._pending -= settled
        return settled

    def _on_ack(self, delivery_tag, multiple):
        self._settle(delivery_tag, multiple)

    def _on_nack(self, delivery_tag, multiple):
        self._nacked |= self._settle(delivery_tag, multiple)


def _amqp_message(m: Outgoing) -> amqp.Message:
    # Only properties that carry something: py-amqp serialises each one per message, in Python.
    properties = {"content_type": m.content_type, "delivery_mode": 2, "message_id": m.message_id}
    if m.headers:
        properties["application_headers"] = dict(m.headers)
    if m.correlation_id:
        properties["correlation_id"] = m.correlation_id
    if m.type:
        properties["type"] = m.type
    return amqp.Message(m.body, **properties)
