"""campaigns' suspect_imported events, handled with the in-memory unit of work."""
import logging
import uuid

import pytest
from crm_shared.events import new_event

from customers_fakes import FakeUnitOfWork

from crm_customers.domain.attributes import AttributeDefinition, AttributeType
from crm_customers.domain.errors import InvalidParty
from crm_customers.entrypoints.consumer import suspect_imported
from crm_customers.entrypoints.suspect_events import SUSPECT_IMPORTED, MalformedSuspect
from crm_customers.service_layer.errors import Invalid

SIZE = AttributeDefinition("company_size", AttributeType.NUMBER)
SOURCE = AttributeDefinition("information_source", AttributeType.CHOICE, ("fair", "web"))


def row(**overrides) -> dict:
    data = {
        "party_id": str(uuid.uuid4()), "kind": "company", "company_name": "Acme GmbH", "first_name": None,
        "last_name": None, "line_of_business": "retail",
        "address": {"street": "Hauptstr. 1", "postal_code": "10115", "city": "Berlin", "country": "DE"},
        "phone": "+49 30 1234567", "email": "info@acme.example", "attributes": {},
        "campaign_id": "c-1", "import_id": "imp-1", "row_number": 7,
    }
    data.update(overrides)
    return data


def deliver(data: dict, uow: FakeUnitOfWork) -> None:
    suspect_imported(new_event(SUSPECT_IMPORTED, "crm.campaigns", data["party_id"], data), uow)


def stored(uow: FakeUnitOfWork, data: dict):
    return uow.parties.get(uuid.UUID(data["party_id"]))


def test_the_suspect_is_registered_with_the_id_campaigns_chose():
    uow, data = FakeUnitOfWork(), row()
    deliver(data, uow)

    party = stored(uow, data)
    assert party is not None and party.lifecycle_state == "suspect" and party.customer_number is None
    assert party.primary_address.city == "Berlin" and party.primary_address.kind == "postal"
    assert [(p.kind, p.number) for p in party.phones] == [("work", "+49 30 1234567")]
    assert [(e.kind, e.address) for e in party.emails] == [("work", "info@acme.example")]
    [event] = uow.published
    assert event.type == "crm.customers.party_registered.v1" and event.subject == data["party_id"]
    assert event.data["party_id"] == data["party_id"] and event.data["lifecycle_state"] == "suspect"
    assert uow.commits == 1


def test_a_person_needs_only_a_last_name_and_blank_cells_count_as_absent():
    uow, data = FakeUnitOfWork(), row(kind="person", company_name="", first_name=" ", last_name="Novak",
                                      address=None, phone="", email=None)
    deliver(data, uow)
    party = stored(uow, data)
    assert (party.display_name, party.names.first_name) == ("Novak", None)
    assert (party.addresses, party.phones, party.emails) == ([], [], [])


def test_a_redelivered_suspect_changes_nothing():
    uow, data = FakeUnitOfWork(), row()
    deliver(data, uow)
    deliver({**data, "company_name": "Other AG", "phone": None}, uow)

    assert stored(uow, data).display_name == "Acme GmbH" and len(stored(uow, data).phones) == 1
    assert len(uow.parties.rows) == 1 and len(uow.published) == 1


def test_attribute_values_the_definitions_refuse_are_dropped_and_logged(caplog):
    uow = FakeUnitOfWork(attributes=[SIZE, SOURCE])
    data = row(attributes={"company_size": 12, "information_source": "radio", "favourite_colour": "red"})
    with caplog.at_level(logging.WARNING):
        deliver(data, uow)

    assert stored(uow, data).attributes == {"company_size": 12}
    assert uow.published[0].data["attributes"] == {"company_size": 12}
    dropped = [r.getMessage() for r in caplog.records if data["party_id"] in r.getMessage()]
    assert len(dropped) == 2
    assert any("'information_source' dropped" in m for m in dropped)
    assert any("'favourite_colour' dropped" in m and "row 7" in m for m in dropped)


@pytest.mark.parametrize("detail, value", [
    ("phone", "call me maybe"), ("email", "not-an-address"),
    ("address", {"street": "Hauptstr. 1", "postal_code": "10115", "city": "Berlin", "country": "Germany"}),
    ("address", {"street": "Hauptstr. 1", "city": "Berlin", "country": "DE"}),
])
def test_a_contact_detail_the_api_would_refuse_is_dropped_and_logged(caplog, detail, value):
    uow, data = FakeUnitOfWork(), row(**{detail: value})
    with caplog.at_level(logging.WARNING):
        deliver(data, uow)

    party = stored(uow, data)
    kept = {"phone": party.phones, "email": party.emails, "address": party.addresses}
    assert kept.pop(detail) == [] and all(len(others) == 1 for others in kept.values())
    assert any(f"{detail} dropped" in r.getMessage() for r in caplog.records)


def test_fields_the_contract_does_not_name_are_ignored():
    uow, data = FakeUnitOfWork(), row(salutation="Frau", address={**row()["address"], "kind": "billing"})
    deliver(data, uow)
    assert stored(uow, data).primary_address.kind == "postal"


@pytest.mark.parametrize("overrides, error", [
    ({"line_of_business": "insurance"}, Invalid),
    ({"line_of_business": "Not A Code"}, MalformedSuspect),
    ({"kind": "robot"}, MalformedSuspect),
    ({"party_id": "row-7"}, MalformedSuspect),
    ({"party_id": None}, MalformedSuspect),
    ({"company_name": None}, InvalidParty),
    ({"kind": "person", "company_name": None, "first_name": "Ada"}, InvalidParty),
    ({"first_name": "Ada"}, InvalidParty),
    ({"company_name": "x" * 201}, MalformedSuspect),
    ({"attributes": ["company_size", 12]}, MalformedSuspect),
    ({"address": "Hauptstr. 1, Berlin"}, MalformedSuspect),
])
def test_a_malformed_suspect_raises_and_registers_nothing(overrides, error):
    uow = FakeUnitOfWork()
    with pytest.raises(error):
        deliver(row(**overrides), uow)
    assert uow.parties.rows == {} and uow.published == [] and uow.commits == 0


def test_data_that_is_not_an_object_is_malformed():
    with pytest.raises(MalformedSuspect):
        suspect_imported(new_event(SUSPECT_IMPORTED, "crm.campaigns", None, ["not", "an", "object"]),
                         FakeUnitOfWork())


def test_the_documented_contract_names_the_fields_the_code_reads():
    from pathlib import Path

    from crm_customers.entrypoints.suspect_events import SuspectImportedSchema

    yaml = pytest.importorskip("yaml")
    docs = Path(__file__).resolve().parents[4] / "docs/events"
    contract = yaml.safe_load((docs / "asyncapi.yaml").read_text())
    assert f"crm.campaigns/{SUSPECT_IMPORTED}" in contract["channels"]
    documented = contract["components"]["schemas"]["SuspectImportedData"]
    read = SuspectImportedSchema().fields
    assert set(documented["properties"]) == set(read)
    assert set(documented["required"]) == {name for name, f in read.items() if f.required}
    assert f"`{SUSPECT_IMPORTED}`" in (docs / "README.md").read_text()
