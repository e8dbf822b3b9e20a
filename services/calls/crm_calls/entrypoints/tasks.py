"""Celery app of the calls service: `celery -A crm_calls.entrypoints.tasks worker` (and `beat`)."""
from __future__ import annotations

from datetime import timedelta

from celery.schedules import crontab
from crm_shared.tasks import make_celery

from crm_calls.bootstrap import build_runtime
from crm_calls.service_layer import housekeeping

runtime = build_runtime()
app = make_celery(runtime.settings, beat_schedule={
    "calls-purge-inbox-daily": {"task": "calls.purge_inbox", "schedule": crontab(hour=3, minute=17),
                                "options": {"queue": "calls.tasks"}},
})


@app.task(name="calls.purge_inbox")
def purge_inbox(days: int = 30) -> int:
    """Deletes inbox rows older than `days`; running it twice, or late, does no harm."""
    return housekeeping.purge_inbox(runtime.engine, runtime.messaging.inbox, timedelta(days=days))
