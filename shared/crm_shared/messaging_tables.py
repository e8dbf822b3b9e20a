"""The outbox, inbox and idempotency tables every service adds to its own database.

Each service calls `add_messaging_tables(metadata)` on its own MetaData and creates them in its own
Alembic migration (see `migration_ops`), so the tables live beside the state they protect.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import BigInteger, Column, DateTime, Index, Integer, MetaData, String, Table, Text, delete, func
from sqlalchemy.types import LargeBinary

BigId = BigInteger().with_variant(Integer(), "sqlite")


@dataclass(frozen=True)
class MessagingTables:
    outbox: Table
    inbox: Table
    idempotency: Table


def add_messaging_tables(metadata: MetaData) -> MessagingTables:
    outbox = Table(
        "outbox",
        metadata,
        Column("position", BigId, primary_key=True, autoincrement=True),
        Column("event_id", String(64), nullable=False, unique=True),
        Column("exchange", String(128), nullable=False),
        Column("routing_key", String(255), nullable=False),
        Column("body", Text, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("attempts", Integer, nullable=False, server_default="0"),
    )
    inbox = Table(
        "inbox",
        metadata,
        Column("consumer", String(128), primary_key=True),
        Column("event_id", String(64), primary_key=True),
        Column("event_type", String(255), nullable=False),
        Column("handled_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    Index("ix_inbox_handled_at", inbox.c.handled_at)
    idempotency = Table(
        "idempotency_keys",
        metadata,
        Column("key", String(255), primary_key=True),
        Column("principal", String(255), primary_key=True),
        Column("request_hash", String(64), nullable=False),
        Column("status", Integer, nullable=True),
        Column("response", LargeBinary, nullable=True),
        Column("headers", Text, nullable=True),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    return MessagingTables(outbox=outbox, inbox=inbox, idempotency=idempotency)


INBOX_RETENTION = timedelta(days=30)
IDEMPOTENCY_RETENTION = timedelta(hours=24)


def purge_expired_messaging_rows(engine, messaging: MessagingTables, now: datetime | None = None) -> dict[str, int]:
    """Housekeeping every service schedules: inbox rows after 30 days (a redelivery that late is not
    expected), idempotency keys after 24 hours (clients retry within minutes). Running it twice is harmless."""
    now = now or datetime.now(UTC)
    with engine.begin() as conn:
        inbox = conn.execute(delete(messaging.inbox).where(messaging.inbox.c.handled_at < now - INBOX_RETENTION))
        keys = conn.execute(delete(messaging.idempotency).where(
            messaging.idempotency.c.created_at < now - IDEMPOTENCY_RETENTION))
    return {"inbox": inbox.rowcount, "idempotency_keys": keys.rowcount}


def create_messaging_tables(op) -> None:
    """Alembic helper: the DDL of the three tables, for a service's first migration."""
    import sqlalchemy as sa

    big = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "outbox",
        sa.Column("position", big, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(64), nullable=False, unique=True),
        sa.Column("exchange", sa.String(128), nullable=False),
        sa.Column("routing_key", sa.String(255), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_table(
        "inbox",
        sa.Column("consumer", sa.String(128), primary_key=True),
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("event_type", sa.String(255), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_inbox_handled_at", "inbox", ["handled_at"])
    op.create_table(
        "idempotency_keys",
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("principal", sa.String(255), primary_key=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status", sa.Integer, nullable=True),
        sa.Column("response", sa.LargeBinary, nullable=True),
        sa.Column("headers", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
