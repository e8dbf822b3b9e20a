"""An idempotent, batching event consumer with bounded retries and a parking queue.

For each batch: one database transaction records the event ids in the inbox (ON CONFLICT DO NOTHING) and
applies the handlers to the events not seen before; then the messages are acked. If the batch fails, each
message is tried alone so one poison message cannot hold back the others. A message that fails goes to a
retry queue whose TTL dead-letters it back after a delay; after the last delay it is parked, with the
reason, in `<queue>.parked`, from where `crm-parked replay` puts it back.
"""
from __future__ import annotations

import logging
import struct
import threading
import time
import traceback
from dataclasses import dataclass
from datetime import datetime, UTC
from collections.abc import Callable, Mapping, Sequence

import amqp
import kombu
from prometheus_client import Counter
from sqlalchemy import Table, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from crm_shared import context
from crm_shared.broker import CONNECTION_ERRORS, Outgoing, PublishFailed, Publisher, is_amqp, topic_exchange
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
    main = kombu.Queue(queue, durable=True, auto_delete=False)
    main.maybe_bind(channel)
    main.declare()
    for sub in subscriptions:
        exchange = topic_exchange(sub.exchange)
        exchange.declare(channel=channel)
        for key in sub.routing_keys:
            channel.queue_bind(queue=queue, exchange=sub.exchange, routing_key=key)
    parked = kombu.Queue(parking_queue(queue), durable=True, auto_delete=False)
    parked.maybe_bind(channel)
    parked.declare()
    if not amqp_features:
        return
    for attempt, delay in enumerate(retry_delays_ms, start=1):
        channel.queue_declare(
            queue=retry_queue(queue, attempt), durable=True, auto_delete=False,
            arguments={"x-message-ttl": int(delay), "x-dead-letter-exchange": "",
                       "x-dead-letter-routing-key": queue},
        )


_FRAME_HEADER = struct.Struct(">BHI")
_FRAME_END = 0xCE


class FrameReader:
    """Reads AMQP frames for py-amqp in bulk: one recv of up to 64 KiB, then every complete frame in it is
    handed to py-amqp's own frame handler (which assembles messages and calls the consumer's callback).

    py-amqp's `drain_events` reads one frame per call, in three or more socket reads, and sets and resets the
    socket timeout (two fcntl calls) around each frame; a message is three frames. Bytes of an incomplete
    frame stay in the transport's read buffer, where py-amqp's own reads (e.g. of a synchronous reply) find
    them, so both readers can take turns on one connection.
    """

    def __init__(self, conn: kombu.Connection, recv_size: int = 65536):
        self.connection = conn.connection  # the py-amqp connection
        self.transport = self.connection.transport
        self.recv_size = recv_size

    @staticmethod
    def usable(conn: kombu.Connection) -> bool:
        transport = getattr(getattr(conn, "connection", None), "transport", None)
        return (transport is not None and hasattr(transport, "_read_buffer")
                and type(transport).__name__ == "TCPTransport")

    def read(self, timeout: float) -> None:
        """Reads what arrives within `timeout` seconds and dispatches every complete frame; raises
        TimeoutError if nothing arrived."""
        transport = self.transport
        sock = transport.sock
        previous = sock.gettimeout()  # py-amqp's writes (acks, heartbeats) keep the timeout they had
        sock.settimeout(timeout)
        try:
            data = sock.recv(self.recv_size)
        except TimeoutError:
            raise
        except BlockingIOError as exc:
            raise TimeoutError() from exc
        except OSError:
            transport.connected = False
            raise
        finally:
            sock.settimeout(previous)
        if not data:
            transport.connected = False
            raise ConnectionError("the broker closed the connection")
        buffer = transport._read_buffer + data if transport._read_buffer else data
        position, size = 0, len(buffer)
        on_frame = self.connection.on_inbound_frame
        try:
            while size - position >= 8:
                frame_type, channel, length = _FRAME_HEADER.unpack_from(buffer, position)
                end = position + 7 + length
                if end >= size:
                    break
                if buffer[end] != _FRAME_END:
                    transport.connected = False
                    raise amqp.exceptions.UnexpectedFrame(f"frame end {buffer[end]:#04x}, expected 0xce")
                payload = buffer[position + 7:end]
                position = end + 1
                on_frame((frame_type, channel, payload))
        finally:
            transport._read_buffer = buffer[position:]


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
        self._buffer: list = []  # py-amqp messages on AMQP, kombu messages on the memory transport
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
        with kombu.Connection(self.url, connect_timeout=5, heartbeat=30) as conn:
            channel = conn.channel()
            channel.basic_qos(0, self.batch_size * 2, False)
            declare_topology(channel, self.queue, self.subscriptions, self.retry_delays_ms, is_amqp(self.url))
            if is_amqp(self.url) and FrameReader.usable(conn):
                # py-amqp messages straight to the buffer: kombu's per-message wrapping is not needed here.
                channel.basic_consume(self.queue, callback=self._buffer.append)
                self._loop(stop, conn, FrameReader(conn).read)
            else:
                consumer = kombu.Consumer(channel, queues=[kombu.Queue(self.queue, no_declare=True)],
                                          on_message=self._buffer.append, accept=None)
                with consumer:
                    self._loop(stop, conn, lambda timeout: conn.drain_events(timeout=timeout))

    def _loop(self, stop: threading.Event, conn: kombu.Connection, read: Callable[[float], None]) -> None:
        """Reads into the buffer and hands it on in batches of at most `batch_size`: when that many have
        arrived, or `batch_wait` after the first one did."""
        first_buffered_at = None
        while not stop.is_set():
            if self._buffer:
                timeout = max(0.0005, self.batch_wait - (time.monotonic() - first_buffered_at))
            else:
                timeout = 0.5
            try:
                read(timeout)
            except TimeoutError:
                if not self._buffer:
                    conn.heartbeat_check()
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
        with kombu.Connection(self.url, connect_timeout=5) as conn:
            declare_topology(conn.channel(), self.queue, self.subscriptions, self.retry_delays_ms,
                             is_amqp(self.url))

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
    def _retry_or_park(self, message, exc: Exception) -> None:
        attempts = int(_headers(message).get(ATTEMPTS_HEADER, 0)) + 1
        reason = f"{type(exc).__name__}: {exc}"
        if attempts > len(self.retry_delays_ms):
            self._park(message, reason, attempts, traceback.format_exc(limit=5))
            return
        target = retry_queue(self.queue, attempts) if is_amqp(self.url) else self.queue
        log.warning("event %s failed (attempt %d), retrying: %s", message.properties.get("message_id"),
                    attempts, reason)
        self._republish(message, target, {ATTEMPTS_HEADER: attempts, "x-crm-last-error": reason[:500]})
        RETRIED.labels(self.queue).inc()

    def _park(self, message, reason: str, attempts: int = 1, trace: str = "") -> None:
        log.error("parking message %s from %s: %s", message.properties.get("message_id"), self.queue, reason)
        headers = {
            ATTEMPTS_HEADER: attempts,
            "x-crm-park-reason": reason[:2000],
            "x-crm-parked-at": datetime.now(UTC).isoformat(),
            "x-crm-original-exchange": message.delivery_info.get("exchange", ""),
            "x-crm-original-routing-key": message.delivery_info.get("routing_key", ""),
            "x-crm-trace": trace[-4000:],
        }
        self._republish(message, parking_queue(self.queue), headers)
        PARKED.labels(self.queue).inc()

    def _republish(self, message, queue: str, headers: dict) -> None:
        merged = {**_headers(message), **headers}
        props = message.properties
        self._republisher.publish([Outgoing(
            exchange="", routing_key=queue, body=message.body,
            message_id=props.get("message_id") or "", correlation_id=props.get("correlation_id"),
            type=props.get("type"),
            content_type=getattr(message, "content_type", None) or "application/octet-stream",
            headers=merged)])

    def _ack(self, batch: list) -> None:
        if not batch:
            return
        last = batch[-1]
        if isinstance(last, amqp.Message):
            last.channel.basic_ack(last.delivery_tag, multiple=True)
        elif is_amqp(self.url):
            last.ack(multiple=True)
        else:
            for message in batch:
                message.ack()


def _headers(message) -> dict:
    """Application headers of a py-amqp or a kombu message."""
    return message.headers or {}
