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
    def __init__(self, agents: Mapping[str, Agent], loads: Mapping[tuple[str, date], int] | None = None):
        self.agents = agents
        self.loads: dict[tuple[str, date], int] = defaultdict(int, loads or {})
        self.changes: dict[tuple[str, date], int] = defaultdict(int)
        self._capacity: dict[tuple[str, date], int] = {}

    def capacity(self, agent_id: str, day: date) -> int:
        key = (agent_id, day)
        if key not in self._capacity:
            agent = self.agents.get(agent_id)
            self._capacity[key] = agent.capacity_on(day) if agent else 0
        return self._capacity[key]

    def free(self, agent_id: str, day: date) -> int:
        return self.capacity(agent_id, day) - self.loads[(agent_id, day)]

    def book(self, agent_id: str, day: date) -> None:
        self.loads[(agent_id, day)] += 1
        self.changes[(agent_id, day)] += 1

    def release(self, agent_id: str | None, day: date | None) -> None:
        if agent_id is None or day is None:
            return
        self.loads[(agent_id, day)] -= 1
        self.changes[(agent_id, day)] -= 1

    def place(self, agent_ids: Iterable[str], window: DayWindow, *, key: int = 0,
              blocked: Callable[[date], bool] = lambda day: False, earliest_first: bool = False) -> Placement | None:
        """The first agent (in the order given) with a free day in the window; books it."""
        for agent_id in agent_ids:
            day = self._free_day(agent_id, window, key, blocked, earliest_first)
            if day is not None:
                self.book(agent_id, day)
                slots = self.agents[agent_id].slots_on(day) or ("morning",)
                return Placement(agent_id, day, slots[key % len(slots)])
        return None

    def _free_day(self, agent_id, window, key, blocked, earliest_first) -> date | None:
        if agent_id not in self.agents:
            return None
        length = window.days
        offset = 0 if earliest_first else key % length
        for step in range(length):
            day = window.start + timedelta(days=(offset + step) % length)
            if self.free(agent_id, day) > 0 and not blocked(day):
                return day
        return None


def gap_blocker(contact_days: Iterable[date], gap_days: int) -> Callable[[date], bool]:
    """True for days closer than the gap to any of the party's other calls or contacts."""
    days = sorted(set(contact_days))
    if gap_days <= 0 or not days:
        return lambda day: False
    return lambda day: any(abs((day - other).days) < gap_days for other in days)
