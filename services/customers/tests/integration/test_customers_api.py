"""Happy paths through the HTTP API on a migrated PostgreSQL database."""
import json

from customers_http import assert_problem

BERLIN = {"street": "Hauptstr. 1", "postal_code": "10115", "city": "Berlin", "country": "DE"}


def test_register_read_and_change_a_company(client, admin, outbox):
    created = client.post("/api/customers/parties", headers=admin, json={
        "kind": "company", "company_name": "Acme GmbH", "line_of_business": "retail", "addresses": [BERLIN],
        "phones": [{"kind": "work", "number": "+49 30 1234"}], "emails": [{"address": "info@acme.example"}]})
    assert created.status_code == 201
    party = created.json
    assert created.headers["ETag"] == '"1"' and created.headers["Location"].endswith(party["party_id"])
    assert party["lifecycle_state"] == "suspect" and party["customer_number"] is None
    assert party["primary_address"]["postal_code"] == "10115"

    read = client.get(f"/api/customers/parties/{party['party_id']}", headers=admin)
    assert read.json == party and read.headers["ETag"] == '"1"'

    changed = client.patch(f"/api/customers/parties/{party['party_id']}", headers={**admin, "If-Match": '"1"'},
                           json={"company_name": "Acme AG", "emails": []})
    assert changed.status_code == 200 and changed.headers["ETag"] == '"2"'
    assert changed.json["display_name"] == "Acme AG" and changed.json["emails"] == []
    assert changed.json["phones"] == party["phones"]

    types = [row.routing_key for row in outbox()]
    assert types == ["crm.customers.party_registered.v1", "crm.customers.party_updated.v1"]
    envelope = json.loads(outbox()[1].body)
    assert envelope["source"] == "crm.customers" and envelope["subject"] == party["party_id"]
    assert envelope["data"]["display_name"] == "Acme AG" and envelope["data"]["version"] == 2


def test_an_empty_or_no_op_patch_keeps_the_version_and_emits_no_event(client, admin, create, outbox):
    party = create()
    url = f"/api/customers/parties/{party['party_id']}"
    for body in ({}, {"company_name": party["company_name"], "phones": party["phones"]}):
        patched = client.patch(url, headers={**admin, "If-Match": '"1"'}, json=body)
        assert patched.status_code == 200 and patched.headers["ETag"] == '"1"'
        assert patched.json == party
    assert [row.routing_key for row in outbox()] == ["crm.customers.party_registered.v1"]
    stale = client.patch(url, headers={**admin, "If-Match": '"7"'}, json={})
    assert stale.status_code == 412


def test_lifecycle_customer_number_deactivation_and_reactivation(client, admin, create, outbox):
    party = create()
    url = f"/api/customers/parties/{party['party_id']}"
    prospect = client.post(f"{url}/lifecycle", json={"state": "prospect"}, headers=admin)
    assert prospect.json["lifecycle_state"] == "prospect" and prospect.json["customer_number"] is None
    customer = client.post(f"{url}/lifecycle", json={"state": "customer"}, headers=admin)
    number = customer.json["customer_number"]
    assert number == "00000001"
    inactive = client.post(f"{url}/deactivate", headers=admin)
    assert inactive.json["lifecycle_state"] == "inactive" and inactive.json["customer_number"] == number
    again = client.post(f"{url}/lifecycle", json={"state": "customer"}, headers=admin)
    assert again.json["customer_number"] == number and again.json["version"] == 5
    assert [r.routing_key.split(".")[2] for r in outbox()] == [
        "party_registered", "party_lifecycle_changed", "party_lifecycle_changed", "party_deactivated",
        "party_lifecycle_changed"]
    assert json.loads(outbox()[-1].body)["data"]["previous_state"] == "inactive"


def test_generated_numbers_skip_legacy_ones_and_are_never_reused(client, admin, create):
    create(lifecycle_state="customer", customer_number="00000001")
    second = create(lifecycle_state="customer")
    third = create(lifecycle_state="customer")
    assert (second["customer_number"], third["customer_number"]) == ("00000002", "00000003")


def test_contacts_in_both_directions(client, admin, create, outbox):
    ada = create(kind="person", first_name="Ada", last_name="Novak")
    acme, nordic = create(company_name="Acme"), create(company_name="Nordic")
    url = f"/api/customers/parties/{ada['party_id']}/contacts"
    first = client.post(url, json={"company_id": acme["party_id"], "role": "buyer", "position": "Head"}, headers=admin)
    assert first.status_code == 201 and first.json["person_id"] == ada["party_id"]
    client.post(url, json={"company_id": nordic["party_id"], "role": "buyer"}, headers=admin)
    mine = client.get(url, headers=admin).json["items"]
    assert {link["company_id"] for link in mine} == {acme["party_id"], nordic["party_id"]}
    theirs = client.get(f"/api/customers/parties/{acme['party_id']}/contacts", headers=admin).json["items"]
    assert [link["person_id"] for link in theirs] == [ada["party_id"]]

    removed = client.delete(f"/api/customers/parties/{acme['party_id']}/contacts/{first.json['id']}", headers=admin)
    assert removed.status_code == 204
    assert client.get(f"/api/customers/parties/{acme['party_id']}/contacts", headers=admin).json["items"] == []
    linked, unlinked = (json.loads(r.body)["data"] for r in outbox()
                        if r.routing_key.split(".")[2] in ("contact_linked", "contact_unlinked")
                        and json.loads(r.body)["data"]["company_id"] == acme["party_id"])
    assert linked == {"link_id": first.json["id"], "person_id": ada["party_id"], "company_id": acme["party_id"],
                      "role": "buyer", "position": "Head"}
    assert unlinked == {"link_id": first.json["id"], "person_id": ada["party_id"], "company_id": acme["party_id"]}


def test_attributes_are_defined_set_and_filtered(client, admin, create, outbox):
    for definition in ({"name": "company_size", "type": "choice", "choices": ["small", "large"]},
                       {"name": "employees", "type": "number"}, {"name": "first_contact", "type": "date"},
                       {"name": "newsletter", "type": "boolean"}):
        assert client.post("/api/customers/attributes", json=definition, headers=admin).status_code == 201
    assert len(client.get("/api/customers/attributes", headers=admin).json["items"]) == 4
    assert json.loads(outbox()[0].body)["data"] == {"name": "company_size", "type": "choice",
                                                     "choices": ["small", "large"]}
    small = create(company_name="Small", attributes={"company_size": "small", "employees": 5,
                                                     "first_contact": "2023-01-10", "newsletter": True})
    large = create(company_name="Large", attributes={"company_size": "large", "employees": 500,
                                                     "first_contact": "2024-06-01", "newsletter": False})

    def found(query):
        response = client.get(f"/api/customers/parties?{query}", headers=admin)
        assert response.status_code == 200, response.json
        return [p["party_id"] for p in response.json["items"]]

    assert found("attribute=company_size:large") == [large["party_id"]]
    assert found("attribute=employees:5") == [small["party_id"]]
    assert found("attribute=newsletter:true") == [small["party_id"]]
    assert found("attribute_min=employees:10") == [large["party_id"]]
    assert found("attribute_max=first_contact:2023-12-31") == [small["party_id"]]
    assert found("attribute_min=employees:1&attribute_max=employees:1000") == [large["party_id"], small["party_id"]]


def test_search_filters_sorting_and_keyset_pages(client, admin, create):
    names = ["alpha", "Beta", "beta two", "Gamma", "delta"]
    made = {n: create(company_name=n, addresses=[{**BERLIN, "postal_code": f"{10000 + i * 10}"}])
            for i, n in enumerate(names)}
    create(kind="person", last_name="Betamann", line_of_business="wholesale", lifecycle_state="prospect")

    def names_of(query):
        response = client.get(f"/api/customers/parties?{query}", headers=admin)
        assert response.status_code == 200, response.json
        return [p["display_name"] for p in response.json["items"]], response.json["next_cursor"]

    assert names_of("name=BET")[0] == ["Beta", "beta two", "Betamann"]
    assert names_of("name=bet&kind=company")[0] == ["Beta", "beta two"]
    assert names_of("name=bet&line_of_business=wholesale")[0] == ["Betamann"]
    assert names_of("lifecycle_state=prospect")[0] == ["Betamann"]
    assert names_of("postal_code_from=10010&postal_code_to=10030")[0] == ["Beta", "beta two", "Gamma"]
    assert names_of("sort=-name&kind=company")[0] == ["Gamma", "delta", "beta two", "Beta", "alpha"]

    seen, cursor = [], ""
    while True:
        page, cursor = names_of(f"kind=company&sort=created_at&limit=2{'&cursor=' + cursor if cursor else ''}")
        seen += page
        if not cursor:
            break
    assert seen == names and "total" not in client.get("/api/customers/parties", headers=admin).json
    client.post(f"/api/customers/parties/{made['Gamma']['party_id']}/lifecycle", json={"state": "customer"},
                headers=admin)
    assert names_of("sort=-customer_number")[0] == ["Gamma"]


def test_lines_of_business_are_listed_and_added(client, admin, create):
    assert [lob["code"] for lob in client.get("/api/customers/lines-of-business", headers=admin).json["items"]] == [
        "retail", "services", "wholesale"]
    added = client.post("/api/customers/lines-of-business", json={"code": "insurance", "label": "Insurance"},
                        headers=admin)
    assert added.status_code == 201
    assert create(line_of_business="insurance")["line_of_business"] == "insurance"


def test_openapi_documents_every_endpoint(client):
    paths = client.get("/api/customers/openapi.json").json["paths"]
    assert set(paths) == {"/api/customers/parties", "/api/customers/parties/{party_id}",
                          "/api/customers/parties/{party_id}/lifecycle", "/api/customers/parties/{party_id}/deactivate",
                          "/api/customers/parties/{party_id}/contacts",
                          "/api/customers/parties/{party_id}/contacts/{link_id}",
                          "/api/customers/attributes", "/api/customers/lines-of-business"}


def test_no_token_no_answer(client):
    assert_problem(client.get("/api/customers/parties"), 401)
