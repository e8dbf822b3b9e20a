"""Use cases. Each opens the unit of work, lets the domain decide, saves, and publishes what happened."""
from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

from crm_shared.auth import Principal
from crm_shared.events import new_event

from crm_customers.domain import commands, events
from crm_customers.domain.attributes import AttributeDefinition, validate_values, values_that_fit
from crm_customers.domain.errors import DuplicateKey
from crm_customers.domain.lifecycle import LifecycleState
from crm_customers.domain.model import ContactLink, Party
from crm_customers.service_layer.errors import Forbidden, Invalid, NotFound, VersionMismatch

SOURCE = "crm.customers"
log = logging.getLogger(__name__)


def register_party(cmd: commands.RegisterParty, uow) -> Party:
    with uow:
        _require_line_of_business(uow, cmd.actor, cmd.line_of_business)
        if cmd.customer_number:
            _require_free_legacy_number(uow, cmd.actor, cmd.customer_number)
        party = Party.register(
            kind=cmd.kind, names=cmd.names, line_of_business=cmd.line_of_business,
            lifecycle_state=cmd.lifecycle_state, customer_number=cmd.customer_number,
            next_customer_number=uow.parties.next_customer_number,
            addresses=list(cmd.addresses), phones=list(cmd.phones), emails=list(cmd.emails),
            attributes=validate_values(uow.attributes.all(), cmd.attributes),
        )
        uow.parties.add(party)
        _commit(uow, party.events)
    return party


def register_imported_suspect(cmd: commands.RegisterImportedSuspect, uow) -> Party | None:
    """None when the party already exists: campaigns delivers at least once, and the first copy won."""
    with uow:
        if uow.parties.get(cmd.party_id) is not None:
            log.info("imported suspect %s exists already (%s); nothing to do", cmd.party_id, cmd.origin)
            return None
        _require_known_line_of_business(uow, cmd.line_of_business)
        party = Party.register(
            kind=cmd.kind, names=cmd.names, line_of_business=cmd.line_of_business,
            lifecycle_state=LifecycleState.SUSPECT, customer_number=None,
            next_customer_number=uow.parties.next_customer_number, party_id=cmd.party_id,
            addresses=list(cmd.addresses), phones=list(cmd.phones), emails=list(cmd.emails),
            attributes=_attributes_that_fit(uow, cmd),
        )
        uow.parties.add(party)
        _commit(uow, party.events)
    return party


def get_party(party_id: uuid.UUID, actor: Principal, uow) -> Party:
    with uow:
        return _visible_party(uow, actor, party_id)


def update_party(cmd: commands.UpdateParty, uow) -> Party:
    """With `expected_version` (If-Match) a party at another version answers VersionMismatch (412). Without, the
    change is unconditional: it applies to the party as it is when the change is made, whatever changed it
    meanwhile (`_writing_party`)."""
    return _unconditional_retried(cmd.expected_version, lambda: _update_party(cmd, uow))


def _update_party(cmd: commands.UpdateParty, uow) -> Party:
    with uow:
        party = _writing_party(uow, cmd.actor, cmd.party_id)
        if cmd.expected_version is not None and cmd.expected_version != party.version:
            raise VersionMismatch(f"the party is at version {party.version}, not {cmd.expected_version}")
        if cmd.line_of_business is not None:
            _require_line_of_business(uow, cmd.actor, cmd.line_of_business)
        party.update(names=cmd.names, line_of_business=cmd.line_of_business, addresses=cmd.addresses,
                     phones=cmd.phones, emails=cmd.emails, attributes=_validated_changes(uow, cmd.attributes))
        if not party.events:
            return party  # an empty or no-op PATCH: nothing to write, no new version, no event
        uow.parties.save(party)
        _commit(uow, party.events)
    return party


def change_lifecycle(cmd: commands.ChangeLifecycle, uow) -> Party:
    def attempt() -> Party:
        with uow:
            party = _writing_party(uow, cmd.actor, cmd.party_id)
            party.change_lifecycle(cmd.state, uow.parties.next_customer_number)
            uow.parties.save(party)
            _commit(uow, party.events)
        return party
    return _unconditional_retried(None, attempt)


def deactivate_party(cmd: commands.DeactivateParty, uow) -> Party:
    def attempt() -> Party:
        with uow:
            party = _writing_party(uow, cmd.actor, cmd.party_id)
            party.deactivate()
            uow.parties.save(party)
            _commit(uow, party.events)
        return party
    return _unconditional_retried(None, attempt)


def link_contact(cmd: commands.LinkContact, uow) -> ContactLink:
    with uow:
        person = _visible_party(uow, cmd.actor, cmd.person_id)
        company = _visible_party(uow, cmd.actor, cmd.company_id, field="company_id")
        link = ContactLink.between(person, company, cmd.role, cmd.position)
        if uow.links.exists(link.person_id, link.company_id, link.role):
            raise DuplicateKey("this person is already linked to this company in this role", "role")
        uow.links.add(link)
        _commit(uow, [events.ContactLinked(str(link.id), str(link.person_id), str(link.company_id),
                                           link.role, link.position)])
    return link


def unlink_contact(cmd: commands.UnlinkContact, uow) -> None:
    """Like linking, unlinking needs access to both parties: a link to a party of a line the actor cannot see is
    not listed to them (`queries.contacts_of`), so it looks missing here too."""
    with uow:
        _visible_party(uow, cmd.actor, cmd.party_id)
        link = uow.links.get(cmd.link_id)
        if link is None or cmd.party_id not in (link.person_id, link.company_id):
            raise NotFound("no such contact link on this party", "link_id")
        other = uow.parties.get(link.company_id if link.person_id == cmd.party_id else link.person_id)
        if other is None or not cmd.actor.may_access(other.line_of_business):
            raise NotFound("no such contact link on this party", "link_id")
        uow.links.delete(link)
        _commit(uow, [events.ContactUnlinked(str(link.id), str(link.person_id), str(link.company_id))])


def define_attribute(cmd: commands.DefineAttribute, uow) -> AttributeDefinition:
    _require_admin(cmd.actor)
    definition = AttributeDefinition(cmd.name, cmd.type, tuple(cmd.choices))
    with uow:
        if cmd.name in uow.attributes.all():
            raise DuplicateKey(f"attribute {cmd.name!r} is already defined", "name")
        uow.attributes.add(definition)
        _commit(uow, [events.AttributeDefined(definition.name, definition.type.value, definition.choices)])
    return definition


def add_line_of_business(cmd: commands.AddLineOfBusiness, uow) -> dict:
    _require_admin(cmd.actor)
    with uow:
        if uow.lines_of_business.exists(cmd.code):
            raise DuplicateKey(f"line of business {cmd.code!r} exists", "code")
        uow.lines_of_business.add(cmd.code, cmd.label)
        _commit(uow, [events.LineOfBusinessDefined(cmd.code, cmd.label)])
    return {"code": cmd.code, "label": cmd.label}


def _visible_party(uow, actor: Principal, party_id: uuid.UUID, field: str = "party_id", *,
                   lock: bool = False) -> Party:
    party = uow.parties.get(party_id, lock=lock)
    if party is None or not actor.may_access(party.line_of_business):
        raise NotFound(f"party {party_id} not found", field)
    return party


def _writing_party(uow, actor: Principal, party_id: uuid.UUID) -> Party:
    """The party read for a change, its row locked to the end of the transaction: a concurrent change of it waits,
    then reads what this one wrote, so the version `save` checks is still the one read."""
    return _visible_party(uow, actor, party_id, lock=True)


UNCONDITIONAL_ATTEMPTS = 3


def _unconditional_retried(expected_version: int | None, attempt: Callable[[], Party]) -> Party:
    """Runs an unconditional change again, from a fresh read, when a concurrent change won the race anyway (a
    database without row locks: SQLite); a change made with If-Match is never retried."""
    for tries in range(1, UNCONDITIONAL_ATTEMPTS + 1):
        try:
            return attempt()
        except VersionMismatch:
            if expected_version is not None or tries == UNCONDITIONAL_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


def _require_line_of_business(uow, actor: Principal, code: str) -> None:
    _require_known_line_of_business(uow, code)
    if not actor.may_access(code):
        raise Forbidden(f"your token does not grant line of business {code!r}", "line_of_business")


def _require_known_line_of_business(uow, code: str) -> None:
    if not uow.lines_of_business.exists(code):
        raise Invalid(f"unknown line of business {code!r}", "line_of_business")


def _require_free_legacy_number(uow, actor: Principal, number: str) -> None:
    if not actor.is_admin:
        raise Forbidden("only an administrator can register an explicit customer number", "customer_number")
    if uow.parties.customer_number_exists(number):
        raise DuplicateKey(f"customer number {number!r} is taken", "customer_number")


def _require_admin(actor: Principal) -> None:
    if not actor.is_admin:
        raise Forbidden("this needs the admin role")


def _attributes_that_fit(uow, cmd: commands.RegisterImportedSuspect) -> dict:
    kept, refused = values_that_fit(uow.attributes.all(), cmd.attributes)
    for name, reason in refused.items():
        log.warning("imported suspect %s (%s): attribute %r dropped: %s", cmd.party_id, cmd.origin, name, reason)
    return kept


def _validated_changes(uow, attributes: dict | None) -> dict | None:
    return None if attributes is None else validate_values(uow.attributes.all(), attributes)


def _commit(uow, happened: list[events.Event]) -> None:
    uow.publish(*(new_event(f"{SOURCE}.{e.name}.v1", source=SOURCE, subject=e.subject, data=e.data)
                  for e in happened))
    uow.commit()
