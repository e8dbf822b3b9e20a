"""Contacts made outside a planned call (a visit, a service call) and the cycle as a customer sees it."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from crm_shared.auth import Principal

from crm_calls.domain import events
from crm_calls.domain.calls import COMPLETED, SCHEDULED, Call
from crm_calls.domain.errors import InvalidInput, NotFound
from crm_calls.domain.policy import DayWindow, short_window
from crm_calls.service_layer.calls import CONTACT_MEMORY_DAYS
from crm_calls.service_layer.cycles import customer_since, is_cycle_customer, make_room_for_contact, plan_cycle
from crm_calls.service_layer.planner import Planner, call_data, commit_planner
from crm_calls.service_layer.transactions import retried


@dataclass(frozen=True)
class RecordContact:
    party_id: str
    kind: str
    contacted_on: date
    notes: str | None
    actor: Principal


@retried
def record_contact(uow, cmd: RecordContact) -> Call:
    """The contact counts toward the cycle like a reached call; the cycle is then re-planned from it."""
    now = uow.clock.now()
    if cmd.contacted_on > now.date():
        raise InvalidInput("a contact made cannot be in the future", "contacted_on")
    with uow:
        party = _visible_party(uow, cmd.party_id, cmd.actor, lock=True)
        calls = uow.planning.contacts_of([party.party_id], now.date() - timedelta(days=CONTACT_MEMORY_DAYS))
        planner = Planner.for_parties(uow.planning, [party], calls, now=now)
        contact = Call(call_id=str(uuid.uuid4()), party_id=party.party_id, call_type=cmd.kind, status=COMPLETED,
                       line_of_business=party.line_of_business, window=DayWindow(cmd.contacted_on, cmd.contacted_on),
                       created_at=now, due_on=cmd.contacted_on, completed_on=cmd.contacted_on, closed_at=now,
                       closed_by=cmd.actor.subject, outcome="reached", outcome_details={"notes": cmd.notes})
        planner.new_calls.append(contact)
        planner.published.append(events.Published(events.CALL_OUTCOME_RECORDED, party.party_id, {
            **call_data(contact), "outcome": "reached", "final": True, "contact_made": True,
            "completed_on": cmd.contacted_on.isoformat(), "recorded_by": cmd.actor.subject}))
        party_calls = calls.get(party.party_id, []) + [contact]
        make_room_for_contact(planner, party, party_calls, contact)
        if is_cycle_customer(party):
            plan_cycle(planner, party, party_calls)
        commit_planner(uow, planner)
    return contact


def cycle_of(uow, party_id: str, actor: Principal, today: date | None = None) -> dict:
    """The customer's cycle as it really stands: `satisfied` only when the contacts made and the calls
    scheduled (from today) hold the policy's minimum in every rolling 12 months from the day the party became
    a customer to the horizon; `short_window` names the first window that does not."""
    today = today or uow.clock.today()
    with uow:
        party = _visible_party(uow, party_id, actor)
        policy = uow.planning.policies().get(party.segment) or uow.planning.policies()["default"]
        calls = uow.planning.contacts_of([party_id], today - timedelta(days=CONTACT_MEMORY_DAYS)).get(party_id, [])
        horizon = today + timedelta(days=uow.planning.rules().horizon_days)
    made = [c.completed_on for c in calls if c.status == COMPLETED and c.completed_on]
    planned = sorted((c for c in calls if c.is_open and c.due_on), key=lambda c: c.due_on)
    in_horizon = sum(1 for c in planned if today <= c.due_on < min(horizon, today + timedelta(days=365)))
    short = None
    if is_cycle_customer(party):
        upcoming = [c.due_on for c in planned if c.status == SCHEDULED and c.due_on >= today]
        short = short_window(policy, customer_since(party, today), made + upcoming, today, horizon)
    return {"party_id": party_id, "segment": party.segment, "min_contacts": policy.min_contacts,
            "min_spacing_days": policy.min_spacing_days, "last_contact_on": max(made) if made else None,
            "planned": planned, "planned_in_horizon": in_horizon,
            "satisfied": is_cycle_customer(party) is False or short is None,
            "short_window": {"start": short.start, "end": short.end} if short else None}


def _visible_party(uow, party_id: str, actor: Principal, lock: bool = False):
    party = uow.planning.lock_parties([party_id]).get(party_id) if lock else uow.customers.get(party_id)
    if party is None or not actor.may_access(party.line_of_business):
        raise NotFound(f"no customer {party_id} is visible to you")
    return party
