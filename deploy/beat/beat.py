"""The one Celery beat of the platform: it merges the beat schedules of the services' Celery apps.

Each entry is sent to the queue of the service that owns it (`<service>.tasks`), so that service's worker
runs it. Which services: CRM_BEAT_SERVICES (comma-separated, default all five).
Run: `celery --workdir deploy/beat -A beat beat -s <schedule file>`.
"""
from __future__ import annotations

import importlib
import os

from celery import Celery

from crm_shared.config import Settings

ALL_SERVICES = ("customers", "calls", "campaigns", "service-desk", "reporting")


def combined_schedule(services) -> dict:
    schedule = {}
    for service in services:
        tasks = importlib.import_module(f"crm_{service.replace('-', '_')}.entrypoints.tasks")
        service_app = tasks.app
        for name, entry in (service_app.conf.beat_schedule or {}).items():
            options = {"queue": service_app.conf.task_default_queue, **entry.get("options", {})}
            schedule[f"{service}:{name}"] = {**entry, "options": options}
    return schedule


def build_app(services=None) -> Celery:
    services = services or [s for s in os.environ.get("CRM_BEAT_SERVICES", ",".join(ALL_SERVICES)).split(",") if s]
    beat = Celery("crm-beat", broker=Settings.from_env("beat").amqp_url)
    beat.conf.update(beat_schedule=combined_schedule(services), timezone="UTC", enable_utc=True,
                     broker_connection_retry_on_startup=True)
    return beat


app = build_app()
