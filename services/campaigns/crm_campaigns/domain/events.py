"""Event types campaigns publishes (crm.campaigns.*) and the ones it consumes (read by field, never by class)."""
from __future__ import annotations

SOURCE = "crm.campaigns"

# published
CAMPAIGN_DEFINED = "crm.campaigns.campaign_defined.v1"
CAMPAIGN_LAUNCHED = "crm.campaigns.campaign_launched.v1"
CAMPAIGN_COMPLETED = "crm.campaigns.campaign_completed.v1"
CAMPAIGN_CANCELLED = "crm.campaigns.campaign_cancelled.v1"
CAMPAIGN_EVALUATED = "crm.campaigns.campaign_evaluated.v1"
PARTICIPANT_MOVED = "crm.campaigns.participant_moved.v1"
CAMPAIGN_CALL_REQUESTED = "crm.campaigns.campaign_call_requested.v1"
CAMPAIGN_CALL_WITHDRAWN = "crm.campaigns.campaign_call_withdrawn.v1"
SUSPECT_IMPORTED = "crm.campaigns.suspect_imported.v1"
MAILING_SENT = "crm.campaigns.mailing_sent.v1"
CONTACT_OPTED_OUT = "crm.campaigns.contact_opted_out.v1"

# consumed
PARTY_SNAPSHOTS = ("crm.customers.party_registered.v1", "crm.customers.party_updated.v1",
                   "crm.customers.party_lifecycle_changed.v1", "crm.customers.party_deactivated.v1")
PARTY_DEACTIVATED = "crm.customers.party_deactivated.v1"
ATTRIBUTE_DEFINED = "crm.customers.attribute_defined.v1"
LINE_OF_BUSINESS_DEFINED = "crm.customers.line_of_business_defined.v1"
OPPORTUNITY_WON = "crm.customers.opportunity_won.v1"
ORDER_PLACED = "crm.service-desk.order_placed.v1"
CALL_OUTCOME_RECORDED = "crm.calls.call_outcome_recorded.v1"
CALL_REQUEST_REFUSED = "crm.calls.call_request_refused.v1"
