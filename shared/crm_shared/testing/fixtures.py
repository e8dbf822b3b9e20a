"""pytest fixtures for real infrastructure: testcontainers where a Docker engine answers, else the URLs in
the environment (TEST_POSTGRES_URL, TEST_AMQP_URL), which CI points at the machine's own servers."""
from __future__ import annotations

import os
import shutil
import subprocess
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


def docker_available() -> bool:
    if os.environ.get("CRM_TESTS_NO_DOCKER") or not shutil.which("docker"):
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.fixture(scope="session")
def postgres_url():
    if docker_available():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:16-alpine", driver="psycopg") as container:
            yield container.get_connection_url()
        return
    yield os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(scope="session")
def amqp_url():
    if docker_available():
        from testcontainers.rabbitmq import RabbitMqContainer

        with RabbitMqContainer("rabbitmq:3.13-management-alpine") as container:
            params = container.get_connection_params()
            yield f"amqp://guest:guest@{params.host}:{params.port}//"
        return
    yield os.environ.get("TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")


@pytest.fixture
def fresh_database(postgres_url):
    """Factory: `fresh_database()` returns the URL of a new, empty database, dropped after the test."""
    created = []
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")

    def make(prefix: str = "t") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        created.append(name)
        return make_url(postgres_url).set(database=name).render_as_string(hide_password=False)

    yield make
    with admin.connect() as conn:
        for name in created:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def unique_name():
    return lambda prefix="t": f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def messaging_pipeline(fresh_database, amqp_url):
    """A producer database with an outbox, a consumer database with an inbox and an effects table, and a
    throwaway exchange and queue on the real broker (see crm_shared.testing.pipeline)."""
    from crm_shared.testing.pipeline import build_pipeline, tear_down

    built = build_pipeline(fresh_database("producer"), fresh_database("consumer"), amqp_url)
    yield built
    tear_down(built)
