"""Fixtures of the end-to-end tests: the whole stack behind nginx (one per test module), and outside systems'
queues on the customers and calls exchanges."""
from __future__ import annotations

import sys
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from e2e_stack import GATEWAY_PORT, PORTS, bound_queue, load_runner  # noqa: E402


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
    with bound_queue(amqp_url, "crm.customers") as consumer:
        yield consumer


@pytest.fixture
def calls_consumer(amqp_url):
    """An outside system listening to the calls exchange."""
    with bound_queue(amqp_url, "crm.calls") as consumer:
        yield consumer
