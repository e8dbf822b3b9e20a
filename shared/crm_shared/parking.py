"""Listing and replaying parked messages (the dead-letter queue of a consumer)."""
from __future__ import annotations

from dataclasses import dataclass

import kombu

from crm_shared.broker import Outgoing, Publisher
from crm_shared.consumer import ATTEMPTS_HEADER, parking_queue


@dataclass(frozen=True)
class ParkedMessage:
    message_id: str
    type: str | None
    reason: str
    attempts: int
    parked_at: str
    body: str


def _describe(message) -> ParkedMessage:
    headers = message.headers or {}
    body = message.body.decode(errors="replace") if isinstance(message.body, bytes) else str(message.body)
    return ParkedMessage(
        message_id=message.properties.get("message_id") or "",
        type=message.properties.get("type"),
        reason=str(headers.get("x-crm-park-reason", "")),
        attempts=int(headers.get(ATTEMPTS_HEADER, 0)),
        parked_at=str(headers.get("x-crm-parked-at", "")),
        body=body,
    )


def list_parked(url: str, queue: str, limit: int = 100) -> list[ParkedMessage]:
    """Reads without removing: messages are held unacked, then returned to the queue when the channel closes."""
    found = []
    with kombu.Connection(url, connect_timeout=5) as conn:
        channel = conn.channel()
        while len(found) < limit:
            message = channel.basic_get(parking_queue(queue), no_ack=False)
            if message is None:
                break
            found.append(_describe(channel.message_to_python(message)))
        channel.close()
    return found


def replay_parked(url: str, queue: str, message_ids: set[str] | None = None) -> int:
    """Moves parked messages (all, or those with the given ids) back to the consumer's queue, attempts reset."""
    publisher = Publisher(url)
    moved = 0
    try:
        with kombu.Connection(url, connect_timeout=5) as conn:
            channel = conn.channel()
            while True:
                raw = channel.basic_get(parking_queue(queue), no_ack=False)
                if raw is None:
                    break
                message = channel.message_to_python(raw)
                message_id = message.properties.get("message_id") or ""
                if message_ids is not None and message_id not in message_ids:
                    continue
                headers = {k: v for k, v in (message.headers or {}).items() if not k.startswith("x-crm-")}
                publisher.publish([Outgoing(exchange="", routing_key=queue, body=message.body,
                                            message_id=message_id, type=message.properties.get("type"),
                                            content_type=message.content_type or "application/octet-stream",
                                            headers=headers)])
                message.ack()
                moved += 1
            channel.close()
    finally:
        publisher.close()
    return moved
