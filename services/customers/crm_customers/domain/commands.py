"""What a user asks the service to do (imperatives). `actor` is who asks: it decides what they may see."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from crm_shared.auth import Principal

from crm_customers.domain.attributes import AttributeType
from crm_customers.domain.lifecycle import LifecycleState
from crm_customers.domain.model import Address, Email, Names, PartyKind, Phone


@dataclass(frozen=True)
class Command:
    actor: Principal


@dataclass(frozen=True)
class RegisterParty(Command):
    kind: PartyKind
    names: Names
    line_of_business: str
    lifecycle_state: LifecycleState = LifecycleState.SUSPECT
    customer_number: str | None = None
    addresses: list[Address] = field(default_factory=list)
    phones: list[Phone] = field(default_factory=list)
    emails: list[Email] = field(default_factory=list)
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RegisterImportedSuspect:
    """A row of a campaign's address list that matched no party. No user asks: campaigns chose the id and
    already refers to it, so there is no actor and no line-of-business permission to check."""
    party_id: uuid.UUID
    kind: PartyKind
    names: Names
    line_of_business: str
    addresses: list[Address] = field(default_factory=list)
    phones: list[Phone] = field(default_factory=list)
    emails: list[Email] = field(default_factory=list)
    attributes: dict[str, Any] = field(default_factory=dict)
    origin: str = ""  # where the row came from (campaign, import, row), for the log


@dataclass(frozen=True)
class UpdateParty(Command):
    party_id: uuid.UUID
    expected_version: int | None = None
    names: dict[str, str | None] | None = None  # only the name fields being changed
    line_of_business: str | None = None
    addresses: list[Address] | None = None
    phones: list[Phone] | None = None
    emails: list[Email] | None = None
    attributes: dict[str, Any] | None = None


@dataclass(frozen=True)
class ChangeLifecycle(Command):
    party_id: uuid.UUID
    state: LifecycleState


@dataclass(frozen=True)
class DeactivateParty(Command):
    party_id: uuid.UUID


@dataclass(frozen=True)
class LinkContact(Command):
    person_id: uuid.UUID
    company_id: uuid.UUID
    role: str
    position: str | None = None


@dataclass(frozen=True)
class UnlinkContact(Command):
    party_id: uuid.UUID
    link_id: uuid.UUID


@dataclass(frozen=True)
class DefineAttribute(Command):
    name: str
    type: AttributeType
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class AddLineOfBusiness(Command):
    code: str
    label: str
