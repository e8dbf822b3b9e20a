import pytest

from customers_fakes import FakeUnitOfWork, principal

from crm_customers.domain.commands import ChangeLifecycle, DeactivateParty, RegisterParty
from crm_customers.domain.errors import IllegalTransition
from crm_customers.domain.lifecycle import ALLOWED_TRANSITIONS, LifecycleState
from crm_customers.domain.model import Names, PartyKind
from crm_customers.service_layer import handlers

S = LifecycleState
ACTOR = principal("retail")


def registered(uow, state=S.SUSPECT):
    return handlers.register_party(RegisterParty(actor=ACTOR, kind=PartyKind.COMPANY, names=Names(company_name="A"),
                                                 line_of_business="retail", lifecycle_state=state), uow)


def move(uow, party, state):
    return handlers.change_lifecycle(ChangeLifecycle(actor=ACTOR, party_id=party.id, state=state), uow)


def test_the_documented_transitions():
    assert ALLOWED_TRANSITIONS == {
        S.SUSPECT: {S.PROSPECT, S.CUSTOMER, S.INACTIVE},
        S.PROSPECT: {S.CUSTOMER, S.INACTIVE},
        S.CUSTOMER: {S.INACTIVE},
        S.INACTIVE: {S.PROSPECT, S.CUSTOMER},
    }


def test_suspect_to_prospect_to_customer_assigns_a_number_once():
    uow = FakeUnitOfWork()
    party = registered(uow)
    prospect = move(uow, party, S.PROSPECT)
    assert prospect.customer_number is None and prospect.version == 2
    customer = move(uow, party, S.CUSTOMER)
    assert customer.customer_number == "00000001" and customer.version == 3
    event = uow.published[-1]
    assert event.type == "crm.customers.party_lifecycle_changed.v1"
    assert event.data["previous_state"] == "prospect"
    assert event.data["lifecycle_state"] == "customer" and event.data["customer_number"] == "00000001"


def test_deactivation_and_reactivation_keep_the_customer_number():
    uow = FakeUnitOfWork()
    party = registered(uow, S.CUSTOMER)
    number = party.customer_number
    inactive = handlers.deactivate_party(DeactivateParty(actor=ACTOR, party_id=party.id), uow)
    assert inactive.lifecycle_state == S.INACTIVE and inactive.customer_number == number
    assert uow.published[-1].type == "crm.customers.party_deactivated.v1"
    assert uow.published[-1].data["lifecycle_state"] == "inactive"
    again = move(uow, party, S.CUSTOMER)
    assert again.customer_number == number
    assert uow.parties.counter == 1  # no number was drawn for the reactivation


def test_inactive_via_lifecycle_endpoint_is_a_deactivation():
    uow = FakeUnitOfWork()
    party = registered(uow)
    move(uow, party, S.INACTIVE)
    assert uow.types()[-1] == "crm.customers.party_deactivated.v1"


def test_two_customers_never_share_a_number():
    uow = FakeUnitOfWork()
    first, second = registered(uow), registered(uow)
    assert move(uow, first, S.CUSTOMER).customer_number != move(uow, second, S.CUSTOMER).customer_number


@pytest.mark.parametrize("start, target", [
    (S.CUSTOMER, S.PROSPECT), (S.CUSTOMER, S.SUSPECT), (S.PROSPECT, S.SUSPECT), (S.CUSTOMER, S.CUSTOMER),
])
def test_illegal_transitions_change_nothing(start, target):
    uow = FakeUnitOfWork()
    party = registered(uow, start)
    published = len(uow.published)
    with pytest.raises(IllegalTransition):
        move(uow, party, target)
    assert uow.parties.get(party.id).lifecycle_state == start
    assert len(uow.published) == published


def test_deactivating_twice_is_illegal():
    uow = FakeUnitOfWork()
    party = registered(uow)
    handlers.deactivate_party(DeactivateParty(actor=ACTOR, party_id=party.id), uow)
    with pytest.raises(IllegalTransition):
        handlers.deactivate_party(DeactivateParty(actor=ACTOR, party_id=party.id), uow)
