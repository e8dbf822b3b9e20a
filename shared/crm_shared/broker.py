"""Publishing to RabbitMQ with windowed publisher confirms, and the topology every service uses.

One confirm round-trip per message caps a publisher below 1,000 msg/s; here a whole batch is written and
the confirms are awaited together, so a batch costs one round-trip. On `amqp://` URLs this is pika's
asynchronous connection (`SelectConnection`, public API only: `basic_publish`, `confirm_delivery`'s ack/nack
callback, the connection's ioloop run until the batch is settled). The in-process `memory://` transport
(embedded mode only) is kombu's; it has no confirms and no TTL/dead-lettering; the same `Publisher` works on
it, chosen by the URL's scheme.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import kombu
import kombu.exceptions
import pika
import pika.exceptions
from pika.spec import Basic

log = logging.getLogger(__name__)
AMQP_SCHEMES = ("amqp", "amqps", "pyamqp")
CONNECTION_ERRORS = (OSError, pika.exceptions.AMQPError, kombu.exceptions.OperationalError)
CONNECT_TIMEOUT = 5.0


class PublishFailed(RuntimeError):
    """The broker did not confirm every message of a batch; none may be treated as published."""


def is_amqp(url: str) -> bool:
    return url.split(":", 1)[0] in AMQP_SCHEMES


def pika_parameters(url: str, heartbeat: int | None = None) -> pika.URLParameters:
    """pika's parameters for a broker URL as the services configure it (kombu's spelling: `amqp://h//` is the
    vhost `/`, pika wants it percent-encoded; `pyamqp://` is `amqp://`)."""
    parts = urlsplit(url)
    scheme = "amqps" if parts.scheme == "amqps" else "amqp"
    vhost = unquote(parts.path[1:]) if parts.path.startswith("/") else unquote(parts.path)
    path = "/" + quote(vhost or "/", safe="")
    params = pika.URLParameters(urlunsplit((scheme, parts.netloc, path, parts.query, "")))
    params.socket_timeout = CONNECT_TIMEOUT
    params.stack_timeout = CONNECT_TIMEOUT * 2
    params.connection_attempts = 1
    if heartbeat is not None:
        params.heartbeat = heartbeat
    return params


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

    @property
    def payload(self) -> bytes:
        return self.body if isinstance(self.body, bytes) else self.body.encode()


def topic_exchange(name: str) -> kombu.Exchange:
    return kombu.Exchange(name, type="topic", durable=True)


def check_short_strings(m: Outgoing) -> None:
    """AMQP short strings (names, ids, types) are at most 255 bytes; refused before anything is written."""
    for value in (m.exchange, m.routing_key, m.message_id, m.correlation_id, m.type, m.content_type):
        if value and len(value.encode()) > 255:
            raise PublishFailed(f"AMQP short string longer than 255 bytes: {value[:40]!r}...")


def pika_properties(m: Outgoing) -> pika.BasicProperties:
    """Persistent; only properties that carry something (a str body is sent UTF-8 encoded and says so)."""
    return pika.BasicProperties(
        content_type=m.content_type, delivery_mode=2, message_id=m.message_id,
        correlation_id=m.correlation_id or None, type=m.type or None, headers=dict(m.headers) or None,
        content_encoding=None if isinstance(m.body, bytes) else "utf-8")


class Publisher:
    """Publishes batches and returns only when the broker has confirmed all of them (persistent messages).

    The transport is chosen by the URL: pika for `amqp://`/`amqps://`, kombu for `memory://`."""

    def __init__(self, url: str, confirm_timeout: float = 15.0):
        self.url = url
        self.confirm_timeout = confirm_timeout
        self._transport = (PikaPublisher if is_amqp(url) else KombuPublisher)(url, confirm_timeout)

    def publish(self, messages: Sequence[Outgoing]) -> None:
        if not messages:
            return
        for m in messages:
            check_short_strings(m)
        try:
            self._transport.publish(messages)
        except PublishFailed:
            self.close()
            raise
        except CONNECTION_ERRORS as exc:
            self.close()
            raise PublishFailed(f"broker connection failed: {exc!r}") from exc

    def close(self) -> None:
        self._transport.close()


class PikaPublisher:
    """Windowed confirms on pika's SelectConnection: the batch is handed to `basic_publish`, then the ioloop
    runs until every delivery tag is acked or nacked, the connection fails, or `confirm_timeout` passes.

    The connection is kept between batches (no heartbeats: nothing runs the ioloop while the relay waits for
    the database); a connection the broker dropped meanwhile shows up as a failure of the next batch, which the
    relay retries on a new connection."""

    def __init__(self, url: str, confirm_timeout: float):
        self.params = pika_parameters(url, heartbeat=0)
        self.confirm_timeout = confirm_timeout
        self._conn: pika.SelectConnection | None = None
        self._channel = None
        self._confirming = False
        self._error: str | None = None
        self._declared: set[str] = set()
        self._tag = 0
        self._pending: set[int] = set()
        self._nacked: set[int] = set()
        self._condition: Callable[[], bool] | None = None
        self._closing = None

    # -- the batch ------------------------------------------------------------------------------------
    def publish(self, messages: Sequence[Outgoing]) -> None:
        self._ensure_connected()
        self._declare({m.exchange for m in messages if m.exchange} - self._declared)
        first = self._tag + 1
        self._tag += len(messages)
        self._pending, self._nacked = set(range(first, self._tag + 1)), set()
        publish = self._channel.basic_publish
        for m in messages:
            publish(m.exchange, m.routing_key, m.payload, pika_properties(m))
        self._run_until(lambda: not self._pending,
                        lambda: f"{len(self._pending)} of {len(messages)} messages unconfirmed "
                                f"after {self.confirm_timeout:.0f}s")
        if self._nacked:
            raise PublishFailed(f"broker refused {len(self._nacked)} of {len(messages)} messages")

    def close(self) -> None:
        conn, self._conn = self._conn, None
        self._channel, self._confirming, self._error = None, False, None
        self._declared.clear()
        if conn is None:
            return
        try:
            if not (conn.is_closing or conn.is_closed):
                conn.close()
                timer = conn.ioloop.call_later(2.0, conn.ioloop.stop)
                self._closing = conn
                conn.ioloop.start()  # until the close handshake is done (or 2 s)
                conn.ioloop.remove_timeout(timer)
        except Exception:  # noqa: BLE001 - closing a broken connection may fail in many ways
            pass
        finally:
            self._closing = None
            try:
                conn.ioloop.close()
            except Exception:  # noqa: BLE001
                pass

    # -- connection -----------------------------------------------------------------------------------
    def _ensure_connected(self) -> None:
        if self._conn is not None and self._error is None and self._conn.is_open:
            return
        if self._conn is not None:
            self.close()
        self._tag = 0
        self._conn = pika.SelectConnection(self.params, on_open_callback=self._on_open,
                                           on_open_error_callback=self._on_open_error,
                                           on_close_callback=self._on_closed)
        self._run_until(lambda: self._confirming, lambda: "no connection to the broker within "
                                                          f"{self.confirm_timeout:.0f}s")

    def _on_open(self, conn) -> None:
        if conn is self._conn:
            conn.channel(on_open_callback=self._on_channel)

    def _on_channel(self, channel) -> None:
        self._channel = channel
        channel.add_on_close_callback(self._on_channel_closed)
        channel.confirm_delivery(ack_nack_callback=self._on_confirm, callback=self._on_confirm_selected)

    def _on_confirm_selected(self, _frame) -> None:
        self._confirming = True
        self._poke()

    def _on_open_error(self, conn, exc) -> None:
        self._failed(conn, f"cannot connect to the broker: {exc!r}")

    def _on_closed(self, conn, exc) -> None:
        if conn is self._closing:
            conn.ioloop.stop()
        self._failed(conn, f"broker connection closed: {exc!r}")

    def _on_channel_closed(self, channel, exc) -> None:
        if channel is self._channel:
            self._failed(self._conn, f"broker closed the channel: {exc!r}")

    def _failed(self, conn, reason: str) -> None:
        if conn is self._conn and self._error is None:
            self._error = reason
        self._poke()

    # -- declarations and confirms --------------------------------------------------------------------
    def _declare(self, exchanges: set[str]) -> None:
        for name in exchanges:
            self._channel.exchange_declare(exchange=name, exchange_type="topic", durable=True,
                                           callback=lambda _frame, name=name: self._on_declared(name))
        if exchanges:
            self._run_until(lambda: exchanges <= self._declared,
                            lambda: f"exchanges {sorted(exchanges - self._declared)} not declared")

    def _on_declared(self, name: str) -> None:
        self._declared.add(name)
        self._poke()

    def _on_confirm(self, frame) -> None:
        method = frame.method
        settled = settle(self._pending, method.delivery_tag, method.multiple)
        self._pending -= settled
        if isinstance(method, Basic.Nack):
            self._nacked |= settled
        self._poke()

    # -- running the ioloop ---------------------------------------------------------------------------
    def _run_until(self, condition: Callable[[], bool], describe: Callable[[], str]) -> None:
        """Runs the connection's ioloop until `condition()` holds, the connection fails, or the timeout."""
        if self._error is None and condition():
            return
        ioloop = self._conn.ioloop
        self._condition = condition
        timer = ioloop.call_later(self.confirm_timeout, ioloop.stop)
        try:
            ioloop.start()
        finally:
            ioloop.remove_timeout(timer)
            self._condition = None
        if self._error is not None:
            raise PublishFailed(self._error)
        if not condition():
            raise PublishFailed(describe())

    def _poke(self) -> None:
        """Called by every callback: stops the ioloop once what `_run_until` waits for has happened."""
        if self._conn is not None and (self._error is not None or (self._condition and self._condition())):
            self._conn.ioloop.stop()


def settle(pending: set[int], delivery_tag: int, multiple: bool) -> set[int]:
    """The pending delivery tags a basic.ack/basic.nack settles (`multiple`: every tag up to this one)."""
    if not multiple:
        return {delivery_tag} & pending
    if pending and delivery_tag >= max(pending):
        return set(pending)
    return {t for t in pending if t <= delivery_tag}


class KombuPublisher:
    """kombu's in-process `memory://` transport (embedded mode): no confirms, a publish is delivered at once."""

    def __init__(self, url: str, confirm_timeout: float):
        self.url = url
        self._conn: kombu.Connection | None = None
        self._channel = None
        self._declared: set[str] = set()

    def publish(self, messages: Sequence[Outgoing]) -> None:
        if self._conn is None:
            self._conn = kombu.Connection(self.url, connect_timeout=CONNECT_TIMEOUT)
            self._conn.connect()
            self._channel = self._conn.channel()
        for name in {m.exchange for m in messages} - self._declared:
            if name:
                topic_exchange(name).declare(channel=self._channel)
            self._declared.add(name)
        producer = kombu.Producer(self._channel)
        for m in messages:
            producer.publish(
                m.payload, exchange=m.exchange, routing_key=m.routing_key, content_type=m.content_type,
                content_encoding="utf-8", message_id=m.message_id, correlation_id=m.correlation_id, type=m.type,
                headers=dict(m.headers), delivery_mode=2, serializer=None)

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.release()
            except Exception:  # noqa: BLE001
                pass
        self._conn = None
        self._channel = None
        self._declared.clear()
