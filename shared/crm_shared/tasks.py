"""Celery for a service's background and scheduled work: late acks, one task at a time per worker slot."""
from __future__ import annotations

from celery import Celery

from crm_shared.config import Settings


def make_celery(settings: Settings, beat_schedule: dict | None = None) -> Celery:
    app = Celery(f"crm-{settings.service}", broker=settings.amqp_url)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_default_queue=f"{settings.service}.tasks",
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
        timezone="UTC",
        enable_utc=True,
        beat_schedule=beat_schedule or {},
    )
    return app
