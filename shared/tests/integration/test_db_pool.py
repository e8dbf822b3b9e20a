"""What each DB_POOL_PRE_PING mode costs when PostgreSQL ends the pooled connections (as a restart does).

The server is not restarted (other tests share it): `pg_terminate_backend` ends exactly this engine's
backends, which is what a restart does to them: a FATAL message, then the socket closes.
"""
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from crm_shared.config import Settings
from crm_shared.db import make_engine


@pytest.fixture
def database(fresh_database):
    return fresh_database("pool")


def engine_with(url: str, mode: str):
    name = f"pool-test-{uuid.uuid4().hex[:8]}"
    return make_engine(url, pre_ping=mode, pool_size=2, connect_args={"application_name": name}), name


def warm_up(engine) -> None:
    """Two connections in the pool, both used a moment ago."""
    with engine.connect() as a, engine.connect() as b:
        a.execute(text("SELECT 1"))
        b.execute(text("SELECT 1"))


def terminate_backends(url: str, application_name: str) -> int:
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            # with a timeout, pg_terminate_backend waits until the backend has gone (PostgreSQL 14+)
            ended = conn.execute(text("SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 5000)) "
                                      "FROM pg_stat_activity WHERE application_name = :name"),
                                 {"name": application_name}).scalar()
    finally:
        admin.dispose()
    return ended


def failures_in(engine, requests: int = 4) -> int:
    failed = 0
    for _ in range(requests):
        try:
            with engine.connect() as conn:
                assert conn.execute(text("SELECT 42")).scalar() == 42
        except DBAPIError as exc:
            assert exc.connection_invalidated
            failed += 1
    return failed


@pytest.mark.parametrize("mode, expected_failures", [("idle", 0), ("always", 0), ("never", 1)])
def test_ended_connections_cost_at_most_one_failed_request(database, mode, expected_failures):
    engine, name = engine_with(database, mode)
    try:
        warm_up(engine)
        assert terminate_backends(database, name) == 2
        assert failures_in(engine) == expected_failures
    finally:
        engine.dispose()


def test_idle_mode_pings_a_connection_that_sat_in_the_pool_for_long(database, monkeypatch):
    from crm_shared import db
    engine, _ = engine_with(database, "idle")
    pings = []
    real_ping = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda conn: pings.append(1) or real_ping(conn))
    try:
        warm_up(engine)
        assert failures_in(engine, 3) == 0 and pings == []  # used a moment ago: no round trip
        monkeypatch.setattr(db, "IDLE_PING_AFTER_S", -1.0)
        assert failures_in(engine, 2) == 0 and len(pings) == 2
    finally:
        engine.dispose()


def test_the_mode_comes_from_the_environment_and_a_wrong_one_is_refused(monkeypatch):
    monkeypatch.setenv("CUSTOMERS_DB_POOL_PRE_PING", "never")
    monkeypatch.setenv("DB_POOL_RECYCLE", "600")
    settings = Settings.from_env("customers")
    assert settings.db_pool_pre_ping == "never" and settings.db_pool_recycle == 600
    assert Settings.from_env("calls").db_pool_pre_ping == "idle"
    with pytest.raises(ValueError, match="DB_POOL_PRE_PING"):
        make_engine("postgresql+psycopg://postgres@127.0.0.1/x", pre_ping="sometimes")
