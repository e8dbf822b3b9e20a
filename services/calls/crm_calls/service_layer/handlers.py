"""Handlers for other services' events, in the consumer's transaction: keep the replica current, keep each
party's calls in line with it, and turn campaign call requests into calls."""
from __future__ import annotations

from datetime import date

from crm_shared.consumer import batch_handler
from crm_shared.events import CloudEvent
from sqlalchemy.orm import Session

from crm_calls.adapters.repository import CustomerReplicaRepository
from crm_calls.domain import events
from crm_calls.domain.commands import RequestCall
from crm_calls.domain.errors import InvalidInput
from crm_calls.domain.model import link_from_event, replica_from_snapshot
from crm_calls.domain.policy import DayWindow
from crm_calls.service_layer.calls import request_calls, sync_parties, withdraw_requests
from crm_calls.service_layer.clock import SYSTEM_CLOCK, Clock
from crm_calls.service_layer.unit_of_work import ConsumerUnitOfWork


def make_handlers(clock: Clock = SYSTEM_CLOCK) -> dict:
    """The handlers by event type, planning on `clock`'s today."""

    def party_snapshot(session: Session, event: CloudEvent) -> None:
        replica = replica_from_snapshot(event.data, deactivated=event.type == events.PARTY_DEACTIVATED,
                                        event_time=event.time)
        CustomerReplicaRepository(session).upsert_if_newer(replica)
        sync_parties(ConsumerUnitOfWork(session, clock), [replica.party_id])

    @batch_handler
    def campaign_calls_requested(session: Session, batch: list[CloudEvent]) -> None:
        request_calls(ConsumerUnitOfWork(session, clock), [request_from_event(e.data) for e in batch],
                      wait_for_parties=True)

    @batch_handler
    def campaign_calls_withdrawn(session: Session, batch: list[CloudEvent]) -> None:
        withdraw_requests(ConsumerUnitOfWork(session, clock), [str(e.data["request_id"]) for e in batch],
                          "the campaign withdrew the call")

    return {
        **{event_type: party_snapshot for event_type in events.PARTY_SNAPSHOTS},
        events.CONTACT_LINKED: contact_linked,
        events.CONTACT_UNLINKED: contact_unlinked,
        events.CAMPAIGN_CALL_REQUESTED: campaign_calls_requested,
        events.CAMPAIGN_CALL_WITHDRAWN: campaign_calls_withdrawn,
    }


def contact_linked(session: Session, event: CloudEvent) -> None:
    CustomerReplicaRepository(session).add_link(link_from_event(event.data, event.time))


def contact_unlinked(session: Session, event: CloudEvent) -> None:
    CustomerReplicaRepository(session).mark_unlinked(link_from_event(event.data, event.time))


def request_from_event(data: dict) -> RequestCall:
    """The `campaign_call_requested.v1` contract (docs/events/README.md); bad data is parked, not guessed at."""
    try:
        window = DayWindow(date.fromisoformat(data["window_start"]), date.fromisoformat(data["window_end"]))
        return RequestCall(request_id=str(data["request_id"]), party_id=str(data["party_id"]), call_type="campaign",
                           window=window, campaign_id=str(data["campaign_id"]),
                           priority=int(data.get("priority") or 0), script_id=data.get("script_id"))
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInput(f"malformed campaign call request: {exc!r}") from exc


HANDLERS = make_handlers()
