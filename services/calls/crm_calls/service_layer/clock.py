"""The clock the calls service reads: one injected port, so planning can run on a simulated day.

The unit of work carries it (`uow.clock`); the runtime wires the system clock, tests a `FixedClock`.
"""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...

    def today(self) -> date: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self) -> date:
        return self.now().date()


class FixedClock:
    """A clock that stands still until told to move (tests and simulations)."""

    def __init__(self, now: datetime):
        self._now = now if now.tzinfo else now.replace(tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def today(self) -> date:
        return self._now.date()

    def set(self, now: datetime) -> None:
        self._now = now if now.tzinfo else now.replace(tzinfo=UTC)

    def advance(self, **delta) -> None:
        self._now += timedelta(**delta)


SYSTEM_CLOCK = SystemClock()
