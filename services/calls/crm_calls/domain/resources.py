"""Staff and their working time: who can take how many calls on which day. Pure, no I/O."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, time

from crm_calls.domain.errors import InvalidInput

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
AGENT_ROLES = ("call_centre", "field_sales", "key_account_manager", "service")
ABSENCE_KINDS = ("holiday", "sickness", "training", "other")
NOON = time(12, 0)


@dataclass(frozen=True)
class Absence:
    absence_id: str
    agent_id: str
    kind: str
    first_day: date
    last_day: date
    note: str | None = None

    def __post_init__(self):
        if self.kind not in ABSENCE_KINDS:
            raise InvalidInput(f"absence kind must be one of {', '.join(ABSENCE_KINDS)}", "kind")
        if self.last_day < self.first_day:
            raise InvalidInput("an absence cannot end before it starts", "last_day")

    def covers(self, day: date) -> bool:
        return self.first_day <= day <= self.last_day


def parse_working_hours(hours: Mapping[str, Iterable[str]]) -> dict[str, tuple[time, time]]:
    """`{"mon": ["08:00", "16:30"], ...}`; a weekday left out is a day off."""
    parsed = {}
    for weekday, span in hours.items():
        if weekday not in WEEKDAYS:
            raise InvalidInput(f"unknown weekday {weekday!r}; use {', '.join(WEEKDAYS)}", "working_hours")
        try:
            start, end = (time.fromisoformat(v) for v in span)
        except (TypeError, ValueError):
            raise InvalidInput(f"{weekday}: give [start, end] as HH:MM", "working_hours") from None
        if end <= start:
            raise InvalidInput(f"{weekday}: the working day ends before it starts", "working_hours")
        parsed[weekday] = (start, end)
    return parsed


@dataclass
class Agent:
    agent_id: str
    name: str
    role: str
    daily_capacity: int
    working_hours: dict[str, tuple[time, time]]
    user_subject: str | None = None
    active: bool = True
    version: int = 1
    absences: list[Absence] = field(default_factory=list)

    def __post_init__(self):
        if self.role not in AGENT_ROLES:
            raise InvalidInput(f"role must be one of {', '.join(AGENT_ROLES)}", "role")
        if self.daily_capacity < 0:
            raise InvalidInput("the daily capacity cannot be below zero", "daily_capacity")

    def works_on(self, day: date) -> bool:
        return self.active and WEEKDAYS[day.weekday()] in self.working_hours

    def present_on(self, day: date) -> bool:
        return self.works_on(day) and not any(a.covers(day) for a in self.absences)

    def capacity_on(self, day: date) -> int:
        return self.daily_capacity if self.present_on(day) else 0

    def slots_on(self, day: date) -> tuple[str, ...]:
        """The times of day this agent can call on `day`, so a retry can try the other one."""
        span = self.working_hours.get(WEEKDAYS[day.weekday()])
        if span is None:
            return ()
        start, end = span
        return tuple(s for s, ok in (("morning", start < NOON), ("afternoon", end > NOON)) if ok)
