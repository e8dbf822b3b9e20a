"""Capacity-aware placement: pick an (agent, day) inside a window without overbooking anyone.

The book holds the bookings of every agent and day it has seen; placement walks the window from an offset
derived from the party, so calls spread over the window instead of piling up on its first days.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from crm_calls.domain.policy import DayWindow
from crm_calls.domain.resources import Agent

ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Placement:
    agent_id: str
    day: date
    slot: str


class CapacityBook:
    """Bookings against capacity per agent and day. Days are held as offsets from `base` in plain lists:
    placement probes many days per call, so this is the planner's innermost loop."""

    def __init__(self, agents: Mapping[str, Agent], loads: Mapping[tuple[str, date], int] | None = None,
                 base: date | None = None, reach_days: int = 800):
        self.agents = agents
        self.base = base or min((d for _, d in (loads or {})), default=date.today())
        self.reach = reach_days
        self._capacity: dict[str, list[int]] = {}
        self._load: dict[str, list[int]] = {}
        self.changes: dict[tuple[str, date], int] = defaultdict(int)
        self._outside: dict[tuple[str, date], int] = defaultdict(int)
        for (agent_id, day), booked in (loads or {}).items():
            self._add(agent_id, day, booked)

    def capacity(self, agent_id: str, day: date) -> int:
        index = (day - self.base).days
        if agent_id not in self.agents or not 0 <= index < self.reach:
            return 0
        return self._lists(agent_id)[0][index]

    def load(self, agent_id: str, day: date) -> int:
        index = (day - self.base).days
        if not 0 <= index < self.reach:
            return self._outside[(agent_id, day)]
        return self._lists(agent_id)[1][index] if agent_id in self.agents else self._outside[(agent_id, day)]

    def free(self, agent_id: str, day: date) -> int:
        return self.capacity(agent_id, day) - self.load(agent_id, day)

    def book(self, agent_id: str, day: date) -> None:
        self._add(agent_id, day, 1)
        self.changes[(agent_id, day)] += 1

    def release(self, agent_id: str | None, day: date | None) -> None:
        if agent_id is None or day is None:
            return
        self._add(agent_id, day, -1)
        self.changes[(agent_id, day)] -= 1

    def place(self, agent_ids: Iterable[str], window: DayWindow, *, key: int = 0,
              blocked: Callable[[date], bool] | None = None, earliest_first: bool = False,
              near: date | None = None) -> Placement | None:
        """The first agent (in the order given) with a free day in the window; books it. `near`: take the
        free day closest to this one (a takeover keeps the contact where the cycle had it)."""
        for agent_id in agent_ids:
            day = self._free_day(agent_id, window, key, blocked, earliest_first, near)
            if day is not None:
                self.book(agent_id, day)
                slots = self.agents[agent_id].slots_on(day) or ("morning",)
                return Placement(agent_id, day, slots[key % len(slots)])
        return None

    def _free_day(self, agent_id, window, key, blocked, earliest_first, near=None) -> date | None:
        if agent_id not in self.agents:
            return None
        capacity, load = self._lists(agent_id)
        first = max((window.start - self.base).days, 0)
        last = min((window.end - self.base).days, self.reach - 1)
        length = last - first + 1
        if length <= 0:
            return None
        offset = 0 if earliest_first else key % length
        if near is not None:
            target = (near - self.base).days
            order = sorted(range(first, last + 1), key=lambda i: (abs(i - target), i))
        else:
            order = (first + (offset + step) % length for step in range(length))
        for index in order:
            if load[index] < capacity[index]:
                day = self.base + timedelta(days=index)
                if blocked is None or not blocked(day):
                    return day
        return None

    def _add(self, agent_id: str, day: date, amount: int) -> None:
        index = (day - self.base).days
        if agent_id in self.agents and 0 <= index < self.reach:
            self._lists(agent_id)[1][index] += amount
        else:
            self._outside[(agent_id, day)] += amount

    def _lists(self, agent_id: str) -> tuple[list[int], list[int]]:
        if agent_id not in self._capacity:
            agent = self.agents[agent_id]
            self._capacity[agent_id] = [agent.capacity_on(self.base + timedelta(days=i)) for i in range(self.reach)]
            self._load[agent_id] = [0] * self.reach
        return self._capacity[agent_id], self._load[agent_id]


def gap_blocker(contact_days: Iterable[date], gap_days: int) -> Callable[[date], bool] | None:
    """True for days closer than the gap to any of the party's other calls or contacts."""
    days = sorted(set(contact_days))
    if gap_days <= 0 or not days:
        return None
    return lambda day: any(abs((day - other).days) < gap_days for other in days)
