"""Call cycles: keep every active customer's maintenance contacts planned to the horizon.

`sync_party` runs whenever the customers service tells us about a party; `roll_forward` runs daily (Celery
beat) over every customer in chunks, re-placing missed and overflowing calls and filling the gaps.
"""
from __future__ import annotations

from datetime import date, timedelta

from crm_calls.domain.calls import OVERFLOW, SCHEDULED, Call
from crm_calls.domain.policy import DayWindow, next_gap
from crm_calls.domain.scheduling import gap_blocker
from crm_calls.service_layer.planner import Planner, party_key

MISSED_REPLAN_DAYS = 14


def is_cycle_customer(party) -> bool:
    return party.lifecycle_state == "customer" and not party.deactivated


def sync_party(planner: Planner, party, calls: list[Call]) -> None:
    """Brings one party's open calls in line with what we now know about the party."""
    open_calls = [c for c in calls if c.is_open]
    if party.deactivated:
        for call in open_calls:
            planner.cancel(call, "the customer was deactivated")
        return
    if not is_cycle_customer(party):
        for call in (c for c in open_calls if c.call_type == "maintenance"):
            planner.cancel(call, f"the party is no longer a customer ({party.lifecycle_state})")
        return
    follow_territory(planner, party, calls)
    plan_cycle(planner, party, calls)


def follow_territory(planner: Planner, party, calls: list[Call]) -> None:
    """A customer who moved (or whose line changed) takes their open calls to the new territory's agents: on the
    same day when a new agent is free then, else on another day of the call's window, keeping the gap to the
    party's other calls and contacts like every placement (a callback keeps only to its own time)."""
    territory = planner.territory_for(party)
    territory_id = territory.territory_id if territory else None
    key = party_key(party.party_id)
    agents = territory.agents_for(key) if territory else ()
    moving = sorted((c for c in calls if c.is_open and c.territory_id != territory_id),
                    key=lambda c: (c.due_on or c.window.end, c.call_id))
    for call in moving:
        call.territory_id = territory_id
        others = [] if call.call_type == "follow_up" else [c.day for c in planner.contacts(calls, exclude=call.call_id)]
        blocked = gap_blocker(others, planner.rules.gap_days)
        planner.book.release(call.agent_id, call.due_on)  # its old day is free for the search below
        placement = None
        if call.due_on is not None and call.due_on >= planner.today:
            placement = planner.book.place(agents, DayWindow(call.due_on, call.due_on), blocked=blocked)
        if placement is None:
            window = call.window.clipped(planner.today) or _soon(planner.today)
            placement = planner.book.place(agents, window, key=key, blocked=blocked)
        planner.move(call, placement, "the customer now belongs to another territory", keep_booking=True)


def make_room_for_contact(planner: Planner, party, calls: list[Call], contact: Call) -> None:
    """A contact made (a visit, a service call) is a call like any other for the interference rules: the open
    calls it leaves inside the gap make way. A maintenance call due within the gap or the policy's spacing
    after it is cancelled (the contact took its place; `plan_cycle` then plans on from the contact); any other
    call moves to the first day of its window that keeps the gap, or is cancelled when none does. Callbacks
    keep the time the customer asked for."""
    day = contact.completed_on
    gap = planner.rules.gap_days
    spacing = planner.policy_for(party.segment).min_spacing_days if is_cycle_customer(party) else 0
    key = party_key(party.party_id)
    territory = planner.territory_for(party)
    agents = territory.agents_for(key) if territory else ()
    def in_the_way(call: Call) -> bool:
        if not call.is_open or call.due_on is None or call.call_type == "follow_up":
            return False
        apart = (call.due_on - day).days
        return abs(apart) < gap or (call.call_type == "maintenance" and 0 <= apart < spacing)

    for call in sorted(filter(in_the_way, calls), key=lambda c: (c.due_on, c.call_id)):
        if call.call_type == "maintenance":
            planner.cancel(call, f"a {contact.call_type} on {day} took its place")
            continue
        others = [c.day for c in planner.contacts(calls, exclude=call.call_id)]
        window = call.window.clipped(planner.today)
        placement = window and planner.book.place(agents, window, key=key, blocked=gap_blocker(others, gap),
                                                  earliest_first=True)
        if placement:
            planner.move(call, placement, f"keeps the gap to the {contact.call_type} on {day}")
        else:
            planner.cancel(call, f"within {gap} days of the {contact.call_type} on {day}, and no day of its "
                                 "window keeps the gap")


def plan_cycle(planner: Planner, party, calls: list[Call]) -> list[Call]:
    """Re-places missed and overflowing calls, then plans a maintenance call for every gap to the horizon."""
    policy = planner.policy_for(party.segment)
    territory = planner.territory_for(party)
    key = party_key(party.party_id)
    agents = territory.agents_for(key) if territory else ()
    for call in calls:
        if call.is_open and call.call_type == "maintenance" and call.window.end < planner.today:
            # missed or waiting past its whole window: the cycle plans what it now needs from the last contact
            planner.cancel(call, "its window passed without the call; the cycle is planned again")
            continue
        if call.is_open and _needs_new_place(planner, call):
            others = [c.day for c in planner.contacts(calls, exclude=call.call_id)]
            window = call.window.clipped(planner.today) or _soon(planner.today)
            placement = planner.book.place(agents, window, key=key,
                                           blocked=gap_blocker(others, planner.rules.gap_days))
            if placement is not None or call.status != OVERFLOW:
                planner.move(call, placement, "missed or waiting for capacity: placed again")
    made = [c.completed_on for c in calls if c.status == "completed" and c.completed_on]
    last_contact = max(made) if made else None
    planned = [c.due_on if c.status == SCHEDULED else c.window.end for c in calls if c.is_open]
    anchor = customer_since(party, planner.today)
    new: list[Call] = []
    previous_window = None
    for salt in range(1, policy.min_contacts * 3 + 3):  # bounded: each pass moves the chain on by a call
        window = next_gap(policy, last_contact, planned, planner.today, planner.horizon_end, anchor)
        if window is None or window == previous_window:  # a gap the last call did not fill: never plan it twice
            break
        previous_window = window
        busy = [c.day for c in planner.contacts(calls + new)]
        placement = planner.book.place(agents, window, key=party_key(party.party_id, salt),
                                       blocked=gap_blocker(busy, planner.rules.gap_days))
        call = planner.new_call(party, "maintenance", window, territory, placement, priority=1)
        new.append(call)
        planned.append(placement.day if placement else window.end)
    return new


def customer_since(party, today: date) -> date:
    """The day the party became a customer (its cycle counts from it); for a replica row from before that was
    recorded, the last change seen, which is never later than when it was last confirmed a customer."""
    since = getattr(party, "customer_since", None)
    if since is None:
        updated = getattr(party, "updated_at", None)
        since = updated.date() if updated is not None else today
    return min(since, today)


def _needs_new_place(planner: Planner, call: Call) -> bool:
    """Waiting for capacity, missed, or with an agent who can no longer take it that day (deactivated, absent,
    off that weekday, left the team, or booked beyond a capacity that was lowered)."""
    if call.status == OVERFLOW or call.due_on < planner.today:
        return True
    book = planner.book
    return book.free(call.agent_id, call.due_on) < 0 or book.capacity(call.agent_id, call.due_on) == 0


def _soon(today: date) -> DayWindow:
    return DayWindow(today + timedelta(days=1), today + timedelta(days=MISSED_REPLAN_DAYS))
