import pytest
from crm_shared.auth import mint_token
from crm_shared.config import Settings
from sqlalchemy import func, select

from crm_customers.bootstrap import build_runtime


@pytest.fixture
def runtime(fresh_database):
    # memory:// keeps the broker out of these tests; the relay is the shared library's, tested there.
    settings = Settings.from_env("customers", database_url=fresh_database("customers"), amqp_url="memory://")
    runtime = build_runtime(settings)
    runtime.migrate()
    yield runtime
    runtime.engine.dispose()


@pytest.fixture
def client(runtime):
    return runtime.create_app().test_client()


@pytest.fixture
def auth(runtime):
    def headers(*lines, roles=("sales",), subject="user"):
        return {"Authorization": "Bearer " + mint_token(runtime.settings.jwt, subject, list(roles), list(lines))}
    return headers


@pytest.fixture
def admin(auth):
    return auth("*", roles=("admin",), subject="admin")


@pytest.fixture
def outbox(runtime):
    """The outbox rows the test wrote, as (routing_key, body) in order of position (the lines of business the
    migrations published are left out)."""
    table = runtime.messaging.outbox
    with runtime.engine.connect() as conn:
        migrated = conn.execute(select(func.coalesce(func.max(table.c.position), 0))).scalar()

    def rows():
        with runtime.engine.connect() as conn:
            return conn.execute(select(table.c.routing_key, table.c.body).where(table.c.position > migrated)
                                .order_by(table.c.position)).all()
    return rows


@pytest.fixture
def count(runtime):
    def rows(table_name):
        from crm_customers.adapters import orm
        with runtime.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(orm.metadata.tables[table_name])).scalar()
    return rows


@pytest.fixture
def create(client, admin):
    def party(headers=None, **body):
        body.setdefault("kind", "company")
        if body["kind"] == "company":
            body.setdefault("company_name", "Acme GmbH")
        else:
            body.setdefault("last_name", "Novak")
        body.setdefault("line_of_business", "retail")
        response = client.post("/api/customers/parties", json=body, headers=headers or admin)
        assert response.status_code == 201, response.get_data(as_text=True)
        return response.json
    return party

