"""Idempotent periodic chores."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Table, delete
from sqlalchemy.engine import Engine

INBOX_RETENTION = timedelta(days=30)


def purge_inbox(engine: Engine, inbox: Table, older_than: timedelta = INBOX_RETENTION,
                now: datetime | None = None) -> int:
    """Forget handled event ids older than the retention; a redelivery after that long is not expected."""
    cutoff = (now or datetime.now(UTC)) - older_than
    with engine.begin() as conn:
        return conn.execute(delete(inbox).where(inbox.c.handled_at < cutoff)).rowcount
