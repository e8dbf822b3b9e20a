"""The consumer of other services' events: customers' parties feed the replica and the call cycles,
campaigns' call requests become campaign calls."""
from __future__ import annotations

from crm_shared.consumer import EventConsumer, Subscription
from crm_shared.events import exchange_for
from crm_shared.runtime import ServiceRuntime

from crm_calls.service_layer.clock import SYSTEM_CLOCK, Clock
from crm_calls.service_layer.handlers import HANDLERS, make_handlers

QUEUE = "calls.incoming-events"
CUSTOMER_EVENTS = tuple(t for t in HANDLERS if t.startswith("crm.customers."))
CAMPAIGN_EVENTS = tuple(t for t in HANDLERS if t.startswith("crm.campaigns."))
SUBSCRIPTIONS = (Subscription(exchange=exchange_for("customers"), routing_keys=CUSTOMER_EVENTS),
                 Subscription(exchange=exchange_for("campaigns"), routing_keys=CAMPAIGN_EVENTS))


def build_consumer(runtime: ServiceRuntime, queue: str = QUEUE, clock: Clock = SYSTEM_CLOCK,
                   **options) -> EventConsumer:
    return EventConsumer(url=runtime.settings.amqp_url, engine=runtime.engine, inbox=runtime.messaging.inbox,
                         queue=queue, subscriptions=SUBSCRIPTIONS, handlers=make_handlers(clock),
                         retry_delays_ms=runtime.settings.retry_delays_ms, **options)
