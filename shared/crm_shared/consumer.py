"""An idempotent, batching event consumer with bounded retries and a parking queue.

For each batch: one database transaction records the event ids in the inbox (ON CONFLICT DO NOTHING) and
applies the handlers to the events not seen before; then the messages are acked. If the batch fails, each
message is tried alone so one poison message cannot hold back the others. A message that fails goes to a
retry queue whose TTL dead-letters it back after a delay; after the last delay it is parked, with the
reason, in `<queue>.parked`, from where `crm-parked replay` puts it back.

On `amqp://` URLs the consumer reads through pika's BlockingConnection (public API: `basic_qos`,
`basic_consume`, `process_data_events`, `basic_ack`); on `memory://` (embedded mode) through kombu's
in-process transport. `open_session` chooses by the URL's scheme; the batching, inbox and failure handling
above are the same on both.
"""
from __future__ import annotations

import logging
import threading
import time
import traceback
from dataclasses import dataclass
from datetime import datetime, UTC
from collections.abc import Callable, Mapping, Sequence

import kombu
import pika
from prometheus_client import Counter
from sqlalchemy import Table, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from crm_shared import context
from crm_shared.broker import (CONNECTION_ERRORS, Outgoing, PublishFailed, Publisher, is_amqp, pika_parameters,
                               topic_exchange)
from crm_shared.db import insert_ignoring_duplicates
from crm_shared.events import CloudEvent, MalformedEvent
from crm_shared.retry import retry_transient

log = logging.getLogger(__name__)
HANDLED = Counter("crm_consumer_handled_total", "Events applied by a consumer", ["consumer"])
DUPLICATES = Counter("crm_consumer_duplicates_total", "Redelivered events skipped by the inbox", ["consumer"])
RETRIED = Counter("crm_consumer_retried_total", "Messages sent to a retry queue", ["consumer"])
PARKED = Counter("crm_consumer_parked_total", "Messages parked after their last attempt", ["consumer"])

Handler = Callable[[Session, CloudEvent], None]
ATTEMPTS_HEADER = "x-crm-attempts"


@dataclass(frozen=True)
class Subscription:
    exchange: str
    routing_keys: Sequence[str]


def retry_queue(queue: str, attempt: int) -> str:
    return f"{queue}.retry.{attempt}"


def parking_queue(queue: str) -> str:
    return f"{queue}.parked"


def declare_topology(channel, queue: str, subscriptions: Sequence[Subscription],
                     retry_delays_ms: Sequence[int], amqp_features: bool) -> None:
    """Declares the queue, its bindings, the parking queue and (AMQP only) the retry queues on a pika
    `BlockingChannel`, or on a kombu channel of the memory transport (`amqp_features=False`)."""
    if not amqp_features:
        _declare_kombu_topology(channel, queue, subscriptions)
        return
    channel.queue_declare(queue=queue, durable=True)
    for sub in subscriptions:
        channel.exchange_declare(exchange=sub.exchange, exchange_type="topic", durable=True)
        for key in sub.routing_keys:
            channel.queue_bind(queue=queue, exchange=sub.exchange, routing_key=key)
    channel.queue_declare(queue=parking_queue(queue), durable=True)
    for attempt, delay in enumerate(retry_delays_ms, start=1):
        channel.queue_declare(
            queue=retry_queue(queue, attempt), durable=True,
            arguments={"x-message-ttl": int(delay), "x-dead-letter-exchange": "",
                       "x-dead-letter-routing-key": queue},
        )


def _declare_kombu_topology(channel, queue: str, subscriptions: Sequence[Subscription]) -> None:
    main = kombu.Queue(queue, durable=True, auto_delete=False)
    main.maybe_bind(channel)
    main.declare()
    for sub in subscriptions:
        topic_exchange(sub.exchange).declare(channel=channel)
        for key in sub.routing_keys:
            channel.queue_bind(queue=queue, exchange=sub.exchange, routing_key=key)
    parked = kombu.Queue(parking_queue(queue), durable=True, auto_delete=False)
    parked.maybe_bind(channel)
    parked.declare()


@dataclass(frozen=True)
class Delivery:
    """A received message, whichever transport brought it; `token` is what that transport acks with."""
    body: bytes
    message_id: str | None
    correlation_id: str | None
    type: str | None
    content_type: str | None
    headers: dict
    exchange: str
    routing_key: str
    token: object = None

    @classmethod
    def from_pika(cls, method, properties, body: bytes) -> Delivery:
        return cls(body=body, message_id=properties.message_id, correlation_id=properties.correlation_id,
                   type=properties.type, content_type=properties.content_type, headers=properties.headers or {},
                   exchange=method.exchange or "", routing_key=method.routing_key or "",
                   token=method.delivery_tag)

    @classmethod
    def from_kombu(cls, message) -> Delivery:
        body = message.body if isinstance(message.body, bytes) else str(message.body).encode()
        props, info = message.properties, message.delivery_info
        return cls(body=body, message_id=props.get("message_id"), correlation_id=props.get("correlation_id"),
                   type=props.get("type"), content_type=message.content_type, headers=message.headers or {},
                   exchange=info.get("exchange") or "", routing_key=info.get("routing_key") or "",
                   token=message)


class PikaSession:
    """A consuming connection on pika's BlockingConnection: prefetch, `basic_consume` into a buffer,
    `process_data_events` (bulk reads, heartbeats answered by pika), one multiple-ack per batch."""

    def __init__(self, url: str, prefetch: int, heartbeat: int = 30):
        self.connection = pika.BlockingConnection(pika_parameters(url, heartbeat=heartbeat))
        self.channel = self.connection.channel()
        if prefetch:
            self.channel.basic_qos(prefetch_count=prefetch)

    def declare(self, queue: str, subscriptions: Sequence[Subscription], retry_delays_ms: Sequence[int]) -> None:
        declare_topology(self.channel, queue, subscriptions, retry_delays_ms, amqp_features=True)

    def consume(self, queue: str, on_delivery: Callable[[Delivery], None]) -> None:
        self.channel.basic_consume(
            queue, lambda _channel, method, properties, body: on_delivery(Delivery.from_pika(method, properties,
                                                                                             body)))

    def read(self, timeout: float) -> None:
        self.connection.process_data_events(time_limit=timeout)

    def ack(self, batch: Sequence[Delivery]) -> None:
        self.channel.basic_ack(batch[-1].token, multiple=True)

    def close(self) -> None:
        try:
            if self.connection.is_open:
                self.connection.close()  # unacked deliveries go back to the queue
        except Exception:  # noqa: BLE001 - closing a broken connection may fail in many ways
            pass


class KombuSession:
    """The same on kombu's in-process `memory://` transport (embedded mode)."""

    def __init__(self, url: str, prefetch: int):
        self.connection = kombu.Connection(url, connect_timeout=5)
        self.connection.connect()
        self.channel = self.connection.channel()
        self.channel.basic_qos(0, prefetch, False)
        self.consumer = None

    def declare(self, queue: str, subscriptions: Sequence[Subscription], retry_delays_ms: Sequence[int]) -> None:
        declare_topology(self.channel, queue, subscriptions, retry_delays_ms, amqp_features=False)

    def consume(self, queue: str, on_delivery: Callable[[Delivery], None]) -> None:
        self.consumer = kombu.Consumer(self.channel, queues=[kombu.Queue(queue, no_declare=True)],
                                       on_message=lambda message: on_delivery(Delivery.from_kombu(message)),
                                       accept=None)
        self.consumer.consume()

    def read(self, timeout: float) -> None:
        try:
            self.connection.drain_events(timeout=timeout)
        except TimeoutError:
            pass

    def ack(self, batch: Sequence[Delivery]) -> None:
        for delivery in batch:
            delivery.token.ack()

    def close(self) -> None:
        try:
            if self.consumer is not None:
                self.consumer.cancel()
            self.connection.release()
        except Exception:  # noqa: BLE001
            pass


def open_session(url: str, prefetch: int = 0) -> PikaSession | KombuSession:
    """The consuming transport for the URL's scheme: pika for amqp://, kombu for memory://."""
    return PikaSession(url, prefetch) if is_amqp(url) else KombuSession(url, prefetch)


def batch_handler(handler):
    """Marks a handler that takes `(session, [events])`: a run of consecutive events of one type, in order."""
    handler.handles_batches = True
    return handler


def _first_copies(items, fresh: set[str]) -> list[CloudEvent]:
    """Events new to the inbox, each once even when the broker delivered it twice within one batch."""
    chosen, seen = [], set()
    for _message, event in items:
        if event.id in fresh and event.id not in seen:
            seen.add(event.id)
            chosen.append(event)
    return chosen


def _runs_by_handler(handlers: Mapping[str, Handler], events: list[CloudEvent]):
    """Consecutive events with the same handler, so batching never reorders events of different types."""
    runs: list[tuple[Handler, list[CloudEvent]]] = []
    for event in events:
        handler = handlers[event.type]
        if runs and runs[-1][0] is handler:
            runs[-1][1].append(event)
        else:
            runs.append((handler, [event]))
    return runs


class EventConsumer:
    def __init__(self, *, url: str, engine: Engine, inbox: Table, queue: str,
                 subscriptions: Sequence[Subscription], handlers: Mapping[str, Handler],
                 retry_delays_ms: Sequence[int] = (1000, 5000, 30000), batch_size: int = 200,
                 batch_wait: float = 0.02):
        self.url = url
        self.engine = engine
        self.inbox = inbox
        self.queue = queue
        self.subscriptions = subscriptions
        self.handlers = dict(handlers)
        self.retry_delays_ms = tuple(retry_delays_ms)
        self.batch_size = batch_size
        self.batch_wait = batch_wait
        self._buffer: list[Delivery] = []
        self._session: PikaSession | KombuSession | None = None
        self._republisher = Publisher(url)
        self._inbox_statement = None

    # -- loop ---------------------------------------------------------------------------------------
    def run_forever(self, stop: threading.Event) -> None:
        backoff = 0.2
        while not stop.is_set():
            try:
                self._consume(stop)
                backoff = 0.2
            except (*CONNECTION_ERRORS, PublishFailed) as exc:
                log.warning("consumer %s lost the broker, reconnecting in %.1fs: %s", self.queue, backoff, exc)
                self._buffer.clear()
                self._republisher.close()
                stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)
        self._republisher.close()

    def _consume(self, stop: threading.Event) -> None:
        session = open_session(self.url, prefetch=self.batch_size * 2)
        try:
            session.declare(self.queue, self.subscriptions, self.retry_delays_ms)
            self._session = session
            session.consume(self.queue, self._buffer.append)
            self._loop(stop, session.read)
        finally:
            self._session = None
            session.close()

    def _loop(self, stop: threading.Event, read: Callable[[float], None]) -> None:
        """Reads into the buffer and hands it on in batches of at most `batch_size`: when that many have
        arrived, or `batch_wait` after the first one did."""
        first_buffered_at = None
        while not stop.is_set():
            if self._buffer:
                timeout = max(0.0005, self.batch_wait - (time.monotonic() - first_buffered_at))
            else:
                timeout = 0.5
            read(timeout)
            if not self._buffer:
                continue
            if first_buffered_at is None:
                first_buffered_at = time.monotonic()
            if len(self._buffer) >= self.batch_size or time.monotonic() - first_buffered_at >= self.batch_wait:
                while self._buffer:
                    batch = self._buffer[:self.batch_size]
                    del self._buffer[:self.batch_size]
                    self.process(batch)
                first_buffered_at = None

    def declare(self) -> None:
        """Declare queue, bindings, retry and parking queues now (deploy step), so nothing published from
        here on can miss the queue."""
        session = open_session(self.url)
        try:
            session.declare(self.queue, self.subscriptions, self.retry_delays_ms)
        finally:
            session.close()

    # -- one batch ----------------------------------------------------------------------------------
    def process(self, batch: list) -> None:
        readable = []
        for message in batch:
            try:
                readable.append((message, CloudEvent.from_json(message.body)))
            except MalformedEvent as exc:
                self._park(message, f"malformed event: {exc}")
        try:
            self._apply(readable)
        except Exception:  # noqa: BLE001 - any handler failure sends the batch to one-by-one handling
            log.info("batch of %d failed; applying one by one", len(readable))
            for message, event in readable:
                try:
                    self._apply([(message, event)])
                except Exception as exc:  # noqa: BLE001
                    self._retry_or_park(message, exc)
        self._ack(batch)

    def _apply(self, items) -> None:
        """One transaction for the items, run again when it loses a deadlock (see crm_shared.retry)."""
        if items:
            retry_transient(lambda: self._apply_once(items), where=f"consumer {self.queue}")

    def _apply_once(self, items) -> None:
        wanted = [(m, e) for m, e in items if e.type in self.handlers]
        with Session(self.engine) as session, session.begin():
            fresh = self._record_in_inbox(session, [e for _, e in wanted])
            applied = 0
            for handler, run in _runs_by_handler(self.handlers, _first_copies(wanted, fresh)):
                if getattr(handler, "handles_batches", False):
                    with context.caused_by(run[0].correlationid or run[0].id, run[0].id):
                        handler(session, run)
                else:
                    for event in run:
                        with context.caused_by(event.correlationid or event.id, event.id):
                            handler(session, event)
                applied += len(run)
        HANDLED.labels(self.queue).inc(applied)

    def _record_in_inbox(self, session: Session, events: list[CloudEvent]) -> set[str]:
        if not events:
            return set()
        types = {e.id: e.type for e in events}
        if self.engine.dialect.name == "postgresql":
            # Two arrays instead of a VALUES row per event: one short statement, whatever the batch size.
            inserted = session.execute(self._inbox_insert_unnest(), {
                "consumer": self.queue, "ids": list(types), "types": list(types.values())})
        else:
            statement = insert_ignoring_duplicates(self.inbox, self.engine.dialect.name)
            inserted = session.execute(statement.returning(self.inbox.c.event_id), [
                {"consumer": self.queue, "event_id": event_id, "event_type": event_type}
                for event_id, event_type in types.items()])
        fresh = {row[0] for row in inserted}
        DUPLICATES.labels(self.queue).inc(len(events) - len(fresh))
        return fresh

    def _inbox_insert_unnest(self):
        if self._inbox_statement is None:
            table = self.engine.dialect.identifier_preparer.format_table(self.inbox)
            self._inbox_statement = text(
                f"INSERT INTO {table} (consumer, event_id, event_type) "
                "SELECT :consumer, e.id, e.type FROM unnest(CAST(:ids AS text[]), CAST(:types AS text[])) "
                "AS e(id, type) ON CONFLICT DO NOTHING RETURNING event_id")
        return self._inbox_statement

    # -- failures -----------------------------------------------------------------------------------
    def _retry_or_park(self, message: Delivery, exc: Exception) -> None:
        attempts = int(message.headers.get(ATTEMPTS_HEADER, 0)) + 1
        reason = f"{type(exc).__name__}: {exc}"
        if attempts > len(self.retry_delays_ms):
            self._park(message, reason, attempts, traceback.format_exc(limit=5))
            return
        target = retry_queue(self.queue, attempts) if is_amqp(self.url) else self.queue
        log.warning("event %s failed (attempt %d), retrying: %s", message.message_id, attempts, reason)
        self._republish(message, target, {ATTEMPTS_HEADER: attempts, "x-crm-last-error": reason[:500]})
        RETRIED.labels(self.queue).inc()

    def _park(self, message: Delivery, reason: str, attempts: int = 1, trace: str = "") -> None:
        log.error("parking message %s from %s: %s", message.message_id, self.queue, reason)
        headers = {
            ATTEMPTS_HEADER: attempts,
            "x-crm-park-reason": reason[:2000],
            "x-crm-parked-at": datetime.now(UTC).isoformat(),
            "x-crm-original-exchange": message.exchange,
            "x-crm-original-routing-key": message.routing_key,
            "x-crm-trace": trace[-4000:],
        }
        self._republish(message, parking_queue(self.queue), headers)
        PARKED.labels(self.queue).inc()

    def _republish(self, message: Delivery, queue: str, headers: dict) -> None:
        self._republisher.publish([Outgoing(
            exchange="", routing_key=queue, body=message.body, message_id=message.message_id or "",
            correlation_id=message.correlation_id, type=message.type,
            content_type=message.content_type or "application/octet-stream",
            headers={**message.headers, **headers})])

    def _ack(self, batch: list[Delivery]) -> None:
        if batch:
            self._session.ack(batch)
