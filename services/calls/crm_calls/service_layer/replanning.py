"""Moving calls when staff availability changes: an absence, or a territory changing hands."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from crm_calls.domain.calls import Call
from crm_calls.domain.policy import DayWindow
from crm_calls.domain.scheduling import gap_blocker
from crm_calls.service_layer.planner import Planner, party_key


def calls_to_replan_for_absence(repo, agent_id: str, first: date, last: date) -> list[Call]:
    return repo.open_calls(agent_id=agent_id, first=first, last=last)


def replan(planner: Planner, calls: Iterable[Call], reason: str) -> dict[str, int]:
    """Each call goes to a present agent of its territory on the same day (the substitute, typically), else to
    another free day of its window; what fits nowhere becomes overflow, reported and never dropped."""
    counts = {"moved_same_day": 0, "moved_other_day": 0, "overflow": 0}
    by_id = {t.territory_id: t for t in planner.territories.territories}
    calls = list(calls)
    moving = {c.call_id: c for c in calls}
    # One query for every party involved; the calls being moved stand in for their stored copies, so a
    # party's second moved call sees where its first one went.
    stored = planner.repo.contacts_of({c.party_id for c in calls}, planner.today)
    party_calls = {party: [moving.get(c.call_id, c) for c in found] for party, found in stored.items()}
    for call in calls:
        territory = by_id.get(call.territory_id)
        agents = territory.agents_for(party_key(call.party_id)) if territory else ()
        others = [c.day for c in planner.contacts(party_calls.get(call.party_id, []), exclude=call.call_id)]
        same_day = None
        if call.due_on is not None and call.due_on >= planner.today:
            same_day = planner.book.place([a for a in agents if a != call.agent_id],
                                          DayWindow(call.due_on, call.due_on))
        placement = same_day
        if placement is None:
            window = call.window.clipped(planner.today) or DayWindow(planner.today, planner.today)
            placement = planner.book.place(agents, window, key=party_key(call.party_id),
                                           blocked=gap_blocker(others, planner.rules.gap_days))
        planner.move(call, placement, reason)
        counts["moved_same_day" if same_day else "moved_other_day" if placement else "overflow"] += 1
    return counts
