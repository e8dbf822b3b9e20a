"""Handlers for other services' events, in the consumer's transaction: keep the replica current, keep each
party's calls in line with it, and turn campaign call requests into calls."""
from __future__ import annotations

from datetime import date, timedelta

from crm_shared.consumer import batch_handler
from crm_shared.events import CloudEvent
from sqlalchemy.orm import Session

from crm_calls.adapters.execution_repository import CampaignReplicaRepository
from crm_calls.adapters.repository import CustomerReplicaRepository
from crm_calls.domain import events
from crm_calls.domain.commands import RequestCall
from crm_calls.domain.errors import InvalidInput
from crm_calls.domain.model import link_from_event, replica_from_snapshot
from crm_calls.domain.policy import DayWindow
from crm_calls.service_layer.calls import CONTACT_MEMORY_DAYS, request_calls, sync_parties, withdraw_requests
from crm_calls.service_layer.clock import SYSTEM_CLOCK, Clock
from crm_calls.service_layer.unit_of_work import ConsumerUnitOfWork


def make_handlers(clock: Clock = SYSTEM_CLOCK) -> dict:
    """The handlers by event type, planning on `clock`'s today: one batch handler for all of them, so the
    consumer hands over a whole batch as one run, whose locks are taken in the one order (`_lock_batch`)."""

    @batch_handler
    def handle(session: Session, batch: list[CloudEvent] | CloudEvent) -> None:
        batch = [batch] if isinstance(batch, CloudEvent) else batch
        uow = ConsumerUnitOfWork(session, clock)
        _lock_batch(uow, batch)
        for event_type, run in _runs(batch):
            if event_type in events.PARTY_SNAPSHOTS:
                replicas = [replica_from_snapshot(e.data, deactivated=e.type == events.PARTY_DEACTIVATED,
                                                  event_time=e.time) for e in run]
                for replica in replicas:
                    uow.customers.upsert_if_newer(replica)
                sync_parties(uow, list(dict.fromkeys(r.party_id for r in replicas)))
            elif event_type == events.CAMPAIGN_CALL_REQUESTED:
                request_calls(uow, [request_from_event(e.data) for e in run], wait_for_parties=True)
            elif event_type == events.CAMPAIGN_CALL_WITHDRAWN:
                withdraw_requests(uow, [str(e.data["request_id"]) for e in run], "the campaign withdrew the call")
            else:
                for event in run:
                    SIMPLE_HANDLERS[event_type](session, event)

    return {event_type: handle for event_type in (*events.PARTY_SNAPSHOTS, *SIMPLE_HANDLERS,
                                                   events.CAMPAIGN_CALL_REQUESTED, events.CAMPAIGN_CALL_WITHDRAWN)}


def _runs(batch: list[CloudEvent]):
    """Consecutive events of one kind (party snapshots count as one), in order."""
    runs: list[tuple[str, list[CloudEvent]]] = []
    for event in batch:
        kind = events.PARTY_SNAPSHOTS[0] if event.type in events.PARTY_SNAPSHOTS else event.type
        if runs and runs[-1][0] == kind:
            runs[-1][1].append(event)
        else:
            runs.append((kind, [event]))
    return runs


def _lock_batch(uow: ConsumerUnitOfWork, batch: list[CloudEvent]) -> None:
    """Every party the batch touches, sorted, then every agent their planning may book, sorted: the lock order
    of every writer (docs/calls-planning.md), kept for the batch as a whole, so the use cases below only take
    locks they already hold. Agents follow the territories of the parties as the batch leaves them (a move
    in the batch), of the calls' current agents, and of the parties' open calls."""
    party_ids: set[str] = set()
    new_replicas = {}
    for event in batch:
        data = event.data if isinstance(event.data, dict) else {}
        if event.type in events.PARTY_SNAPSHOTS and data.get("party_id"):
            party_ids.add(str(data["party_id"]))
            try:
                new_replicas[str(data["party_id"])] = replica_from_snapshot(
                    data, deactivated=event.type == events.PARTY_DEACTIVATED, event_time=event.time)
            except (KeyError, TypeError, ValueError):
                pass  # the handler below rejects it
        elif event.type == events.CAMPAIGN_CALL_REQUESTED and data.get("party_id"):
            party_ids.add(str(data["party_id"]))
        elif event.type == events.CAMPAIGN_CALL_WITHDRAWN and data.get("request_id"):
            party_ids.update(c.party_id for c in uow.planning.calls_by_request(str(data["request_id"])))
    if not party_ids:
        return
    parties = uow.planning.lock_parties(party_ids)
    territories = uow.planning.territories()
    agents: set[str] = set()
    for party in [*parties.values(), *new_replicas.values()]:
        territory = territories.territory_for(party.postal_code, party.city, party.line_of_business)
        agents.update(territory.agents() if territory else ())
    since = uow.clock.today() - timedelta(days=CONTACT_MEMORY_DAYS)
    for calls in uow.planning.contacts_of(party_ids, since).values():
        agents.update(c.agent_id for c in calls if c.agent_id and c.is_open)
    uow.planning.lock_agents(agents)


def contact_linked(session: Session, event: CloudEvent) -> None:
    CustomerReplicaRepository(session).add_link(link_from_event(event.data, event.time))


def contact_unlinked(session: Session, event: CloudEvent) -> None:
    CustomerReplicaRepository(session).mark_unlinked(link_from_event(event.data, event.time))


def campaign_defined(session: Session, event: CloudEvent) -> None:
    """A campaign's line of business, kept at its newest version: who may manage its call scripts."""
    CampaignReplicaRepository(session).upsert_if_newer(str(event.data["campaign_id"]),
                                                       str(event.data["line_of_business"]),
                                                       int(event.data["version"]))


LINK_HANDLERS = {events.CONTACT_LINKED: contact_linked, events.CONTACT_UNLINKED: contact_unlinked}
LINK_EVENTS = tuple(LINK_HANDLERS)
# Events stored one by one, taking no party or agent lock.
SIMPLE_HANDLERS = {**LINK_HANDLERS, events.CAMPAIGN_DEFINED: campaign_defined}


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
