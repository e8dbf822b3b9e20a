"""The local replica of the customers service's parties: only what call cycles need, no I/O."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

LIFECYCLE_STATES = ("suspect", "prospect", "customer", "inactive")
PARTY_KINDS = ("company", "person")


@dataclass(frozen=True)
class CustomerReplica:
    party_id: str
    kind: str
    display_name: str
    lifecycle_state: str
    customer_number: str | None
    line_of_business: str
    postal_code: str | None
    city: str | None
    phone: str | None
    email: str | None
    segment: str
    version: int
    updated_at: datetime
    deactivated: bool
    customer_since: date | None = None  # the day it (last) became an active customer; its cycle counts from it


@dataclass(frozen=True)
class ContactLink:
    link_id: str
    person_id: str
    company_id: str
    role: str | None
    position: str | None
    updated_at: datetime


def parse_time(value: str | None, fallback: str | None = None) -> datetime:
    for candidate in (value, fallback):
        if candidate:
            try:
                parsed = datetime.fromisoformat(candidate)
            except (TypeError, ValueError):
                continue
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return datetime.now(UTC)


def _first(items: Any, key: str) -> str | None:
    if isinstance(items, list):
        for item in items:
            if isinstance(item, Mapping) and item.get(key):
                return str(item[key])
    return None


def _segment(attributes: Any) -> str:
    """The customers service's `segment` attribute picks the contact policy; without it, the default one."""
    value = attributes.get("segment") if isinstance(attributes, Mapping) else None
    return str(value) if value else "default"


def replica_from_snapshot(data: Mapping[str, Any], *, deactivated: bool, event_time: str | None) -> CustomerReplica:
    """A party snapshot as published by the customers service, reduced to the replica's fields.

    A party is deactivated while its snapshot's lifecycle state is `inactive` (whatever event carried it:
    an update of an inactive party must not bring it back), or when the event says so explicitly.
    `customer_since` is this event's day for an active customer; the repository keeps an earlier one while the
    party stays a customer.
    """
    address = data.get("primary_address") if isinstance(data.get("primary_address"), Mapping) else {}
    updated_at = parse_time(data.get("occurred_at"), event_time)
    deactivated = deactivated or data.get("lifecycle_state") == "inactive" or bool(data.get("deactivated", False))
    return CustomerReplica(
        party_id=str(data["party_id"]),
        kind=str(data["kind"]),
        display_name=str(data.get("display_name") or ""),
        lifecycle_state=str(data["lifecycle_state"]),
        customer_number=data.get("customer_number"),
        line_of_business=str(data.get("line_of_business") or ""),
        postal_code=address.get("postal_code"),
        city=address.get("city"),
        phone=_first(data.get("phones"), "number"),
        email=_first(data.get("emails"), "address"),
        segment=_segment(data.get("attributes")),
        version=int(data["version"]),
        updated_at=updated_at,
        deactivated=deactivated,
        customer_since=updated_at.date() if data["lifecycle_state"] == "customer" and not deactivated else None,
    )


def link_from_event(data: Mapping[str, Any], event_time: str | None) -> ContactLink:
    return ContactLink(
        link_id=str(data["link_id"]),
        person_id=str(data["person_id"]),
        company_id=str(data["company_id"]),
        role=data.get("role"),
        position=data.get("position"),
        updated_at=parse_time(data.get("occurred_at"), event_time),
    )
