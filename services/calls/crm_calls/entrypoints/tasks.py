"""Celery app of the calls service: `celery -A crm_calls.entrypoints.tasks worker` (and `beat`)."""
from __future__ import annotations

from functools import lru_cache

from celery.schedules import crontab
from crm_shared.config import Settings
from crm_shared.messaging_tables import purge_expired_messaging_rows
from crm_shared.tasks import make_celery

from crm_calls.bootstrap import SERVICE, build_runtime

app = make_celery(Settings.from_env(SERVICE), beat_schedule={
    "calls-purge-expired-messaging-rows": {"task": "calls.purge_expired_messaging_rows",
                                           "schedule": crontab(hour=3, minute=17),
                                           "options": {"queue": "calls.tasks"}},
})


@lru_cache(maxsize=1)
def _runtime():
    """Built on first use, not at import: importing the task module must not open connections."""
    return build_runtime()


@app.task(name="calls.purge_expired_messaging_rows")
def purge_expired() -> dict[str, int]:
    runtime = _runtime()
    return purge_expired_messaging_rows(runtime.engine, runtime.messaging)
