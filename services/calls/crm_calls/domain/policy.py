"""The contact policy: how often a customer must be contacted, and where the cycle has gaps to fill."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from crm_calls.domain.errors import InvalidInput

YEAR_DAYS = 365


@dataclass(frozen=True)
class PlanningRules:
    gap_days: int = 14
    max_attempts: int = 3
    horizon_days: int = 365

    def __post_init__(self):
        if not 0 <= self.gap_days <= 90:
            raise InvalidInput("the gap between calls must be 0 to 90 days", "gap_days")
        if not 1 <= self.max_attempts <= 10:
            raise InvalidInput("max_attempts must be 1 to 10", "max_attempts")
        if not 30 <= self.horizon_days <= 730:
            raise InvalidInput("the planning horizon must be 30 to 730 days", "horizon_days")


@dataclass(frozen=True)
class ContactPolicy:
    """At least `min_contacts` contacts in any rolling 12 months, at least `min_spacing_days` apart.

    Any window of 365 days holds `min_contacts` contacts when no two consecutive contacts are more than
    `max_interval` = 364 // min_contacts days apart, which also spreads them evenly.
    """
    segment: str
    min_contacts: int = 2
    min_spacing_days: int = 90
    version: int = 1

    def __post_init__(self):
        if not 1 <= self.min_contacts <= 52:
            raise InvalidInput("min_contacts must be 1 to 52 a year", "min_contacts")
        if not 0 <= self.min_spacing_days <= self.max_interval:
            raise InvalidInput(f"min_spacing_days must be 0 to {self.max_interval} for {self.min_contacts} "
                               "contacts a year", "min_spacing_days")

    @property
    def max_interval(self) -> int:
        return (YEAR_DAYS - 1) // self.min_contacts


@dataclass(frozen=True)
class DayWindow:
    start: date
    end: date

    def __post_init__(self):
        if self.end < self.start:
            raise InvalidInput("the window ends before it starts", "window_end")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end

    def clipped(self, earliest: date) -> DayWindow | None:
        start = max(self.start, earliest)
        return DayWindow(start, self.end) if start <= self.end else None


def next_gap(policy: ContactPolicy, last_contact: date | None, planned: Iterable[date], today: date,
             horizon_end: date) -> DayWindow | None:
    """The window of the next maintenance call the cycle needs, or None when it is covered to the horizon.

    Walks the contacts in date order (the last one made, then every planned one) and returns the first
    stretch longer than the policy's interval. With no contact at all, the first call falls within one interval.
    """
    interval = timedelta(days=policy.max_interval)
    first_window = DayWindow(today, today + interval - timedelta(days=1))
    previous = last_contact
    for day in sorted(planned):
        if previous is None and day > first_window.end:
            return first_window
        if previous is not None and day - previous > interval:
            break
        previous = day if previous is None or day > previous else previous
    if previous is None:
        return first_window
    if previous + interval > horizon_end:
        return None
    earliest = max(today, previous + timedelta(days=max(policy.min_spacing_days, 1)))
    latest = previous + interval
    if latest < today:  # overdue: the cycle is already broken, so call as soon as possible
        return DayWindow(today, today + timedelta(days=max(policy.min_spacing_days, 14)))
    return DayWindow(earliest, latest)
