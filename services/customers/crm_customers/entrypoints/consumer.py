"""The consumer of other services' events: suspects campaigns imported from address lists become parties."""
from __future__ import annotations

from collections.abc import Callable

from crm_shared.consumer import EventConsumer, Handler, Subscription
from crm_shared.events import CloudEvent, exchange_for
from crm_shared.runtime import ServiceRuntime
from sqlalchemy.orm import Session

from crm_customers.entrypoints.suspect_events import SUSPECT_IMPORTED, suspect_from_event
from crm_customers.service_layer import handlers
from crm_customers.service_layer.unit_of_work import ConsumerUnitOfWork

QUEUE = "customers.incoming-events"
SUBSCRIPTIONS = (Subscription(exchange=exchange_for("campaigns"), routing_keys=(SUSPECT_IMPORTED,)),)


def suspect_imported(event: CloudEvent, uow) -> None:
    handlers.register_imported_suspect(suspect_from_event(event.data), uow)


def event_handlers(uow_for: Callable[[Session], ConsumerUnitOfWork]) -> dict[str, Handler]:
    """The consumer's handlers, each run in the consumer's transaction through a unit of work on its session."""
    return {SUSPECT_IMPORTED: lambda session, event: suspect_imported(event, uow_for(session))}


def build_consumer(runtime: ServiceRuntime, queue: str = QUEUE, **options) -> EventConsumer:
    def uow_for(session: Session) -> ConsumerUnitOfWork:
        return ConsumerUnitOfWork(session, runtime.messaging.outbox, runtime.settings.service)

    return EventConsumer(url=runtime.settings.amqp_url, engine=runtime.engine, inbox=runtime.messaging.inbox,
                         queue=queue, subscriptions=SUBSCRIPTIONS, handlers=event_handlers(uow_for),
                         retry_delays_ms=runtime.settings.retry_delays_ms, **options)
