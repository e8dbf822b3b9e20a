import pytest

from customers_fakes import FakeUnitOfWork, principal

from crm_customers.domain.commands import LinkContact, RegisterParty, UnlinkContact
from crm_customers.domain.errors import DuplicateKey, InvalidParty
from crm_customers.domain.model import Names, PartyKind
from crm_customers.service_layer import handlers, queries
from crm_customers.service_layer.errors import NotFound

ACTOR = principal("retail")


def register(uow, kind, name, line="retail"):
    names = Names(company_name=name) if kind == PartyKind.COMPANY else Names(last_name=name)
    return handlers.register_party(RegisterParty(actor=principal("*"), kind=kind, names=names,
                                                 line_of_business=line), uow)


@pytest.fixture
def uow():
    return FakeUnitOfWork()


def link(uow, person, company, role="buyer", actor=ACTOR):
    return handlers.link_contact(LinkContact(actor=actor, person_id=person.id, company_id=company.id, role=role,
                                             position="Head of purchasing"), uow)


def test_a_person_works_for_several_companies_in_several_roles(uow):
    ada = register(uow, PartyKind.PERSON, "Novak")
    acme, nordic = register(uow, PartyKind.COMPANY, "Acme"), register(uow, PartyKind.COMPANY, "Nordic")
    first = link(uow, ada, acme)
    link(uow, ada, acme, role="decision maker")
    link(uow, ada, nordic)
    assert uow.published[-3].type == "crm.customers.contact_linked.v1"
    assert uow.published[-3].data == {"link_id": str(first.id), "person_id": str(ada.id), "company_id": str(acme.id),
                                      "role": "buyer", "position": "Head of purchasing"}
    assert len(queries.contacts_of(ada.id, ACTOR, uow)) == 3
    assert len(queries.contacts_of(acme.id, ACTOR, uow)) == 2


def test_the_same_link_twice_is_a_duplicate(uow):
    ada, acme = register(uow, PartyKind.PERSON, "Novak"), register(uow, PartyKind.COMPANY, "Acme")
    link(uow, ada, acme)
    with pytest.raises(DuplicateKey):
        link(uow, ada, acme)


def test_only_a_person_links_to_only_a_company(uow):
    ada, acme = register(uow, PartyKind.PERSON, "Novak"), register(uow, PartyKind.COMPANY, "Acme")
    with pytest.raises(InvalidParty):
        link(uow, acme, acme)
    with pytest.raises(InvalidParty) as refused:
        link(uow, ada, ada)
    assert refused.value.field == "company_id"


def test_linking_to_a_missing_or_foreign_company_is_not_found(uow):
    ada = register(uow, PartyKind.PERSON, "Novak")
    wholesale = register(uow, PartyKind.COMPANY, "Nordic", line="wholesale")
    with pytest.raises(NotFound) as refused:
        link(uow, ada, wholesale)
    assert refused.value.field == "company_id"


def test_unlinking_publishes_and_only_works_on_the_linked_parties(uow):
    ada, acme = register(uow, PartyKind.PERSON, "Novak"), register(uow, PartyKind.COMPANY, "Acme")
    other = register(uow, PartyKind.COMPANY, "Other")
    created = link(uow, ada, acme)
    with pytest.raises(NotFound):
        handlers.unlink_contact(UnlinkContact(actor=ACTOR, party_id=other.id, link_id=created.id), uow)
    handlers.unlink_contact(UnlinkContact(actor=ACTOR, party_id=acme.id, link_id=created.id), uow)
    assert uow.published[-1].type == "crm.customers.contact_unlinked.v1"
    assert uow.published[-1].data == {"link_id": str(created.id), "person_id": str(ada.id),
                                      "company_id": str(acme.id)}
    assert queries.contacts_of(ada.id, ACTOR, uow) == []


def test_a_link_to_a_party_of_another_line_cannot_be_removed_from_the_visible_side(uow):
    ada = register(uow, PartyKind.PERSON, "Novak")
    nordic = register(uow, PartyKind.COMPANY, "Nordic", line="wholesale")
    created = link(uow, ada, nordic, actor=principal("*"))
    published = len(uow.published)
    with pytest.raises(NotFound) as refused:
        handlers.unlink_contact(UnlinkContact(actor=ACTOR, party_id=ada.id, link_id=created.id), uow)
    assert refused.value.field == "link_id"
    assert len(uow.published) == published
    assert [c.id for c in queries.contacts_of(ada.id, principal("*"), uow)] == [created.id]
    handlers.unlink_contact(UnlinkContact(actor=principal("retail", "wholesale"), party_id=ada.id,
                                          link_id=created.id), uow)
    assert queries.contacts_of(ada.id, principal("*"), uow) == []


def test_parties_of_other_lines_look_missing(uow):
    nordic = register(uow, PartyKind.COMPANY, "Nordic", line="wholesale")
    with pytest.raises(NotFound):
        handlers.get_party(nordic.id, ACTOR, uow)
    with pytest.raises(NotFound):
        queries.contacts_of(nordic.id, ACTOR, uow)
