"""The planning context of one transaction: rules, policies, territories, the agents involved (locked) and
their bookings, plus what the transaction decided (new and changed calls, decisions, events)."""
from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from crm_shared.events import new_event

from crm_calls.adapters.planning_repository import PlanningRepository
from crm_calls.domain import events
from crm_calls.domain.calls import SCHEDULED, Call
from crm_calls.domain.interference import PartyContact
from crm_calls.domain.policy import ContactPolicy, DayWindow
from crm_calls.domain.scheduling import CapacityBook, Placement
from crm_calls.domain.territories import Territory
from crm_calls.service_layer.clock import SYSTEM_CLOCK, Clock

BOOKING_REACH_DAYS = 800  # covers the horizon plus the longest window a call can have


class Planner:
    def __init__(self, repo: PlanningRepository, *, agent_ids: Iterable[str] | None = None,
                 today: date | None = None, now: datetime | None = None, clock: Clock = SYSTEM_CLOCK):
        self.repo = repo
        self.now = now or clock.now()
        self.today = today or self.now.date()
        self.rules = repo.rules()
        self.policies = repo.policies()
        self.territories = repo.territories()
        wanted = set(agent_ids) if agent_ids is not None else {
            a for t in self.territories.territories for a in t.agents()}
        repo.lock_agents(wanted)
        self.agents = repo.agents(wanted)
        base = self.today - timedelta(days=1)
        loads = repo.loads(self.agents, base, base + timedelta(days=BOOKING_REACH_DAYS - 1))
        self.book = CapacityBook(self.agents, loads, base=base, reach_days=BOOKING_REACH_DAYS)
        self.new_calls: list[Call] = []
        self.changed_calls: dict[str, Call] = {}
        self.decisions: list[dict[str, Any]] = []
        self.refusals: dict[tuple[str, str], Any] = {}  # refused in this transaction, by (line, request id)
        self.published: list[events.Published] = []

    @classmethod
    def for_parties(cls, repo: PlanningRepository, parties: Iterable[Any], contacts: dict[str, list[Call]],
                    **kwargs) -> Planner:
        """A planner locking only the agents these parties' territories and open calls involve."""
        territories = repo.territories()
        wanted: set[str] = set()
        for party in parties:
            territory = territories.territory_for(party.postal_code, party.city, party.line_of_business)
            wanted.update(territory.agents() if territory else ())
            wanted.update(c.agent_id for c in contacts.get(party.party_id, ()) if c.agent_id and c.is_open)
        return cls(repo, agent_ids=wanted, **kwargs)

    @property
    def horizon_end(self) -> date:
        return self.today + timedelta(days=self.rules.horizon_days)

    def policy_for(self, segment: str) -> ContactPolicy:
        return self.policies.get(segment) or self.policies.get("default") or ContactPolicy("default")

    def territory_for(self, party) -> Territory | None:
        return self.territories.territory_for(party.postal_code, party.city, party.line_of_business)

    # -- building and changing calls ---------------------------------------------------------------------
    def new_call(self, party, call_type: str, window: DayWindow, territory: Territory | None,
                 placement: Placement | None, **extra) -> Call:
        call = Call(call_id=str(uuid.uuid4()), party_id=party.party_id, call_type=call_type, status=SCHEDULED,
                    line_of_business=party.line_of_business, window=window, created_at=self.now,
                    territory_id=territory.territory_id if territory else None, **extra)
        call.place(placement)
        call.version = 1
        self.new_calls.append(call)
        self.emit(events.CALL_SCHEDULED if placement else events.CALL_OVERFLOWED, call)
        return call

    def move(self, call: Call, placement: Placement | None, reason: str, *, keep_booking: bool = False) -> None:
        """`keep_booking` when the old day's capacity was really used (an attempt was made that day)."""
        previous_agent, previous_day = call.agent_id, call.due_on
        if not keep_booking:
            self.book.release(call.agent_id, call.due_on)
        call.place(placement)
        self.changed(call)
        self.emit(events.CALL_RESCHEDULED if placement else events.CALL_OVERFLOWED, call, reason=reason,
                  previous_agent_id=previous_agent, previous_due_on=_iso(previous_day))

    def cancel(self, call: Call, reason: str) -> None:
        self.book.release(call.agent_id, call.due_on)
        call.cancel(reason, self.now)
        self.changed(call)
        self.emit(events.CALL_CANCELLED, call, reason=reason)

    def changed(self, call: Call) -> None:
        if all(c.call_id != call.call_id for c in self.new_calls):
            self.changed_calls[call.call_id] = call

    def decide(self, party_id: str, call_type: str, decision: str, reason: str, call: Call | None,
               request_id: str | None, affected: list[str]) -> None:
        record = {"decision_id": str(uuid.uuid4()), "party_id": party_id, "call_id": call.call_id if call else None,
                  "request_id": request_id, "call_type": call_type, "decision": decision, "reason": reason,
                  "affected_call_ids": affected, "decided_at": self.now}
        self.decisions.append(record)
        self.published.append(events.Published(events.INTERFERENCE_RESOLVED, party_id,
                                               {**record, "decided_at": self.now.isoformat()}))

    def emit(self, name: str, call: Call, **extra) -> None:
        self.published.append(events.Published(name, call.party_id, {**call_data(call), **extra}))

    # -- reading the party's calls as contacts --------------------------------------------------------
    def contacts(self, calls: Iterable[Call], exclude: str | None = None) -> list[PartyContact]:
        found = []
        for call in calls:
            if call.call_id == exclude:
                continue
            day = call.due_on if call.is_open else call.completed_on
            if day is not None and (call.is_open or call.status == "completed"):
                found.append(PartyContact(call.call_id, call.call_type, day, call.window, call.is_open))
        return found

    def flush(self) -> None:
        """Writes what this planner decided, in the caller's transaction."""
        self.repo.add_calls(self.new_calls)
        for call in self.changed_calls.values():
            self.repo.save_call(call)
        self.repo.add_decisions(self.decisions)
        self.repo.save_loads(self.book.changes)
        self.book.changes.clear()
        self.new_calls, self.changed_calls, self.decisions = [], {}, []


def party_key(party_id: str, salt: int = 0) -> int:
    """A stable number per party: where its calls start looking in a window, spreading load evenly."""
    return int(party_id.replace("-", "")[:12], 16) + salt * 7919


def call_data(call: Call) -> dict[str, Any]:
    return {"call_id": call.call_id, "party_id": call.party_id, "call_type": call.call_type,
            "status": call.status, "line_of_business": call.line_of_business, "territory_id": call.territory_id,
            "agent_id": call.agent_id, "due_on": _iso(call.due_on), "slot": call.slot,
            "window_start": call.window.start.isoformat(), "window_end": call.window.end.isoformat(),
            "campaign_id": call.campaign_id, "request_id": call.request_id, "priority": call.priority}


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def commit_planner(uow, planner: Planner) -> None:
    """Writes the planner's calls, decisions and bookings and queues its events, then commits (outbox)."""
    planner.flush()
    uow.publish(*(new_event(p.type, events.SOURCE, p.subject, p.data) for p in planner.published))
    planner.published.clear()
    uow.commit()
