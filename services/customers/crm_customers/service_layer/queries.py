"""Read-side use cases: search and contact listings, scoped to the actor's lines of business."""
from __future__ import annotations

import math
import uuid
from dataclasses import replace
from datetime import date

from crm_shared.auth import Principal

from crm_customers.domain.attributes import AttributeDefinition, AttributeType
from crm_customers.domain.model import ContactLink, Party
from crm_customers.domain.search import AttributeFilter, PartySearch
from crm_customers.service_layer.errors import Invalid, NotFound

RANGE_TYPES = (AttributeType.NUMBER, AttributeType.DATE)


def search_parties(criteria: PartySearch, raw_attribute_filters: list[tuple[str, str, str]], actor: Principal,
                   uow) -> list[Party]:
    """`raw_attribute_filters` are (op, name, text) from the query string; they are typed by the definitions."""
    lines = None if actor.sees_all_lines() else frozenset(actor.lines_of_business)
    with uow:
        definitions = uow.attributes.all()
        filters = [_typed_filter(definitions, op, name, text) for op, name, text in raw_attribute_filters]
        return uow.parties.search(replace(criteria, attributes=filters, lines_allowed=lines))


def contacts_of(party_id: uuid.UUID, actor: Principal, uow) -> list[ContactLink]:
    """Both directions: a person's companies, a company's people; links to parties the actor cannot see are left
    out, so the listing does not reveal them."""
    with uow:
        party = uow.parties.get(party_id)
        if party is None or not actor.may_access(party.line_of_business):
            raise NotFound(f"party {party_id} not found", "party_id")
        links = uow.links.of_party(party_id)
        return [link for link in links if _other_visible(uow, actor, link, party_id)]


def list_attribute_definitions(uow) -> list[AttributeDefinition]:
    with uow:
        return list(uow.attributes.all().values())


def list_lines_of_business(uow) -> list[dict]:
    with uow:
        return uow.lines_of_business.all()


def _other_visible(uow, actor: Principal, link: ContactLink, party_id: uuid.UUID) -> bool:
    other = uow.parties.get(link.company_id if link.person_id == party_id else link.person_id)
    return other is not None and actor.may_access(other.line_of_business)


def _typed_filter(definitions: dict[str, AttributeDefinition], op: str, name: str, text: str) -> AttributeFilter:
    field = "attribute" if op == "eq" else f"attribute_{op}"
    definition = definitions.get(name)
    if definition is None:
        raise Invalid(f"no attribute named {name!r} is defined", field)
    if op != "eq" and definition.type not in RANGE_TYPES:
        raise Invalid(f"{name} is a {definition.type}; ranges work on numbers and dates", field)
    try:
        return AttributeFilter(name, op, _parse(definition, text))
    except ValueError as exc:
        raise Invalid(f"{name} needs a {definition.type} value: {exc}", field) from exc


def _parse(definition: AttributeDefinition, text: str):
    if definition.type == AttributeType.NUMBER:
        number = float(text)
        if not math.isfinite(number):
            raise ValueError("a finite number")
        return number
    if definition.type == AttributeType.BOOLEAN:
        if text not in ("true", "false"):
            raise ValueError("true or false")
        return text == "true"
    if definition.type == AttributeType.DATE:
        return date.fromisoformat(text).isoformat()
    if definition.type == AttributeType.CHOICE and text not in definition.choices:
        raise ValueError(f"one of {', '.join(definition.choices)}")
    return text
