"""The consumer of other services' events: customers' parties feed the replica, calls' outcomes move
participants."""
from __future__ import annotations

from crm_shared.consumer import EventConsumer, Subscription
from crm_shared.events import exchange_for
from crm_shared.runtime import ServiceRuntime

from crm_campaigns.service_layer.handlers import EVENT_TYPES, make_handlers

QUEUE = "campaigns.incoming-events"
SUBSCRIPTIONS = tuple(
    Subscription(exchange=exchange_for(service),
                 routing_keys=tuple(t for t in EVENT_TYPES if t.startswith(f"crm.{service}.")))
    for service in ("customers", "calls", "service-desk"))


def build_consumer(runtime: ServiceRuntime, queue: str = QUEUE, **options) -> EventConsumer:
    return EventConsumer(url=runtime.settings.amqp_url, engine=runtime.engine, inbox=runtime.messaging.inbox,
                         queue=queue, subscriptions=SUBSCRIPTIONS,
                         handlers=make_handlers(runtime.settings.attribution_window_days),
                         retry_delays_ms=runtime.settings.retry_delays_ms, **options)
