"""Celery: `celery -A crm_customers.entrypoints.tasks worker` and `... beat`.

Housekeeping deletes what has outlived its purpose: inbox rows after 30 days (a redelivery that late is not
expected) and idempotency keys after 24 hours (clients retry within minutes). Running it twice deletes
nothing more, so a redelivered task is harmless.
"""
from __future__ import annotations

from datetime import datetime, timedelta, UTC
from functools import lru_cache

from celery.schedules import crontab
from sqlalchemy import delete
from sqlalchemy.engine import Engine

from crm_shared.config import Settings
from crm_shared.messaging_tables import MessagingTables
from crm_shared.tasks import make_celery

from crm_customers.bootstrap import SERVICE, build_runtime

INBOX_RETENTION = timedelta(days=30)
IDEMPOTENCY_RETENTION = timedelta(hours=24)
PURGE_TASK = "crm_customers.purge_expired_messaging_rows"

celery = make_celery(Settings.from_env(SERVICE), beat_schedule={
    "purge-expired-messaging-rows": {"task": PURGE_TASK, "schedule": crontab(hour=3, minute=17)},
})
app = celery


@lru_cache(maxsize=1)
def _runtime():
    return build_runtime()


def purge_expired(engine: Engine, messaging: MessagingTables, now: datetime | None = None) -> dict[str, int]:
    now = now or datetime.now(UTC)
    with engine.begin() as conn:
        inbox = conn.execute(delete(messaging.inbox).where(messaging.inbox.c.handled_at < now - INBOX_RETENTION))
        keys = conn.execute(delete(messaging.idempotency).where(
            messaging.idempotency.c.created_at < now - IDEMPOTENCY_RETENTION))
    return {"inbox": inbox.rowcount, "idempotency_keys": keys.rowcount}


@celery.task(name=PURGE_TASK)
def purge_expired_messaging_rows() -> dict[str, int]:
    runtime = _runtime()
    return purge_expired(runtime.engine, runtime.messaging)
