"""A call and what can happen to it: scheduling, moving, cancelling, and recording its outcome."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from crm_calls.domain.errors import CallClosed, InvalidInput
from crm_calls.domain.policy import DayWindow
from crm_calls.domain.scheduling import Placement

CALL_TYPES = ("maintenance", "campaign", "telemarketing", "follow_up", "service", "visit")
REQUESTABLE_TYPES = ("campaign", "telemarketing", "follow_up", "service")
SCHEDULED, OVERFLOW, COMPLETED, FAILED, CANCELLED = "scheduled", "overflow", "completed", "failed", "cancelled"
OPEN_STATUSES = (SCHEDULED, OVERFLOW)
STATUSES = (SCHEDULED, OVERFLOW, COMPLETED, FAILED, CANCELLED)
OUTCOMES = ("reached", "not_reached", "rejected", "callback_requested", "appointment_booked", "interest_noted")
INTERESTS = ("lead", "order")
SLOTS = ("morning", "afternoon")


@dataclass(frozen=True)
class Outcome:
    outcome: str
    recorded_at: datetime
    rejection_reason: str | None = None
    callback_at: datetime | None = None
    appointment_at: datetime | None = None
    interest: str | None = None
    notes: str | None = None
    answers: dict[str, Any] = field(default_factory=dict)
    next_contact_on: date | None = None

    def __post_init__(self):
        if self.outcome not in OUTCOMES:
            raise InvalidInput(f"outcome must be one of {', '.join(OUTCOMES)}", "outcome")
        required = {"rejected": ("rejection_reason", self.rejection_reason),
                    "callback_requested": ("callback_at", self.callback_at),
                    "appointment_booked": ("appointment_at", self.appointment_at),
                    "interest_noted": ("interest", self.interest)}.get(self.outcome)
        if required and not required[1]:
            raise InvalidInput(f"a {self.outcome} outcome needs {required[0]}", required[0])
        if self.interest is not None and self.interest not in INTERESTS:
            raise InvalidInput(f"interest must be one of {', '.join(INTERESTS)}", "interest")
        if self.callback_at is not None and self.callback_at <= self.recorded_at:
            raise InvalidInput("a callback must be in the future", "callback_at")
        if self.next_contact_on is not None and self.next_contact_on <= self.recorded_at.date():
            raise InvalidInput("the next contact must be after today", "next_contact_on")

    @property
    def contact_made(self) -> bool:
        """Every outcome but `not_reached` means someone spoke with the customer: it counts for the cycle."""
        return self.outcome != "not_reached"

    def details(self) -> dict[str, Any]:
        iso = lambda v: v.isoformat() if v is not None else None  # noqa: E731
        return {"callback_at": iso(self.callback_at), "appointment_at": iso(self.appointment_at),
                "interest": self.interest, "notes": self.notes, "answers": dict(self.answers),
                "next_contact_on": iso(self.next_contact_on)}


@dataclass
class Call:
    call_id: str
    party_id: str
    call_type: str
    status: str
    line_of_business: str
    window: DayWindow
    created_at: datetime
    territory_id: str | None = None
    agent_id: str | None = None
    due_on: date | None = None
    slot: str = "morning"
    priority: int = 0
    campaign_id: str | None = None
    request_id: str | None = None
    attempts: int = 0
    outcome: str | None = None
    rejection_reason: str | None = None
    outcome_details: dict[str, Any] | None = None
    script_id: str | None = None
    script_version: int | None = None
    completed_on: date | None = None
    closed_at: datetime | None = None
    closed_by: str | None = None
    cancel_reason: str | None = None
    parent_call_id: str | None = None
    remind_at: datetime | None = None
    reminded_at: datetime | None = None
    version: int = 1

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def place(self, placement: Placement | None) -> None:
        if placement is None:
            self.status, self.agent_id, self.due_on = OVERFLOW, None, None
        else:
            self.status, self.agent_id, self.due_on, self.slot = SCHEDULED, placement.agent_id, placement.day, \
                placement.slot
        self.version += 1

    def cancel(self, reason: str, when: datetime) -> None:
        self.require_open()
        self.status, self.cancel_reason, self.closed_at = CANCELLED, reason, when
        self.version += 1

    def record(self, outcome: Outcome, actor: str, max_attempts: int, script_version: int | None) -> bool:
        """Applies the outcome; True when the call is now closed, False when it stays open for a retry."""
        self.require_open()
        self.attempts += 1
        self.outcome, self.outcome_details = outcome.outcome, outcome.details()
        self.rejection_reason = outcome.rejection_reason
        self.script_version = script_version if script_version is not None else self.script_version
        self.version += 1
        if not outcome.contact_made and self.attempts < max_attempts:
            return False
        self.status = COMPLETED if outcome.contact_made else FAILED
        self.completed_on = outcome.recorded_at.date() if outcome.contact_made else None
        self.closed_at, self.closed_by = outcome.recorded_at, actor
        return True

    def retry_window(self, today: date) -> DayWindow:
        """Another time of day, from tomorrow, within the call's window or the week after today."""
        return DayWindow(today + timedelta(days=1), max(self.window.end, today + timedelta(days=7)))

    def other_slot(self) -> str:
        return SLOTS[(SLOTS.index(self.slot) + 1) % len(SLOTS)] if self.slot in SLOTS else SLOTS[0]

    def require_open(self) -> None:
        if not self.is_open:
            raise CallClosed(f"call {self.call_id} is already {self.status}")
