"""Writing events in the caller's transaction, and the relay that moves them to the broker.

On PostgreSQL a transaction that writes events also sends `NOTIFY <table>_written`; it is delivered when the
transaction commits, together with the rows becoming visible. The relay LISTENs and wakes at once, instead of
polling the table every few milliseconds. The notification is only a wake-up call: the relay still polls
(every `listen_timeout` seconds) so rows never depend on a notification arriving.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable

from prometheus_client import Counter
from sqlalchemy import Table, delete, insert, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from crm_shared.broker import Outgoing, PublishFailed, Publisher
from crm_shared.events import CloudEvent, exchange_for

log = logging.getLogger(__name__)
COPY_THRESHOLD = 200
RELAYED = Counter("crm_outbox_relayed_total", "Events the relay published and the broker confirmed", ["service"])


def write_events(connection, outbox: Table, service: str, events: Iterable[CloudEvent]) -> None:
    """Add events to the outbox inside the transaction that holds the state change."""
    rows = [
        {
            "event_id": e.id,
            "exchange": exchange_for(service),
            "routing_key": e.type,
            "body": e.to_json(),
        }
        for e in events
    ]
    if not rows:
        return
    if connection.dialect.name == "postgresql" and len(rows) >= COPY_THRESHOLD:
        _copy_rows(connection, outbox, rows)
    else:
        connection.execute(insert(outbox), rows)
    if connection.dialect.name == "postgresql":
        connection.execute(text(f"NOTIFY {notify_channel(outbox)}"))


def _copy_rows(connection, outbox: Table, rows: list[dict]) -> None:
    """COPY for a bulk job's thousands of events (a nightly planning run, say): several times faster than
    INSERT, in the same transaction, and rows keep their order (position comes from the sequence)."""
    columns = list(rows[0])
    raw = connection.connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(f"COPY {outbox.name} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([row[c] for c in columns])


def notify_channel(outbox: Table) -> str:
    """The channel a write of `outbox` notifies; channels are per database, like the table."""
    return f"{outbox.name}_written"


class OutboxRelay:
    """Publishes outbox rows in order of position, then deletes them.

    Rows are claimed with FOR UPDATE SKIP LOCKED, so relays running at once never publish the same row; a
    relay that dies mid-batch rolls back, its locks go, and the rows are taken again (at-least-once: the
    consumers' inboxes absorb the rare duplicate).
    """

    def __init__(self, engine: Engine, outbox: Table, publisher: Publisher, service: str,
                 batch_size: int = 500, idle_wait: float = 0.01, listen_timeout: float = 0.5):
        """`idle_wait`: the poll interval when the database cannot notify (SQLite); `listen_timeout`: the
        longest wait for a notification before looking at the table anyway."""
        self.engine = engine
        self.outbox = outbox
        self.publisher = publisher
        self.service = service
        self.batch_size = batch_size
        self.idle_wait = idle_wait
        self.listen_timeout = listen_timeout

    def run_once(self) -> int:
        with self.engine.begin() as conn:
            rows = sorted(conn.execute(self._claim_statement()).all(), key=lambda r: r.position)
            if not rows:
                return 0
            # Published inside the claiming transaction: if the broker does not confirm, the rollback
            # restores the rows for the next attempt.
            self.publisher.publish([_outgoing(row) for row in rows])
        RELAYED.labels(self.service).inc(len(rows))
        return len(rows)

    def _claim_statement(self):
        """Delete-and-return the oldest rows in one round trip, skipping rows another relay holds."""
        oldest = select(self.outbox.c.position).order_by(self.outbox.c.position).limit(self.batch_size)
        if self.engine.dialect.name == "postgresql":
            oldest = oldest.with_for_update(skip_locked=True)
        return delete(self.outbox).where(self.outbox.c.position.in_(oldest.scalar_subquery())).returning(
            self.outbox.c.position, self.outbox.c.event_id, self.outbox.c.exchange, self.outbox.c.routing_key,
            self.outbox.c.body)

    def run_forever(self, stop: threading.Event) -> None:
        listener = _Listener.for_engine(self.engine, notify_channel(self.outbox))
        backoff = 0.1
        try:
            while not stop.is_set():
                if listener is not None:
                    listener.ensure_listening()  # before looking at the table, so no commit goes unnoticed
                try:
                    published = self.run_once()
                    backoff = 0.1
                except (PublishFailed, DBAPIError) as exc:
                    log.warning("relay batch failed, retrying in %.1fs: %s", backoff, exc)
                    stop.wait(backoff)
                    backoff = min(backoff * 2, 5.0)
                    continue
                if published < self.batch_size:
                    if listener is not None and listener.listening:
                        listener.wait(self.listen_timeout)
                    else:
                        stop.wait(self.idle_wait)
        finally:
            if listener is not None:
                listener.close()
            self.publisher.close()


class _Listener:
    """A connection of its own (outside the pool, autocommit) that LISTENs on the outbox's channel."""

    RECONNECT_INTERVAL = 5.0

    def __init__(self, engine: Engine, channel: str):
        self.engine = engine
        self.channel = channel
        self._conn = None
        self._next_attempt = 0.0

    @classmethod
    def for_engine(cls, engine: Engine, channel: str) -> _Listener | None:
        if engine.dialect.name == "postgresql" and engine.dialect.driver == "psycopg":
            return cls(engine, channel)
        return None  # no LISTEN/NOTIFY: the relay polls

    @property
    def listening(self) -> bool:
        return self._conn is not None

    def ensure_listening(self) -> None:
        if self._conn is not None or time.monotonic() < self._next_attempt:
            return
        self._next_attempt = time.monotonic() + self.RECONNECT_INTERVAL
        try:
            cargs, cparams = self.engine.dialect.create_connect_args(self.engine.url)
            conn = self.engine.dialect.loaded_dbapi.connect(*cargs, **{**cparams, "autocommit": True})
            conn.execute(f"LISTEN {self.channel}")
        except Exception as exc:  # noqa: BLE001 - without a listener the relay polls; retried next round
            log.warning("relay cannot LISTEN on %s, polling instead: %s", self.channel, exc)
            return
        self._conn = conn

    def wait(self, timeout: float) -> None:
        """Returns when a notification arrives or after `timeout` seconds."""
        try:
            for _ in self._conn.notifies(timeout=timeout, stop_after=1):
                pass
        except Exception as exc:  # noqa: BLE001 - a broken listener is rebuilt; the table is polled meanwhile
            log.warning("relay lost its LISTEN connection: %s", exc)
            self.close()

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # noqa: BLE001
                pass
        self._conn = None


def _outgoing(row) -> Outgoing:
    return Outgoing(
        exchange=row.exchange,
        routing_key=row.routing_key,
        body=row.body.encode(),
        message_id=row.event_id,
        type=row.routing_key,
    )
