"""The contact policy: how often a customer must be contacted, and where the cycle has gaps to fill."""
from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from crm_calls.domain.errors import InvalidInput

YEAR_DAYS = 365
RESERVE_DAYS = 28


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


def reserve_days(policy: ContactPolicy) -> int:
    """Days kept free at the end of every cycle window: a call planned there can still fail (not reached up to
    the attempt limit) or be taken over and then withdrawn, and its replacement still fits before the deadline."""
    return min(RESERVE_DAYS, (policy.max_interval - policy.min_spacing_days) // 2)


def next_gap(policy: ContactPolicy, last_contact: date | None, planned: Iterable[date], today: date,
             horizon_end: date, anchor: date | None = None) -> DayWindow | None:
    """The window of the next maintenance call the cycle needs, or None when it is covered to the horizon.

    Walks the contacts in date order (the last one made, then every planned one) and returns the first
    stretch longer than the policy's interval. `anchor` is the day the party became a customer: before any
    contact it stands in for one (so the first 12 months are counted from it, whatever happens to the first
    call), and it replaces contacts made before it (a reactivated customer starts a new cycle). An open call
    counts from today at the earliest (a missed or waiting one can still be made). Once the deadline has
    passed (overdue), a call in the overdue window covers it: planning the same gap again adds nothing.
    """
    interval = timedelta(days=policy.max_interval)
    overdue = timedelta(days=max(policy.min_spacing_days, 14))
    anchor = min(anchor, today) if anchor is not None else None
    previous, virtual = last_contact, False
    if previous is None or (anchor is not None and anchor > previous):
        previous, virtual = anchor or today, True
    for day in sorted(max(d, today) for d in planned):
        if day < previous or (day == previous and not virtual):
            continue
        deadline = previous + interval if previous + interval >= today else today + overdue
        if day > deadline:
            break
        previous, virtual = day, False
    latest = previous + interval
    if latest < today:  # overdue: the cycle is already broken, so call as soon as possible
        return DayWindow(today, today + overdue)
    if latest > horizon_end:
        return None
    earliest = max(today, previous + timedelta(days=0 if virtual else max(policy.min_spacing_days, 1)))
    target = latest - timedelta(days=reserve_days(policy))
    return DayWindow(earliest, target if target >= earliest else latest)


def short_window(policy: ContactPolicy, since: date, contacts: Iterable[date], today: date,
                 horizon_end: date) -> DayWindow | None:
    """The first rolling 12-month window that holds fewer than `min_contacts` of `contacts`, or None.

    Judged are the windows that start on or after `since` (the day the party became a customer), do not lie
    wholly in the past and end within the horizon (the plan reaches no further). The count is lowest right
    after a contact drops out, so the windows starting on `since` (or a year ago) and the day after each
    contact are enough to look at.
    """
    days = sorted(contacts)
    year = timedelta(days=YEAR_DAYS - 1)
    lowest = max(since, today - year)
    starts = sorted({lowest, *(d + timedelta(days=1) for d in days if d + timedelta(days=1) >= lowest)})
    for start in starts:
        end = start + year
        if end > horizon_end:
            break
        if bisect_right(days, end) - bisect_left(days, start) < policy.min_contacts:
            return DayWindow(start, end)
    return None
