"""The consumer of the customers service's events, feeding the party replica."""
from __future__ import annotations

from crm_shared.consumer import EventConsumer, Subscription
from crm_shared.events import exchange_for
from crm_shared.runtime import ServiceRuntime

from crm_calls.service_layer.handlers import HANDLERS

QUEUE = "calls.customer-events"
SUBSCRIPTIONS = (Subscription(exchange=exchange_for("customers"), routing_keys=tuple(HANDLERS)),)


def build_consumer(runtime: ServiceRuntime, queue: str = QUEUE, **options) -> EventConsumer:
    return EventConsumer(url=runtime.settings.amqp_url, engine=runtime.engine, inbox=runtime.messaging.inbox,
                         queue=queue, subscriptions=SUBSCRIPTIONS, handlers=HANDLERS,
                         retry_delays_ms=runtime.settings.retry_delays_ms, **options)
