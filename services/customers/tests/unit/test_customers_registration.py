import pytest

from customers_fakes import ADMIN, FakeUnitOfWork, principal

from crm_customers.domain.commands import ChangeLifecycle, RegisterParty, UpdateParty
from crm_customers.domain.errors import DuplicateKey, InvalidParty
from crm_customers.domain.lifecycle import LifecycleState
from crm_customers.domain.model import Address, Email, Names, PartyKind, Phone
from crm_customers.service_layer import handlers
from crm_customers.service_layer.errors import Forbidden, Invalid, VersionMismatch

BERLIN = Address(street="Hauptstr. 1", postal_code="10115", city="Berlin", country="DE")


def company(actor=None, **overrides):
    values = dict(actor=actor or principal("retail"), kind=PartyKind.COMPANY, names=Names(company_name="Acme GmbH"),
                  line_of_business="retail")
    values.update(overrides)
    return RegisterParty(**values)


def test_registering_a_company_publishes_its_snapshot():
    uow = FakeUnitOfWork()
    party = handlers.register_party(company(addresses=[BERLIN], phones=[Phone("work", "+49 30 1")],
                                            emails=[Email("work", "info@acme.example")]), uow)

    assert uow.commits == 1 and uow.parties.get(party.id) is not None
    [event] = uow.published
    assert event.type == "crm.customers.party_registered.v1"
    assert event.source == "crm.customers" and event.subject == str(party.id)
    assert event.data == {
        "party_id": str(party.id), "kind": "company", "display_name": "Acme GmbH", "company_name": "Acme GmbH",
        "first_name": None, "last_name": None, "lifecycle_state": "suspect", "customer_number": None,
        "line_of_business": "retail",
        "primary_address": {"street": "Hauptstr. 1", "postal_code": "10115", "city": "Berlin", "country": "DE"},
        "phones": [{"kind": "work", "number": "+49 30 1"}],
        "emails": [{"kind": "work", "address": "info@acme.example"}],
        "attributes": {}, "version": 1, "occurred_at": party.updated_at.isoformat(),
    }


def test_a_person_is_displayed_by_first_and_last_name():
    uow = FakeUnitOfWork()
    party = handlers.register_party(company(kind=PartyKind.PERSON, names=Names(first_name="Ada", last_name="Novak")),
                                    uow)
    assert party.display_name == "Ada Novak"
    assert uow.published[0].data["first_name"] == "Ada"


@pytest.mark.parametrize("kind, names, field", [
    (PartyKind.COMPANY, Names(last_name="Novak"), "company_name"),
    (PartyKind.PERSON, Names(first_name="Ada"), "last_name"),
])
def test_a_party_needs_its_name(kind, names, field):
    uow = FakeUnitOfWork()
    with pytest.raises(InvalidParty) as refused:
        handlers.register_party(company(kind=kind, names=names), uow)
    assert refused.value.field == field
    assert uow.published == [] and uow.parties.rows == {}


def test_first_address_becomes_primary_and_two_primaries_are_refused():
    uow = FakeUnitOfWork()
    party = handlers.register_party(company(addresses=[BERLIN, BERLIN]), uow)
    assert [a.primary for a in party.addresses] == [True, False]
    primary = Address("x", "1", "y", "DE", primary=True)
    with pytest.raises(InvalidParty):
        handlers.register_party(company(addresses=[primary, primary]), uow)


def test_unknown_line_of_business_is_invalid_and_a_foreign_one_forbidden():
    uow = FakeUnitOfWork()
    with pytest.raises(Invalid) as unknown:
        handlers.register_party(company(line_of_business="insurance"), uow)
    assert unknown.value.field == "line_of_business"
    with pytest.raises(Forbidden):
        handlers.register_party(company(line_of_business="wholesale"), uow)
    assert uow.published == []


def test_a_suspect_has_no_customer_number_and_a_new_customer_gets_one():
    uow = FakeUnitOfWork()
    suspect = handlers.register_party(company(), uow)
    customer = handlers.register_party(company(lifecycle_state=LifecycleState.CUSTOMER), uow)
    assert suspect.customer_number is None
    assert customer.customer_number == "00000001"


def test_registering_as_inactive_is_refused():
    with pytest.raises(InvalidParty):
        handlers.register_party(company(lifecycle_state=LifecycleState.INACTIVE), FakeUnitOfWork())


def test_only_an_admin_brings_a_legacy_customer_number_and_it_must_be_free():
    uow = FakeUnitOfWork()
    legacy = dict(lifecycle_state=LifecycleState.CUSTOMER, customer_number="LEG-1")
    with pytest.raises(Forbidden):
        handlers.register_party(company(**legacy), uow)
    party = handlers.register_party(company(actor=ADMIN, **legacy), uow)
    assert party.customer_number == "LEG-1"
    with pytest.raises(DuplicateKey) as duplicate:
        handlers.register_party(company(actor=ADMIN, **legacy), uow)
    assert duplicate.value.field == "customer_number"
    assert len(uow.published) == 1


def test_a_legacy_number_is_only_for_customers():
    with pytest.raises(InvalidParty):
        handlers.register_party(company(actor=ADMIN, customer_number="LEG-2"), FakeUnitOfWork())


class LosingTheRaceOnce:
    """A party repository whose first save finds the row changed concurrently (a database without row locks)."""

    def __init__(self, parties):
        self.parties, self.saves = parties, 0

    def __getattr__(self, name):
        return getattr(self.parties, name)

    def save(self, party):
        self.saves += 1
        if self.saves == 1:
            raise VersionMismatch("the party was changed concurrently; read it again")
        self.parties.save(party)


def test_an_unconditional_change_that_loses_a_race_is_made_again_from_a_fresh_read():
    uow = FakeUnitOfWork()
    party = handlers.register_party(company(), uow)
    uow.parties = LosingTheRaceOnce(uow.parties)
    changed = handlers.update_party(UpdateParty(actor=principal("retail"), party_id=party.id,
                                                names={"company_name": "Acme AG"}), uow)
    assert (changed.version, uow.parties.saves) == (2, 2)
    assert [e.type for e in uow.published][-1] == "crm.customers.party_updated.v1"
    uow.parties = LosingTheRaceOnce(uow.parties.parties)
    moved = handlers.change_lifecycle(ChangeLifecycle(actor=principal("retail"), party_id=party.id,
                                                      state=LifecycleState.PROSPECT), uow)
    assert (moved.lifecycle_state, uow.parties.saves) == (LifecycleState.PROSPECT, 2)


def test_a_change_with_if_match_that_loses_a_race_is_refused():
    uow = FakeUnitOfWork()
    party = handlers.register_party(company(), uow)
    uow.parties = LosingTheRaceOnce(uow.parties)
    published = len(uow.published)
    with pytest.raises(VersionMismatch):
        handlers.update_party(UpdateParty(actor=principal("retail"), party_id=party.id, expected_version=1,
                                          names={"company_name": "Acme AG"}), uow)
    assert (uow.parties.saves, len(uow.published)) == (1, published)
