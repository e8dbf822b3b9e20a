"""Handlers for the customers service's events: keep the local replica current, in the consumer's transaction."""
from __future__ import annotations

from crm_shared.events import CloudEvent
from sqlalchemy.orm import Session

from crm_calls.adapters.repository import CustomerReplicaRepository
from crm_calls.domain import events
from crm_calls.domain.model import link_from_event, replica_from_snapshot


def party_snapshot(session: Session, event: CloudEvent) -> None:
    replica = replica_from_snapshot(event.data, deactivated=event.type == events.PARTY_DEACTIVATED,
                                    event_time=event.time)
    CustomerReplicaRepository(session).upsert_if_newer(replica)


def contact_linked(session: Session, event: CloudEvent) -> None:
    CustomerReplicaRepository(session).add_link(link_from_event(event.data, event.time))


def contact_unlinked(session: Session, event: CloudEvent) -> None:
    CustomerReplicaRepository(session).mark_unlinked(link_from_event(event.data, event.time))


HANDLERS = {
    **{event_type: party_snapshot for event_type in events.PARTY_SNAPSHOTS},
    events.CONTACT_LINKED: contact_linked,
    events.CONTACT_UNLINKED: contact_unlinked,
}
