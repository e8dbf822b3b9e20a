"""Handlers for other services' events, in the consumer's transaction: keep the party replica and attribute
definitions current, and move participants on the outcomes of their campaign calls."""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import partial

from crm_shared.consumer import batch_handler
from crm_shared.events import CloudEvent
from sqlalchemy.orm import Session

from crm_campaigns.domain import events
from crm_campaigns.domain.attribution import DEFAULT_WINDOW_DAYS
from crm_campaigns.domain.replica import replica_from_snapshot
from crm_campaigns.service_layer.progress import ConditionMet, apply_conditions, exclude_party
from crm_campaigns.service_layer.revenue import opportunity_won, order_placed
from crm_campaigns.service_layer.unit_of_work import ConsumerUnitOfWork


@batch_handler
def party_snapshots(session: Session, batch: list[CloudEvent]) -> None:
    uow = ConsumerUnitOfWork(session)
    for event in batch:
        deactivated = event.type == events.PARTY_DEACTIVATED
        uow.replica.upsert_if_newer(replica_from_snapshot(event.data, deactivated=deactivated,
                                                          event_time=event.time))
        if deactivated:
            exclude_party(uow, str(event.data["party_id"]), "the party was deactivated", _now())


def attribute_defined(session: Session, event: CloudEvent) -> None:
    ConsumerUnitOfWork(session).replica.define_attribute(str(event.data["name"]), str(event.data["type"]),
                                                         list(event.data.get("choices") or []))


def line_of_business_defined(session: Session, event: CloudEvent) -> None:
    ConsumerUnitOfWork(session).replica.define_line(str(event.data["code"]), str(event.data["label"]))


@batch_handler
def call_outcomes(session: Session, batch: list[CloudEvent]) -> None:
    uow = ConsumerUnitOfWork(session)
    contacts: dict[str, date] = {}
    conditions = []
    for event in batch:
        data = event.data
        if data.get("contact_made") and data.get("completed_on"):
            day = date.fromisoformat(data["completed_on"])
            contacts[str(data["party_id"])] = max(day, contacts.get(str(data["party_id"]), day))
        if data.get("campaign_id") and data.get("request_id") and data.get("final", True):
            conditions.append(ConditionMet("call_outcome", str(data["outcome"]), f"call outcome: {data['outcome']}",
                                           request_id=str(data["request_id"])))
    uow.replica.record_contacts(contacts)
    apply_conditions(uow, conditions, _now())


@batch_handler
def call_requests_refused(session: Session, batch: list[CloudEvent]) -> None:
    conditions = [ConditionMet("call_outcome", "request_refused", f"calls refused: {e.data.get('reason') or ''}",
                               request_id=str(e.data["request_id"]))
                  for e in batch if e.data.get("campaign_id") and e.data.get("request_id")]
    apply_conditions(ConsumerUnitOfWork(session), conditions, _now())


def _now() -> datetime:
    return datetime.now(UTC)


def make_handlers(attribution_window_days: int) -> dict[str, Callable]:
    """The handler of every event type the service consumes; the revenue ones credit campaign successes within
    `attribution_window_days` (the ATTRIBUTION_WINDOW_DAYS setting, which the consumer passes)."""
    return {
        **{event_type: party_snapshots for event_type in events.PARTY_SNAPSHOTS},
        events.ATTRIBUTE_DEFINED: attribute_defined,
        events.LINE_OF_BUSINESS_DEFINED: line_of_business_defined,
        events.CALL_OUTCOME_RECORDED: call_outcomes,
        events.CALL_REQUEST_REFUSED: call_requests_refused,
        events.ORDER_PLACED: partial(order_placed, window_days=attribution_window_days),
        events.OPPORTUNITY_WON: partial(opportunity_won, window_days=attribution_window_days),
    }


EVENT_TYPES = tuple(make_handlers(DEFAULT_WINDOW_DAYS))  # the types do not depend on the window
