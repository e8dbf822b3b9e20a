"""End to end through nginx: every service as its own processes on PostgreSQL and RabbitMQ (local mode).

A customer created through the gateway with a token reaches the calls service's replica, and its events
reach an outside system's plain pika consumer bound to the customers exchange.
"""
from __future__ import annotations

import importlib.util
import json
import sys
import time
import uuid
from pathlib import Path

import pika
import pytest
import requests

from crm_shared.auth import mint_token
from crm_shared.config import Settings

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
GATEWAY_PORT = 18080
PORTS = {"customers": 18101, "calls": 18102, "campaigns": 18103, "service-desk": 18104, "reporting": 18105}
GATEWAY = f"http://127.0.0.1:{GATEWAY_PORT}"


def load_runner():
    spec = importlib.util.spec_from_file_location("local_runner", ROOT / "deploy" / "local" / "run.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def stack(postgres_url, amqp_url, tmp_path_factory):
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    suffix = uuid.uuid4().hex[:8]
    env = {"AMQP_URL": amqp_url, "POSTGRES_ADMIN_URL": postgres_url}
    names = []
    for service in PORTS:
        name = f"e2e_{service.replace('-', '_')}_{suffix}"
        names.append(name)
        url = make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
        env[f"{service.upper().replace('-', '_')}_DATABASE_URL"] = url
    running = load_runner().start(None, GATEWAY_PORT, var_dir=tmp_path_factory.mktemp("stack"),
                                  admin_url=postgres_url, ports=PORTS, workers=2, env=env)
    yield running
    running.stop()
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for name in names:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def outside_consumer(amqp_url):
    """What an outside system writes: plain pika, its own queue bound to the customers exchange."""
    params = pika.URLParameters(amqp_url[:-1] + "%2F" if amqp_url.endswith("//") else amqp_url)
    connection = pika.BlockingConnection(params)
    channel = connection.channel()
    channel.exchange_declare("crm.customers", exchange_type="topic", durable=True)
    queue = channel.queue_declare("", exclusive=True).method.queue
    channel.queue_bind(queue, "crm.customers", routing_key="crm.customers.#")
    yield channel, queue
    connection.close()


def token(lines=("retail",), roles=("sales",)):
    return mint_token(Settings.from_env("customers").jwt, "e2e-user", list(roles), list(lines))


def auth(**kwargs):
    return {"Authorization": f"Bearer {token(**kwargs)}"}


def eventually(fetch, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (result := fetch()) is not None:
            return result
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def test_a_customer_created_at_the_gateway_reaches_calls_and_outside_consumers(stack, outside_consumer):
    channel, queue = outside_consumer
    request_id = str(uuid.uuid4())
    created = requests.post(f"{GATEWAY}/api/customers/parties", headers={**auth(), "X-Request-ID": request_id},
                            json={"kind": "company", "company_name": "Gateway Test GmbH", "line_of_business": "retail",
                                  "primary_address": {"street": "Hauptstr. 1", "postal_code": "80331",
                                                      "city": "Munich", "country": "DE"}}, timeout=10)
    assert created.status_code == 201, created.text
    party_id = created.json()["party_id"]
    promoted = requests.post(f"{GATEWAY}/api/customers/parties/{party_id}/lifecycle", headers=auth(),
                             json={"state": "prospect"}, timeout=10)
    assert promoted.status_code == 200, promoted.text
    promoted = requests.post(f"{GATEWAY}/api/customers/parties/{party_id}/lifecycle", headers=auth(),
                             json={"state": "customer"}, timeout=10)
    assert promoted.status_code == 200, promoted.text
    number = promoted.json()["customer_number"]
    assert number

    def replica():
        response = requests.get(f"{GATEWAY}/api/calls/customers/{party_id}", headers=auth(), timeout=10)
        body = response.json() if response.status_code == 200 else {}
        return body if body.get("lifecycle_state") == "customer" else None

    replicated = eventually(replica)
    assert replicated["customer_number"] == number and replicated["postal_code"] == "80331"

    received = []
    for method, properties, body in channel.consume(queue, inactivity_timeout=10):
        if method is None:
            break
        event = json.loads(body)
        channel.basic_ack(method.delivery_tag)
        if event.get("subject") == party_id:
            received.append(event)
            assert properties.message_id == event["id"] and properties.delivery_mode == 2
        if len(received) == 3:
            break
    channel.cancel()
    types = [e["type"] for e in received]
    assert types == ["crm.customers.party_registered.v1", "crm.customers.party_lifecycle_changed.v1",
                     "crm.customers.party_lifecycle_changed.v1"]
    assert received[0]["correlationid"] == request_id
    assert received[0]["specversion"] == "1.0" and received[0]["source"] == "crm.customers"
    assert received[2]["data"]["customer_number"] == number


def test_gateway_error_paths_are_problem_json(stack):
    no_token = requests.get(f"{GATEWAY}/api/customers/parties", timeout=10)
    assert no_token.status_code == 401 and no_token.headers["Content-Type"] == "application/problem+json"
    bad = requests.post(f"{GATEWAY}/api/customers/parties", headers=auth(), json={"kind": "robot"}, timeout=10)
    assert bad.status_code == 422 and bad.headers["Content-Type"] == "application/problem+json"
    assert any(e["field"] == "kind" for e in bad.json()["errors"])
    unknown_line = requests.post(f"{GATEWAY}/api/customers/parties", headers=auth(roles=("admin",), lines=("*",)),
                                 json={"kind": "company", "company_name": "X", "line_of_business": "nope"},
                                 timeout=10)
    assert unknown_line.status_code == 422 and unknown_line.headers["Content-Type"] == "application/problem+json"
    missing = requests.get(f"{GATEWAY}/api/calls/customers/{uuid.uuid4()}", headers=auth(), timeout=10)
    assert missing.status_code == 404 and missing.headers["Content-Type"] == "application/problem+json"
    nowhere = requests.get(f"{GATEWAY}/api/nowhere", timeout=10)
    assert nowhere.status_code == 404


def test_every_service_is_ready_and_documented_behind_the_gateway(stack):
    for service in PORTS:
        spec = requests.get(f"{GATEWAY}/api/{service}/openapi.json", timeout=10)
        assert spec.status_code == 200 and spec.json()["openapi"].startswith("3.")
        assert requests.get(f"http://127.0.0.1:{PORTS[service]}/health/ready", timeout=10).status_code == 200
