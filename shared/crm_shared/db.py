"""Engine creation and the few dialect differences the plumbing must paper over (PostgreSQL, SQLite).

How a pooled connection is checked before use (`DB_POOL_PRE_PING`, see docs/operations.md):

- `idle` (default): a connection used within the last `IDLE_PING_AFTER_S` seconds gets only a non-blocking
  look at its socket. A server that restarts, or that ends the backend (`pg_terminate_backend`, an idle
  timeout), sends its FATAL message and closes the socket, so the socket is readable; such a connection is
  replaced before the request uses it. A connection idle for longer gets a real `SELECT 1` round trip, which
  also catches a peer that vanished without a word (a dropped network path).
- `always`: SQLAlchemy's `pool_pre_ping`, a `SELECT 1` round trip at every checkout.
- `never`: no check. A dead connection fails the request that uses it; SQLAlchemy then invalidates the whole
  pool, so the next requests reconnect.

In every mode `pool_recycle` (`DB_POOL_RECYCLE`, seconds) replaces connections older than that.
"""
from __future__ import annotations

import select
import time
from datetime import UTC, datetime

from sqlalchemy import JSON, Table, create_engine, event, exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.sql import sqltypes

JsonDocument = JSON().with_variant(postgresql.JSONB(), "postgresql")
PRE_PING_MODES = ("idle", "always", "never")
IDLE_PING_AFTER_S = 10.0
DEFAULT_POOL_RECYCLE_S = 1800


def make_engine(url: str, *, pre_ping: str = "idle", pool_recycle: int = DEFAULT_POOL_RECYCLE_S,
                **kwargs) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        # Every DateTime column of this engine, whatever table declares it (before any statement compiles).
        engine.dialect.colspecs = {**engine.dialect.colspecs, sqltypes.DateTime: UtcSqliteDateTime}
        return engine
    if pre_ping not in PRE_PING_MODES:
        raise ValueError(f"DB_POOL_PRE_PING must be one of {', '.join(PRE_PING_MODES)}, not {pre_ping!r}")
    kwargs.setdefault("pool_pre_ping", pre_ping == "always")
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("pool_recycle", pool_recycle)
    engine = create_engine(url, **kwargs)
    if pre_ping == "idle" and not kwargs["pool_pre_ping"]:
        event.listen(engine, "checkin", _note_checkin)
        event.listen(engine, "checkout", _check_before_use(engine))
    return engine


def _note_checkin(_dbapi_connection, record) -> None:
    if record is not None:
        record.info["crm_checked_in_at"] = time.monotonic()


def _check_before_use(engine: Engine):
    def check(dbapi_connection, record, _proxy) -> None:
        checked_in_at = record.info.pop("crm_checked_in_at", None)
        if checked_in_at is None:
            return  # a fresh connection
        if _server_has_spoken(dbapi_connection):
            # An idle connection has nothing to read unless the server said goodbye (or closed it).
            raise exc.DisconnectionError("the server closed this pooled connection")
        if time.monotonic() - checked_in_at > IDLE_PING_AFTER_S:
            try:
                ping = engine.dialect.do_ping(dbapi_connection)
            except Exception as error:  # noqa: BLE001 - any failure of the ping means: do not use it
                raise exc.DisconnectionError(f"pooled connection failed its ping: {error}") from error
            if not ping:
                raise exc.DisconnectionError("pooled connection failed its ping")
    return check


def _server_has_spoken(dbapi_connection) -> bool:
    try:
        if getattr(dbapi_connection, "closed", False):
            return True
        poller = select.poll()
        poller.register(dbapi_connection.fileno(), select.POLLIN | select.POLLERR | select.POLLHUP)
        return bool(poller.poll(0))
    except Exception:  # noqa: BLE001 - a connection whose socket cannot even be looked at is not usable
        return True


class UtcSqliteDateTime(sqlite.DATETIME):
    """`DateTime(timezone=True)` on SQLite as PostgreSQL's timestamptz behaves: SQLite keeps date-times as text
    without an offset, so an aware value is stored as its UTC time and read back as UTC-aware (a naive one is
    taken as UTC). Without this, embedded mode answered timestamps without an offset (not an RFC 3339
    date-time) and stored a +02:00 time as if it were UTC. `DateTime()` without a time zone is unchanged."""

    cache_ok = True

    def bind_processor(self, dialect):
        process = super().bind_processor(dialect)
        if not self.timezone:
            return process

        def in_utc(value):
            if isinstance(value, datetime) and value.tzinfo is not None:
                value = value.astimezone(UTC)
            return process(value)
        return in_utc

    def result_processor(self, dialect, coltype):
        process = super().result_processor(dialect, coltype)
        if not self.timezone:
            return process

        def aware(value):
            if process is not None:
                value = process(value)
            if isinstance(value, datetime) and value.tzinfo is None:
                value = value.replace(tzinfo=UTC)
            return value
        return aware


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
