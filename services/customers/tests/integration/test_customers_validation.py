"""Every endpoint refuses malformed or out-of-range input with problem+json naming the field, and changes nothing."""
import pytest
from customers_http import assert_problem

MISSING = "00000000-0000-4000-8000-000000000000"
COMPANY = {"kind": "company", "company_name": "Acme", "line_of_business": "retail"}
ADDRESS = {"street": "Hauptstr. 1", "postal_code": "10115", "city": "Berlin", "country": "DE"}

CASES = [
    # (method, path, json body or None, expected status, field named in errors or None)
    ("post", "/parties", {**COMPANY, "company_name": ""}, 422, "company_name"),
    ("post", "/parties", {**COMPANY, "company_name": "   "}, 422, "company_name"),
    ("post", "/parties", {**COMPANY, "company_name": "x" * 201}, 422, "company_name"),
    ("post", "/parties", {**COMPANY, "kind": "robot"}, 422, "kind"),
    ("post", "/parties", {"kind": "person", "first_name": "Ada", "line_of_business": "retail"}, 422, "last_name"),
    ("post", "/parties", {**COMPANY, "emails": [{"address": "not-an-email"}]}, 422, "emails.0.address"),
    ("post", "/parties", {**COMPANY, "phones": [{"number": "call me"}]}, 422, "phones.0.number"),
    ("post", "/parties", {**COMPANY, "addresses": [{**ADDRESS, "country": "Germany"}]}, 422, "addresses.0.country"),
    ("post", "/parties", {**COMPANY, "addresses": [{**ADDRESS, "primary": True}] * 2}, 422, "addresses"),
    ("post", "/parties", {**COMPANY, "line_of_business": "insurance"}, 422, "line_of_business"),
    ("post", "/parties", {**COMPANY, "lifecycle_state": "inactive"}, 422, "lifecycle_state"),
    ("post", "/parties", {**COMPANY, "lifecycle_state": "vip"}, 422, "lifecycle_state"),
    ("post", "/parties", {**COMPANY, "attributes": {"nope": 1}}, 422, "attributes.nope"),
    ("post", "/parties", {**COMPANY, "attributes": {"employees": "many"}}, 422, "attributes.employees"),
    ("post", "/parties", {**COMPANY, "lifecycle_state": "customer", "customer_number": "LEG-1"}, 409,
     "customer_number"),
    ("post", "/parties", {**COMPANY, "customer_number": "LEG-2"}, 422, "customer_number"),
    ("post", "/parties", {**COMPANY, "colour": "red"}, 422, "colour"),
    ("get", "/parties?limit=0", None, 422, "limit"),
    ("get", "/parties?limit=201", None, 422, "limit"),
    ("get", "/parties?cursor=garbage", None, 400, "cursor"),
    ("get", "/parties?cursor=WyJjcmVhdGVkX2F0IiwgIngiLCAieSJd", None, 400, "cursor"),  # ["created_at","x","y"]
    ("get", "/parties?sort=size", None, 422, "sort"),
    ("get", "/parties?lifecycle_state=vip", None, 422, "lifecycle_state"),
    ("get", "/parties?kind=robot", None, 422, "kind"),
    ("get", "/parties?attribute=nope:1", None, 422, "attribute"),
    ("get", "/parties?attribute=employees:many", None, 422, "attribute"),
    ("get", "/parties?attribute_min=employees", None, 422, "attribute_min.0"),
    ("get", "/parties/not-a-uuid", None, 404, None),
    ("get", f"/parties/{MISSING}", None, 404, "party_id"),
    ("patch", "/parties/{company}", {"company_name": ""}, 422, "company_name"),
    ("patch", "/parties/{company}", {"line_of_business": "insurance"}, 422, "line_of_business"),
    ("patch", "/parties/{company}", {"attributes": {"employees": True}}, 422, "attributes.employees"),
    ("patch", "/parties/{company}", {"kind": "person"}, 422, "kind"),
    ("patch", f"/parties/{MISSING}", {"company_name": "B"}, 404, "party_id"),
    ("post", "/parties/{company}/lifecycle", {"state": "vip"}, 422, "state"),
    ("post", "/parties/{company}/lifecycle", {"state": "suspect"}, 409, "state"),
    ("post", "/parties/{company}/lifecycle", {}, 422, "state"),
    ("post", f"/parties/{MISSING}/lifecycle", {"state": "customer"}, 404, "party_id"),
    ("post", "/parties/{inactive}/deactivate", None, 409, "state"),
    ("post", f"/parties/{MISSING}/deactivate", None, 404, "party_id"),
    ("post", "/parties/{person}/contacts", {"company_id": MISSING, "role": "buyer"}, 404, "company_id"),
    ("post", "/parties/{person}/contacts", {"company_id": "nope", "role": "buyer"}, 422, "company_id"),
    ("post", "/parties/{person}/contacts", {"company_id": "{company}", "role": ""}, 422, "role"),
    ("post", "/parties/{person}/contacts", {"company_id": "{person}", "role": "buyer"}, 422, "company_id"),
    ("post", "/parties/{company}/contacts", {"company_id": "{company}", "role": "buyer"}, 422, "person_id"),
    ("get", f"/parties/{MISSING}/contacts", None, 404, "party_id"),
    ("delete", f"/parties/{{company}}/contacts/{MISSING}", None, 404, "link_id"),
    ("delete", "/parties/{company}/contacts/not-a-uuid", None, 404, None),
    ("post", "/attributes", {"name": "Bad Name", "type": "text"}, 422, "name"),
    ("post", "/attributes", {"name": "size", "type": "colour"}, 422, "type"),
    ("post", "/attributes", {"name": "size", "type": "choice"}, 422, "choices"),
    ("post", "/attributes", {"name": "employees", "type": "number"}, 409, "name"),
    ("post", "/lines-of-business", {"code": "Retail Banking", "label": "x"}, 422, "code"),
    ("post", "/lines-of-business", {"code": "retail", "label": "Retail"}, 409, "code"),
    ("post", "/lines-of-business", {"code": "insurance"}, 422, "label"),
]


@pytest.fixture
def world(client, admin, create):
    assert client.post("/api/customers/attributes", json={"name": "employees", "type": "number"},
                       headers=admin).status_code == 201
    create(lifecycle_state="customer", customer_number="LEG-1")
    inactive = create(company_name="Gone")
    client.post(f"/api/customers/parties/{inactive['party_id']}/deactivate", headers=admin)
    return {"company": create()["party_id"], "person": create(kind="person")["party_id"],
            "inactive": inactive["party_id"]}


def _filled(value, world):
    if isinstance(value, dict):
        return {k: _filled(v, world) for k, v in value.items()}
    return value.format(**world) if isinstance(value, str) else value


@pytest.mark.parametrize("method, path, body, status, field", CASES,
                         ids=[f"{c[0]} {c[1]} {c[3]} {c[4]}" for c in CASES])
def test_bad_input_is_a_problem_and_changes_nothing(client, admin, world, outbox, count,
                                                    method, path, body, status, field):
    before = (len(outbox()), count("parties"), count("contact_links"), count("attribute_definitions"))
    call = getattr(client, method)
    kwargs = {"json": _filled(body, world)} if body is not None else {}
    response = call("/api/customers" + _filled(path, world), headers=admin, **kwargs)
    assert_problem(response, status, field)
    assert (len(outbox()), count("parties"), count("contact_links"), count("attribute_definitions")) == before


@pytest.mark.parametrize("if_match, status", [('"1"', 200), ('W/"1"', 200), ('"2"', 412), ("1", 422)])
def test_if_match_guards_patch(client, admin, create, if_match, status):
    party = create()
    response = client.patch(f"/api/customers/parties/{party['party_id']}", json={"company_name": "B"},
                            headers={**admin, "If-Match": if_match})
    assert response.status_code == status
    if status == 412:
        assert_problem(response, 412)
        read = client.get(f"/api/customers/parties/{party['party_id']}", headers=admin)
        assert read.json["display_name"] == "Acme GmbH" and read.headers["ETag"] == '"1"'
    if status == 422:
        assert_problem(response, 422, "If-Match")
