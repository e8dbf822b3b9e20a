"""Celery: `celery -A crm_customers.entrypoints.tasks worker` and `... beat`.

Housekeeping (crm_shared.messaging_tables.purge_expired_messaging_rows) deletes expired inbox rows and
idempotency keys; running it twice deletes nothing more, so a redelivered task is harmless.
"""
from __future__ import annotations

from functools import lru_cache

from celery.schedules import crontab

from crm_shared.messaging_tables import purge_expired_messaging_rows
from crm_shared.tasks import make_celery

from crm_customers.bootstrap import build_runtime, settings_from_env

PURGE_TASK = "crm_customers.purge_expired_messaging_rows"

SETTINGS = settings_from_env()  # read once: the Celery app's and the tasks' runtime's
celery = make_celery(SETTINGS, beat_schedule={
    "purge-expired-messaging-rows": {"task": PURGE_TASK, "schedule": crontab(hour=3, minute=17)},
})
app = celery


@lru_cache(maxsize=1)
def _runtime():
    return build_runtime(SETTINGS)


@celery.task(name=PURGE_TASK)
def purge_expired() -> dict[str, int]:
    runtime = _runtime()
    return purge_expired_messaging_rows(runtime.engine, runtime.messaging)
