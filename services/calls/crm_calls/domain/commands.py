"""Commands: what callers ask the calls service to do."""
from __future__ import annotations

from dataclasses import dataclass

from crm_calls.domain.calls import REQUESTABLE_TYPES
from crm_calls.domain.errors import InvalidInput
from crm_calls.domain.policy import DayWindow


@dataclass(frozen=True)
class RequestCall:
    """A call someone else wants made: a campaign's telephone stage, a telemarketing list, a service follow-up.

    `request_id` is the caller's key for it (a campaign participation's stage, say): asking twice is harmless.
    """
    request_id: str
    party_id: str
    call_type: str
    window: DayWindow
    campaign_id: str | None = None
    priority: int = 0
    script_id: str | None = None

    def __post_init__(self):
        if self.call_type not in REQUESTABLE_TYPES:
            raise InvalidInput(f"call_type must be one of {', '.join(REQUESTABLE_TYPES)}", "call_type")
        if self.call_type == "campaign" and not self.campaign_id:
            raise InvalidInput("a campaign call needs its campaign_id", "campaign_id")
        if not -10 <= self.priority <= 10:
            raise InvalidInput("priority must be -10 to 10", "priority")
        if self.window.days > 400:
            raise InvalidInput("a call window may span at most 400 days", "window_end")
