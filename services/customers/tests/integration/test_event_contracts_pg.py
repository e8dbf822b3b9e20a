"""The event catalog matches what customers writes: one flow through the API on PostgreSQL puts every
crm.customers.* event into the outbox; each row's `data` carries exactly the fields docs/events/asyncapi.yaml
documents for its type, and every event class of domain/events.py is in the catalog and its README."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from crm_customers.domain import events
from crm_shared.testing.event_catalog import catalog_readme, data_schema, load_catalog, messages_by_type, schema_fields

PUBLISHED = sorted(f"crm.customers.{cls.name}.v1" for cls in vars(events).values()
                   if isinstance(cls, type) and issubclass(cls, events.Event) and "name" in vars(cls))


@pytest.fixture
def document():
    return load_catalog()


def ok(response, status=200):
    assert response.status_code == status, response.get_data(as_text=True)
    return response.json


def test_every_event_customers_writes_has_the_documented_data_fields(runtime, client, admin, document):
    ok(client.post("/api/customers/lines-of-business", json={"code": "energy", "label": "Energy"}, headers=admin), 201)
    ok(client.post("/api/customers/attributes", json={"name": "employees", "type": "number"}, headers=admin), 201)
    company = ok(client.post("/api/customers/parties", headers=admin, json={
        "kind": "company", "company_name": "Acme", "line_of_business": "energy"}), 201)
    person = ok(client.post("/api/customers/parties", headers=admin, json={
        "kind": "person", "last_name": "Novak", "line_of_business": "energy"}), 201)
    url = f"/api/customers/parties/{company['party_id']}"
    ok(client.patch(url, json={"attributes": {"employees": 40}}, headers=admin))
    ok(client.post(f"{url}/lifecycle", json={"state": "prospect"}, headers=admin))
    link = ok(client.post(f"/api/customers/parties/{person['party_id']}/contacts", headers=admin,
                          json={"company_id": company["party_id"], "role": "buyer"}), 201)
    assert client.delete(f"{url}/contacts/{link['id']}", headers=admin).status_code == 204
    ok(client.post(f"{url}/deactivate", headers=admin))

    box = runtime.messaging.outbox
    with runtime.engine.connect() as conn:
        rows = conn.execute(select(box.c.exchange, box.c.routing_key, box.c.body).order_by(box.c.position)).all()
    messages, seen = messages_by_type(document), set()
    for exchange, routing_key, body in rows:
        event = json.loads(body)
        assert (exchange, routing_key, event["source"]) == ("crm.customers", event["type"], "crm.customers"), event
        seen.add(event["type"])
        assert event["type"] in messages, event["type"]
        data = data_schema(messages[event["type"]])
        required, known = schema_fields(document, data)
        keys = set(event["data"])
        assert keys == known, (event["type"], "undocumented:", keys - known, "documented, not written:", known - keys)
        assert required <= keys, (event["type"], required - keys)
    assert set(PUBLISHED) <= seen, set(PUBLISHED) - seen


def test_every_type_customers_publishes_is_in_the_catalog(document):
    messages = messages_by_type(document)
    readme = catalog_readme()
    assert "crm.customers.line_of_business_defined.v1" in PUBLISHED and len(PUBLISHED) == 8
    for type_ in PUBLISHED:
        assert f"crm.customers/{type_}" in document["channels"] and type_ in messages, type_
        assert f"`{type_}`" in readme, type_
        assert messages[type_]["payload"]["allOf"][1]["properties"]["source"] == {"const": "crm.customers"}
