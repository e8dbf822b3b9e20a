"""The Party aggregate (a company or a person) and the contact link between a person and a company.

Addresses, phone numbers and e-mail addresses are value objects owned by the party: they are replaced as a
whole, never edited one by one, so the aggregate can keep the "exactly one primary address" rule.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, UTC
from enum import StrEnum
from typing import Any
from collections.abc import Callable

from crm_customers.domain import events
from crm_customers.domain.errors import IllegalTransition, InvalidParty
from crm_customers.domain.lifecycle import INITIAL_STATES, LifecycleState, may_transition

MAX_NAME_LENGTH = 200


class PartyKind(StrEnum):
    COMPANY = "company"
    PERSON = "person"


@dataclass(frozen=True)
class Address:
    street: str
    postal_code: str
    city: str
    country: str
    kind: str = "postal"
    primary: bool = False


@dataclass(frozen=True)
class Phone:
    kind: str
    number: str


@dataclass(frozen=True)
class Email:
    kind: str
    address: str


@dataclass(frozen=True)
class Names:
    company_name: str | None = None
    first_name: str | None = None
    last_name: str | None = None


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Party:
    id: uuid.UUID
    kind: PartyKind
    names: Names
    line_of_business: str
    lifecycle_state: LifecycleState = LifecycleState.SUSPECT
    customer_number: str | None = None
    addresses: list[Address] = field(default_factory=list)
    phones: list[Phone] = field(default_factory=list)
    emails: list[Email] = field(default_factory=list)
    attributes: dict[str, Any] = field(default_factory=dict)
    version: int = 1
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    events: list[events.Event] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def register(cls, *, kind: PartyKind, names: Names, line_of_business: str,
                 lifecycle_state: LifecycleState, customer_number: str | None,
                 next_customer_number: Callable[[], str], party_id: uuid.UUID | None = None,
                 **details) -> Party:
        """`party_id` is for a party another service already refers to (a suspect campaigns imported);
        otherwise the id is new."""
        if lifecycle_state not in INITIAL_STATES:
            raise InvalidParty(f"a party cannot be registered as {lifecycle_state}", "lifecycle_state")
        if customer_number and lifecycle_state != LifecycleState.CUSTOMER:
            raise InvalidParty("only a customer has a customer number", "customer_number")
        party = cls(id=party_id or uuid.uuid4(), kind=kind, names=_checked_names(kind, names),
                    line_of_business=line_of_business, lifecycle_state=lifecycle_state,
                    customer_number=customer_number, **details)
        party.addresses = _with_one_primary(party.addresses)
        party.attributes = {k: v for k, v in party.attributes.items() if v is not None}
        if lifecycle_state == LifecycleState.CUSTOMER and not customer_number:
            party.customer_number = next_customer_number()
        party.events.append(events.PartyRegistered(party.snapshot()))
        return party

    @property
    def display_name(self) -> str:
        if self.kind == PartyKind.COMPANY:
            return self.names.company_name or ""
        return " ".join(n for n in (self.names.first_name, self.names.last_name) if n)

    @property
    def name_key(self) -> str:
        """What name search and name sorting compare: case-insensitive."""
        return self.display_name.lower()

    @property
    def primary_address(self) -> Address | None:
        return next((a for a in self.addresses if a.primary), None)

    def update(self, *, names: dict[str, str | None] | None = None, line_of_business: str | None = None,
               addresses: list[Address] | None = None, phones: list[Phone] | None = None,
               emails: list[Email] | None = None, attributes: dict[str, Any] | None = None) -> None:
        """Fields left as None keep their value; `names` and `attributes` are merged (a None attribute value
        removes the attribute). A change that leaves every field as it was is no change: the version stays
        and no event is recorded."""
        before = self._changeable_state()
        if names:
            self.names = _checked_names(self.kind, replace(self.names, **names))
        if line_of_business is not None:
            self.line_of_business = line_of_business
        if addresses is not None:
            self.addresses = _with_one_primary(addresses)
        if phones is not None:
            self.phones = list(phones)
        if emails is not None:
            self.emails = list(emails)
        if attributes is not None:
            merged = {**self.attributes, **attributes}
            self.attributes = {k: v for k, v in merged.items() if v is not None}
        if self._changeable_state() == before:
            return
        self._changed()
        self.events.append(events.PartyUpdated(self.snapshot()))

    def _changeable_state(self) -> tuple:
        return (self.names, self.line_of_business, list(self.addresses), list(self.phones), list(self.emails),
                dict(self.attributes))

    def change_lifecycle(self, target: LifecycleState, next_customer_number: Callable[[], str]) -> None:
        if target == LifecycleState.INACTIVE:
            self.deactivate()
            return
        previous = self._transition_to(target)
        if target == LifecycleState.CUSTOMER and self.customer_number is None:
            self.customer_number = next_customer_number()
        self.events.append(events.PartyLifecycleChanged(self.snapshot(), previous_state=previous))

    def deactivate(self) -> None:
        self._transition_to(LifecycleState.INACTIVE)
        self.events.append(events.PartyDeactivated(self.snapshot()))

    def _transition_to(self, target: LifecycleState) -> LifecycleState:
        if not may_transition(self.lifecycle_state, target):
            raise IllegalTransition(f"a {self.lifecycle_state} cannot become {target}", "state")
        previous, self.lifecycle_state = self.lifecycle_state, target
        self._changed()
        return previous

    def _changed(self) -> None:
        self.version += 1
        self.updated_at = utcnow()

    def snapshot(self) -> dict[str, Any]:
        """The party as other services see it (event-carried state: they never call back)."""
        primary = self.primary_address
        return {
            "party_id": str(self.id),
            "kind": self.kind.value,
            "display_name": self.display_name,
            "company_name": self.names.company_name,
            "first_name": self.names.first_name,
            "last_name": self.names.last_name,
            "lifecycle_state": self.lifecycle_state.value,
            "customer_number": self.customer_number,
            "line_of_business": self.line_of_business,
            "primary_address": None if primary is None else {
                "street": primary.street, "postal_code": primary.postal_code,
                "city": primary.city, "country": primary.country,
            },
            "phones": [{"kind": p.kind, "number": p.number} for p in self.phones],
            "emails": [{"kind": e.kind, "address": e.address} for e in self.emails],
            "attributes": dict(self.attributes),
            "version": self.version,
            "occurred_at": self.updated_at.isoformat(),
        }


def _checked_names(kind: PartyKind, names: Names) -> Names:
    if kind == PartyKind.COMPANY:
        if not names.company_name:
            raise InvalidParty("a company needs a company_name", "company_name")
        if names.first_name or names.last_name:
            raise InvalidParty("a company has no first or last name", "first_name" if names.first_name else "last_name")
        return names
    if not names.last_name:
        raise InvalidParty("a person needs a last_name", "last_name")
    if names.company_name:
        raise InvalidParty("a person has no company_name; link them to the company instead", "company_name")
    return names


def _with_one_primary(addresses: list[Address]) -> list[Address]:
    primaries = sum(1 for a in addresses if a.primary)
    if primaries > 1:
        raise InvalidParty("only one address can be primary", "addresses")
    if addresses and primaries == 0:
        # The first address is the one a user typed first; making it primary spares them a checkbox.
        return [replace(addresses[0], primary=True), *addresses[1:]]
    return list(addresses)


@dataclass(frozen=True)
class ContactLink:
    """A person working for a company in a role; one person may work for several companies."""

    id: uuid.UUID
    person_id: uuid.UUID
    company_id: uuid.UUID
    role: str
    position: str | None = None
    created_at: datetime = field(default_factory=utcnow)

    @classmethod
    def between(cls, person: Party, company: Party, role: str, position: str | None) -> ContactLink:
        if person.kind != PartyKind.PERSON:
            raise InvalidParty("only a person can be linked as a contact", "person_id")
        if company.kind != PartyKind.COMPANY:
            raise InvalidParty("a contact can only be linked to a company", "company_id")
        return cls(id=uuid.uuid4(), person_id=person.id, company_id=company.id, role=role, position=position)
