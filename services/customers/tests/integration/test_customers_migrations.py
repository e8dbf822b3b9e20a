import json

from crm_shared.auth import mint_token
from crm_shared.config import Settings
from sqlalchemy import inspect, text

from crm_customers.bootstrap import build_runtime


def test_migrations_create_tables_indexes_sequence_and_seed(runtime):
    inspector = inspect(runtime.engine)
    assert {"parties", "contact_links", "attribute_definitions", "lines_of_business", "outbox", "inbox",
            "idempotency_keys"} <= set(inspector.get_table_names())
    indexes = {i["name"] for i in inspector.get_indexes("parties")}
    assert {"ix_parties_lob_name", "ix_parties_state_name", "ix_parties_postal_code",
            "ix_parties_attributes"} <= indexes
    with runtime.engine.connect() as conn:
        assert conn.execute(text("SELECT nextval('customer_number_seq')")).scalar() == 1
        lines = conn.execute(text("SELECT code FROM lines_of_business ORDER BY code")).scalars().all()
        gin = conn.execute(text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_parties_attributes'")).scalar()
    assert lines == ["retail", "services", "wholesale"]
    assert "gin" in gin and "jsonb_path_ops" in gin


def test_migrating_again_is_a_no_op(runtime):
    runtime.migrate()


def test_embedded_mode_on_sqlite_migrates_and_serves(tmp_path):
    settings = Settings.from_env("customers", database_url=f"sqlite:///{tmp_path / 'customers.sqlite3'}",
                                 amqp_url="memory://")
    runtime = build_runtime(settings)
    runtime.migrate()
    client = runtime.create_app().test_client()
    headers = {"Authorization": "Bearer " + mint_token(settings.jwt, "demo", ["admin"], ["*"])}
    client.post("/api/customers/attributes", json={"name": "employees", "type": "number"}, headers=headers)
    created = client.post("/api/customers/parties", headers=headers, json={
        "kind": "company", "company_name": "Acme Tools Ltd", "line_of_business": "retail",
        "lifecycle_state": "customer",
        "attributes": {"employees": 40},
        "primary_address": {"street": "1 High Street", "postal_code": "10115", "city": "Berlin", "country": "DE"}})
    assert created.status_code == 201, created.json
    assert created.json["customer_number"] == "00000001"
    party_id = created.json["party_id"]
    read = client.get(f"/api/customers/parties/{party_id}", headers=headers)
    assert read.status_code == 200 and read.json["display_name"] == "Acme Tools Ltd"
    found = client.get("/api/customers/parties?name=acme&attribute_min=employees:10&postal_code_from=10000",
                       headers=headers)
    assert [p["party_id"] for p in found.json["items"]] == [party_id]
    runtime.engine.dispose()


def test_the_lines_that_existed_before_their_event_are_published_once(fresh_database):
    """0002 writes `line_of_business_defined` for every line: the seeded ones and those an administrator added
    while no event was published for them."""
    from crm_shared.migrations import upgrade

    url = fresh_database("customers")
    upgrade("crm_customers", url, "0001")
    settings = Settings.from_env("customers", database_url=url, amqp_url="memory://")
    runtime = build_runtime(settings)
    with runtime.engine.begin() as conn:
        conn.execute(text("INSERT INTO lines_of_business (code, label) VALUES ('energy', 'Energy')"))
    runtime.migrate()
    runtime.migrate()
    with runtime.engine.connect() as conn:
        rows = conn.execute(text("SELECT exchange, routing_key, body FROM outbox ORDER BY position")).all()
    runtime.engine.dispose()
    assert {(exchange, key) for exchange, key, _ in rows} == {("crm.customers",
                                                               "crm.customers.line_of_business_defined.v1")}
    published = [json.loads(body) for _, _, body in rows]
    assert [(e["subject"], e["data"]) for e in published] == [
        (code, {"code": code, "label": label}) for code, label in
        [("energy", "Energy"), ("retail", "Retail"), ("services", "Services"), ("wholesale", "Wholesale")]]
    assert {e["source"] for e in published} == {"crm.customers"}
