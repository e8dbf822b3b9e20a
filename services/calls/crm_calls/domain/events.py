"""Events of other services this service reacts to (their contracts are fixed by the publishers)."""
PARTY_REGISTERED = "crm.customers.party_registered.v1"
PARTY_UPDATED = "crm.customers.party_updated.v1"
PARTY_LIFECYCLE_CHANGED = "crm.customers.party_lifecycle_changed.v1"
PARTY_DEACTIVATED = "crm.customers.party_deactivated.v1"
CONTACT_LINKED = "crm.customers.contact_linked.v1"
CONTACT_UNLINKED = "crm.customers.contact_unlinked.v1"

PARTY_SNAPSHOTS = (PARTY_REGISTERED, PARTY_UPDATED, PARTY_LIFECYCLE_CHANGED, PARTY_DEACTIVATED)
