"""Call interference management: no two calls to one party inside the gap, whatever their types.

A requested call (campaign, telemarketing, service, follow-up) that would come within the gap of another
call of the same party is resolved in this documented order:
1. take over: when a maintenance call lies within the gap and the requested call fits into that maintenance
   call's window, the requested call is placed there (on the free day nearest the maintenance call's, so the
   cycle's spacing holds) and the maintenance call is cancelled. The contact still happens inside the cycle's
   window, so the cycle stays satisfied and the customer is called once, not twice;
2. shift: otherwise the requested call moves to the first day of its own window that keeps the gap to every
   other call (the next free slot);
3. refuse: when neither fits, the request is refused with the calls it collides with as the reason.
Customer-requested callbacks and retries of the same call are exempt: the customer asked for that time.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from crm_calls.domain.policy import DayWindow
from crm_calls.domain.scheduling import CapacityBook, Placement, gap_blocker

ACCEPTED, TOOK_OVER, SHIFTED, REFUSED, OVERFLOW = "accepted", "took_over", "shifted", "refused", "overflow"


@dataclass(frozen=True)
class PartyContact:
    """Another call of the party, as far as interference goes: when it happens, and what it is."""
    call_id: str
    call_type: str
    day: date
    window: DayWindow | None
    open: bool


@dataclass
class Resolution:
    decision: str
    reason: str
    placement: Placement | None = None
    taken_over: list[str] = field(default_factory=list)

    @property
    def collided(self) -> bool:
        return self.decision != ACCEPTED


def resolve_request(window: DayWindow, contacts: Sequence[PartyContact], gap_days: int, book: CapacityBook,
                    agent_ids: Sequence[str], key: int) -> Resolution:
    near = _within_reach(window, contacts, gap_days)
    if not near:
        placement = book.place(agent_ids, window, key=key)
        if placement is None:
            return Resolution(OVERFLOW, f"no agent of the territory has a free day between {window.start} and "
                                        f"{window.end}")
        return Resolution(ACCEPTED, "no other call of the party within the gap", placement)
    for maintenance in (c for c in near if c.open and c.call_type == "maintenance" and c.window is not None):
        shared = _intersection(window, maintenance.window)
        if shared is None:
            continue
        others = [c.day for c in contacts if c.call_id != maintenance.call_id]
        placement = book.place(agent_ids, shared, key=key, blocked=gap_blocker(others, gap_days),
                               near=maintenance.day)
        if placement is not None:
            return Resolution(TOOK_OVER, f"takes over maintenance call {maintenance.call_id} (due "
                                         f"{maintenance.day}); the cycle stays satisfied", placement,
                              [maintenance.call_id])
    placement = book.place(agent_ids, window, key=key, blocked=gap_blocker([c.day for c in contacts], gap_days),
                           earliest_first=True)
    if placement is not None:
        return Resolution(SHIFTED, f"placed on {placement.day}, the first day of its window at least {gap_days} "
                                   f"days from calls {_describe(near)}", placement)
    return Resolution(REFUSED, f"every day from {window.start} to {window.end} is within {gap_days} days of "
                               f"calls {_describe(near)} or has no free agent capacity, and no maintenance call "
                               "could be taken over")


def _within_reach(window: DayWindow, contacts: Sequence[PartyContact], gap_days: int) -> list[PartyContact]:
    reach = timedelta(days=max(gap_days - 1, 0))
    return [c for c in contacts if gap_days > 0 and window.start - reach <= c.day <= window.end + reach]


def _intersection(a: DayWindow, b: DayWindow) -> DayWindow | None:
    start, end = max(a.start, b.start), min(a.end, b.end)
    return DayWindow(start, end) if start <= end else None


def _describe(contacts: Sequence[PartyContact]) -> str:
    return ", ".join(f"{c.call_id} ({c.call_type}, {c.day})" for c in contacts)
