"""Number attributes hold what a float holds: searches compare them as floats (PostgreSQL float8), and an
integer beyond that made the value check itself fail with OverflowError (a 500) instead of refusing it."""
import pytest

from customers_fakes import FakeUnitOfWork, principal

from crm_customers.domain.attributes import AttributeDefinition, AttributeType
from crm_customers.domain.commands import RegisterParty
from crm_customers.domain.errors import InvalidAttributeValue
from crm_customers.domain.model import Names, PartyKind
from crm_customers.service_layer import handlers

DEFINITIONS = (AttributeDefinition("employees", AttributeType.NUMBER),)


def register(uow, value):
    return handlers.register_party(RegisterParty(actor=principal("retail"), kind=PartyKind.COMPANY,
                                                 names=Names(company_name="A"), line_of_business="retail",
                                                 attributes={"employees": value}), uow)


@pytest.mark.parametrize("value", [10 ** 400, -(10 ** 309), float("inf"), float("nan")])
def test_a_number_no_float_holds_is_refused(value):
    uow = FakeUnitOfWork(attributes=DEFINITIONS)
    with pytest.raises(InvalidAttributeValue) as refused:
        register(uow, value)
    assert refused.value.field == "attributes.employees"
    assert uow.published == []


@pytest.mark.parametrize("value", [0, -5, 10 ** 300, 1.5e308, 2 ** 53 + 1])
def test_numbers_a_float_holds_are_kept_as_given(value):
    uow = FakeUnitOfWork(attributes=DEFINITIONS)
    register(uow, value)
    assert uow.published[-1].data["attributes"]["employees"] == value
