"""Builders of customers-service events for the calls tests."""
from __future__ import annotations

import uuid

from crm_shared.events import CloudEvent

from crm_calls.domain import events


def snapshot(party_id: str | None = None, version: int = 1, **overrides) -> dict:
    data = {
        "party_id": party_id or str(uuid.uuid4()),
        "kind": "company",
        "display_name": "Acme GmbH",
        "company_name": "Acme GmbH",
        "first_name": None,
        "last_name": None,
        "lifecycle_state": "prospect",
        "customer_number": None,
        "line_of_business": "insurance",
        "primary_address": {"street": "Hauptstr. 1", "postal_code": "10115", "city": "Berlin", "country": "DE"},
        "phones": [{"kind": "work", "number": "+49 30 1234"}, {"kind": "mobile", "number": "+49 170 1"}],
        "emails": [{"kind": "work", "address": "info@acme.example"}],
        "attributes": {"segment": "b2b"},
        "version": version,
        "occurred_at": f"2025-01-{min(version, 28):02d}T10:00:00+00:00",
    }
    data.update(overrides)
    return data


def event(type_: str, data: dict, id_: str | None = None) -> CloudEvent:
    extra = {"id": id_} if id_ else {}
    return CloudEvent(type=type_, source="crm.customers", subject=data.get("party_id") or data.get("link_id"),
                      data=data, **extra)


def party_event(kind: str = "registered", **snapshot_args) -> CloudEvent:
    type_ = {"registered": events.PARTY_REGISTERED, "updated": events.PARTY_UPDATED,
             "lifecycle": events.PARTY_LIFECYCLE_CHANGED, "deactivated": events.PARTY_DEACTIVATED}[kind]
    return event(type_, snapshot(**snapshot_args))


def link_data(link_id: str | None = None, person_id: str | None = None, company_id: str | None = None) -> dict:
    return {"link_id": link_id or str(uuid.uuid4()), "person_id": person_id or str(uuid.uuid4()),
            "company_id": company_id or str(uuid.uuid4()), "role": "decision maker", "position": "CEO"}
