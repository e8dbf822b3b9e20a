"""Domain events (past tense). Their `data` is the published contract; the service layer wraps them in
CloudEvents. Party events carry the whole snapshot so consumers never have to call back."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True)
class Event:
    name: ClassVar[str]

    @property
    def subject(self) -> str:
        raise NotImplementedError

    @property
    def data(self) -> dict[str, Any]:
        raise NotImplementedError


@dataclass(frozen=True)
class _PartyEvent(Event):
    snapshot: dict[str, Any]

    @property
    def subject(self) -> str:
        return self.snapshot["party_id"]

    @property
    def data(self) -> dict[str, Any]:
        return dict(self.snapshot)


class PartyRegistered(_PartyEvent):
    name = "party_registered"


class PartyUpdated(_PartyEvent):
    name = "party_updated"


class PartyDeactivated(_PartyEvent):
    name = "party_deactivated"


@dataclass(frozen=True)
class PartyLifecycleChanged(_PartyEvent):
    name = "party_lifecycle_changed"
    previous_state: str = ""

    @property
    def data(self) -> dict[str, Any]:
        return {**self.snapshot, "previous_state": str(self.previous_state)}


@dataclass(frozen=True)
class ContactLinked(Event):
    name = "contact_linked"
    link_id: str
    person_id: str
    company_id: str
    role: str
    position: str | None

    @property
    def subject(self) -> str:
        return self.link_id

    @property
    def data(self) -> dict[str, Any]:
        return {"link_id": self.link_id, "person_id": self.person_id, "company_id": self.company_id,
                "role": self.role, "position": self.position}


@dataclass(frozen=True)
class ContactUnlinked(Event):
    name = "contact_unlinked"
    link_id: str
    person_id: str
    company_id: str

    @property
    def subject(self) -> str:
        return self.link_id

    @property
    def data(self) -> dict[str, Any]:
        return {"link_id": self.link_id, "person_id": self.person_id, "company_id": self.company_id}


@dataclass(frozen=True)
class AttributeDefined(Event):
    name = "attribute_defined"
    attribute: str
    type: str
    choices: tuple[str, ...]

    @property
    def subject(self) -> str:
        return self.attribute

    @property
    def data(self) -> dict[str, Any]:
        return {"name": self.attribute, "type": self.type, "choices": list(self.choices)}


@dataclass(frozen=True)
class LineOfBusinessDefined(Event):
    """A line of business parties can belong to exists now (other services keep the list to validate against)."""
    name = "line_of_business_defined"
    code: str
    label: str

    @property
    def subject(self) -> str:
        return self.code

    @property
    def data(self) -> dict[str, Any]:
        return {"code": self.code, "label": self.label}
