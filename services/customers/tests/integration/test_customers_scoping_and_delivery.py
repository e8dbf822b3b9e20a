"""Lines of business scope what a user sees; Idempotency-Key replays; events commit with the state or not at all."""
import json

from customers_http import assert_problem
from sqlalchemy import text

from crm_shared.messaging_tables import purge_expired_messaging_rows as purge_expired


def test_a_retail_user_sees_and_changes_only_retail_parties(client, auth, create):
    retail = auth("retail")
    mine, theirs = create(company_name="Mine"), create(company_name="Theirs", line_of_business="wholesale")
    listed = client.get("/api/customers/parties", headers=retail).json["items"]
    assert [p["party_id"] for p in listed] == [mine["party_id"]]
    assert client.get("/api/customers/parties?line_of_business=wholesale", headers=retail).json["items"] == []

    url = f"/api/customers/parties/{theirs['party_id']}"
    assert_problem(client.get(url, headers=retail), 404)
    assert_problem(client.patch(url, json={"company_name": "X"}, headers=retail), 404)
    assert_problem(client.post(f"{url}/lifecycle", json={"state": "prospect"}, headers=retail), 404)
    assert_problem(client.post(f"{url}/deactivate", headers=retail), 404)
    assert_problem(client.get(f"{url}/contacts", headers=retail), 404)
    assert_problem(client.patch(f"/api/customers/parties/{mine['party_id']}", json={"line_of_business": "wholesale"},
                                headers=retail), 403, "line_of_business")
    assert_problem(client.post("/api/customers/parties", headers=retail, json={
        "kind": "company", "company_name": "New", "line_of_business": "wholesale"}), 403, "line_of_business")
    assert client.get("/api/customers/parties", headers=auth("*")).status_code == 200
    assert len(client.get("/api/customers/parties", headers=auth("*")).json["items"]) == 2


def test_contacts_across_lines_stay_hidden(client, auth, admin, create):
    person = create(kind="person")
    foreign = create(company_name="Foreign", line_of_business="wholesale")
    linked = client.post(f"/api/customers/parties/{person['party_id']}/contacts", headers=admin,
                         json={"company_id": foreign["party_id"], "role": "buyer"})
    assert linked.status_code == 201
    retail = auth("retail")
    assert client.get(f"/api/customers/parties/{person['party_id']}/contacts", headers=retail).json["items"] == []
    assert_problem(client.post(f"/api/customers/parties/{person['party_id']}/contacts", headers=retail,
                               json={"company_id": foreign["party_id"], "role": "owner"}), 404, "company_id")
    url = f"/api/customers/parties/{person['party_id']}/contacts/{linked.json['id']}"
    assert_problem(client.delete(url, headers=retail), 404, "link_id")
    assert [c["id"] for c in client.get(f"/api/customers/parties/{person['party_id']}/contacts",
                                        headers=admin).json["items"]] == [linked.json["id"]]


def test_admin_endpoints_refuse_other_users(client, auth):
    user = auth("*")
    assert_problem(client.post("/api/customers/attributes", json={"name": "x", "type": "text"}, headers=user), 403)
    assert_problem(client.post("/api/customers/lines-of-business", json={"code": "x", "label": "X"}, headers=user),
                   403)
    assert_problem(client.post("/api/customers/parties", headers=user, json={
        "kind": "company", "company_name": "Old", "line_of_business": "retail", "lifecycle_state": "customer",
        "customer_number": "LEG-9"}), 403, "customer_number")


def test_idempotency_key_replays_the_first_answer(client, admin, count):
    headers = {**admin, "Idempotency-Key": "create-acme-1"}
    body = {"kind": "company", "company_name": "Acme", "line_of_business": "retail"}
    first = client.post("/api/customers/parties", json=body, headers=headers)
    second = client.post("/api/customers/parties", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.json == first.json and second.headers.get("Idempotent-Replayed") == "true"
    assert second.headers["ETag"] == first.headers["ETag"]
    assert count("parties") == 1
    other = client.post("/api/customers/parties", json={**body, "company_name": "Other"}, headers=headers)
    assert_problem(other, 422, "Idempotency-Key")


def test_a_failed_request_releases_its_idempotency_key(client, admin, count):
    headers = {**admin, "Idempotency-Key": "k-2"}
    refused = client.post("/api/customers/parties", headers=headers,
                          json={"kind": "company", "company_name": "A", "line_of_business": "insurance"})
    assert_problem(refused, 422)
    assert count("idempotency_keys") == 0 and count("parties") == 0


def test_the_event_is_written_in_the_party_transaction(client, admin, runtime, outbox):
    created = client.post("/api/customers/parties", headers=admin,
                          json={"kind": "company", "company_name": "Acme", "line_of_business": "retail"}).json
    [row] = outbox()
    event = json.loads(row.body)
    assert row.routing_key == event["type"] == "crm.customers.party_registered.v1"
    assert event["data"]["party_id"] == created["party_id"]
    with runtime.engine.connect() as conn:
        # xmin is the id of the transaction that wrote a row: one id means one transaction.
        xmins = conn.execute(text(
            "SELECT (SELECT xmin::text FROM parties), "
            "(SELECT xmin::text FROM outbox WHERE routing_key = 'crm.customers.party_registered.v1')")).one()
    assert xmins[0] == xmins[1]


def test_a_failure_after_the_change_leaves_neither_row(runtime, admin, monkeypatch, count, outbox):
    from crm_customers.service_layer import handlers

    def broken_commit(uow, happened):
        uow.publish(*[])
        raise RuntimeError("database went away between write and commit")
    monkeypatch.setattr(handlers, "_commit", broken_commit)
    client = runtime.create_app().test_client()
    response = client.post("/api/customers/parties", headers=admin,
                           json={"kind": "company", "company_name": "Acme", "line_of_business": "retail"})
    assert_problem(response, 500)
    assert count("parties") == 0 and outbox() == []


def test_housekeeping_purges_only_expired_rows(runtime):
    with runtime.engine.begin() as conn:
        conn.execute(text("INSERT INTO inbox (consumer, event_id, event_type, handled_at) VALUES "
                          "('c', 'old', 't', now() - interval '31 days'), ('c', 'new', 't', now())"))
        conn.execute(text("INSERT INTO idempotency_keys (key, principal, request_hash, created_at) VALUES "
                          "('old', 'p', 'h', now() - interval '25 hours'), ('new', 'p', 'h', now())"))
    assert purge_expired(runtime.engine, runtime.messaging) == {"inbox": 1, "idempotency_keys": 1}
    assert purge_expired(runtime.engine, runtime.messaging) == {"inbox": 0, "idempotency_keys": 0}
