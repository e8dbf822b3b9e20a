import pytest

from customers_fakes import ADMIN, FakeUnitOfWork, principal

from crm_customers.domain.attributes import AttributeDefinition, AttributeType
from crm_customers.domain.commands import AddLineOfBusiness, DefineAttribute, RegisterParty, UpdateParty
from crm_customers.domain.errors import DuplicateKey, InvalidAttributeValue
from crm_customers.domain.model import Names, PartyKind
from crm_customers.domain.search import PartySearch
from crm_customers.service_layer import handlers, queries
from crm_customers.service_layer.errors import Forbidden, Invalid, VersionMismatch

T = AttributeType
DEFINITIONS = (
    AttributeDefinition("company_size", T.CHOICE, ("small", "medium", "large")),
    AttributeDefinition("employees", T.NUMBER),
    AttributeDefinition("first_contact", T.DATE),
    AttributeDefinition("newsletter", T.BOOLEAN),
    AttributeDefinition("information_source", T.TEXT),
)
ACTOR = principal("retail")


def register(uow, attributes):
    return handlers.register_party(RegisterParty(actor=ACTOR, kind=PartyKind.COMPANY, names=Names(company_name="A"),
                                                 line_of_business="retail", attributes=attributes), uow)


def test_defining_an_attribute_is_for_admins_and_published():
    uow = FakeUnitOfWork()
    with pytest.raises(Forbidden):
        handlers.define_attribute(DefineAttribute(actor=ACTOR, name="loyalty_reason", type=T.TEXT), uow)
    handlers.define_attribute(DefineAttribute(actor=ADMIN, name="company_size", type=T.CHOICE,
                                              choices=("small", "large")), uow)
    [event] = uow.published
    assert event.type == "crm.customers.attribute_defined.v1"
    assert event.data == {"name": "company_size", "type": "choice", "choices": ["small", "large"]}
    with pytest.raises(DuplicateKey):
        handlers.define_attribute(DefineAttribute(actor=ADMIN, name="company_size", type=T.TEXT), uow)


@pytest.mark.parametrize("type_, choices", [(T.CHOICE, ()), (T.TEXT, ("a",)), (T.CHOICE, ("a", "a"))])
def test_choices_belong_to_choice_attributes_only(type_, choices):
    with pytest.raises(InvalidAttributeValue) as refused:
        handlers.define_attribute(DefineAttribute(actor=ADMIN, name="x", type=type_, choices=choices),
                                  FakeUnitOfWork())
    assert refused.value.field == "choices"


def test_valid_values_are_stored_and_published():
    uow = FakeUnitOfWork(attributes=DEFINITIONS)
    values = {"company_size": "large", "employees": 120, "first_contact": "2024-05-01", "newsletter": False,
              "information_source": "trade fair"}
    party = register(uow, values)
    assert party.attributes == values
    assert uow.published[0].data["attributes"] == values


@pytest.mark.parametrize("attributes, field", [
    ({"unknown": 1}, "attributes.unknown"),
    ({"company_size": "huge"}, "attributes.company_size"),
    ({"employees": "12"}, "attributes.employees"),
    ({"employees": True}, "attributes.employees"),
    ({"first_contact": "01.05.2024"}, "attributes.first_contact"),
    ({"first_contact": "2024-02-30"}, "attributes.first_contact"),
    ({"newsletter": "yes"}, "attributes.newsletter"),
    ({"information_source": 5}, "attributes.information_source"),
])
def test_values_are_validated_against_their_definition(attributes, field):
    uow = FakeUnitOfWork(attributes=DEFINITIONS)
    with pytest.raises(InvalidAttributeValue) as refused:
        register(uow, attributes)
    assert refused.value.field == field
    assert uow.published == []


def test_update_merges_attributes_and_none_removes_one():
    uow = FakeUnitOfWork(attributes=DEFINITIONS)
    party = register(uow, {"employees": 10, "newsletter": True})
    updated = handlers.update_party(UpdateParty(actor=ACTOR, party_id=party.id, expected_version=1,
                                                attributes={"employees": 11, "newsletter": None}), uow)
    assert updated.attributes == {"employees": 11} and updated.version == 2
    assert uow.published[-1].type == "crm.customers.party_updated.v1"
    assert uow.published[-1].data["version"] == 2


@pytest.mark.parametrize("changes", [
    {},
    {"names": {}, "attributes": {}},
    {"names": {"company_name": "A"}, "line_of_business": "retail", "phones": [], "emails": [], "addresses": []},
    {"attributes": {"employees": 10, "newsletter": None}},
], ids=["empty", "empty-collections", "same-values", "same-attributes"])
def test_an_update_that_changes_nothing_keeps_the_version_and_publishes_nothing(changes):
    uow = FakeUnitOfWork(attributes=DEFINITIONS)
    party = register(uow, {"employees": 10})
    commits, published = uow.commits, len(uow.published)
    unchanged = handlers.update_party(UpdateParty(actor=ACTOR, party_id=party.id, expected_version=1, **changes), uow)
    assert unchanged.version == 1 and unchanged.updated_at == party.updated_at
    assert uow.commits == commits and len(uow.published) == published
    assert uow.parties.get(party.id).version == 1


def test_update_with_a_stale_version_is_refused():
    uow = FakeUnitOfWork(attributes=DEFINITIONS)
    party = register(uow, {})
    with pytest.raises(VersionMismatch):
        handlers.update_party(UpdateParty(actor=ACTOR, party_id=party.id, expected_version=7,
                                          names={"company_name": "B"}), uow)
    assert uow.parties.get(party.id).display_name == "A"


def test_search_filters_are_typed_by_the_definitions():
    uow = FakeUnitOfWork(attributes=DEFINITIONS)
    search = PartySearch(limit=10)
    queries.search_parties(search, [("eq", "employees", "12"), ("min", "first_contact", "2024-01-01")], ACTOR, uow)
    for raw, field in [(("eq", "nope", "1"), "attribute"), (("min", "company_size", "a"), "attribute_min"),
                       (("eq", "employees", "many"), "attribute"), (("max", "first_contact", "x"), "attribute_max"),
                       (("eq", "company_size", "huge"), "attribute"), (("eq", "newsletter", "1"), "attribute")]:
        with pytest.raises(Invalid) as refused:
            queries.search_parties(search, [raw], ACTOR, uow)
        assert refused.value.field == field


def test_a_new_line_of_business_is_published_for_the_services_that_keep_the_list():
    uow = FakeUnitOfWork()
    added = handlers.add_line_of_business(AddLineOfBusiness(actor=ADMIN, code="energy", label="Energy"), uow)
    assert added == {"code": "energy", "label": "Energy"}
    [event] = uow.published
    assert (event.type, event.subject, event.data) == ("crm.customers.line_of_business_defined.v1", "energy",
                                                       {"code": "energy", "label": "Energy"})
    with pytest.raises(DuplicateKey):
        handlers.add_line_of_business(AddLineOfBusiness(actor=ADMIN, code="energy", label="Again"), uow)
    with pytest.raises(Forbidden):
        handlers.add_line_of_business(AddLineOfBusiness(actor=ACTOR, code="water", label="Water"), uow)
    assert len(uow.published) == 1
