"""The columns of the party replica, reduced from a customers party snapshot (docs/events/README.md)."""
from __future__ import annotations

from datetime import datetime

from crm_campaigns.domain.normalise import calling_code_for, email_key, name_key, phone_key, postal_key


def replica_from_snapshot(data: dict, *, deactivated: bool, event_time: datetime) -> dict:
    address = data.get("primary_address") or {}
    phone = next((p.get("number") for p in data.get("phones") or [] if p.get("number")), None)
    email = next((e.get("address") for e in data.get("emails") or [] if e.get("address")), None)
    attributes = data.get("attributes") or {}
    country = address.get("country")
    return {
        "party_id": str(data["party_id"]), "kind": data["kind"], "display_name": data["display_name"][:400],
        "company_name": data.get("company_name"), "first_name": data.get("first_name"),
        "last_name": data.get("last_name"), "lifecycle_state": data["lifecycle_state"],
        "customer_number": data.get("customer_number"), "line_of_business": data["line_of_business"],
        "street": address.get("street"), "postal_code": address.get("postal_code"), "city": address.get("city"),
        "country": country, "phone": phone, "email": email,
        "segment": str(attributes["segment"]) if attributes.get("segment") is not None else None,
        "attributes": attributes, "name_key": name_key(data["display_name"]),
        "postal_key": postal_key(address.get("postal_code")) or None,
        "phone_key": phone_key(phone, calling_code_for(country)), "email_key": email_key(email),
        "version": int(data["version"]), "updated_at": _occurred_at(data, event_time),
        "deactivated": deactivated or data["lifecycle_state"] == "inactive",
    }


def _occurred_at(data: dict, event_time: datetime) -> datetime:
    value = data.get("occurred_at")
    return datetime.fromisoformat(value) if isinstance(value, str) else event_time
