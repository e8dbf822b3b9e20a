"""Engine creation and the few dialect differences the plumbing must paper over (PostgreSQL, SQLite)."""
from __future__ import annotations

from sqlalchemy import JSON, Table, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

JsonDocument = JSON().with_variant(postgresql.JSONB(), "postgresql")


def make_engine(url: str, **kwargs) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 10)
    return create_engine(url, **kwargs)


def _sqlite_pragmas(dbapi_connection, _record):
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def dialect_insert(table: Table, dialect_name: str):
    """The running dialect's INSERT, which knows ON CONFLICT (PostgreSQL and SQLite)."""
    if dialect_name == "postgresql":
        return postgresql.insert(table)
    if dialect_name == "sqlite":
        return sqlite.insert(table)
    raise ValueError(f"no ON CONFLICT support for the {dialect_name} dialect")


def insert_ignoring_duplicates(table: Table, dialect_name: str):
    """INSERT ... ON CONFLICT DO NOTHING for the running dialect."""
    return dialect_insert(table, dialect_name).on_conflict_do_nothing()


def supports_skip_locked(engine_or_conn) -> bool:
    return engine_or_conn.dialect.name == "postgresql"
