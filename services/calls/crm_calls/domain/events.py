"""Events this service reacts to (contracts fixed by their publishers) and the events it publishes."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PARTY_REGISTERED = "crm.customers.party_registered.v1"
PARTY_UPDATED = "crm.customers.party_updated.v1"
PARTY_LIFECYCLE_CHANGED = "crm.customers.party_lifecycle_changed.v1"
PARTY_DEACTIVATED = "crm.customers.party_deactivated.v1"
CONTACT_LINKED = "crm.customers.contact_linked.v1"
CONTACT_UNLINKED = "crm.customers.contact_unlinked.v1"

PARTY_SNAPSHOTS = (PARTY_REGISTERED, PARTY_UPDATED, PARTY_LIFECYCLE_CHANGED, PARTY_DEACTIVATED)

# Accepted from the campaigns service, and the same contract through POST /api/calls/call-requests.
CAMPAIGN_CALL_REQUESTED = "crm.campaigns.campaign_call_requested.v1"
CAMPAIGN_CALL_WITHDRAWN = "crm.campaigns.campaign_call_withdrawn.v1"
# A campaign's line of business (campaign_replica), for its call scripts.
CAMPAIGN_DEFINED = "crm.campaigns.campaign_defined.v1"

SOURCE = "crm.calls"


@dataclass(frozen=True)
class Published:
    """One event of this service: `crm.calls.<name>.v1`, about `subject`, carrying `data`."""
    name: str
    subject: str
    data: dict[str, Any]

    @property
    def type(self) -> str:
        return f"crm.calls.{self.name}.v1"


CALL_SCHEDULED = "call_scheduled"
CALL_RESCHEDULED = "call_rescheduled"
CALL_CANCELLED = "call_cancelled"
CALL_OVERFLOWED = "call_overflowed"
CALL_REQUEST_REFUSED = "call_request_refused"
INTERFERENCE_RESOLVED = "interference_resolved"
CALL_OUTCOME_RECORDED = "call_outcome_recorded"
NEXT_CONTACT_DUE = "next_contact_due"
PUBLISHED = (CALL_SCHEDULED, CALL_RESCHEDULED, CALL_CANCELLED, CALL_OVERFLOWED, CALL_REQUEST_REFUSED,
             INTERFERENCE_RESOLVED, CALL_OUTCOME_RECORDED, NEXT_CONTACT_DUE)
