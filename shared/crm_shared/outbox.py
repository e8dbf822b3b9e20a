"""Writing events in the caller's transaction, and the relay that moves them to the broker."""
from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

from prometheus_client import Counter
from sqlalchemy import Table, delete, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from crm_shared.broker import Outgoing, PublishFailed, Publisher
from crm_shared.events import CloudEvent, exchange_for

log = logging.getLogger(__name__)
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
    if rows:
        connection.execute(insert(outbox), rows)


class OutboxRelay:
    """Publishes outbox rows in order of position, then deletes them.

    Rows are claimed with FOR UPDATE SKIP LOCKED, so relays running at once never publish the same row; a
    relay that dies mid-batch rolls back, its locks go, and the rows are taken again (at-least-once: the
    consumers' inboxes absorb the rare duplicate).
    """

    def __init__(self, engine: Engine, outbox: Table, publisher: Publisher, service: str,
                 batch_size: int = 500, idle_wait: float = 0.01):
        self.engine = engine
        self.outbox = outbox
        self.publisher = publisher
        self.service = service
        self.batch_size = batch_size
        self.idle_wait = idle_wait

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
        backoff = 0.1
        while not stop.is_set():
            try:
                published = self.run_once()
                backoff = 0.1
            except (PublishFailed, DBAPIError) as exc:
                log.warning("relay batch failed, retrying in %.1fs: %s", backoff, exc)
                stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            if published < self.batch_size:
                stop.wait(self.idle_wait)
        self.publisher.close()


def _outgoing(row) -> Outgoing:
    return Outgoing(
        exchange=row.exchange,
        routing_key=row.routing_key,
        body=row.body.encode(),
        message_id=row.event_id,
        type=row.routing_key,
    )
