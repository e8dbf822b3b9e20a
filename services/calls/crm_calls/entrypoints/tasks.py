"""Celery app of the calls service: `celery -A crm_calls.entrypoints.tasks worker` (and `beat`).

Every task is idempotent: the roll-forward plans only what is missing, reminders are marked sent in the
transaction that publishes them."""
from __future__ import annotations

from functools import lru_cache

from celery.schedules import crontab
from crm_shared.messaging_tables import purge_expired_messaging_rows
from crm_shared.tasks import make_celery
from sqlalchemy.orm import sessionmaker

from crm_calls.adapters.orm import messaging
from crm_calls.bootstrap import SERVICE, build_runtime, settings_from_env
from crm_calls.service_layer.calls import roll_forward
from crm_calls.service_layer.reminders import send_due_reminders
from crm_calls.service_layer.unit_of_work import CallsUnitOfWork

QUEUE = {"queue": "calls.tasks"}
SETTINGS = settings_from_env()  # read once: the Celery app's and the tasks' runtime's
app = make_celery(SETTINGS, beat_schedule={
    "calls-roll-forward": {"task": "calls.roll_forward", "schedule": crontab(hour=1, minute=30), "options": QUEUE},
    "calls-send-reminders": {"task": "calls.send_reminders", "schedule": 300.0, "options": QUEUE},
    "calls-purge-expired-messaging-rows": {"task": "calls.purge_expired_messaging_rows",
                                           "schedule": crontab(hour=3, minute=17), "options": QUEUE},
})


@lru_cache(maxsize=1)
def _runtime():
    """Built on first use, not at import: importing the task module must not open connections."""
    return build_runtime(SETTINGS)


def _uow():
    sessions = sessionmaker(_runtime().engine, expire_on_commit=False)
    return CallsUnitOfWork(sessions, messaging.outbox, SERVICE)


@app.task(name="calls.roll_forward")
def roll_forward_cycles() -> dict[str, int]:
    """The daily job: re-place missed and overflowing calls, plan every cycle gap up to the horizon."""
    return roll_forward(_uow)


@app.task(name="calls.send_reminders")
def send_reminders() -> int:
    return send_due_reminders(_uow())


@app.task(name="calls.purge_expired_messaging_rows")
def purge_expired() -> dict[str, int]:
    runtime = _runtime()
    return purge_expired_messaging_rows(runtime.engine, runtime.messaging)
