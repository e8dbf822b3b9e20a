"""Listing and replaying parked messages (the dead-letter queue of a consumer)."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import kombu
import pika

from crm_shared.broker import Outgoing, Publisher, is_amqp, pika_parameters
from crm_shared.consumer import ATTEMPTS_HEADER, Delivery, parking_queue


@dataclass(frozen=True)
class ParkedMessage:
    message_id: str
    type: str | None
    reason: str
    attempts: int
    parked_at: str
    body: str


def _describe(message: Delivery) -> ParkedMessage:
    headers = message.headers
    return ParkedMessage(
        message_id=message.message_id or "",
        type=message.type,
        reason=str(headers.get("x-crm-park-reason", "")),
        attempts=int(headers.get(ATTEMPTS_HEADER, 0)),
        parked_at=str(headers.get("x-crm-parked-at", "")),
        body=message.body.decode(errors="replace"),
    )


@contextmanager
def _parked_reader(url: str, queue: str) -> Iterator[tuple[Callable[[], Delivery | None], Callable[[Delivery],
                                                                                                    None]]]:
    """`(get, ack)` on the parking queue: `get()` takes the next message unacked (None when there is none);
    what is not acked goes back to the queue when the connection closes."""
    if is_amqp(url):
        connection = pika.BlockingConnection(pika_parameters(url))
        try:
            channel = connection.channel()

            def get() -> Delivery | None:
                method, properties, body = channel.basic_get(parking_queue(queue), auto_ack=False)
                return None if method is None else Delivery.from_pika(method, properties, body)

            yield get, lambda delivery: channel.basic_ack(delivery.token)
        finally:
            if connection.is_open:
                connection.close()
        return
    with kombu.Connection(url, connect_timeout=5) as conn:
        channel = conn.channel()

        def get_kombu() -> Delivery | None:
            raw = channel.basic_get(parking_queue(queue), no_ack=False)
            return None if raw is None else Delivery.from_kombu(channel.message_to_python(raw))

        yield get_kombu, lambda delivery: delivery.token.ack()
        channel.close()


def list_parked(url: str, queue: str, limit: int = 100) -> list[ParkedMessage]:
    """Reads without removing: messages are held unacked, then returned to the queue when the channel closes."""
    found = []
    with _parked_reader(url, queue) as (get, _ack):
        while len(found) < limit and (message := get()) is not None:
            found.append(_describe(message))
    return found


def replay_parked(url: str, queue: str, message_ids: set[str] | None = None) -> int:
    """Moves parked messages (all, or those with the given ids) back to the consumer's queue, attempts reset."""
    publisher = Publisher(url)
    moved = 0
    try:
        with _parked_reader(url, queue) as (get, ack):
            while (message := get()) is not None:
                message_id = message.message_id or ""
                if message_ids is not None and message_id not in message_ids:
                    continue
                headers = {k: v for k, v in message.headers.items() if not k.startswith("x-crm-")}
                publisher.publish([Outgoing(exchange="", routing_key=queue, body=message.body,
                                            message_id=message_id, type=message.type,
                                            content_type=message.content_type or "application/octet-stream",
                                            headers=headers)])
                ack(message)
                moved += 1
    finally:
        publisher.close()
    return moved
